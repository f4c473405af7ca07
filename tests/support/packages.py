"""The one way tests generate and import packages.

The committed package (`generated/customerio_client`) is importable as it is: pytest puts
`generated/` on sys.path (pyproject.toml). A package made by a test goes through the real
command line (`python -m generator generate ...`) into a temporary directory, and is
imported with `imported(out)`, which removes that directory from sys.path and forgets its
modules afterwards, so packages of the same name in two tests never mix.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "openapi"
SPECS = ROOT / "specs"


def run_cli(
    *args: str, cwd: Path = ROOT, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m generator ARGS` with this checkout's generator, from `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
    )


def generate(out: Path, package: str, specs: Sequence[Path], *options: str) -> Path:
    """Generate `out/package` from `specs` (no cache); fail the test on a non-zero exit."""
    args = ["generate", "--out", str(out), "--package", package, "--no-cache", *options]
    for spec in specs:
        args += ["--spec", str(spec)]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return out / package


@contextmanager
def imported(out: Path) -> Iterator[Path]:
    """Make the packages in `out` importable for the duration of the block."""
    sys.path.insert(0, str(out))
    try:
        yield out
    finally:
        sys.path.remove(str(out))
        for name, module in list(sys.modules.items()):
            where = getattr(module, "__file__", None) or ""
            if where.startswith(str(out)):
                del sys.modules[name]


def build_api(
    specs: Sequence[Path], package: str = "customerio_client", **options: str
) -> tuple:
    """The IR of `specs` (and its findings), built in this process as a run builds it."""
    from generator import __version__
    from generator.ir.build import build_api as build
    from generator.spec.refs import load

    return build(load(specs), package=package, version=__version__, **options)
