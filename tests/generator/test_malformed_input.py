"""Malformed specs found by mutating the test documents: each gets a one-line error naming
the file and the JSON pointer (exit 2), or, where the code does not depend on it, a
warning and a package; never a traceback, and never minutes of work."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.packages import run_cli

Data = dict[str, Any]


def _spec(version: str = "3.0.3", **schemas: Any) -> Data:
    """A one-operation document: POST /things takes a `Thing` and has an example."""
    return {
        "openapi": version,
        "info": {"title": "Things", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Thing"},
                                "examples": {"one": {"value": {"name": "a"}}},
                            }
                        }
                    },
                    "responses": {"204": {"description": "done"}},
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                },
                **schemas,
            }
        },
    }


def _generate(tmp_path: Path, data: Data) -> tuple[int, list[str]]:
    spec = tmp_path / "api.yaml"
    spec.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli("generate", "--spec", str(spec), "--out", str(out), "--package", "pk")
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, r.stderr.splitlines()


@pytest.mark.parametrize(
    ("value", "kind"), [(None, "null"), ([1], "an array"), (999, "a number")]
)
def test_a_component_schema_that_is_no_object_exits_2(
    tmp_path: Path, value: Any, kind: str
) -> None:
    data = _spec(Part=value)
    data["components"]["schemas"]["Thing"]["properties"]["part"] = {
        "$ref": "#/components/schemas/Part"
    }
    code, err = _generate(tmp_path, data)
    assert code == 2
    assert err[-1] == (
        f"error: api.yaml#/components/schemas/Part: a schema must be an object, got {kind}"
    )


@pytest.mark.parametrize("location", [{"a": "b"}, ["query"], 5])
def test_a_parameter_location_that_is_no_name_exits_2(
    tmp_path: Path, location: Any
) -> None:
    data = _spec()
    data["paths"]["/things"]["post"]["parameters"] = [
        {"name": "x", "in": location, "schema": {"type": "string"}}
    ]
    code, err = _generate(tmp_path, data)
    assert code == 2
    assert err[-1].startswith(
        "error: api.yaml#/paths/~1things/post/parameters/0/in: unknown parameter location"
    )


def test_names_with_line_breaks_are_escaped_in_a_one_line_error(tmp_path: Path) -> None:
    data = _spec(**{"Bad\nName": {"type": 5}})
    code, err = _generate(tmp_path, data)
    assert code == 2
    assert err == [
        "error: api.yaml#/components/schemas/Bad\\nName/type: unknown type 5"
    ]


@pytest.mark.parametrize(
    ("version", "flaw", "where"),
    [
        # a pattern that is no regular expression (the 3.1 validator lets it through)
        ("3.1.0", {"pattern": "("}, "/properties/name/pattern"),
        # `required` that is no list: the IR reads it as none
        ("3.0.3", {"required": 0}, "/required"),
        # YAML's null for a type: the IR reads it as no type
        ("3.0.3", {"type": None}, "/properties/name/type"),
    ],
)
def test_a_schema_the_example_checker_cannot_use_is_a_warning(
    tmp_path: Path, version: str, flaw: Data, where: str
) -> None:
    data = _spec(version)
    thing = data["components"]["schemas"]["Thing"]
    (thing if where == "/required" else thing["properties"]["name"]).update(flaw)
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    example = "api.yaml#/paths/~1things/post/requestBody/examples/one"
    assert any(
        line.startswith(
            f"warning: {example}: example not checked: the schema validator cannot "
            "use its schema ("
        )
        for line in err
    ), err
    # the validator's own finding points at the flaw, not at the schema's inside alone
    flaw_at = f"warning: api.yaml#/components/schemas/Thing{where}:"
    assert any(line.startswith(flaw_at) for line in err), err


def test_a_title_longer_than_a_file_name_may_be_names_a_bounded_module(
    tmp_path: Path,
) -> None:
    data = _spec()
    data["info"]["title"] = "x" * 300
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    names = [p.name for p in (tmp_path / "out" / "pk").rglob("*.py")]
    assert max(len(n) for n in names) <= 64 + len(".py"), names


def test_a_union_of_null_alone_is_null(tmp_path: Path) -> None:
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["gone"] = {
        "oneOf": [{"type": "null"}]
    }
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    module = tmp_path / "out" / "pk" / "models" / "thing.py"
    tree = ast.parse(module.read_text(encoding="utf-8"))
    fields = {
        node.target.id: ast.unparse(node.annotation)
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert fields["gone"] == "None | Unset"


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("models/kinds.yml#/circle", "file not found"),
        ("#/components/schemas/Gone", "'Gone' not found"),
    ],
)
def test_a_discriminator_mapping_that_leads_nowhere_is_a_warning(
    tmp_path: Path, target: str, why: str
) -> None:
    data = _spec(
        Circle={
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string"}, "r": {"type": "number"}},
        },
        Square={
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string"}, "side": {"type": "number"}},
        },
    )
    data["components"]["schemas"]["Thing"]["properties"]["shape"] = {
        "oneOf": [
            {"$ref": "#/components/schemas/Circle"},
            {"$ref": "#/components/schemas/Square"},
        ],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {"circle": target, "square": "#/components/schemas/Square"},
        },
    }
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    where = "api.yaml#/components/schemas/Thing/properties/shape/discriminator/mapping"
    assert any(
        line.startswith(f"warning: {where}/circle: broken $ref {target!r}: {why}")
        for line in err
    ), err


def test_schemas_that_lead_back_to_each_other_do_not_stop_the_validator(
    tmp_path: Path,
) -> None:
    """A tree (an array of trees, or a string) under an allOf: the validator's search for
    the property names `required` may list went round it until the recursion limit (some
    40 s for these few lines), then gave up on the rest of the document."""
    data = _spec()
    tree = {"$ref": "#/components/schemas/Tree"}
    data["components"]["schemas"]["Tree"] = {
        "oneOf": [{"type": "string"}, {"type": "array", "items": tree}]
    }
    data["components"]["schemas"]["Thing"]["properties"]["forest"] = {"allOf": [tree]}
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(data), encoding="utf-8")
    r = run_cli("validate", "--spec", str(spec))
    assert r.returncode == 0, r.stderr
    assert "validator stopped" not in r.stderr, r.stderr


@pytest.mark.parametrize("ref", ["./", "..#/components"])
def test_a_ref_to_a_directory_is_a_broken_ref(tmp_path: Path, ref: str) -> None:
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["name"] = {"$ref": ref}
    code, err = _generate(tmp_path, data)
    assert code == 2
    where = "api.yaml#/components/schemas/Thing/properties/name/$ref"
    assert err == [f"error: {where}: broken $ref {ref!r}: a directory"]


@pytest.mark.parametrize("b_is", ["alias", "array"])
def test_aliases_that_lead_back_across_files_exit_2_as_within_one(
    tmp_path: Path, b_is: str
) -> None:
    """a.json's A is b.json's B, which is A: no schema at all. Within one document that
    is exit 2; across two it was typed Any, with a warning naming no pointer. Through a
    schema (B an array of A) the recursion is the schema's own, as before."""
    (tmp_path / "a.json").write_text('{"A": {"$ref": "b.json#/B"}}')
    b = {"alias": {"$ref": "a.json#/A"}, "array": {"items": {"$ref": "a.json#/A"}}}
    if b_is == "array":
        b["array"]["type"] = "array"
    (tmp_path / "b.json").write_text(json.dumps({"B": b[b_is]}))
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["a"] = {"$ref": "a.json#/A"}
    code, err = _generate(tmp_path, data)
    if b_is == "alias":
        assert (code, err) == (2, ["error: a.json#/A: circular $ref chain"])
    else:
        assert code == 0, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("target", ["fifo", "zero"])
def test_a_ref_to_a_device_or_a_pipe_is_a_broken_ref(
    tmp_path: Path, target: str
) -> None:
    """A $ref to /dev/zero was read until the memory ran out, one to a FIFO waited for a
    writer for ever: a $ref must lead to a regular file."""
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
    else:
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero")
        (tmp_path / "zero").symlink_to("/dev/zero")
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["name"] = {"$ref": target}
    code, err = _generate(tmp_path, data)
    assert code == 2
    where = "api.yaml#/components/schemas/Thing/properties/name/$ref"
    assert err == [f"error: {where}: broken $ref {target!r}: not a regular file"]


def test_a_spec_file_that_never_ends_is_refused(tmp_path: Path) -> None:
    """`--spec /dev/zero` read until the memory ran out."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    spec = tmp_path / "endless.yaml"
    spec.symlink_to("/dev/zero")
    r = run_cli("validate", "--spec", str(spec))
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.splitlines()
    # named after the link's target, as every spec file is (files.find_spec_files)
    assert line == "error: zero#: larger than 256 MiB: not read as a spec", line


@pytest.mark.parametrize(
    ("ref", "why"),
    [("x" * 300 + ".yaml", "file name too long"), ("a%00b.yaml", "embedded null byte")],
)
def test_a_ref_to_a_file_name_the_system_refuses_is_a_broken_ref(
    tmp_path: Path, ref: str, why: str
) -> None:
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["name"] = {"$ref": ref}
    code, err = _generate(tmp_path, data)
    assert code == 2
    where = "api.yaml#/components/schemas/Thing/properties/name/$ref"
    assert len(err) == 1 and err[0].startswith(f"error: {where}: broken $ref "), err
    assert err[0].endswith(f": not a file name ({why})"), err


def test_a_ref_in_an_example_value_is_not_read_as_a_file_name(tmp_path: Path) -> None:
    """An example may hold any data, `$ref` keys too: the search for the files a document's
    refs reach read those as file names, and a NUL byte in one stopped the run."""
    (tmp_path / "lib.yaml").write_text("Name: {type: string}\n", encoding="utf-8")
    data = _spec()
    thing = data["components"]["schemas"]["Thing"]
    thing["properties"]["name"] = {"$ref": "lib.yaml#/Name"}
    thing["example"] = {"name": {"$ref": "a\x00b"}}
    code, err = _generate(tmp_path, data)
    assert code == 0, err


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


def test_an_example_too_deep_for_a_python_literal_is_not_shipped(
    tmp_path: Path,
) -> None:
    """CPython's parser refuses more than 200 nested brackets: a 150-level example was
    written into fixtures.py as one literal, and the package did not import."""
    data = _spec()
    body = data["paths"]["/things"]["post"]["requestBody"]["content"]
    body["application/json"]["examples"]["one"]["value"] = {
        "name": "a",
        "deep": _nested(150),
    }
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    where = "api.yaml#/paths/~1things/post/requestBody/content/application~1json"
    assert f"warning: {where}/examples/one: example not used: it nests more" in (
        "\n".join(err)
    ), err
    for module in (tmp_path / "out" / "pk").rglob("*.py"):
        compile(module.read_text(encoding="utf-8"), str(module), "exec")


def test_a_default_nested_thousands_of_levels_deep_is_no_error(tmp_path: Path) -> None:
    """Only a primitive `default` is ever used, but the IR kept every one, and pickling it
    (the render memo's key) ran out of stack: "schemas nest too deeply", no pointer."""
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["meta"] = {
        "type": "object",
        "default": "DEEP",
    }
    depth = 12_000
    text = json.dumps(data).replace('"DEEP"', '{"a": ' * depth + "1" + "}" * depth)
    spec = tmp_path / "api.json"
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli("generate", "--spec", str(spec), "--out", str(out), "--package", "pk")
    assert r.returncode == 0, r.stderr[-500:]


@pytest.mark.parametrize(
    ("alias", "where"), [("&x [1, *x]", "/x-loop/1"), ("&x {k: *x}", "/x-loop/k")]
)
def test_a_yaml_alias_inside_the_node_it_names_exits_2(
    tmp_path: Path, alias: str, where: str
) -> None:
    """It has no JSON form; copying it recursed until the recursion limit, and the error
    was "schemas nest or reference each other too deeply", naming no pointer."""
    spec = tmp_path / "api.yaml"
    text = yaml.safe_dump(_spec()) + f"x-loop: {alias}\n"
    spec.write_text(text, encoding="utf-8")
    r = run_cli("validate", "--spec", str(spec))
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [
        f"error: api.yaml#{where}: a YAML alias inside the node it names (a cycle)"
    ]


@pytest.mark.skipif(
    not hasattr(sys, "get_int_max_str_digits"), reason="no limit on int digits"
)
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_number_python_cannot_read_exits_2(tmp_path: Path, suffix: str) -> None:
    """Python reads integers of at most 4,300 digits: 5,000 ended in a traceback."""
    spec = tmp_path / f"api{suffix}"
    text = json.dumps(_spec()).replace('"DIGITS"', "")[:-1]
    spec.write_text(text + ', "x-big": ' + "7" * 5000 + "}", encoding="utf-8")
    r = run_cli("validate", "--spec", str(spec))
    assert r.returncode == 2, r.stderr
    why = "a number of more than 4,300 digits: Python reads no longer one"
    assert r.stderr.splitlines() == [f"error: api{suffix}#: {why}"]


def test_a_yaml_key_read_as_a_boolean_is_named_as_json_would_name_it() -> None:
    """`true:` is a boolean key in YAML 1.2; the copy named it "True" (Python's text),
    which pointers and the generated code then carried."""
    from generator.spec.reader import parse_bytes

    data = parse_bytes(b"examples:\n  true: 1\n  false: 2\n  null: 3\n", "a.yaml")
    assert data == {"examples": {"true": 1, "false": 2, "null": 3}}


def _laughs(levels: int) -> str:
    """`x-a0` is ten strings; each `x-aN` lists `x-a(N-1)` ten times: 10**(N+1) once
    every alias is a copy."""
    lines = ["x-a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [
        f"x-a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]"
        for n in range(1, levels)
    ]
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_exits_2_naming_where_it_grows(tmp_path: Path) -> None:
    """Ten levels of ten aliases ("billion laughs"): every alias was copied, so the
    reader built ten billion nodes and `generate` ran until killed."""
    spec = tmp_path / "api.yaml"
    spec.write_text(yaml.safe_dump(_spec()) + _laughs(10), encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli("generate", "--spec", str(spec), "--out", str(out), "--package", "pk")
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith(
        "error: api.yaml#/x-a9: YAML aliases expand this node to 11,111,111,111 nodes"
    ), line
    assert "more than ciogen reads (4,000,000)" in line
    assert not out.exists()


def test_yaml_aliases_within_the_limit_are_copies(tmp_path: Path) -> None:
    """Five levels (111,110 nodes expanded) is far from a bomb: read as JSON would hold
    it, each alias its own copy."""
    from generator.spec.reader import parse_bytes

    data = parse_bytes(_laughs(5).encode(), "api.yaml")
    assert len(data["x-a4"]) == 10
    assert data["x-a4"][0][0][0][0] == ["lol"] * 10
    assert data["x-a4"][0] is not data["x-a4"][1]


def test_a_yaml_example_nested_thousands_of_levels_deep_is_read(
    tmp_path: Path,
) -> None:
    depth = 12_000
    spec = tmp_path / "api.yaml"
    deep = "[" * depth + "1" + "]" * depth
    data = _spec()
    body = data["paths"]["/things"]["post"]["requestBody"]["content"]
    body["application/json"]["examples"]["one"]["value"] = "DEEP"
    text = yaml.safe_dump(data).replace("value: DEEP", f"value: {deep}")
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli("generate", "--spec", str(spec), "--out", str(out), "--package", "pk")
    assert r.returncode == 0, r.stderr[-500:]
    assert "example not used: it nests more than" in r.stderr


@pytest.mark.parametrize("keyword", ["items", "additionalProperties"])
def test_arrays_or_maps_nested_too_deep_for_python_exit_2(
    tmp_path: Path, keyword: str
) -> None:
    """250 inline levels made `list[list[...]]` 250 brackets deep: ruff formatted it,
    CPython's parser (200 at most) did not, and the package was written anyway."""
    schema: Data = {"type": "string"}
    for _ in range(250):
        kind = "array" if keyword == "items" else "object"
        schema = {"type": kind, keyword: schema}
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["deep"] = schema
    code, err = _generate(tmp_path, data)
    assert code == 2, err
    assert len(err) == 1, err
    where = f"api.yaml#/components/schemas/Thing/properties/deep/{keyword}/"
    assert err[0].startswith(f"error: {where}"), err
    assert err[0].endswith(
        ": arrays, maps and unions nest more than 50 levels deep here with no named "
        "object schema between them (the generated type would not parse)"
    ), err
    assert not (tmp_path / "out").exists()


def test_a_chain_of_nested_all_ofs_is_read_once_per_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validator asks for the property names under every allOf member it meets, and
    each answer read the whole chain below: n nested allOfs cost n*n/2 schema reads (800
    took a minute). Counted, not timed: the reads grow as the chain does."""
    from jsonschema_path import SchemaPath

    from generator.spec import validate
    from generator.spec.reader import read_document

    depth = 100
    inner = json.dumps({"type": "object", "properties": {"name": {"type": "string"}}})
    chain = '{"allOf": [' * depth + inner + "]}" * depth
    spec = tmp_path / "api.json"
    text = json.dumps(_spec(Deep="DEEP")).replace('"DEEP"', chain)
    spec.write_text(text, encoding="utf-8")
    reads = 0
    read_value = SchemaPath.read_value

    def counted(self: SchemaPath) -> Any:
        nonlocal reads
        reads += 1
        return read_value(self)

    monkeypatch.setattr(SchemaPath, "read_value", counted)
    assert validate._validate_document(read_document(spec)) == []
    # about 4 per level; reading the chain again at every level made it 5,155
    assert reads < 10 * depth
