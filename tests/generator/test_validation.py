"""The spec validator as ciogen runs it finds what openapi-spec-validator finds, whole or
unit by unit (an edit revalidates what it touched)."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.errors import Finding
from generator.spec import units, validate
from generator.spec.reader import Document, read_document

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "openapi"

FLAWED = """\
openapi: "{version}"
info: {{title: Flawed, version: "1"}}
paths:
  /a/{{id}}:
    get:
      operationId: getA
      parameters:
        - {{name: id, in: path, required: true, schema: {{type: integer, default: x}}}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/A"}}
  /b:
    get:
      operationId: getA
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/A"}}
components:
  schemas:
    A:
      type: object
      required: [missing]
      properties:
        n: {{type: integer, default: "not a number"}}
        b: {{$ref: "#/components/schemas/B"}}
    B:
      allOf:
        - $ref: "#/components/schemas/A"
        - {{type: object, required: [also_missing]}}
"""


def _stock(path: Path) -> list[str]:
    from openapi_spec_validator.validation import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    doc = read_document(path)
    cls = OpenAPIV31SpecValidator if doc.version == "3.1" else OpenAPIV30SpecValidator
    data = doc.data
    if isinstance(data.get("paths"), dict):
        # the stock validator walks the Paths object's extensions as path items (and
        # stops at one that is no object); ciogen's skips them
        paths = {k: v for k, v in data["paths"].items() if not k.startswith("x-")}
        data = {**data, "paths": paths}
    messages = []
    for err in cls(data, base_uri=path.as_uri()).iter_errors():
        messages.append(validate._message(err))
    return sorted(messages)


def _ours(path: Path) -> list[str]:
    return sorted(f.message for f in validate._validate_document(read_document(path)))


SPECS = sorted(
    [
        *DATA.glob("*.yaml"),
        *(DATA / "realworld").glob("*.yaml"),
        *ROOT.glob("specs/*.yaml"),
    ]
)


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_flaws_are_found_as_the_stock_validator_finds_them(
    tmp_path: Path, version: str
) -> None:
    spec = tmp_path / "flawed.yaml"
    spec.write_text(FLAWED.format(version=version))
    yaml.safe_load(spec.read_text())  # the fixture itself is well-formed YAML
    ours = _ours(spec)
    assert ours, "the flawed document has findings"
    assert ours == _stock(spec)


MISTYPED = """\
openapi: 3.0.3
info: {title: Mistyped, version: "1"}
paths:
  /a:
    get:
      parameters:
        - {name: q, in: query, schema: {type: string, maxLength: -1}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {a: {type: [string, "null"]}}}
components:
  schemas:
    X: {type: object, nullable: ~}
"""


def test_a_finding_points_at_the_keyword_and_quotes_the_value_as_written(
    tmp_path: Path,
) -> None:
    # the validator's error for these is a oneOf over the places a schema may stand; the
    # finding points where the branch that fits failed, not at the parameter or response
    spec = tmp_path / "mistyped.yaml"
    spec.write_text(MISTYPED)
    found = {(f.pointer, f.message) for f in _found(spec)}
    schema = "/paths/~1a/get/responses/200/content/application~1json/schema"
    assert found == {
        (
            "/paths/~1a/get/parameters/0/schema/maxLength",
            "-1 is less than the minimum of 0",
        ),
        (f"{schema}/properties/a/type", '["string", "null"] is not of type \'string\''),
        ("/components/schemas/X/nullable", "null is not of type 'boolean'"),
    }


def _found(spec: Path) -> list[Finding]:
    return validate._validate_document(read_document(spec))


def test_extensions_in_the_paths_object_are_no_path_items(tmp_path: Path) -> None:
    spec = DATA / "realworld" / "extension_keys.yaml"
    assert _found(spec) == []
    doc = read_document(spec)
    assert _run(doc, tmp_path / "cache")[0] == []
    # an edit to a path item revalidates it by units, next to the extensions
    data = copy.deepcopy(doc.data)
    data["paths"]["/artifacts"]["get"]["summary"] = "List"
    data["paths"]["/artifacts"]["get"]["operationId"] = 5
    edited = _doc(tmp_path, data, name="extension_keys.yaml")
    _run(_doc(tmp_path, doc.data, name="extension_keys.yaml"), tmp_path / "cache")
    found, _ = _run(edited, tmp_path / "cache")
    assert found == validate._validate_document(edited) and found


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_every_test_document_gets_the_stock_findings(spec: Path) -> None:
    assert _ours(spec) == _stock(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_the_two_passes_apart_find_what_one_run_finds(spec: Path) -> None:
    """A big document's two validator passes run on two workers; together they must
    report exactly what one run of the validator reports."""
    doc = read_document(spec)
    apart = [
        f for part in validate.PARTS for f in validate._validate_document(doc, part)
    ]
    assert validate._ordered(apart) == validate._validate_document(doc)


def test_a_big_document_is_validated_in_two_passes_on_the_pool(tmp_path: Path) -> None:
    spec = tmp_path / "flawed.yaml"
    spec.write_text(FLAWED.format(version="3.0.3"))
    doc = read_document(spec)
    submitted: list[tuple[Any, ...]] = []

    def submit(fn: Any, *args: Any) -> Future[Any]:
        submitted.append(args)
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done

    whole = validate.start([doc], None, submit).result()
    assert [args[1] for args in submitted] == ["all"]
    submitted.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validate, "SPLIT_BYTES", 0)
        apart = validate.start([doc], None, submit).result()
    assert [args[1] for args in submitted] == list(validate.PARTS)
    assert apart == whole and whole


def test_forked_workers_validate_the_documents_already_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker forked for the validation uses the documents this process parsed: it
    reads no file again (a 13 MB description costs about half a second to read)."""
    from generator.pool import Pool

    spec = tmp_path / "flawed.yaml"
    spec.write_text(FLAWED.format(version="3.0.3"))
    doc = read_document(spec)
    expected = validate._validate_document(doc)

    def read_again(path: Path) -> None:
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(validate, "read_document", read_again)
    with Pool(2) as pool:
        assert validate.start([doc], None, pool.submit).result() == expected
    assert not validate._SUBMITTED  # nothing kept once the findings are in


# -- unit by unit ----------------------------------------------------------------------

Data = dict[str, Any]


class Worker:
    """Runs submitted work in this process, noting what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        self.calls.append((fn.__name__, *args))
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done


def _doc(tmp_path: Path, data: Data, name: str = "api.yaml") -> Document:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return read_document(path)


def _run(doc: Document, cache: Path | None) -> tuple[list[Finding], Worker]:
    worker = Worker()
    return validate.start([doc], cache, worker.submit).result(), worker


def _flawed(version: str = "3.0.3") -> Data:
    data: Data = yaml.safe_load(FLAWED.format(version=version))
    return data


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_a_whole_validation_by_units_finds_what_the_validator_finds(
    spec: Path, tmp_path: Path
) -> None:
    doc = read_document(spec)
    assert _run(doc, tmp_path / "cache")[0] == validate._validate_document(doc)


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_the_flawed_document_by_units_gets_the_stock_findings(
    tmp_path: Path, version: str
) -> None:
    doc = _doc(tmp_path, _flawed(version))
    found, _ = _run(doc, tmp_path / "cache")
    assert found and found == validate._validate_document(doc)
    assert any("is not unique" in f.message for f in found)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_placeholders_add_no_finding(spec: Path) -> None:
    """The skeleton's placeholders are valid where they stand: every finding of the
    skeleton is one of the whole document's, about its root."""
    doc = read_document(spec)
    whole = validate._schema_pass(doc, doc.data)
    bare = validate._schema_pass(doc, units.skeleton(doc.data))
    known = units.units(doc.data)
    assert [f for f in bare if units.unit_of(f[0], known) != units.ROOT] == []
    assert all(f in whole for f in bare)
    everything = units.skeleton(doc.data, known)
    assert validate._schema_pass(doc, everything) == whole


def _many_paths(n: int, version: str = "3.0.3") -> Data:
    """The flawed document and `n` path items of its own each (so that an edit touches
    a small share of the units)."""
    data = _flawed(version)
    for i in range(n):
        data["paths"][f"/p{i}"] = {
            "get": {
                "operationId": f"p{i}",
                "responses": {"200": {"description": "ok"}},
            }
        }
    return data


def _bad_default(data: Data) -> None:
    item = data["paths"]["/b"]["get"]
    item["parameters"] = [
        {"name": "q", "in": "query", "schema": {"type": "integer", "default": "x"}}
    ]


def _fix_component(data: Data) -> None:
    data["components"]["schemas"]["A"]["properties"]["n"]["default"] = 3


def _duplicate(data: Data) -> None:
    data["paths"]["/c"] = copy.deepcopy(data["paths"]["/b"])


def _drop_path(data: Data) -> None:
    del data["paths"]["/b"]  # the duplicate operation id goes with it


def _bad_key(data: Data) -> None:
    data["paths"]["no-slash"] = {}


def _bad_unit(data: Data) -> None:
    data["components"]["parameters"] = {"P": {"name": "p"}}  # no `in`


EDITS = [_bad_default, _fix_component, _duplicate, _drop_path, _bad_key, _bad_unit]


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.__name__.strip("_"))
def test_an_edit_revalidated_by_units_finds_what_a_whole_validation_finds(
    tmp_path: Path, version: str, edit: Callable[[Data], None]
) -> None:
    cache = tmp_path / "cache"
    data = _many_paths(20, version)
    _run(_doc(tmp_path, data), cache)
    edit(data)
    doc = _doc(tmp_path, data)
    found, worker = _run(doc, cache)
    assert [call[0] for call in worker.calls] == ["_validate_units"]
    assert found == validate._validate_document(doc)
    # and the next run answers from the cache alone
    again, worker = _run(doc, cache)
    assert again == found and worker.calls == []


def test_an_edit_to_one_path_item_revalidates_that_path_item(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    data = _many_paths(20)
    _run(_doc(tmp_path, data), cache)
    data["paths"]["/p7"]["get"]["deprecated"] = True
    _, worker = _run(_doc(tmp_path, data), cache)
    assert worker.calls[0][2:] == (["/paths/~1p7"], ["/paths/~1p7"])


def test_an_edit_to_a_component_rewalks_what_reaches_it(tmp_path: Path) -> None:
    """A path item's walk checks the schemas it references: it is walked again when one
    of them changes, and checked against the OpenAPI schema only when it changed."""
    cache = tmp_path / "cache"
    data = _many_paths(20)
    _run(_doc(tmp_path, data), cache)
    data["components"]["schemas"]["B"]["allOf"][1]["required"] = ["other"]
    _, worker = _run(_doc(tmp_path, data), cache)
    changed, walked = worker.calls[0][2:]
    assert changed == ["/components/schemas/B"]
    # B is reached from A (a property), A from both path items' responses
    assert walked == [
        "/paths/~1a~1{id}",
        "/paths/~1b",
        "/components/schemas/A",
        "/components/schemas/B",
    ]


def test_a_prose_edit_revalidates_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    data = _flawed()
    first, _ = _run(_doc(tmp_path, data), cache)
    data["paths"]["/b"]["get"]["responses"]["200"]["description"] = "Fine."
    found, worker = _run(_doc(tmp_path, data), cache)
    assert worker.calls == [] and found == first


def test_an_edit_reaching_most_units_walks_the_whole_document(tmp_path: Path) -> None:
    """Past a quarter of the walked units, one walk over the whole document costs less:
    the changed units are still checked against the schema alone, in the skeleton."""
    cache = tmp_path / "cache"
    data = _many_paths(3)
    _run(_doc(tmp_path, data), cache)
    for item in data["paths"].values():
        for op in item.values():
            op["deprecated"] = True
    doc = _doc(tmp_path, data)
    found, worker = _run(doc, cache)
    ((name, _, changed, walked),) = worker.calls
    assert name == "_validate_units" and walked is None
    assert changed == [k for k in units.units(data) if k.startswith("/paths/")]
    assert found == validate._validate_document(doc)


def test_an_edit_to_the_root_validates_whole(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    data = _many_paths(3)
    _run(_doc(tmp_path, data), cache)
    data["servers"] = [{"url": "https://example.com"}]
    doc = _doc(tmp_path, data)
    found, worker = _run(doc, cache)
    assert [call[0] for call in worker.calls] == ["_validate_files"]
    assert found == validate._validate_document(doc)


def test_a_validator_failure_on_some_units_is_reported_and_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    data = _many_paths(20)
    _run(_doc(tmp_path, data), cache)
    data["paths"]["/p3"]["get"]["deprecated"] = True
    doc = _doc(tmp_path, data)

    def choke(*args: Any) -> Any:
        raise RuntimeError("odd input")

    with monkeypatch.context() as mp:
        mp.setattr(validate, "_findings", choke)
        found, _ = _run(doc, cache)
    assert any(
        f.message.startswith("the OpenAPI validator stopped before the end")
        and f.message.endswith("validator failed: RuntimeError")
        for f in found
    )
    found, worker = _run(doc, cache)  # tried again, and right this time
    assert worker.calls and found == validate._validate_document(doc)


# -- the compiled check of the OpenAPI 3.0 schema -------------------------------------


def _first_operation(data: Data) -> Data:
    item = next(iter(data["paths"].values()))
    op: Data = next(v for k, v in item.items() if k in ("get", "post", "put", "patch"))
    return op


def _first_schema(data: Data) -> Data:
    schema: Data = next(iter(data["components"]["schemas"].values()))
    return schema


BREAKS: dict[str, Callable[[Data], None]] = {
    "no info title": lambda d: d["info"].pop("title"),
    "info version a number": lambda d: d["info"].update(version=1),
    "server without url": lambda d: d["servers"].append({"description": "x"}),
    "path without slash": lambda d: d["paths"].update({"nope": {}}),
    "unknown path item key": lambda d: next(iter(d["paths"].values())).update(gett={}),
    "operation without responses": lambda d: _first_operation(d).pop("responses"),
    "response code not a code": lambda d: _first_operation(d)["responses"].update(
        {"2xx0": {"description": "x"}}
    ),
    "response without description": lambda d: _first_operation(d)["responses"].update(
        {"418": {}}
    ),
    "parameter in nowhere": lambda d: _first_operation(d).update(
        parameters=[{"name": "q", "in": "nowhere", "schema": {"type": "string"}}]
    ),
    "path parameter not required": lambda d: _first_operation(d).update(
        parameters=[{"name": "q", "in": "path", "schema": {"type": "string"}}]
    ),
    "schema type a number": lambda d: _first_schema(d).update(type=5),
    "required not a list": lambda d: _first_schema(d).update(required="x"),
    "nullable a string": lambda d: _first_schema(d).update(nullable="yes"),
    "empty enum": lambda d: _first_schema(d).update(enum=[]),
    "unknown schema keyword": lambda d: _first_schema(d).update(patternProperties={}),
    "bad security scheme": lambda d: d["components"].update(
        securitySchemes={"k": {"type": "apiKey", "name": "k"}}
    ),
    "tags not a list": lambda d: d.update(tags={"name": "t"}),
    "an extension anywhere": lambda d: d.update({"x-fine": {"any": "thing"}}),
    "format the validator ignores": lambda d: d["servers"][0].update(url="not a uri"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_the_compiled_check_agrees_with_the_validator(
    tmp_path: Path, name: str
) -> None:
    """The compiled check decides whether the validator runs: it must pass exactly the
    documents the validator finds nothing in (whatever is broken, and where)."""
    data = yaml.safe_load((DATA / "coverage30.yaml").read_text())
    BREAKS[name](data)
    doc = _doc(tmp_path, data)
    found = validate._schema_pass(doc, doc.data)["schema"]
    before = copy.deepcopy(doc.data)
    assert validate._passes_fast(doc, doc.data) == (found == [])
    assert doc.data == before  # and it leaves the document as it was
    assert validate._schema_pass(doc, doc.data, fast=True)["schema"] == found


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_the_compiled_check_passes_what_the_validator_passes(spec: Path) -> None:
    doc = read_document(spec)
    found = validate._schema_pass(doc, doc.data)["schema"]
    assert validate._passes_fast(doc, doc.data) == (doc.version == "3.0" and not found)


def test_a_big_document_is_checked_fast_and_its_findings_written_by_the_validator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load((DATA / "coverage30.yaml").read_text())
    doc = _doc(tmp_path, data)
    asked: list[bool] = []
    real = validate._passes_fast

    def noting(*args: Any) -> bool:
        asked.append(real(*args))
        return asked[-1]

    monkeypatch.setattr(validate, "_passes_fast", noting)
    monkeypatch.setattr(validate, "SPLIT_BYTES", 0)
    assert _run(doc, None)[0] == validate._validate_document(doc)
    BREAKS["schema type a number"](data)
    broken = _doc(tmp_path, data)
    found = _run(broken, None)[0]
    assert found == validate._validate_document(broken) and found
    assert asked == [True, False]


def _damage_entries(record: Data) -> None:
    for entry in record["units"].values():
        entry[1] = 5


def _damage_shape(record: Data) -> None:
    record["units"] = [1, 2]


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b"\x00\xff", _damage_entries, _damage_shape],
    ids=["empty", "not json", "binary", "bad entries", "bad shape"],
)
def test_a_damaged_validation_cache_is_ignored(tmp_path: Path, damage: Any) -> None:
    """A cache file that cannot be read, or holds what no run wrote, is as good as none:
    the document is validated whole, with the same findings."""
    import json

    cache = tmp_path / "cache"
    doc = _doc(tmp_path, _many_paths(3))
    first, _ = _run(doc, cache)
    (record,) = (cache / "validation").iterdir()
    if isinstance(damage, bytes):
        record.write_bytes(damage)
    else:
        data = json.loads(record.read_text())
        damage(data)
        record.write_text(json.dumps(data))
    found, worker = _run(doc, cache)
    assert found == first and [call[0] for call in worker.calls] == ["_validate_files"]


def test_a_compiled_check_that_chokes_leaves_the_pass_to_the_validator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load((DATA / "coverage30.yaml").read_text())
    BREAKS["schema type a number"](data)
    doc = _doc(tmp_path, data)

    def choke(value: Any) -> None:
        raise RecursionError("too deep")

    monkeypatch.setattr(validate, "_fast_check", lambda: choke)
    found = validate._schema_pass(doc, doc.data, fast=True)["schema"]
    assert found and found == validate._schema_pass(doc, doc.data)["schema"]


NESTED_SET = """\
openapi: 3.0.3
info: {title: Nested, version: "1"}
servers: [{url: "https://nested.example"}]
paths:
  /r:
    get:
      operationId: getR
      parameters: [{name: q, in: query, schema: {type: string, pattern: "^[[a-z]+$"}}]
      responses: {"204": {description: ok}}
"""


@pytest.mark.parametrize("command", ["validate", "check"])
def test_a_pattern_re_warns_about_leaves_no_warning_and_no_failed_validation(
    tmp_path: Path, command: str
) -> None:
    """`re` warns (FutureWarning) of a possible nested set when the validator compiles
    `^[[a-z]+$`: the warning reached the user's terminal without saying where, and under
    `-W error` the validator stopped ("validator failed: FutureWarning")."""
    from tests.support.packages import run_cli

    spec = tmp_path / "nested.yaml"
    spec.write_text(NESTED_SET)
    base = ("--spec", str(spec), "--package", "nested", "--out", str(tmp_path / "o"))
    assert run_cli("generate", *base, "--no-cache").returncode == 0
    r = run_cli(command, *base, "--no-cache", PYTHONWARNINGS="error")
    assert r.returncode == 0, r.stderr
    assert "FutureWarning" not in r.stderr and "validator" not in r.stderr, r.stderr
    r = run_cli(command, *base, "--no-cache")
    assert "FutureWarning" not in r.stderr, r.stderr


def _unused_ref(tmp_path: Path, ref: str) -> Document:
    """A document whose one unused component is a `$ref` to `ref` (the IR reads it too
    and stops the run; the validator, on a worker, had already gone for it)."""
    spec = tmp_path / "api.yaml"
    data = {
        "openapi": "3.0.3",
        "info": {"title": "Refs", "version": "1"},
        "paths": {},
        "components": {"schemas": {"Unused": {"$ref": ref}}},
    }
    spec.write_text(yaml.safe_dump(data), encoding="utf-8")
    return read_document(spec)


def test_the_validator_never_fetches_a_remote_ref(tmp_path: Path) -> None:
    """It fetched `http://...` $refs itself (urllib, from the worker): generating a
    client made requests to whatever host a spec named."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        doc = _unused_ref(tmp_path, f"http://127.0.0.1:{port}/schema.json")
        findings = validate._validate_document(doc)
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody came
    [finding] = findings
    assert finding.message.startswith("the OpenAPI validator stopped before the end")
    assert finding.message.endswith("validator failed: Unresolvable")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_the_validator_does_not_open_a_pipe_a_ref_leads_to(tmp_path: Path) -> None:
    """A FIFO waits for a writer: the validator waited for ever (and `generate` with
    it, for the worker)."""
    os.mkfifo(tmp_path / "fifo")
    findings = validate._validate_document(_unused_ref(tmp_path, "fifo"))
    assert [f.message.rsplit(": ", 1)[1] for f in findings] == ["Unresolvable"]


def test_the_validator_reads_a_referenced_file_as_yaml_12(tmp_path: Path) -> None:
    """The validator reads a file a $ref leads to as the generator does: `on` is the
    string it is in YAML 1.2 (PyYAML's YAML 1.1 made it True, and the enum a boolean).
    """
    (tmp_path / "switch.yaml").write_text(
        "type: string\nenum: [on, off]\ndefault: on\n", encoding="utf-8"
    )
    assert validate._validate_document(_unused_ref(tmp_path, "switch.yaml")) == []
