"""Writing the package (generator/render/output.py) when a run is interrupted or races
another: the package is never half-written and nothing is left beside it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support.packages import ROOT

from generator.errors import UsageError
from generator.render import output
from generator.render.output import write_package

FILES = {"__init__.py": b"x = 1\n", "models/pet.py": b"class Pet: ...\n"}


def test_an_interrupted_swap_puts_the_old_package_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "p"
    write_package(package, FILES, b"{}\n")
    before = {p.name: p.read_bytes() for p in package.rglob("*") if p.is_file()}
    renames = 0
    rename = Path.rename

    def interrupted(self: Path, target: Any) -> Path:
        nonlocal renames
        renames += 1
        if renames == 2:  # the new package into place: Ctrl-C
            raise KeyboardInterrupt
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_package(package, {**FILES, "__init__.py": b"x = 2\n"}, b"{}\n")
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in package.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["p"]


def test_a_package_another_run_wrote_while_this_one_waited_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a run read before it took the lock is reused only while the package is
    unchanged: another run that wrote it meanwhile is seen, and the paths reported are
    those this write changed."""
    package = tmp_path / "p"
    write_package(package, FILES, b"{}\n")
    theirs = {**FILES, "models/cat.py": b"class Cat: ...\n"}
    mine = {**FILES, "__init__.py": b"x = 2\n"}
    real = output.locked

    @contextmanager
    def after_another_run(*args: Any, **kwargs: Any) -> Iterator[None]:
        monkeypatch.setattr(output, "locked", real)
        write_package(package, theirs, b"{}\n")  # it held the lock first
        with real(*args, **kwargs):
            yield

    monkeypatch.setattr(output, "locked", after_another_run)
    assert write_package(package, mine, b"{}\n") == ["__init__.py", "models/cat.py"]
    assert output.read_tree(package) == mine


def test_a_tree_is_read_by_paths_in_the_package(tmp_path: Path) -> None:
    package = tmp_path / "p"
    write_package(package, FILES, b"{}\n")
    (package / "models" / "__pycache__").mkdir()
    (package / "models" / "__pycache__" / "pet.pyc").write_bytes(b"\0")
    assert output.read_tree(package) == FILES
    assert output.read_tree(tmp_path / "missing") == {}


def test_leftovers_name_their_run(tmp_path: Path) -> None:
    package = tmp_path / "p"
    scratch = output._scratch(package)
    assert scratch.name.startswith(f".p.ciogen-new-{output.os.getpid()}-")
    assert output.leftovers(package) == [scratch]  # this process's: an earlier one's


def test_a_run_that_waits_too_long_gives_up_writing_nothing(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")

    package = tmp_path / "p"
    heard: list[str] = []
    with (tmp_path / ".p.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UsageError) as stopped:
            write_package(package, FILES, b"{}\n", heard.append, lock_timeout=0.3)
    assert str(stopped.value) == (
        f"{package}: another ciogen run has been writing it for more than 0.3 s "
        f"(lock file {tmp_path / '.p.lock'})"
    )
    assert heard == [] and sorted(p.name for p in tmp_path.iterdir()) == [".p.lock"]


WRITER = """
import sys
from pathlib import Path
from generator.render.output import write_package
n = int(sys.argv[2])
files = {"__init__.py": b"x = %d\\n" % n, "models/pet.py": b"class Pet: ...\\n", "m%d.py" % n: b""}
for _ in range(20):
    write_package(Path(sys.argv[1]), files, b"{}\\n")
"""


def test_runs_into_one_package_at_once_take_turns(tmp_path: Path) -> None:
    """Four processes, each writing its own content twenty times over: every write
    succeeds, the package ends as one of them wrote it and nothing is left beside it."""
    package = tmp_path / "p"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(package), str(n)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    errors = [run.communicate(timeout=120)[1] for run in runs]
    assert errors == [""] * 4 and [run.returncode for run in runs] == [0] * 4
    last = (package / "__init__.py").read_text().split()[-1]  # the last writer's
    names = sorted(p.name for p in package.iterdir())
    assert names == [".ciogen-manifest.json", "__init__.py", f"m{last}.py", "models"]
    assert [p.name for p in tmp_path.iterdir()] == ["p"]


@pytest.mark.skipif(
    not output.HAVE_FLOCK, reason="runs are not serialised without flock"
)
def test_check_waits_for_a_write_under_way_and_sees_its_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `check` that starts while a `generate` has moved the package aside (between the
    two renames of its swap) waits for the write to end: no "missing", no traceback."""
    import threading

    from generator.cli import main

    spec = ROOT / "tests" / "data" / "openapi" / "realworld" / "lint_clean.yaml"
    base = ["--spec", str(spec), "--out", str(tmp_path), "--package", "p", "--no-cache"]
    assert main(["generate", *base]) == 0
    package = tmp_path / "p"
    aside = tmp_path / ".p.ciogen-old-1-x"
    swapping, waiting = threading.Event(), threading.Event()
    sleep = output.time.sleep

    def noted_sleep(seconds: float) -> None:
        waiting.set()  # `check` found the lock held
        sleep(seconds)

    def writer() -> None:
        with output.locked(package, package):
            package.rename(aside)
            swapping.set()
            waiting.wait(timeout=60)
            aside.rename(package)

    monkeypatch.setattr(output.time, "sleep", noted_sleep)
    thread = threading.Thread(target=writer)
    thread.start()
    swapping.wait(timeout=60)
    capsys.readouterr()
    code = main(["check", *base])
    thread.join()
    assert waiting.is_set()
    assert (code, capsys.readouterr().out.strip()) == (0, f"{package}: in sync")


def test_a_lock_file_a_killed_run_left_does_not_hold_check(tmp_path: Path) -> None:
    package = tmp_path / "p"
    write_package(package, FILES, b"{}\n")
    output.lock_file(package).write_text("12345\n")  # nobody holds it
    assert output.settled(package, lambda: output.read_tree(package), 5) == FILES


def test_a_read_a_swap_broke_is_done_again(tmp_path: Path) -> None:
    package = tmp_path / "p"
    write_package(package, FILES, b"{}\n")
    reads: list[int] = []

    def read() -> dict[str, bytes]:
        reads.append(1)
        if len(reads) == 1:
            raise FileNotFoundError("the package went away mid-read")
        return output.read_tree(package)

    assert output.settled(package, read, 5) == FILES and len(reads) == 2


def test_a_read_that_keeps_failing_is_reported_at_once(tmp_path: Path) -> None:
    """An unreadable package is not a write under way: no waiting out the lock timeout."""
    package = tmp_path / "p"
    write_package(package, FILES, b"{}\n")
    reads: list[int] = []

    def read() -> dict[str, bytes]:
        reads.append(1)
        raise PermissionError("no")

    with pytest.raises(PermissionError):
        output.settled(package, read, 300)
    assert len(reads) == output._READ_ATTEMPTS
