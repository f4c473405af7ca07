"""The helper process (generator/tasks.py): results come back in order, a task not yet sent
can be taken back and run here, errors travel back as themselves, and a helper that dies
costs time, never a result."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.tasks import Helper, run_here  # noqa: E402


@pytest.fixture(autouse=True)
def two_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIOGEN_JOBS", "2")


def pid_and_square(x: int) -> tuple:
    return os.getpid(), x * x


def slow(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def fail(message: str) -> None:
    raise ValueError(message)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_results_come_from_the_helper_in_submission_order() -> None:
    with Helper() as helper:
        tasks = [helper.submit(pid_and_square, i) for i in range(20)]
        results = [t.result() for t in tasks]
    assert [sq for _, sq in results] == [i * i for i in range(20)]
    assert {pid for pid, _ in results} != {os.getpid()}


def test_a_task_not_yet_sent_is_taken_back_and_run_here() -> None:
    with Helper() as helper:
        busy = helper.submit(slow, 0.3)  # keeps the helper busy
        helper.submit(slow, 0.0)
        last = helper.submit(pid_and_square, 3)  # at most two go ahead of the helper
        assert last.steal()
        assert last.result() == (os.getpid(), 9)
        assert busy.result() != os.getpid()
        assert not busy.steal()  # already sent: stays with the helper


def test_an_error_in_a_task_is_raised_by_result() -> None:
    with Helper() as helper:
        task = helper.submit(fail, "no good")
        after = helper.submit(pid_and_square, 2)
        with pytest.raises(ValueError, match="no good"):
            task.result()
        assert after.result()[1] == 4


def test_a_helper_that_dies_costs_time_not_results() -> None:
    with Helper() as helper:
        helper.submit(die)
        tasks = [helper.submit(pid_and_square, i) for i in range(5)]
        assert [t.result()[1] for t in tasks] == [i * i for i in range(5)]


def test_two_helpers_stop_cleanly_and_run_here_needs_none() -> None:
    with Helper() as a, Helper() as b:
        x, y = a.submit(pid_and_square, 2), b.submit(pid_and_square, 3)
        assert x.result()[0] != y.result()[0]
    assert run_here(pid_and_square, 4).result() == (os.getpid(), 16)


def test_one_job_means_no_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIOGEN_JOBS", "1")
    with Helper() as helper:
        assert helper.submit(pid_and_square, 5).result() == (os.getpid(), 25)


def record(path: str) -> None:
    time.sleep(0.05)
    with open(path, "a") as f:
        f.write("ran\n")


def test_an_error_in_this_process_drops_tasks_not_sent(tmp_path: Path) -> None:
    log = tmp_path / "ran.txt"
    with pytest.raises(RuntimeError):
        with Helper() as helper:
            for _ in range(50):
                helper.submit(record, str(log))
            raise RuntimeError("stop")
    ran = log.read_text().count("ran") if log.exists() else 0
    assert ran <= 3  # only the tasks already sent ran (a couple at most)


def test_a_task_that_cannot_travel_runs_here() -> None:
    def local(x: int) -> int:  # a local function cannot be pickled to the helper
        return x + 1

    with Helper() as helper:
        task = helper.submit(local, 1)
        assert task.result() == 2
        assert helper.submit(pid_and_square, 2).result()[1] == 4
