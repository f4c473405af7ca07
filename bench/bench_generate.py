"""Speed of ciogen against openapi-python-client 0.29.1, measured in the same run.

Prints figures, never asserts. Each figure is the median wall time of the whole process
(interpreter start included) over RUNS runs, in a scratch copy of specs/ and generated/:
- peer:      openapi-python-client generating from each of the same spec files in turn;
- check:     `python -m generator check` on an in-sync tree (manifest fast path);
- one-line:  `generate` after a one-line change to one spec (warm caches);
- cold:      `generate` with empty caches.

Both tools run with Python's bytecode cache on, in a scratch PYTHONPYCACHEPREFIX (warmed by
the first runs), as they would for a user: with PYTHONDONTWRITEBYTECODE set (as in some
sandboxes) a checkout's modules would be compiled on every run while an installed peer's are
not. `--inherit-env` passes the environment through unchanged instead. ciogen uses one helper
process when the machine has two CPUs or more (CIOGEN_JOBS=1: none).

Usage: .venv/bin/python bench/bench_generate.py [--runs N] [--inherit-env]
The peer is installed on first use into bench/.venv-peer (pinned version).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List

ROOT = Path(__file__).resolve().parent.parent
PEER_VERSION = "0.29.1"
PEER_VENV = ROOT / "bench" / ".venv-peer"


def peer_bin() -> Path:
    exe = PEER_VENV / "bin" / "openapi-python-client"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q",
                        f"openapi-python-client=={PEER_VERSION}"], check=True)
    return exe


def timed(fn: Callable[[], None], runs: int, before: Callable[[], None] = lambda: None) -> List[float]:
    out = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


ENV = dict(os.environ)  # for every process the bench starts (see the module docstring)


def run(cmd: List[str], cwd: Path, ok: tuple = (0,)) -> None:
    env = {**ENV, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def count_lines(path: Path) -> int:
    return sum(len(p.read_text(errors="replace").splitlines()) for p in path.rglob("*.py"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--inherit-env", action="store_true", help="do not touch the bytecode-cache settings")
    args = ap.parse_args()
    runs = args.runs
    py = sys.executable
    work = Path(tempfile.mkdtemp(prefix="ciogen-bench-"))
    if not args.inherit_env:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    try:
        shutil.copytree(ROOT / "specs", work / "specs")
        (work / "pyproject.toml").write_text('[tool.ciogen]\nspecs = "specs"\n')
        gen = [py, "-m", "generator", "generate"]
        run(gen, work)  # warm caches and an in-sync tree

        peer = peer_bin()
        spec_files = sorted(p for p in (work / "specs").glob("*.yaml"))
        peer_out = work / "peer"
        peer_ok: List[Path] = []
        for spec in spec_files:  # which files the peer can read at all
            shutil.rmtree(peer_out, ignore_errors=True)
            r = subprocess.run([str(peer), "generate", "--path", str(spec), "--output-path",
                                str(peer_out), "--overwrite"], cwd=work, env=ENV, capture_output=True, text=True)
            if r.returncode == 0:
                peer_ok.append(spec)

        def peer_all() -> None:
            for i, spec in enumerate(peer_ok):
                subprocess.run([str(peer), "generate", "--path", str(spec), "--output-path",
                                str(work / f"peer{i}"), "--overwrite"], cwd=work, env=ENV,
                               capture_output=True, check=True)

        peer_times = timed(peer_all, runs)
        peer_lines = sum(count_lines(work / f"peer{i}") for i in range(len(peer_ok)))

        check_times = timed(lambda: run([py, "-m", "generator", "check"], work), runs)

        target = work / "specs" / "app.yaml"
        original = target.read_text()
        counter = [0]

        def edit_one_line() -> None:
            counter[0] += 1
            target.write_text(original.replace("summary: List campaigns",
                                               f"summary: List campaigns ({counter[0]})", 1))

        one_line_times = timed(lambda: run(gen, work), runs, before=edit_one_line)
        target.write_text(original)

        def empty_caches() -> None:
            shutil.rmtree(work / ".ciogen-cache", ignore_errors=True)
            shutil.rmtree(work / "generated", ignore_errors=True)

        cold_times = timed(lambda: run(gen, work), runs, before=empty_caches)
        our_lines = count_lines(work / "generated")

        p, c, o, k = (statistics.median(t) for t in (peer_times, check_times, one_line_times, cold_times))
        cache = "as inherited" if args.inherit_env else "on, scratch prefix"
        print(f"runs per figure: {runs} (median wall time of the whole process); bytecode cache {cache}")
        print(f"peer openapi-python-client {PEER_VERSION}: {p:.3f} s for {len(peer_ok)}/"
              f"{len(spec_files)} spec files it can read, {peer_lines} lines written")
        print(f"ciogen cold generate:      {k:.3f} s, {our_lines} lines ({p / k:.2f}x the peer's speed;"
              " target >= 1x)")
        print(f"ciogen check (in sync):    {c:.3f} s ({p / c:.1f}x faster than the peer; target <= 0.2 s, >= 5x)")
        print(f"ciogen one-line generate:  {o:.3f} s ({p / o:.1f}x faster than the peer; target <= 0.5 s, >= 2x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
