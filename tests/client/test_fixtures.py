"""The generated `customerio_client.fixtures` (templates/package/fixtures.py.j2, generator/synth.py).

Every example request body, path parameter, response and event payload is validated with
jsonschema against its schema in specs/ (the spec files themselves, refs resolved through a
registry of all of them); every example request calls its client method against the generated
fake server; rendering is deterministic; and the synthesizer is checked on small schemas.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from customerio_client import (
    OPERATIONS,
    AppClient,
    PipelinesClient,
    TrackClient,
    fixtures,
)
from customerio_client.testing import FakeCustomerIO, route
from openapi_schema_validator import (
    OAS30Validator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012
from support.packages import SPECS

from generator import ir
from generator.ir import examples as synth
from generator.ir import wire

# ---- the specs as jsonschema resources ------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: date-like strings stay strings, as in JSON."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def documents() -> dict[str, dict[str, Any]]:
    """file URI -> parsed spec document."""
    return {
        path.resolve().as_uri(): yaml.load(
            path.read_text(encoding="utf-8"), Loader=_Loader
        )
        for path in sorted(SPECS.glob("*.yaml"))
    }


def _is_31(uri: str) -> bool:
    return str(documents()[uri]["openapi"]).startswith("3.1")


@functools.cache
def registry() -> Registry:
    resources = []
    for uri, doc in documents().items():
        spec = DRAFT202012 if _is_31(uri) else DRAFT4
        resources.append((uri, Resource.from_contents(doc, default_specification=spec)))
    return Registry().with_resources(resources)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _at(uri: str, pointer: str) -> Any:
    node: Any = documents()[uri]
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _follow(uri: str, pointer: str) -> tuple[str, str]:
    """Follow $ref chains of non-schema objects (responses, parameters, request bodies)."""
    node = _at(uri, pointer)
    while isinstance(node, dict) and "$ref" in node:
        file, _, target = node["$ref"].partition("#")
        if file:
            uri = (Path(uri.removeprefix("file://")).parent / file).resolve().as_uri()
        pointer = target
        node = _at(uri, pointer)
    return uri, pointer


def validate(value: Any, uri: str, pointer: str) -> None:
    """Validate `value` against the schema at uri#pointer (refs through the registry), with
    formats checked: fixtures must be accepted by a strict server too."""
    cls = OAS31Validator if _is_31(uri) else OAS30Validator
    checker = oas31_format_checker if _is_31(uri) else oas30_format_checker
    validator = cls(
        {"$ref": f"{uri}#{pointer}"}, registry=registry(), format_checker=checker
    )
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    assert not errors, f"{uri}#{pointer}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )


@functools.cache
def spec_operation(operation_id: str) -> tuple[str, str]:
    """(file URI, pointer to the operation object) found by OPERATIONS' path and method."""
    info = OPERATIONS[operation_id]
    hits = []
    for uri, doc in documents().items():
        item = (doc.get("paths") or {}).get(info.path) or {}
        op = item.get(info.http_method.lower())
        if isinstance(op, dict) and op.get("operationId") == operation_id:
            hits.append(
                (uri, f"/paths/{_escape(info.path)}/{info.http_method.lower()}")
            )
    assert len(hits) == 1, f"{operation_id}: {hits}"
    return hits[0]


def _snake(name: str) -> str:
    return re.sub(r"\W", "_", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)).lower()


# ---- every example validates against its schema --------------------------------------------

OPERATION_IDS = sorted(OPERATIONS)


def test_every_operation_and_event_has_fixtures() -> None:
    assert list(fixtures.OPERATION_IDS) == OPERATION_IDS
    assert len(fixtures.EVENT_NAMES) == len(set(fixtures.EVENT_NAMES)) > 0
    assert list(fixtures.EVENT_NAMES) == sorted(fixtures.EVENT_NAMES)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_request_validates(operation_id: str) -> None:
    uri, op_ptr = spec_operation(operation_id)
    operation = _at(uri, op_ptr)
    kwargs = fixtures.request(operation_id)
    expected = set()
    path_item = op_ptr.rsplit("/", 1)[0]
    params = [
        (path_item, i, p)
        for i, p in enumerate(_at(uri, path_item).get("parameters", []))
    ] + [(op_ptr, i, p) for i, p in enumerate(operation.get("parameters", []))]
    for base, i, _ in params:
        puri, pptr = _follow(uri, f"{base}/parameters/{i}")
        param = _at(puri, pptr)
        if param["in"] == "path" or (
            param.get("required") and not param.get("x-ciogen-client-flag")
        ):
            name = _snake(param["name"])
            expected.add(name)
            assert name in kwargs, f"{operation_id}: missing parameter {param['name']}"
            validate(kwargs[name], puri, f"{pptr}/schema")
    if "requestBody" in operation:
        expected.add("body")
        buri, bptr = _follow(uri, f"{op_ptr}/requestBody")
        validate(kwargs["body"], buri, f"{bptr}/content/application~1json/schema")
    assert set(kwargs) == expected


def _success_code(operation: dict[str, Any]) -> str:
    codes = sorted(str(c) for c in operation["responses"] if str(c).startswith("2"))
    return codes[0]


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_response_validates(operation_id: str) -> None:
    uri, op_ptr = spec_operation(operation_id)
    code = _success_code(_at(uri, op_ptr))
    assert fixtures.response_status(operation_id) == int(code)
    ruri, rptr = _follow(uri, f"{op_ptr}/responses/{code}")
    content = _at(ruri, rptr).get("content") or {}
    body = fixtures.response(operation_id)
    if "application/json" not in content or "schema" not in content["application/json"]:
        assert body is None
        return
    validate(body, ruri, f"{rptr}/content/application~1json/schema")


def _event_schemas() -> dict[str, tuple[str, str]]:
    """event name -> (file URI, pointer) of the component schema whose `event` is fixed."""
    out: dict[str, tuple[str, str]] = {}
    for uri, doc in documents().items():
        for name, schema in (
            (doc.get("components") or {}).get("schemas") or {}
        ).items():
            event = ((schema.get("properties") or {}).get("event")) or {}
            values = event.get("enum") or ([event["const"]] if "const" in event else [])
            if len(values) == 1:
                out[values[0]] = (uri, f"/components/schemas/{_escape(name)}")
    return out


@pytest.mark.parametrize("name", fixtures.EVENT_NAMES)
def test_event_validates(name: str) -> None:
    schemas = _event_schemas()
    assert name in schemas
    payload = fixtures.event(name)
    validate(payload, *schemas[name])
    assert set(fixtures.EVENT_NAMES) == set(schemas)


def test_fixtures_are_deep_copies() -> None:
    op = "pipelinesIdentify"
    first = fixtures.request(op)
    first["body"]["userId"] = "changed"
    first["body"].clear()
    assert fixtures.request(op)["body"]
    name = fixtures.EVENT_NAMES[0]
    event = fixtures.event(name)
    event.clear()
    assert fixtures.event(name)
    with pytest.raises(KeyError, match="noSuchOperation"):
        fixtures.request("noSuchOperation")
    with pytest.raises(KeyError):
        fixtures.event("No Such Event")


# ---- every example request calls its client method -----------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCustomerIO]:
    with FakeCustomerIO() as server:
        yield server


def _client(name: str, url: str) -> Any:
    if name == "TrackClient":
        return TrackClient("site", "key", base_url=url)
    if name == "AppClient":
        return AppClient("key", base_url=url)
    assert name == "PipelinesClient"
    return PipelinesClient("key", base_url=url)


def test_every_operation_calls_the_testing_server(fake: FakeCustomerIO) -> None:
    clients = {
        n: _client(n, fake.url) for n in ("TrackClient", "AppClient", "PipelinesClient")
    }
    try:
        for operation_id in fixtures.OPERATION_IDS:
            info = OPERATIONS[operation_id]
            fake.reset()
            kwargs = fixtures.request(operation_id)
            result = getattr(clients[info.client], info.method)(**kwargs)
            assert result.status_code == fixtures.response_status(operation_id)
            assert result.retries == 0
            (sent,) = fake.requests
            assert sent.method == info.http_method
            assert route(sent) == operation_id, (operation_id, sent.path)
            assert fake.calls(operation_id) == [sent]
            expected = fixtures.response(operation_id)
            assert result.json() == expected if hasattr(result, "json") else True
            if "body" in kwargs and isinstance(kwargs["body"], dict):
                # The client may add fields (a message id); everything given is sent as is.
                for key, value in kwargs["body"].items():
                    if isinstance(value, list):
                        assert len(sent.json[key]) == len(value)
                    else:
                        assert sent.json[key] == value, (operation_id, key)
    finally:
        for c in clients.values():
            c.close()


# ---- determinism ---------------------------------------------------------------------------


def _render(path: str) -> str:
    from support.packages import build_api

    from generator.render import views
    from generator.render.environment import make_environment
    from generator.render.plan import plan_outputs

    api, _ = build_api([SPECS], package="customerio_client")
    env = make_environment()
    (out,) = [f for f in plan_outputs(api) if f.path == path]
    if out.template in views.MEMOISED:  # rendered from its view, as the package is
        context = views.view(api, out, views.shared(api))
    else:
        context = {"api": api, **dict(out.context)}
    text: str = env.get_template(out.template).render(**context)
    return text


@pytest.mark.parametrize("path", ["fixtures.py", "testing.py"])
def test_rendering_is_deterministic(path: str) -> None:
    first = _render(path)
    assert first == _render(path)
    compile(first, path, "exec")  # valid Python before black
    ast.parse(first, feature_version=(3, 9))  # and Python 3.9 syntax


# ---- the synthesizer on small schemas ------------------------------------------------------


def _api(*models: ir.Schema) -> dict[str, ir.Schema]:
    """The named models the synthesizer resolves links against."""
    return {m.class_name: m for m in models}


def _prop(
    name: str, schema: ir.Schema, required: bool = False, **kw: Any
) -> ir.Property:
    return ir.Property(
        name=name, py_name=_snake(name), schema=schema, required=required, **kw
    )


S = functools.partial(ir.Schema, kind=ir.PRIMITIVE, type="string")


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (S(format="date-time"), "2024-01-01T00:00:00.000Z"),
        (S(format="date"), "2024-01-01"),
        (S(format="email"), "person@example.com"),
        (S(format="uuid"), "00000000-0000-4000-8000-000000000000"),
        (S(format="uri"), "https://example.com/"),
        (S(), "example-name"),
        (S(has_example=True, example="given"), "given"),
        (S(has_example=True, example=5), "example-name"),  # wrong type: ignored
        (ir.Schema(kind=ir.PRIMITIVE, type="integer"), 1),
        (ir.Schema(kind=ir.PRIMITIVE, type="integer", has_default=True, default=7), 7),
        (ir.Schema(kind=ir.PRIMITIVE, type="number"), 1.5),
        (ir.Schema(kind=ir.PRIMITIVE, type="boolean"), True),
        (ir.Schema(kind=ir.ENUM, enum_type="string", enum_values=("b", "a")), "b"),
        (ir.Schema(kind=ir.ARRAY, items=S(format="date")), ["2024-01-01"]),
        (ir.Schema(kind=ir.MAP, items=S()), {}),
    ],
)
def test_synth_values(schema: ir.Schema, expected: Any) -> None:
    assert synth.synth(schema, _api(), "name") == expected


def test_synth_objects_required_fixed_and_one_of() -> None:
    model = ir.Schema(
        kind=ir.OBJECT,
        class_name="Call",
        properties=(
            _prop("type", ir.Schema(kind=ir.ENUM, enum_values=("track",))),
            _prop("event", S(), required=True),
            _prop("userId", S()),
            _prop("anonymousId", S()),
            _prop("note", S()),
            _prop("id", S(), read_only=True),
            _prop("secret", S(), write_only=True),
        ),
        required=("event",),
        required_one_of=(("userId",), ("anonymousId",)),
    )
    api = _api(model)
    link = ir.Schema(kind=ir.OBJECT, class_name="Call", ref="Call")
    assert synth.synth(link, api) == {
        "type": "track",
        "event": "example-event",
        "userId": "example-userId",
    }


def test_synth_union_sets_the_discriminator() -> None:
    a = ir.Schema(kind=ir.OBJECT, class_name="A", properties=(_prop("kind", S()),))
    b = ir.Schema(kind=ir.OBJECT, class_name="B")
    union = ir.Schema(
        kind=ir.UNION,
        class_name="AorB",
        variants=(ir.Schema(kind=ir.OBJECT, class_name="A", ref="A"), b),
        discriminator=ir.Discriminator("kind", (("a-kind", "A"), ("b-kind", "B"))),
    )
    assert synth.synth(union, _api(a, b, union)) == {"kind": "a-kind"}


def test_synth_stops_recursion() -> None:
    node = ir.Schema(
        kind=ir.OBJECT,
        class_name="Node",
        properties=(
            _prop(
                "child", ir.Schema(kind=ir.OBJECT, class_name="Node", ref="Node"), True
            ),
            _prop(
                "children",
                ir.Schema(
                    kind=ir.ARRAY,
                    items=ir.Schema(kind=ir.OBJECT, class_name="Node", ref="Node"),
                ),
                True,
            ),
        ),
        required=("child", "children"),
    )
    value = synth.synth(node, _api(node))
    depth = 0
    while value:
        value = value.get("child")
        depth += 1
    assert 0 < depth <= synth.MAX_DEPTH + 1


def _fan_out(levels: int) -> dict[str, ir.Schema]:
    """`L0` is one string; each `L<n>` has ten required links to `L<n-1>`: 10**n values,
    and no model recurs, so the depth limits never stop it."""
    models = {"L0": ir.Schema(kind=ir.OBJECT, class_name="L0", required=("v",))}
    models["L0"] = replace(models["L0"], properties=(_prop("v", S(), True),))
    for n in range(1, levels + 1):
        names = tuple(f"p{i}" for i in range(10))
        link = ir.Schema(kind=ir.OBJECT, class_name=f"L{n - 1}", ref=f"L{n - 1}")
        models[f"L{n}"] = ir.Schema(
            kind=ir.OBJECT,
            class_name=f"L{n}",
            properties=tuple(_prop(name, link, True) for name in names),
            required=names,
        )
    return models


def _values(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_values(v) for v in value.values())
    return 1


def test_synth_of_a_fan_out_stops_at_its_budget() -> None:
    """Eleven levels were 10**11 values: `generate` ran until killed. Now the example
    stops filling nested objects once it holds MAX_VALUES, and says so."""
    models = _fan_out(11)
    budget = synth.Budget()
    value = synth.synth(models["L11"], models, budget=budget)
    assert budget.spent
    assert synth.MAX_VALUES <= _values(value) <= synth.MAX_VALUES * 2
    # filled depth first: the first branch takes the whole budget
    assert list(value) == ["p0"]


def test_synth_of_maps_that_fan_out_stops_at_its_budget() -> None:
    """Eleven levels of maps of ten entries (minProperties), each of the level below:
    50 s and 7.6 GB, then MemoryError (the pathological-spec sweep)."""
    from generator.ir.model import Bounds

    level = ir.Schema(kind=ir.PRIMITIVE, type="string")
    for _ in range(11):
        level = ir.Schema(kind=ir.MAP, items=level, bounds=Bounds(min_properties=10))
    budget = synth.Budget()
    value = synth.synth(level, {}, "k", budget=budget)
    assert budget.spent
    assert _values(value) <= synth.MAX_VALUES * 2


def test_synth_of_a_fan_out_within_the_budget_is_whole() -> None:
    models = _fan_out(3)  # 1,000 strings
    budget = synth.Budget()
    value = synth.synth(models["L3"], models, budget=budget)
    assert not budget.spent
    assert value["p9"]["p9"]["p9"] == {"v": "example-v"}
    assert _values(value) == 1 + 10 + 100 + 1000 * 2


def test_an_example_cut_at_its_budget_is_a_warning_naming_the_operation(
    tmp_path: Path,
) -> None:
    from generator.cli import main

    schemas: dict[str, Any] = {
        "L0": {
            "type": "object",
            "required": ["v"],
            "properties": {"v": {"type": "string"}},
        }
    }
    for n in range(1, 12):
        ref = {"$ref": f"#/components/schemas/L{n - 1}"}
        schemas[f"L{n}"] = {
            "type": "object",
            "required": [f"p{i}" for i in range(10)],
            "properties": {f"p{i}": ref for i in range(10)},
        }
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/L11"}}}
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Fan", "version": "1"},
        "paths": {
            "/x": {
                "post": {
                    "operationId": "x",
                    "requestBody": {"required": True, "content": body},
                    "responses": {"200": {"description": "ok", "content": body}},
                }
            }
        },
        "components": {"schemas": schemas},
    }
    path = tmp_path / "fan.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "out"
    args = ["validate", "--spec", str(path), "--out", str(out), "--package", "fan"]
    warnings = _warnings_of(main, args)
    for which in ("request", "response"):
        assert (
            f"warning: fan.yaml#/paths/~1x/post: example {which} cut: the schema's "
            "required values number more than 10,000, so the fixture leaves nested "
            "ones out and may not validate"
        ) in warnings


def _warnings_of(main: Any, args: list[str]) -> list[str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        main(args)
    return err.getvalue().splitlines()


def _op(**kw: Any) -> ir.Operation:
    base: dict[str, Any] = {
        "operation_id": "op",
        "py_name": "op",
        "method": "POST",
        "path": "/x/{id}",
        "surface": "s",
    }
    base.update(kw)
    return ir.Operation(**base)


@pytest.mark.parametrize(
    ("media", "file"),
    [("multipart/form-data", b"example"), ("application/json", "example")],
)
def test_a_multipart_fixture_sends_its_binary_properties_as_bytes(
    media: str, file: Any
) -> None:
    """The client types a binary property `bytes` and sends only bytes as a file part:
    the fixture's text made every upload a text part (Gitea's attachments). A JSON body
    keeps the text (bytes would go as base64)."""
    binary = ir.Schema(kind=ir.PRIMITIVE, type="string", format="binary")
    schema = ir.Schema(
        kind=ir.OBJECT,
        properties=(
            _prop("file", binary, True),
            _prop("pages", ir.Schema(kind=ir.ARRAY, items=binary), True),
            _prop("title", S(), True),
        ),
        required=("file", "pages", "title"),
    )
    body = ir.RequestBody(media, schema, True)
    kwargs = synth.example_request(_op(body=body, path="/x"), _api())
    assert kwargs["body"] == {
        "file": file,
        "pages": [file],
        "title": "example-title",
    }


def test_examples_first_valid_by_name() -> None:
    body = ir.RequestBody(
        content_type="application/json",
        schema=ir.Schema(
            kind=ir.OBJECT, properties=(_prop("a", S(), True),), required=("a",)
        ),
        required=True,
        examples=(
            ir.MediaExample("c", {"a": "c"}),
            ir.MediaExample("a", {"a": 1}, valid=False),
            ir.MediaExample("b", {"a": "b"}),
        ),
    )
    params = (
        ir.Parameter(
            "id", "id", "path", ir.Schema(kind=ir.PRIMITIVE, type="integer"), True
        ),
        ir.Parameter("q", "q", "query", S(), True),
        ir.Parameter("opt", "opt", "query", S(), False),
        ir.Parameter("X-Flag", "x_flag", "header", S(), True, client_flag="strict"),
    )
    op = _op(parameters=params, body=body)
    assert synth.example_request(op, _api()) == {
        "id": 1,
        "q": "example-q",
        "body": {"a": "b"},
    }
    ok = ir.Response(
        "201", "created", "application/json", S(), (ir.MediaExample("x", "made"),)
    )
    op = _op(responses=(ir.Response("default", "error"), ok))
    assert synth.success_status(op) == 201
    assert synth.example_response(op, _api()) == "made"
    assert (
        synth.example_response(_op(responses=(ir.Response("204", "none"),)), _api())
        is None
    )
    assert synth.success_status(_op(responses=(ir.Response("2XX", "ok"),))) == 200


def test_examples_with_malformed_formats_are_passed_over() -> None:
    schema = ir.Schema(
        kind=ir.OBJECT,
        properties=(_prop("at", S(format="date-time"), True),),
        required=("at",),
    )
    bad = ir.MediaExample(
        "a", {"at": "2015-02-23T22:28:55.111Z,"}
    )  # valid by the loader
    good = ir.MediaExample("b", {"at": "2015-02-23T22:28:55.111Z"})
    body = ir.RequestBody("application/json", schema, True, examples=(bad, good))
    assert synth.example_request(_op(body=body, path="/x"), _api()) == {
        "body": good.value
    }
    body = ir.RequestBody("application/json", schema, True, examples=(bad,))
    assert synth.example_body(_op(body=body, path="/x"), _api()) == {
        "at": "2024-01-01T00:00:00.000Z"
    }


def test_routes_and_facts_from_the_real_api() -> None:
    from support.packages import build_api

    api, _ = build_api([SPECS], package="customerio_client")
    models = {m.class_name: m for m in api.models}
    rows = wire.routes(api.operations, models)
    assert rows == api.routes
    assert sorted(r.operation_id for r in rows) == OPERATION_IDS
    params: list[int] = [r.path.count("{") for r in rows]
    assert params == sorted(params)
    facts = wire.wire_facts(api.operations, api.events, models)
    assert facts == api.wire
    assert facts.event_field and facts.user_id_field and facts.properties_field
    for ev in api.events:
        assert fixtures.event(ev.name)[facts.event_field] == ev.name
    assert wire.wire_facts(api.operations, api.events, models) == facts  # pure
    first: Any | None = None
    for op in api.operations:
        value = synth.example_request(op, models)
        assert value == synth.example_request(op, models) == op.example_request
        first = first or value
    assert first is not None
