"""README.md says what is true: its commands come first, its Python examples run, its hook
sample names the real hook, and its files and options exist.

Each ```python block runs on its own in a fresh interpreter with only `generated/` on the path
(the examples start the package's own local fake server; nothing leaves 127.0.0.1).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)


def _blocks(lang: str) -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) == lang
    ]


def test_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first = FENCE.search(text)
    assert first is not None
    assert first.group(2).split("\n")[:2] == ["make generate", "make test"]
    assert first.group(2).strip().splitlines() == ["make generate", "make test"]
    assert text[: first.start()].strip().startswith("# ")  # only the title comes before


def test_make_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("generate", "test", "check"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


PYTHON_BLOCKS = _blocks("python")


def test_has_python_examples() -> None:
    assert len(PYTHON_BLOCKS) >= 6


@pytest.mark.parametrize(
    "line,code", PYTHON_BLOCKS, ids=[f"line{n}" for n, _ in PYTHON_BLOCKS]
)
def test_python_example_runs(line: int, code: str, tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")
    }
    env["PYTHONPATH"] = str(ROOT / "generated")
    script = tmp_path / f"readme_line{line}.py"
    script.write_text(code, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        r.returncode == 0
    ), f"README.md example at line {line} failed:\n{r.stdout}{r.stderr}"


def test_precommit_sample_uses_the_real_hook() -> None:
    samples = [yaml.safe_load(code) for _, code in _blocks("yaml")]
    configs = [s for s in samples if isinstance(s, dict) and "repos" in s]
    assert configs, "README.md shows no .pre-commit-config.yaml"
    hook_ids = {
        h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    used = {h["id"] for c in configs for repo in c["repos"] for h in repo["hooks"]}
    assert used and used <= hook_ids


def test_links_and_named_files_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (ROOT / target).exists(), target
    for path in (
        "docs/conventions.md",
        "specs/README.md",
        "generated/customerio_client/REFERENCE.md",
    ):
        assert path in text and (ROOT / path).exists(), path


def test_cli_options_in_readme_exist() -> None:
    from generator.cli import parser

    helps = ""
    for command in ("generate", "check", "validate"):
        r = subprocess.run(
            [sys.executable, "-m", "generator", command, "--help"],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        helps += r.stdout
    assert parser().prog == "ciogen"
    text = README.read_text(encoding="utf-8")
    options = sorted(set(re.findall(r"`(--[a-z][a-z-]*)", text)))
    assert options
    for option in options:
        assert option in helps, f"README.md names {option}, which no command accepts"
