"""Speed of ciogen against openapi-python-client 0.29.1, measured in the same run.

Prints figures, never asserts. Each figure is the median wall time of the whole process
(interpreter start included) over RUNS runs, in a scratch directory. Two inputs:
- one document: bench/data/customerio-api.yaml, Customer.io's own single document, which
  both tools read in one run each (the like-for-like comparison);
- six files: specs/ (what ciogen generates from), which the peer, reading one document per
  run, needs six runs for (it generates the one client per file).
For each input:
- peer:      openapi-python-client generating (all its defaults, ruff post-hooks included);
- cold:      `python -m generator generate` with empty caches and no output;
- check:     `python -m generator check` on an in-sync tree (manifest fast path);
- one-line:  `generate` after a one-line change to one spec (warm caches).
The four are timed in rounds (one of each per round), so drift in the machine's speed
during the bench touches every figure alike.

Both tools run with Python's bytecode cache on, in a scratch PYTHONPYCACHEPREFIX (warmed by
the first runs), as they would for a user: with PYTHONDONTWRITEBYTECODE set (as in some
sandboxes) a checkout's modules would be compiled on every run while an installed peer's are
not. `--inherit-env` passes the environment through unchanged instead. ciogen uses helper
processes when the machine has two CPUs or more (CIOGEN_JOBS=1: none).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
PEER_VERSION = "0.29.1"
PEER_VENV = ROOT / "bench" / ".venv-peer"
ONE_DOCUMENT = ROOT / "bench" / "data" / "customerio-api.yaml"


def peer_bin() -> Path:
    exe = PEER_VENV / "bin" / "openapi-python-client"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [
                str(PEER_VENV / "bin" / "pip"),
                "install",
                "-q",
                f"openapi-python-client=={PEER_VERSION}",
            ],
            check=True,
        )
    return exe


def timed(
    fn: Callable[[], None], runs: int, before: Callable[[], None] = lambda: None
) -> list[float]:
    out = []
    for _ in range(runs):
        before()
        os.sync()  # the last run's writes are flushed now, not while this one is timed
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


ENV = dict(os.environ)  # for every process the bench starts (see the module docstring)


def run(cmd: list[str], cwd: Path, ok: tuple = (0,)) -> None:
    env = {**ENV, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        )


def count_lines(path: Path) -> int:
    return sum(
        len(p.read_text(errors="replace").splitlines()) for p in path.rglob("*.py")
    )


@dataclass
class Figures:
    label: str
    peer_runs: int
    peer: float
    peer_lines: int
    cold: float
    lines: int
    check: float
    one_line: float


def measure(
    label: str, work: Path, specs: list[Path], edit: Path, old: str, runs: int
) -> Figures:
    """Every figure for one input, in its own scratch directory `work`."""
    work.mkdir()
    (work / "specs").mkdir()
    for spec in specs:
        shutil.copy(spec, work / "specs" / spec.name)
    (work / "pyproject.toml").write_text('[tool.ciogen]\nspecs = "specs"\n')
    gen = [sys.executable, "-m", "generator", "generate"]
    run(gen, work)  # warm the bytecode caches; leaves an in-sync tree

    peer = peer_bin()
    spec_files = sorted((work / "specs").glob("*.yaml"))
    for i, spec in enumerate(
        spec_files
    ):  # warm up, and fail loudly if the peer cannot read one
        subprocess.run(
            [
                str(peer),
                "generate",
                "--path",
                str(spec),
                "--output-path",
                str(work / f"peer{i}"),
                "--overwrite",
            ],
            cwd=work,
            env=ENV,
            capture_output=True,
            check=True,
        )

    def peer_all() -> None:
        for i, spec in enumerate(spec_files):
            subprocess.run(
                [
                    str(peer),
                    "generate",
                    "--path",
                    str(spec),
                    "--output-path",
                    str(work / f"peer{i}"),
                    "--overwrite",
                ],
                cwd=work,
                env=ENV,
                capture_output=True,
                check=True,
            )

    target = work / "specs" / edit.name
    original = target.read_text()
    assert original.count(old) == 1, f"{old!r} must occur once in {edit.name}"

    def empty_caches() -> None:
        shutil.rmtree(work / ".ciogen-cache", ignore_errors=True)
        shutil.rmtree(work / "generated", ignore_errors=True)
        target.write_text(original)

    # One round times each figure once; rounds repeat, so a machine whose speed drifts
    # during the bench (a shared VM does) slows both tools alike.
    peer_times: list[float] = []
    cold_times: list[float] = []
    check_times: list[float] = []
    one_line_times: list[float] = []
    for n in range(runs):
        peer_times += timed(peer_all, 1)
        cold_times += timed(
            lambda: run(gen, work), 1, before=empty_caches
        )  # leaves it in sync
        check_times += timed(
            lambda: run([sys.executable, "-m", "generator", "check"], work), 1
        )
        one_line_times += timed(
            lambda: run(gen, work),
            1,
            before=lambda n=n: target.write_text(original.replace(old, f"{old} ({n})")),
        )
    target.write_text(original)
    peer_lines = sum(count_lines(work / f"peer{i}") for i in range(len(spec_files)))
    p, c, o, k = (
        statistics.median(t)
        for t in (peer_times, check_times, one_line_times, cold_times)
    )
    return Figures(
        label, len(spec_files), p, peer_lines, k, count_lines(work / "generated"), c, o
    )


def report(f: Figures) -> None:
    print(f"\n{f.label}")
    print(
        f"  peer openapi-python-client {PEER_VERSION}: {f.peer:.3f} s for {f.peer_runs} run(s),"
        f" {f.peer_lines} lines written"
    )
    print(
        f"  ciogen cold generate:     {f.cold:.3f} s, {f.lines} lines"
        f" ({f.peer / f.cold:.2f}x the peer's speed; target >= 1x)"
    )
    print(
        f"  ciogen check (in sync):   {f.check:.3f} s"
        f" ({f.peer / f.check:.1f}x faster than the peer; target <= 0.2 s, >= 5x)"
    )
    print(
        f"  ciogen one-line generate: {f.one_line:.3f} s"
        f" ({f.peer / f.one_line:.1f}x faster than the peer; target <= 0.5 s, >= 2x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--inherit-env",
        action="store_true",
        help="do not touch the bytecode-cache settings",
    )
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ciogen-bench-"))
    if not args.inherit_env:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    try:
        one = measure(
            "one document (bench/data/customerio-api.yaml), one run of each tool",
            scratch / "one",
            [ONE_DOCUMENT],
            ONE_DOCUMENT,
            "summary: Delete a person",
            args.runs,
        )
        specs = sorted((ROOT / "specs").glob("*.yaml"))
        six = measure(
            f"six files (specs/): one ciogen run, {len(specs)} peer runs",
            scratch / "six",
            specs,
            ROOT / "specs" / "app.yaml",
            "summary: List campaigns",
            args.runs,
        )
        cache = "as inherited" if args.inherit_env else "on, scratch prefix"
        print(
            f"runs per figure: {args.runs} (median wall time of the whole process);"
            f" bytecode cache {cache}; {os.cpu_count()} CPUs"
        )
        report(one)
        report(six)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
