"""Incremental generation: formatting cached per file, worker processes, deferred validation.

The formatter is ruff's (black's style): every generated package must also pass
`black --check`, and spec text of any kind (tabs, form feeds, lone surrogates, huge
descriptions) must neither break the output nor keep the cache from answering. No timings
here: speed is bench/'s business.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable

import black
import pytest
from support.packages import DATA, ROOT, run_cli

from generator.render.environment import make_environment
from generator.render.formatting import Formatter
from generator.render.plan import RUNTIME_DIR

PY = sys.executable
MODE = black.Mode(target_versions={black.TargetVersion.PY39})


def test_runtime_modules_are_black_formatted_as_written() -> None:
    """The runtime is copied into the package without black, so it must be black's output."""
    modules = sorted(RUNTIME_DIR.glob("*.py"))
    assert {"_base_client.py", "_transport.py", "_errors.py"} <= {
        p.name for p in modules
    }
    for path in modules:
        source = path.read_text(encoding="utf-8")
        assert black.format_str(source, mode=MODE) == source, path.name


class Counting(Formatter):
    """A formatter that remembers which files it had to format (not from its cache)."""

    def __init__(self, cache_dir: Path | None, pack: str = "default") -> None:
        super().__init__(cache_dir, pack)
        self.formatted: list[str] = []

    def format_all(
        self, sources: dict[str, str], keep: Iterable[str] = ()
    ) -> dict[str, str]:
        missing = [n for n, t in sources.items() if self.cached(n, t) is None]
        self.formatted += missing
        return super().format_all(sources, keep)


def test_the_formatter_lays_code_out_as_black_does() -> None:
    source = (
        "def f(a,b):\n  return {'x':a,\n 'y':b}\nclass C:\n    def g(self): return 1\n"
    )
    assert Formatter(None).format(source, "m.py") == black.format_str(source, mode=MODE)


def test_code_that_does_not_parse_is_a_render_error() -> None:
    from generator.errors import RenderError

    with pytest.raises(RenderError, match="generated code does not parse"):
        Formatter(None).format("def f(:\n    pass\n", "m.py")


def test_a_changed_file_is_formatted_again_and_an_unchanged_one_is_not(
    tmp_path: Path,
) -> None:
    sources = {"a.py": "x = [1,2]\n", "b.py": "y = {'k':1}\n"}
    first = Counting(tmp_path)
    assert first.format_all(sources) == {
        "a.py": "x = [1, 2]\n",
        "b.py": 'y = {"k": 1}\n',
    }
    assert sorted(first.formatted) == ["a.py", "b.py"]
    again = Counting(tmp_path)
    again.format_all({**sources, "a.py": "x = [1,2,3]\n"})
    assert again.formatted == ["a.py"]


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


@pytest.mark.parametrize("damage", ["flip", "cut", "empty", "garbage"])
def test_a_damaged_compiled_template_is_compiled_again(
    tmp_path: Path, damage: str
) -> None:
    """Jinja's own file cache checks only its header and the template's source: a byte
    changed in the compiled code rendered as it was (`'two'` for `'one'`, or a
    traceback)."""
    templates = tmp_path / "t"
    (templates / "package").mkdir(parents=True)
    (templates / "package" / "x.j2").write_text("{{ 'one' | py }} {{ 'one' }}\n")
    cache = tmp_path / "cache"
    render = lambda: (
        make_environment(templates, cache).get_template("package/x.j2").render()
    )
    assert render() == '"one" one\n'
    [compiled] = (cache / "jinja").rglob("*.cache")
    raw = compiled.read_bytes()
    if damage == "flip":  # the compiled code's constant 'one' becomes 'onf'
        at = raw.rindex(b"one")
        raw = raw[:at] + b"onf" + raw[at + 3 :]
    elif damage == "cut":
        raw = raw[: len(raw) // 2]
    elif damage == "empty":
        raw = b""
    else:
        raw = bytes(range(256)) * 4
    compiled.write_bytes(raw)
    assert render() == '"one" one\n'
    assert compiled.read_bytes() != raw  # compiled again, and kept


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
    """The output is black-formatted (the formatter is ruff's, in black's style)."""
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


# ---- spec text that must not break the output or keep the cache from answering -------------

HOSTILE = {
    "a tab": "Columns:\tname\tvalue\n| a\t| b |",
    "a form feed": "Page one\fpage two",
    "a lone surrogate": "broken \ud800 text",
    "100 KB of text": "word " * 20_000,
    "quotes and backslashes": 'ends with """ and \\',
}


def _spec_with(description: str, other: str) -> str:
    import json

    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Text", "version": "1", "description": description},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/a": {
                "get": {
                    "operationId": "getA",
                    "description": description,
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "description": description,
                            "schema": {"type": "string", "default": description},
                        }
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/b": {
                "get": {
                    "operationId": "getB",
                    "summary": other,
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "description": description,
                    "properties": {
                        "note": {"type": "string", "description": description}
                    },
                }
            }
        },
    }
    return json.dumps(
        doc, ensure_ascii=True
    )  # \ud800 written as an escape, as JSON can


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_spec_text_keeps_the_output_valid_and_the_cache_working(
    case: str, tmp_path: Path
) -> None:
    spec = tmp_path / "text.json"
    spec.write_text(_spec_with(HOSTILE[case], "first"), encoding="utf-8")
    args = ("generate", "--spec", "text.json", "--out", "out", "--package", "textpkg")
    first = run_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    package = tmp_path / "out" / "textpkg"
    for path in package.glob("*.py"):
        path.read_text(encoding="utf-8")  # UTF-8, whatever the spec held
    check = subprocess.run(
        [PY, "-m", "black", "--check", "-q", str(package)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    code = (
        "import textpkg, textpkg.models; print(textpkg.TextClient.get_a.__doc__[:20])"
    )
    run = subprocess.run(
        [PY, "-c", code], cwd=tmp_path / "out", capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    # A one-line edit elsewhere: the client module is formatted again, and __init__ (its
    # SPEC_HASH changes); nothing else is.
    spec.write_text(_spec_with(HOSTILE[case], "second"), encoding="utf-8")
    from generator.pipeline import Options

    opts = Options(
        [spec], tmp_path / "out", "textpkg", "", False, tmp_path / ".ciogen-cache"
    )
    formatter = Counting(opts.cache_dir, opts.format_pack())
    from generator.ir.build import build_api
    from generator.render.package import render_all
    from generator.spec.refs import load

    api, _ = build_api(load([spec]), package="textpkg", version="0")
    render_all(api, formatter, make_environment())
    assert sorted(formatter.formatted) == ["__init__.py", "text.py"]


def test_an_edit_to_prose_only_does_not_validate_again(tmp_path: Path) -> None:
    """Neither the validation nor the example check can depend on the text of a
    description or a summary: an edit to one answers from the caches (no validator is
    even imported); any other edit validates again."""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        (DATA / "coverage31.yaml")
        .read_text()
        .replace('  version: "1"\n', '  version: "1"\n  summary: Things.\n', 1)
        .replace(
            '            schema: {$ref: "#/components/schemas/Thing"}\n',
            '            schema: {$ref: "#/components/schemas/Thing"}\n'
            "            example: {kind: thing, note: hi}\n",
            1,
        )
    )
    code = (
        "import sys; from generator.cli import main; "
        "main(['generate', '--spec', 's.yaml', '--out', 'out', '--package', 'p']); "
        "print('validated' if 'openapi_schema_validator' in sys.modules else 'cached')"
    )

    def run() -> str:
        done = subprocess.run(
            [PY, "-c", code],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT), "CIOGEN_JOBS": "1"},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    assert run() == "validated"
    text = spec.read_text()
    assert "summary:" in text
    spec.write_text(text.replace("summary: ", "summary: Edited, ", 1))
    assert run() == "cached"
    spec.write_text(spec.read_text().replace("enum: [fast, slow]", "enum: [fast]", 1))
    assert run() == "validated"


def test_check_on_an_in_sync_tree_imports_no_stage(tmp_path: Path) -> None:
    """`check` answers an in-sync tree from the manifest alone: none of the stages (the
    IR, YAML, Jinja, the formatter, the validator) is imported, which is what keeps it fast
    as a pre-commit hook. A stale tree is still caught (the full render runs then)."""
    shutil.copy(DATA / "coverage31.yaml", tmp_path / "s.yaml")
    args = "['check', '--spec', 's.yaml', '--out', 'out', '--package', 'p']"
    heavy = (
        "jinja2",
        "yaml",
        "black",
        "openapi_spec_validator",
        "generator.ir.model",
        "generator.render.environment",
    )
    code = (
        "import sys; from generator.cli import main; "
        f"code = main({args}); "
        f"print(code, sorted(m for m in {heavy!r} if m in sys.modules))"
    )

    def check() -> str:
        done = subprocess.run(
            [PY, "-c", code],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
        )
        return done.stdout.strip().splitlines()[-1]

    gen = run_cli(
        "generate", "--spec", "s.yaml", "--out", "out", "--package", "p", cwd=tmp_path
    )
    assert gen.returncode == 0, gen.stderr
    assert check() == "0 []"
    (tmp_path / "out" / "p" / "__init__.py").write_text("# edited by hand\n")
    stale = check()
    assert stale.startswith("1 ") and "generator.ir.model" in stale


def _example_findings(
    tmp_path: Path, cache: Path, good: bool
) -> Callable[[], list[str]]:
    """A run of the IR stage over coverage31.yaml with examples added to one response (a
    bad one, and a good one if `good`): the pointers of its example findings."""
    from generator.ir.build import build_api
    from generator.spec.refs import load

    good_line = "              good: {value: {kind: thing, note: hi}}\n" if good else ""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        (DATA / "coverage31.yaml")
        .read_text()
        .replace(
            '            schema: {$ref: "#/components/schemas/Thing"}\n',
            '            schema: {$ref: "#/components/schemas/Thing"}\n'
            "            examples:\n"
            + good_line
            + "              bad: {value: {kind: other, note: hi}}\n",
            1,
        )
    )

    def run() -> list[str]:
        _, findings = build_api(load([spec]), package="p", version="0", cache_dir=cache)
        return [f.pointer for f in findings if "example" in f.message]

    return run


def test_example_checks_are_cached_in_one_file_per_set_of_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers of the example check live in one cache file (not one per example); a
    second run answers every example from it, and still marks the bad one."""
    from generator.ir import example_check

    cache = tmp_path / "cache"
    run = _example_findings(tmp_path, cache, good=True)
    first = run()
    assert [p.rsplit("/", 1)[1] for p in first] == ["bad"]
    assert len(list((cache / "examples").iterdir())) == 1

    class Refuse(example_check.ExampleChecker):
        def __init__(self, *args: object) -> None:
            raise AssertionError("checked again instead of answered from the cache")

    monkeypatch.setattr(example_check, "ExampleChecker", Refuse)
    assert run() == first


def _counted_runs(
    tmp_path: Path,
    doc: dict[str, Any],
    checked: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], list[str]]:
    """A run of the IR on `doc` as it is at each call (one cache for all runs), returning
    its example findings; every example actually checked is appended to `checked`."""
    from generator.ir import example_check
    from generator.ir.build import build_api
    from generator.spec.refs import load

    spec, cache = tmp_path / "s.json", tmp_path / "cache"
    real = example_check.ExampleChecker.errors

    def counting(self: Any, schema: Any, value: Any) -> Any:
        checked.append(value)
        return real(self, schema, value)

    monkeypatch.setattr(example_check.ExampleChecker, "errors", counting)

    def run() -> list[str]:
        spec.write_text(json.dumps(doc))
        _, findings = build_api(load([spec]), package="p", version="0", cache_dir=cache)
        return [f.message for f in findings if "example" in f.message]

    return run


def test_an_edit_rechecks_only_the_examples_whose_schemas_it_can_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An example's answer is kept under the structure of what its schema reaches (its
    unit and the units that one reaches through `$ref`s): an edit elsewhere leaves it
    cached; an edit to a schema it reaches checks it again."""

    thing = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"type": "string", "enum": ["thing"]}},
    }
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "paths": {
            "/thing": {
                "get": {
                    "operationId": "getThing",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"},
                                    "examples": {"one": {"value": {"kind": "thing"}}},
                                }
                            },
                        }
                    },
                }
            },
            "/other": {
                "get": {
                    "operationId": "getOther",
                    "responses": {"204": {"description": "none"}},
                }
            },
        },
        "components": {"schemas": {"Thing": thing}},
    }
    checked: list[object] = []
    run = _counted_runs(tmp_path, doc, checked, monkeypatch)

    assert run() == [] and len(checked) == 1
    doc["paths"]["/other"]["get"]["deprecated"] = True  # elsewhere: answered from cache
    assert run() == [] and len(checked) == 1
    thing["properties"]["kind"]["enum"] = ["other"]  # what the example's schema reaches
    assert len(run()) == 1 and len(checked) == 2


def test_an_operations_own_schema_is_keyed_on_itself_not_on_its_path_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schema written inside an operation: marking that operation deprecated (same path
    item) checks nothing again; a change to that schema, or to a component it reaches,
    checks its example again."""

    kind = {"type": "string", "enum": ["thing"]}
    inline = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": kind, "size": {"$ref": "#/components/schemas/Size"}},
    }
    size = {"type": "integer"}
    operation: dict[str, Any] = {
        "operationId": "getThing",
        "responses": {
            "200": {
                "description": "ok",
                "content": {
                    "application/json": {
                        "schema": inline,
                        "examples": {"one": {"value": {"kind": "thing", "size": 2}}},
                    }
                },
            }
        },
    }
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "paths": {"/thing": {"get": operation}},
        "components": {"schemas": {"Size": size}},
    }
    checked: list[object] = []
    run = _counted_runs(tmp_path, doc, checked, monkeypatch)

    assert run() == [] and len(checked) == 1
    operation["deprecated"] = True  # the same path item, not the schema
    operation["summary"] = "Get the thing"
    assert run() == [] and len(checked) == 1
    kind["enum"] = ["other"]  # the schema itself
    assert len(run()) == 1 and len(checked) == 2
    kind["enum"] = ["thing"]
    size["type"] = "string"  # a component the schema reaches
    assert len(run()) == 1 and len(checked) == 3


def test_a_damaged_formatting_cache_is_ignored(tmp_path: Path) -> None:
    source = "x = ( 1 )\n"
    Formatter(tmp_path).format(source, "m.py")
    (pack,) = (tmp_path / "format").iterdir()
    for garbage in (b"", b"\x00garbage", b"\xe9\x05\x00\x00\x00"):
        pack.write_bytes(garbage)
        assert Formatter(tmp_path).format(source, "m.py") == "x = 1\n"


@pytest.mark.parametrize(
    "garbage",
    ["", "[1, 2]", '{"answers": [], "refs": {}}', '{"answers": {}, "refs": {"x": 1}}'],
)
def test_a_damaged_example_check_cache_is_ignored(tmp_path: Path, garbage: str) -> None:
    cache = tmp_path / "cache"
    run = _example_findings(tmp_path, cache, good=False)
    first = run()
    (pack,) = (cache / "examples").iterdir()
    pack.write_text(garbage)
    assert run() == first and first


def test_an_example_whose_schema_reaches_the_root_is_rechecked_when_the_root_changes(
    tmp_path: Path,
) -> None:
    """Schemas may be kept outside every unit (under a root extension): an example whose
    schema reaches one is checked again when it changes."""
    from generator.ir.build import build_api
    from generator.spec.refs import load

    spec = tmp_path / "s.json"
    kind = {"type": "string", "enum": ["thing"]}
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "x-shared": {"Kind": kind},
        "paths": {
            "/thing": {
                "get": {
                    "operationId": "getThing",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "kind": {"$ref": "#/x-shared/Kind"}
                                        },
                                    },
                                    "examples": {"one": {"value": {"kind": "thing"}}},
                                }
                            },
                        }
                    },
                }
            }
        },
    }
    cache = tmp_path / "cache"

    def run() -> list[str]:
        spec.write_text(json.dumps(doc))
        _, findings = build_api(load([spec]), package="p", version="0", cache_dir=cache)
        return [f.message for f in findings if "example" in f.message]

    assert run() == []
    kind["enum"] = ["other"]
    assert len(run()) == 1


def _memo_doc(tmp_path: Path, text: str) -> Any:
    from generator.spec.reader import read_document

    path = tmp_path / "m.yaml"
    path.write_text(text)
    return read_document(path)


def test_unit_digests_kept_between_runs_walk_only_what_an_edit_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest memo answers for every unit whose content did not change; a changed
    unit, and only it, is walked again, and the digests are those a run without the memo
    works out (prose left out as ever)."""
    from generator.spec import digest_memo, units

    cache = tmp_path / "cache"
    walked: list[Any] = []
    real = units.shape_digest
    monkeypatch.setattr(units, "shape_digest", lambda n: walked.append(n) or real(n))
    source = (
        (DATA / "coverage31.yaml")
        .read_text()
        .replace(
            "enum: [fast, slow]", "enum: [fast, slow]\n          description: Fast."
        )
    )
    doc = _memo_doc(tmp_path, source)
    kept = digest_memo.attach([doc], cache)
    first = doc.unit_digests
    assert len(walked) == len(first)  # nothing known yet: the root and every unit
    digest_memo.store([doc], cache, kept)

    edited = source.replace("enum: [fast, slow]", "enum: [fast]", 1)
    assert edited != source
    walked.clear()
    doc = _memo_doc(tmp_path, edited)
    kept = digest_memo.attach([doc], cache)
    second = doc.unit_digests
    changed = [k for k in first if first[k] != second[k]]
    assert len(changed) == 1 and changed[0] != units.ROOT
    assert len(walked) == 2  # the root (always) and the edited unit
    assert second == units.digests(_memo_doc(tmp_path, edited).data)
    digest_memo.store([doc], cache, kept)

    # a prose edit: walked again (its content changed), the same digest (prose left out)
    prose = edited.replace("description: Fast.", "description: Faster.")
    assert prose != edited
    walked.clear()
    doc = _memo_doc(tmp_path, prose)
    digest_memo.attach([doc], cache)
    assert doc.unit_digests == second and len(walked) == 2


@pytest.mark.parametrize("garbage", [b"", b"\x00garbage", b"\xe9\x05\x00\x00\x00"])
def test_a_damaged_digest_memo_is_ignored(tmp_path: Path, garbage: bytes) -> None:
    from generator.spec import digest_memo, units

    cache = tmp_path / "cache"
    doc = _memo_doc(tmp_path, (DATA / "coverage31.yaml").read_text())
    kept = digest_memo.attach([doc], cache)
    expected = doc.unit_digests
    digest_memo.store([doc], cache, kept)
    (memo,) = (cache / "units").iterdir()
    memo.write_bytes(garbage)
    doc = _memo_doc(tmp_path, (DATA / "coverage31.yaml").read_text())
    assert digest_memo.attach([doc], cache) == {doc.path: {}}  # read as empty
    assert doc.unit_digests == expected == units.digests(doc.data)


def test_a_unit_marshal_cannot_write_is_digested_every_run() -> None:
    """A unit nested deeper than `marshal` goes has no memo key: it is walked every run,
    with the digest a run without the memo gives it."""
    from generator.spec import units

    deep: Any = "leaf"
    for _ in range(2100):
        deep = {"x": deep}
    data = {
        "openapi": "3.1.0",
        "components": {"schemas": {"Deep": deep, "Flat": {"type": "string"}}},
    }
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # as the CLI does
    try:
        assert units.content_key(deep) is None
        memo: dict[bytes, str] = {}
        assert units.digests(data, memo) == units.digests(data)
    finally:
        sys.setrecursionlimit(limit)
    assert len(memo) == 1  # the flat unit only


def _pack_entries(n: int, size: int = 1000) -> dict[str, list[str]]:
    return {f"m{i}.py": [f"key{i}", "x" * size] for i in range(n)}


def test_a_pack_writes_only_what_changed_until_the_delta_grows(tmp_path: Path) -> None:
    """A few changed entries go to the delta beside the base, which is left as it was;
    once the delta is a good part of the base, the base is written whole and the delta
    removed. Every write reads back as exactly the entries stored."""
    from generator.render.packs import Pack

    path = tmp_path / "format" / "p.marshal"
    delta = path.with_name("p.marshal.delta")
    first = _pack_entries(40)
    Pack(path).store(first)
    base = path.read_bytes()
    assert not delta.exists()

    second = {**first, "m1.py": ["new1", "y" * 1000], "new.py": ["k", "z"]}
    del second["m2.py"]
    Pack(path).store(second)
    assert path.read_bytes() == base and delta.exists()
    assert Pack(path).load() == second

    third = dict(second)
    for i in range(3, 30):  # most of them: cheaper to write the base again
        third[f"m{i}.py"] = [f"other{i}", "w" * 1000]
    Pack(path).store(third)
    assert path.read_bytes() != base and not delta.exists()
    assert Pack(path).load() == third


@pytest.mark.parametrize("garbage", [b"", b"\x00garbage", b"\xe9\x05\x00\x00\x00"])
def test_a_damaged_pack_delta_reads_as_no_change(
    tmp_path: Path, garbage: bytes
) -> None:
    from generator.render.packs import Pack

    path = tmp_path / "p.marshal"
    first = _pack_entries(40)
    Pack(path).store(first)
    Pack(path).store({**first, "m1.py": ["new1", "y"]})
    path.with_name("p.marshal.delta").write_bytes(garbage)
    assert Pack(path).load() == first


def test_the_formatting_cache_answers_from_its_delta(tmp_path: Path) -> None:
    """A file formatted again goes to the delta; the next run finds it there."""
    sources = {f"m{i}.py": f"x{i} = ( {i} )\n" for i in range(40)}
    Formatter(tmp_path).format_all(sources)
    edited = {**sources, "m3.py": "x3 = ( 33 )\n"}
    assert Formatter(tmp_path).format_all(edited)["m3.py"] == "x3 = 33\n"
    assert sorted(p.name for p in (tmp_path / "format").iterdir())[1].endswith(".delta")
    again = Formatter(tmp_path)
    assert again.cached("m3.py", edited["m3.py"]) == "x3 = 33\n"
    assert again.cached("m4.py", sources["m4.py"]) == "x4 = 4\n"


# One edit after another to a copy of specs/: (file, text, replacement). Prose, a code
# change, an enum reduced to one value (a parameter the client then fills in), a new
# property, a renamed operation, then everything back as it was (every cache then holds
# answers of other versions).
NEW_PROPERTY = "        _update:\n          type: boolean\n        nickname:\n          type: string\n"
EDITS = [
    ("track.yaml", "summary: Create or update a person", "summary: Create one person"),
    (
        "track.yaml",
        "      operationId: identifyCustomer\n",
        "      operationId: identifyCustomer\n      deprecated: true\n",
    ),
    ("app.yaml", "          - '1'\n          - '2'\n", "          - '1'\n"),
    (
        "track.yaml",
        "        _update:\n          type: boolean\n",
        NEW_PROPERTY,
    ),
    ("app.yaml", "operationId: listCampaigns", "operationId: listAllCampaigns"),
]


def test_warm_runs_after_each_edit_write_what_a_run_without_cache_writes(
    tmp_path: Path,
) -> None:
    """Every cache (unit digests, validation, example checks, render memo, formatting
    packs and their deltas) answers only what a run from nothing would work out: after
    each edit, and after going back, a warm run writes the same bytes and warnings as a
    run with --no-cache."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    originals = {p.name: p.read_text() for p in (tmp_path / "specs").glob("*.yaml")}

    def both() -> None:
        warm = run_cli("generate", "--spec", "specs", "--out", "warm", cwd=tmp_path)
        shutil.rmtree(tmp_path / "cold", ignore_errors=True)
        cold = run_cli(
            "generate", "--spec", "specs", "--out", "cold", "--no-cache", cwd=tmp_path
        )
        assert warm.returncode == cold.returncode == 0, warm.stderr + cold.stderr
        assert tree(tmp_path / "warm") == tree(tmp_path / "cold")
        warned = [line for line in warm.stderr.splitlines() if "warning" in line]
        assert warned == [
            line for line in cold.stderr.splitlines() if "warning" in line
        ]

    both()
    for name, old, new in EDITS:
        spec = tmp_path / "specs" / name
        text = spec.read_text()
        assert text.count(old) == 1, (name, old)
        spec.write_text(text.replace(old, new))
        both()
    for name, text in originals.items():
        (tmp_path / "specs" / name).write_text(text)
    both()
    assert (tmp_path / ".ciogen-cache" / "format").is_dir()
