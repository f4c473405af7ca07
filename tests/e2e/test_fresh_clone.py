"""A fresh clone regenerates to exactly what it holds.

`git clone` of this repository (its HEAD: uncommitted work is not in a clone), then the
generator, run inside the clone with the clone's own sources, must leave `git status` clean:
the committed client is what the committed specs, templates and generator produce, on a
machine that has never seen them (another path, no cache). `check` agrees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs a git checkout",
)


def _run(cmd: list, cwd: Path, **env: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    full = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    full.update(env)
    return subprocess.run(
        cmd, cwd=cwd, env=full, capture_output=True, text=True, timeout=600
    )


def test_fresh_clone_regenerates_to_itself(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    r = _run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], tmp_path
    )
    assert r.returncode == 0, r.stderr
    if not (clone / "generated").exists():
        pytest.skip("HEAD has no generated client yet")

    gen = _run(
        [sys.executable, "-m", "generator", "generate"], clone, PYTHONPATH=str(clone)
    )
    assert gen.returncode == 0, gen.stderr
    status = _run(["git", "status", "--porcelain", "--untracked-files=all"], clone)
    assert status.returncode == 0, status.stderr
    assert status.stdout == "", (
        "regenerating a fresh clone changed files (commit a regenerated client):\n"
        + status.stdout
        + _run(["git", "diff", "--stat"], clone).stdout
    )

    check = _run(
        [sys.executable, "-m", "generator", "check"], clone, PYTHONPATH=str(clone)
    )
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr
