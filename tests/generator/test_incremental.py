"""Incremental generation: black in cached pieces, the worker processes, deferred validation.

The piece-wise formatter must give exactly what black gives on each whole file; these tests
prove it on every generated module (real specs and coverage specs) and on the constructs
where black's blank lines depend on context. No timings here: speed is bench/'s business.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import black
import pytest
from support.packages import DATA, ROOT, run_cli

from generator import __version__
from generator.ir.build import build_api
from generator.pool import Pool
from generator.render.environment import make_environment
from generator.render.formatting import (
    _BATCH_LINES,
    Formatter,
    black_piece,
    join_pieces,
    split_pieces,
)
from generator.render.plan import RUNTIME_DIR, plan_outputs
from generator.spec.refs import load

PY = sys.executable
MODE = black.Mode(target_versions={black.TargetVersion.PY39})


def raw_modules() -> Iterator[tuple[str, str]]:
    """(name, template output before black) for every Python file of every test package."""
    env = make_environment()
    for name, specs in (
        ("customerio_client", [ROOT / "specs"]),
        *((p.stem, [p]) for p in sorted(DATA.glob("*.yaml"))),
    ):
        api, _ = build_api(load(specs), package=name, version=__version__)
        for f in plan_outputs(api):
            if f.path.endswith(".py") and f.template:
                yield f"{name}/{f.path}", env.get_template(f.template).render(
                    api=api, **dict(f.context)
                )


RAW = sorted(raw_modules())


def pieces_formatted(source: str) -> str:
    pieces = split_pieces(source)
    done = [black_piece(p.text, p.member) for p in pieces]
    assert all(ok for ok, _ in done), [msg for ok, msg in done if not ok]
    return join_pieces(pieces, [text for _, text in done])


@pytest.mark.parametrize("name,source", RAW, ids=[n for n, _ in RAW])
def test_pieces_formatted_apart_equal_black_on_the_whole_file(
    name: str, source: str
) -> None:
    assert pieces_formatted(source) == black.format_str(source, mode=MODE)


def test_runtime_modules_are_black_formatted_as_written() -> None:
    """The runtime is copied into the package without black, so it must be black's output."""
    modules = sorted(RUNTIME_DIR.glob("*.py"))
    assert {"_base_client.py", "_transport.py", "_errors.py"} <= {
        p.name for p in modules
    }
    for path in modules:
        source = path.read_text(encoding="utf-8")
        assert black.format_str(source, mode=MODE) == source, path.name


def test_the_big_modules_are_really_cut_at_classes_and_members() -> None:
    raw = dict(RAW)
    for name in (
        "customerio_client/models.py",
        "customerio_client/app.py",
        "customerio_client/events.py",
    ):
        pieces = split_pieces(raw[name])
        assert len(pieces) > 10, name
    assert any(p.member for p in split_pieces(raw["customerio_client/app.py"]))


CONTEXT_CASES = {
    "comment between blocks": "x = 1\n\n# about f\n\ndef f():\n    pass\n\n\n\n# trailing\ndef g():\n    pass\n",
    "decorator then blank line": "x = 1\n\n@dec\n\ndef f():\n    pass\n\n@dec\n\n\nclass C:\n    pass\n",
    "overload stubs": (
        "from typing import overload\n\n@overload\ndef f(x: int) -> int: ...\n@overload\n"
        "def f(x: str) -> str: ...\n\ndef f(x):\n    return x\n"
    ),
    "stub class members": "class P:\n    def a(self): ...\n    def b(self): ...\n\n    def c(self): ...\n",
    "module docstring then decorator": '"""Doc."""\n\n@dec\nclass A:\n    x: int\n\n@dec\nclass B:\n    pass\n',
    "module docstring then class": '"""Doc."""\nclass A:\n    pass\nclass B:\n    pass\n',
    "module docstring, blank line, class": '"""Doc."""\n\nclass A:\n    pass\n\ndef f():\n    pass\n',
    "comment then module docstring": '# c\n"""Doc."""\n\n@d\nclass A:\n    pass\n',
    "cut inside a string": 'X = """\n\ndef not_code():\n    pass\n\n@not_a_decorator\n"""\n\n\ndef f():\n    return X\n',
    "cut inside a string at black's own blank lines": 'X = """\n\n\ndef not_code( ):\n    pass\n"""\n\n\ndef f():\n    return X\n',
    "cut inside a class docstring": 'class A:\n    """Doc.\n\n    @param x\n    """\n\n    def f(self):\n        pass\n',
    "cut inside brackets": "a = b = 1\nX = (\n    a\n\n@ b\n)\n\n\ndef f():\n    pass\n",
    "class docstring then member": 'class A:\n    """Doc."""\n\n    def f(self):\n        pass\n\n    @property\n    def g(self):\n        return 1\n',
    "blank line after class header": "class A:\n\n    def f(self):\n        pass\n\n    def g(self):\n        pass\n",
    "two-space class body": "class A:\n  if X:\n\n    def f(self):\n      pass\n",
    "nested class and comments in members": (
        "class A:\n    x = 1\n\n    class B:\n        pass\n    # c\n\n"
        "    def f(self):\n        pass\n        # tail\n\n    def g(self):\n"
        "        pass\n"
    ),
    "multi-line decorator": "@dec(\n    1,\n)\n\ndef f():\n    pass\n\nclass A:\n    @d(\n        2\n    )\n\n    def g(self):\n        pass\n",
    "fmt off": "# fmt: off\nx = [1,2]\n# fmt: on\n\ndef f():\n    pass\n",
    "async and nested defs": "async def f():\n    def g():\n        pass\n\n    return g\n\n\n\n\nasync def h():\n    pass\n",
    "statement after a class": "class A:\n    pass\nx = 1\n\nclass B:\n    pass\n\n\n\ny = 2\n",
}


@pytest.mark.parametrize("case", sorted(CONTEXT_CASES))
def test_formatter_equals_black_where_blank_lines_depend_on_context(
    case: str, tmp_path: Path
) -> None:
    source = CONTEXT_CASES[case]
    expected = black.format_str(source, mode=MODE)
    assert Formatter(None).format(source, "m.py") == expected
    cached = Formatter(tmp_path)
    assert cached.format(source, "m.py") == expected  # cold cache
    assert Formatter(tmp_path).format(source, "m.py") == expected  # warm cache


def test_code_that_does_not_parse_is_a_render_error() -> None:
    from generator.errors import RenderError

    with pytest.raises(RenderError, match="m.py: generated code does not parse"):
        Formatter(None).format("def f(:\n    pass\n\n\ndef g():\n    pass\n", "m.py")


class Recorder:
    """A `submit` that runs tasks here and records which pieces black was asked for
    (`calls`, piece texts) and in how many tasks (`tasks`)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.tasks = 0

    def __call__(self, fn: Any, *args: Any) -> Any:
        self.tasks += 1
        self.calls.extend(
            text for text, _ in args[0]
        )  # black_pieces([(text, member), ...])
        return Pool(jobs=1).submit(fn, *args)


def test_a_one_line_change_reformats_one_piece_and_an_unchanged_file_none(
    tmp_path: Path,
) -> None:
    source = dict(RAW)["customerio_client/app.py"]
    assert "List campaigns" in source
    first = Recorder()
    Formatter(tmp_path, first).format(source, "app.py")
    assert len(first.calls) == len(split_pieces(source))
    # pieces travel to the workers in batches of about _BATCH_LINES lines, not one by one
    assert 1 < first.tasks <= source.count("\n") // _BATCH_LINES + 2 < len(first.calls)
    again = Recorder()
    Formatter(tmp_path, again).format(source, "app.py")
    assert again.calls == []
    edited = source.replace("List campaigns", "List all the campaigns")
    third = Recorder()
    out = Formatter(tmp_path, third).format(edited, "app.py")
    assert out == black.format_str(edited, mode=MODE)
    assert 1 <= len(third.calls) <= 2 and all(
        "List all the campaigns" in c for c in third.calls
    )
    assert (
        len(list((tmp_path / "black").iterdir())) == 1
    )  # one pack per file, rewritten in place


def test_jinja_bytecode_cache_follows_template_edits(tmp_path: Path) -> None:
    templates = tmp_path / "t"
    (templates / "package").mkdir(parents=True)
    page = templates / "package" / "x.j2"
    page.write_text("{{ 'one' | py }}\n")
    cache = tmp_path / "cache"
    assert (
        make_environment(templates, cache).get_template("package/x.j2").render()
        == '"one"\n'
    )
    assert any((cache / "jinja").rglob("*.cache"))
    page.write_text("{{ 'two' | py }}\n")
    assert (
        make_environment(templates, cache).get_template("package/x.j2").render()
        == '"two"\n'
    )


def tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real specs generated with worker processes and a cold cache."""
    work = tmp_path_factory.mktemp("gen")
    shutil.copytree(ROOT / "specs", work / "specs")
    r = run_cli("generate", "--spec", "specs", "--out", "out", cwd=work)
    assert r.returncode == 0, r.stderr
    return work


def test_generated_package_passes_black_check(generated: Path) -> None:
    r = subprocess.run(
        [
            PY,
            "-m",
            "black",
            "--check",
            "-q",
            str(generated / "out" / "customerio_client"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_pool_serial_and_warm_runs_write_the_same_bytes(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    r = run_cli(
        "generate", "--spec", "specs", "--out", "helper", cwd=tmp_path, CIOGEN_JOBS="2"
    )
    assert r.returncode == 0, r.stderr
    r = run_cli(
        "generate",
        "--spec",
        "specs",
        "--out",
        "serial",
        "--no-cache",
        cwd=tmp_path,
        CIOGEN_JOBS="1",
    )
    assert r.returncode == 0, r.stderr
    expected = tree(tmp_path / "helper")
    assert tree(tmp_path / "serial") == expected
    spec = tmp_path / "specs" / "app.yaml"
    original = spec.read_text()
    spec.write_text(
        original.replace("summary: List campaigns", "summary: List all campaigns", 1)
    )
    assert (
        run_cli("generate", "--spec", "specs", "--out", "warm", cwd=tmp_path).returncode
        == 0
    )
    spec.write_text(original)  # back again: every piece is in the cache now
    r = run_cli("generate", "--spec", "specs", "--out", "warm", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert tree(tmp_path / "warm") == expected


INVALID = """openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get:
      operationId: getA
      responses: {}
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_validator_findings_are_reported_before_writing_and_strict_stops(
    jobs: str, tmp_path: Path
) -> None:
    spec = tmp_path / "v.yaml"
    spec.write_text(INVALID)
    for attempt in ("cold", "cached"):
        r = run_cli(
            "generate",
            "--spec",
            str(spec),
            "--out",
            "o",
            "--package",
            "p",
            cwd=tmp_path,
            CIOGEN_JOBS=jobs,
        )
        assert r.returncode == 0, r.stderr
        assert "warning: v.yaml#/paths/~1a/get/responses" in r.stderr, (
            attempt,
            r.stderr,
        )
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        "o2",
        "--package",
        "p",
        "--strict",
        cwd=tmp_path,
        CIOGEN_JOBS=jobs,
    )
    assert r.returncode == 2 and "v.yaml#/paths/~1a/get/responses" in r.stderr, r.stderr
    assert not (tmp_path / "o2").exists()


def test_spec_error_with_validation_in_flight_leaves_output_untouched(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "s.yaml"
    shutil.copy(DATA / "coverage31.yaml", spec)
    assert (
        run_cli(
            "generate",
            "--spec",
            str(spec),
            "--out",
            "out",
            "--package",
            "p",
            cwd=tmp_path,
        ).returncode
        == 0
    )
    before = tree(tmp_path / "out")
    shutil.rmtree(tmp_path / ".ciogen-cache")  # validation must run again, on a worker
    spec.write_text(spec.read_text().replace("format: date-time", "type: strange"))
    r = run_cli(
        "generate", "--spec", str(spec), "--out", "out", "--package", "p", cwd=tmp_path
    )
    assert r.returncode == 2 and "s.yaml#" in r.stderr and "Traceback" not in r.stderr
    assert tree(tmp_path / "out") == before
