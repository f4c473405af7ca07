"""Pathological but valid documents, from a sweep that ran each through `generate` under
a timeout: the contract is a package, or a one-line error naming the file and a JSON
pointer (exit 2), within seconds, for any small document.

Each test keeps the document small: where the finding was a hang or gigabytes, the test
shows the cap or the warning that now stands in its way, not the time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.packages import run_cli

from generator.spec.regex import risky

Data = dict[str, Any]


def _spec(**schemas: Any) -> Data:
    """POST /things takes and answers a `Thing`."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Things", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Thing"}
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {"type": "object", "properties": {"name": {"type": "string"}}},
                **schemas,
            }
        },
    }


def _generate(tmp_path: Path, data: Data) -> tuple[int, list[str]]:
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli("generate", "--spec", str(spec), "--out", str(out), "--package", "pk")
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, r.stderr.splitlines()


@pytest.mark.parametrize(
    "pattern",
    [
        "^(a+)+$",
        "(x+x+)+y",
        "^(a|aa)+$",
        "^(\\w+\\s?)*$",
        "(.*a){20}",
        "(a{0,9}){0,9}b",
        "^(a{1,5})+$",
    ],
)
def test_a_pattern_that_backtracks_exponentially_is_risky(pattern: str) -> None:
    assert risky(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "^[a-z]+$",
        "^[\\w.+-]+@([\\w-]+\\.)+[\\w-]{2,}$",  # each round ends in a dot
        "^([0-9a-f]{2}:)+[0-9a-f]{2}$",
        "^(\\d{1,3}\\.){3}\\d{1,3}$",
        "^(?:(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)$",
        "^(af|ap|eu|us)-(central|north|south|east|west)-\\d+$",
        "^arn:.+:.+:.+",
        "a{10}{10}",
        "(",  # no regular expression: never run
    ],
)
def test_a_pattern_real_specs_use_is_not_risky(pattern: str) -> None:
    assert not risky(pattern)


def test_a_pattern_that_backtracks_is_not_run_on_examples_defaults_or_fixtures(
    tmp_path: Path,
) -> None:
    # `^(a+)+$` on a text of a's that fails at its end: exponential in re. The example
    # and the default were checked with it (a 40-character one never finished), and the
    # fixture of a long minLength was padded and searched with `(x+x+)+y`; kept short
    # here, so that a regression fails on the missing warning, not on a hang
    failing = "a" * 24 + "!"
    data = _spec()
    thing = data["components"]["schemas"]["Thing"]
    thing["properties"] = {
        "name": {"type": "string", "pattern": "^(a+)+$", "default": failing},
        "code": {"type": "string", "pattern": "(x+x+)+y", "minLength": 30},
    }
    thing["required"] = ["code"]
    media = data["paths"]["/things"]["post"]["requestBody"]["content"]
    media["application/json"]["example"] = {"name": failing, "code": "xxy"}
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    where = "warning: api.json#/components/schemas/Thing/properties"
    for name in ("name", "code"):
        assert any(
            line.startswith(f"{where}/{name}/pattern: pattern not run: ")
            for line in err
        ), err


def test_an_integer_bound_no_float_holds_is_left_out(tmp_path: Path) -> None:
    # YAML reads 1e400 written out in digits as an int; math.isfinite(10**400) raised
    # OverflowError (a traceback). A bound of no finite float is left out, as .inf is.
    import yaml

    huge = "1" + "0" * 400
    data = _spec()
    data["components"]["schemas"]["Thing"] = {
        "type": "object",
        "required": ["n"],
        "properties": {
            "n": {"type": "integer", "minimum": "HUGE", "maximum": "HUGE"},
            "x": {"type": "number", "exclusiveMinimum": True, "minimum": "-HUGE"},
        },
    }
    spec = tmp_path / "api.yaml"
    text = yaml.safe_dump(data).replace("-HUGE", "-" + huge).replace("HUGE", huge)
    assert huge in text
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = run_cli("generate", "--spec", str(spec), "--out", str(out), "--package", "pk")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    assert (out / "pk" / "models" / "thing.py").exists()


def _aliases(n: int) -> Data:
    """Thing.r -> R{n-1} -> ... -> R0: each component a `$ref` to the one before."""
    schemas: Data = {"R0": {"type": "object", "properties": {"v": {"type": "string"}}}}
    for i in range(1, n):
        schemas[f"R{i}"] = {"$ref": f"#/components/schemas/R{i - 1}"}
    data = _spec(**schemas)
    data["components"]["schemas"]["Thing"]["properties"]["r"] = {
        "$ref": f"#/components/schemas/R{n - 1}"
    }
    return data


def test_references_to_references_are_counted_hop_by_hop() -> None:
    from generator.spec.validate import _alias_hops

    # R1..R3 lead 0+1+2 hops past their first, Thing.r 3: 6 in all
    assert _alias_hops(_aliases(4)) == (6, "/components/schemas/R3")
    # a cycle ends the count (the IR reports it)
    loop = _spec(
        A={"$ref": "#/components/schemas/B"}, B={"$ref": "#/components/schemas/A"}
    )
    assert _alias_hops(loop)[0] <= 2


def test_a_long_chain_of_aliases_is_not_walked_by_the_validator(tmp_path: Path) -> None:
    # the validator follows the whole chain at every `$ref` it meets: 5,000 aliases took
    # it hours (1,000 took 20 s). 710 is just past the cap (250,000 hops in all)
    from generator.spec.validate import ALIAS_HOPS

    n = 710
    assert n * (n - 1) // 2 > ALIAS_HOPS
    code, err = _generate(tmp_path, _aliases(n))
    assert code == 0, err
    assert any(
        line.startswith(
            f"warning: api.json#/components/schemas/R{n - 1}: not walked by the "
            "OpenAPI validator: the document's $refs lead through "
        )
        for line in err
    ), err


def test_an_inline_model_nested_deep_has_a_bounded_class_name(tmp_path: Path) -> None:
    # each level of an inline oneOf is named `<Parent>Variant1`: 2,000 levels made names
    # of 16,000 characters, written several times each (423 MB of code, 2.8 GB of memory)
    import ast

    from generator.ir.schemas import CLASS_NAME_LIMIT

    schema: Data = {"type": "string"}
    for _ in range(30):
        schema = {"oneOf": [schema, {"type": "integer"}]}
    data = _spec()
    data["components"]["schemas"]["Thing"]["properties"]["deep"] = schema
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    module = tmp_path / "out" / "pk" / "models" / "thing.py"
    tree = ast.parse(module.read_text(encoding="utf-8"))
    # a union of primitives is an alias (`Name = ...`), an object a class
    names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)] + [
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and t.id.startswith("ThingDeep")
    ]
    assert len(names) == len(set(names)) > 20
    assert max(len(n) for n in names) == CLASS_NAME_LIMIT, names


def _all_of_chain(n: int) -> Data:
    """L{i} is allOf [L{i-1}, one property more]: L{n-1} holds n properties."""
    schemas: Data = {"L0": {"type": "object", "properties": {"p0": {"type": "string"}}}}
    for i in range(1, n):
        schemas[f"L{i}"] = {
            "allOf": [
                {"$ref": f"#/components/schemas/L{i - 1}"},
                {"type": "object", "properties": {f"p{i}": {"type": "string"}}},
            ]
        }
    data = _spec(**schemas)
    data["components"]["schemas"]["Thing"] = {"$ref": f"#/components/schemas/L{n - 1}"}
    return data


def test_models_of_too_many_properties_in_all_stop_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2,000 links (n*n/2 properties: a 250 KB document) made 1.1 GB of code in 47 s; the
    # cap (500,000) is lowered here so that a small chain reaches it
    from support.packages import build_api

    from generator.errors import SpecError
    from generator.ir import build

    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(_all_of_chain(12)), encoding="utf-8")
    build_api([spec])  # 78 properties in all: within the real cap
    monkeypatch.setattr(build, "PROPERTY_LIMIT", 50)
    with pytest.raises(SpecError) as info:
        build_api([spec])
    assert str(info.value) == (
        "api.json#/components/schemas/L11: the models hold 78 properties in all, more "
        "than the 50 a package is generated with; this one holds 12 (a model made with "
        "allOf holds a copy of every part's properties)"
    )


def test_a_union_variant_that_is_a_union_is_tested_last(tmp_path: Path) -> None:
    # `A: oneOf [B, string]` with B a union: B's decoder was tried first, untested (a
    # union has no test of its own), and refused every string
    from support.packages import imported

    data = _spec(
        A={"oneOf": [{"$ref": "#/components/schemas/B"}, {"type": "string"}]},
        B={"oneOf": [{"type": "integer"}, {"type": "boolean"}]},
    )
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    with imported(tmp_path / "out"):
        from pk.models.a import decode_A  # type: ignore[import-not-found]

        assert decode_A("x") == "x"
        assert decode_A(3) == 3
        assert decode_A(True) is True
        with pytest.raises(ValueError):
            decode_A(None)


def test_a_union_variant_that_is_the_union_itself_is_left_out(tmp_path: Path) -> None:
    # its decoder called itself for ever, and the fixture synthesis recursed to the limit
    # (exit 2 with no pointer)
    data = _spec(
        Name={"oneOf": [{"$ref": "#/components/schemas/Name"}, {"type": "string"}]}
    )
    thing = data["components"]["schemas"]["Thing"]
    thing["properties"]["name"] = {"$ref": "#/components/schemas/Name"}
    thing["required"] = ["name"]
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    assert (
        "warning: api.json#/components/schemas/Name/oneOf/0: a variant that is the "
        "union itself adds no value to it: left out"
    ) in err


def test_a_parameter_named_as_the_operation_code_names_something_is_renamed(
    tmp_path: Path,
) -> None:
    # a query parameter `to_json` shadowed the function that writes the body (sending
    # any body called a str: TypeError), one named `payload` was sent the JSON body. The
    # code's own variables start with `_`, which no parameter's name does: `payload`,
    # `items` and `call` keep their names and are sent their own values.
    from support.packages import imported

    data = _spec()
    data["paths"]["/things"]["post"]["parameters"] = [
        {"name": n, "in": "query", "schema": {"type": "string"}}
        for n in ("to_json", "payload", "items", "call")
    ]
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    with imported(tmp_path / "out"):
        from pk.things import _create_thing_call  # type: ignore[import-not-found]

        call = _create_thing_call(
            body={"name": "a"}, to_json_2="t", payload="p", items="i", call="c"
        )
        assert call.query == {"to_json": "t", "payload": "p", "items": "i", "call": "c"}
        assert call.body == {"name": "a"}


def test_bidirectional_controls_in_names_are_escaped_in_the_code(
    tmp_path: Path,
) -> None:
    # a right-to-left mark (U+200F) in an operation id, a property name and an enum
    # value stood raw in string literals: ruff's PLE2502 (it reorders how a line shows)
    data = _spec()
    data["paths"]["/things"]["post"]["operationId"] = "\u200f"
    thing = data["components"]["schemas"]["Thing"]
    thing["properties"]["\u200fname"] = {"type": "string", "enum": ["a\u202eb", "c"]}
    thing["required"] = ["\u200fname"]
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    package = tmp_path / "out" / "pk"
    code_text = "".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    assert "\u200f" not in code_text and "\u202e" not in code_text
    assert "\\u200f" in code_text and "\\u202e" in code_text


def test_a_self_variant_left_out_keeps_the_null_its_link_allowed(
    tmp_path: Path,
) -> None:
    # B (anyOf [A, null]) is a nullable link to A, so A's variant B is A itself: left
    # out, but A still allows null
    data = _spec(
        A={"oneOf": [{"$ref": "#/components/schemas/B"}, {"type": "string"}]},
        B={"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]},
    )
    thing = data["components"]["schemas"]["Thing"]
    thing["properties"]["a"] = {"$ref": "#/components/schemas/A"}
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    module = (tmp_path / "out" / "pk" / "models" / "thing.py").read_text("utf-8")
    assert "    a: str | None | Unset = UNSET" in module


def test_unions_that_lead_back_to_each_other_exit_2(tmp_path: Path) -> None:
    # A's decoder called B's untested and B's A's, for ever on a value of neither; the
    # example of A recursed to the limit (an error with no pointer)
    data = _spec(
        A={"oneOf": [{"$ref": "#/components/schemas/B"}, {"type": "string"}]},
        B={"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "integer"}]},
    )
    thing = data["components"]["schemas"]["Thing"]
    thing["properties"]["a"] = {"$ref": "#/components/schemas/A"}
    thing["required"] = ["a"]
    code, err = _generate(tmp_path, data)
    assert code == 2
    assert err == [
        (
            "error: api.json#/components/schemas/A: its variants lead back to it "
            "through unions alone (A -> B -> A): no value of it can be told apart "
            "from the others"
        )
    ]
    assert not (tmp_path / "out").exists()


def test_a_method_with_a_query_key_sends_parameters_named_as_its_variables(
    tmp_path: Path,
) -> None:
    """With an API key in the query, a method builds its call in variables of its own
    before sending it: `call` and `cookie` parameters keep their names and values."""
    from support.packages import imported

    data = _spec()
    data["components"]["securitySchemes"] = {
        "key": {"type": "apiKey", "in": "query", "name": "api_key"}
    }
    data["security"] = [{"key": []}]
    data["paths"]["/things"]["post"]["parameters"] = [
        {"name": "call", "in": "query", "schema": {"type": "string"}},
        {"name": "cookie", "in": "cookie", "schema": {"type": "string"}},
    ]
    code, err = _generate(tmp_path, data)
    assert code == 0, err
    with imported(tmp_path / "out"):
        from pk import ThingsClient  # type: ignore[import-not-found]
        from pk.testing import FakeThings  # type: ignore[import-not-found]

        with FakeThings() as server:
            client = ThingsClient("k-1", base_url=server.url)
            client.create_thing(body={"name": "a"}, call="c", cookie="d")
            [request] = server.requests
    assert request.query == {"call": ["c"], "api_key": ["k-1"]}
    assert request.headers["cookie"] == "cookie=d"


def test_a_pager_passes_a_parameter_named_cursor_its_own_value() -> None:
    """The pager's lambda took the page's cursor as `cursor`: an operation whose cursor
    parameter is `start` and which has a parameter named `cursor` as well was sent each
    page's cursor in both."""
    from generator import ir
    from generator.codegen.modules import pager_arguments
    from generator.ir.model import Pagination

    text = ir.Schema(kind=ir.PRIMITIVE, type="string")
    params = tuple(
        ir.Parameter(name, name, "query", text, False) for name in ("start", "cursor")
    )
    op = ir.Operation(
        operation_id="list",
        py_name="list_things",
        method="GET",
        path="/things",
        surface="s",
        parameters=params,
        pagination=Pagination("start", "", "next", "things"),
    )
    assert pager_arguments(op)[:2] == ["start=_cursor", "cursor=cursor"]
