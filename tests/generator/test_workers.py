"""The processes that work alongside this one: the forked render helper (render/package.py)
gives the same bytes as rendering alone whatever happens to it, and the worker pool
(pool.py) runs the work here when it cannot start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support.packages import ROOT, build_api

from generator.errors import RenderError
from generator.render import package, views
from generator.render.environment import make_environment
from generator.render.formatting import Formatter
from generator.render.memo import RenderMemo


def _render(api: Any, helpers: int, tmp_path: Path) -> dict[str, bytes]:
    return package.render_all(
        api, Formatter(tmp_path / "cache"), make_environment(), helpers
    )


@pytest.fixture(scope="module")
def api() -> Any:
    return build_api([ROOT / "specs"], package="customerio_client", group_by="tag")[0]


def test_a_helper_renders_the_same_bytes(api: Any, tmp_path: Path) -> None:
    alone = _render(api, 0, tmp_path)
    assert _render(api, 1, tmp_path) == alone
    assert any("_groups/" in path for path in alone)  # grouped modules too


def test_the_helper_answers_from_the_render_memo_too(api: Any, tmp_path: Path) -> None:
    """With the memo, the helper's share comes back as memo answers; the bytes are those of
    rendering alone without any cache."""
    alone = package.render_all(api, Formatter(None), make_environment(), 0)
    cache = tmp_path / "cache"
    memo = RenderMemo(cache, "pack")
    files = package.render_all(
        api, Formatter(cache, "pack"), make_environment(), 1, memo
    )
    assert files == alone
    memoised = {
        f.path for f in package.plan_outputs(api) if f.template in views.MEMOISED
    }
    assert set(memo.entries) == memoised
    assert {"fixtures.py", "models/__init__.py"} < memoised
    assert any("_groups/" in path for path in memoised)

    def refuse(**context: Any) -> str:
        raise AssertionError("rendered a module the memo knows")

    env = make_environment()
    for name in views.MEMOISED:  # the helper is forked after this: it refuses too
        env.get_template(name).render = refuse
    again = package.render_all(
        api, Formatter(cache, "pack"), env, 1, RenderMemo(cache, "pack")
    )
    assert again == alone


def test_the_costliest_files_are_rendered_first(api: Any) -> None:
    """Files are taken biggest first, so that neither process is left with a big one at
    the end: whole-API files, then modules by their operations or models."""
    plan = [f for f in package.plan_outputs(api) if f.template]
    order = [f.path for f in sorted(plan, key=package._cost(api))]
    modules = [p for p in order if "/" in p and not p.endswith("__init__.py")]
    assert modules
    assert order.index("REFERENCE.md") < min(order.index(p) for p in modules)
    assert order.index("models/__init__.py") < min(order.index(p) for p in modules)


def test_a_helper_that_dies_leaves_its_share_to_this_process(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _render(api, 0, tmp_path)

    def die(writer: Any, parent: int) -> None:
        # take some files from the counter, then die without answering
        for _ in range(5):
            with package._SHARED["counter"].get_lock():
                package._SHARED["counter"].value += 1
        os._exit(3)

    monkeypatch.setattr(package, "_helper", die)
    assert _render(api, 1, tmp_path) == alone


def test_a_helper_that_fails_leaves_its_share_to_this_process(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = package._render_share
    parent = os.getpid()

    def broken() -> dict[str, str]:
        if os.getpid() != parent:
            raise RenderError("the helper's share failed")
        return real()

    monkeypatch.setattr(package, "_render_share", broken)
    # the helper fails and answers nothing: this process renders everything
    assert _render(api, 1, tmp_path) == _render(api, 0, tmp_path)


@pytest.mark.parametrize("missing", ["shared memory", "a process"])
def test_without_shared_memory_or_a_process_to_spare_this_process_renders_alone(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    import multiprocessing
    from multiprocessing.context import ForkProcess

    alone = _render(api, 0, tmp_path)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(38, "Function not implemented")

    if missing == "shared memory":
        monkeypatch.setattr(multiprocessing.get_context("fork"), "Value", refuse)
    else:
        monkeypatch.setattr(ForkProcess, "start", refuse)
    assert _render(api, 1, tmp_path) == alone


def test_a_pool_without_working_semaphores_runs_the_work_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Some containers have no working sem_open: the process pool cannot start there, and
    the work runs in this process instead of failing the run."""
    import concurrent.futures

    from generator.pool import Pool

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("This system lacks a functioning sem_open")

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "__init__", refuse)
    with Pool(2) as pool:
        assert pool.submit(os.getpid).result() == os.getpid()
        assert pool.jobs == 1


KILLED_PARENT = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from generator.pool import Pool

pool = Pool(2)
future = pool.submit(os.getpid)  # a worker is started and answers
print(future.result(), flush=True)
time.sleep(600)  # killed meanwhile
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="forked workers: Linux"
)
def test_workers_end_when_the_run_is_killed(tmp_path: Path) -> None:
    """A worker waits on a pipe it holds the other end of: a run killed with SIGKILL left
    its workers waiting for ever (100-200 MB each on a huge spec)."""
    script = tmp_path / "run.py"
    script.write_text(KILLED_PARENT)
    run = subprocess.Popen(
        [sys.executable, str(script), str(ROOT)], stdout=subprocess.PIPE, text=True
    )
    assert run.stdout is not None
    worker = int(run.stdout.readline())
    assert worker != run.pid and _alive(worker)
    run.kill()
    run.wait()
    try:
        for _ in range(600):  # the kernel signals the worker at once; a slow VM waits
            if not _alive(worker):
                break
            time.sleep(0.05)
        assert not _alive(worker)
    finally:
        if _alive(worker):  # never leave one behind, even when the test fails
            os.kill(worker, signal.SIGKILL)


STUCK_WORKER = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from generator.pool import Pool

try:
    with Pool(2) as pool:
        print(pool.submit(os.getpid).result(), flush=True)
        pool.submit(time.sleep, 600)  # a worker that will not be done soon
        time.sleep(0.2)  # it has started
        raise ValueError("the run stops")
except ValueError:
    print("left", flush=True)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="forked workers: Linux"
)
def test_a_run_that_stops_on_an_error_does_not_wait_for_its_workers(
    tmp_path: Path,
) -> None:
    """An error ended the run only once every worker had finished what it had started:
    one reading a $ref's FIFO (or /dev/zero) kept `generate` from ever exiting."""
    script = tmp_path / "run.py"
    script.write_text(STUCK_WORKER)
    run = subprocess.run(
        [sys.executable, str(script), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,  # far below the stuck worker's 600 s
    )
    worker, left = run.stdout.split()
    assert left == "left", run.stderr
    assert not _alive(int(worker))
