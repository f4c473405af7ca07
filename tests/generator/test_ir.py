"""The resolutions recorded in specs/README.md, pinned as the intermediate model sees them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.packages import ROOT, build_api

from generator import ir


@pytest.fixture(scope="module")
def api() -> ir.Api:
    built, _ = build_api([ROOT / "specs"], package="customerio_client")
    return built


def surface(api: ir.Api, name: str) -> ir.Surface:
    return next(s for s in api.surfaces if s.name == name)


def op(api: ir.Api, op_id: str) -> ir.Operation:
    return next(o for o in api.operations if o.operation_id == op_id)


def test_three_surfaces_with_their_hosts_per_region(api: ir.Api) -> None:
    hosts: dict[str, dict[str, str]] = {
        s.name: {srv.region: srv.url for srv in s.servers} for s in api.surfaces
    }
    assert hosts == {
        "app": {"us": "https://api.customer.io", "eu": "https://api-eu.customer.io"},
        "pipelines": {
            "us": "https://cdp.customer.io",
            "eu": "https://cdp-eu.customer.io",
        },
        "track": {
            "us": "https://track.customer.io",
            "eu": "https://track-eu.customer.io",
        },
    }


def test_auth_per_surface(api: ir.Api) -> None:
    track, app, pipes = (surface(api, n).auth for n in ("track", "app", "pipelines"))
    assert (track.scheme, [c.name for c in track.credentials]) == (
        "basic",
        ["site_id", "api_key"],
    )
    assert (app.scheme, [c.name for c in app.credentials]) == ("bearer", ["api_key"])
    # 001 (Basic, key as username, blank password) wins over 004 (Bearer)
    assert (pipes.scheme, [c.name for c in pipes.credentials]) == ("basic", ["api_key"])


def test_limits(api: ir.Api) -> None:
    pipes = surface(api, "pipelines")
    assert pipes.limits.max_request_bytes == 32768
    assert (pipes.limits.rate_requests, pipes.limits.rate_per_seconds) == (3000, 3)
    batch = op(api, "pipelinesBatch").limits
    # 001's 500 KB wins over 004's 1 MB
    assert (batch.max_request_bytes, batch.max_item_bytes, batch.items_field) == (
        500000,
        32768,
        "batch",
    )
    assert op(api, "pipelinesTrack").limits.max_request_bytes == 32768
    v2 = op(api, "trackBatchV2").limits
    # the published Track document's 500 KB in all, 32 KB per operation, over 004's 32 KB
    assert (v2.max_request_bytes, v2.max_item_bytes, v2.items_field) == (
        500000,
        32768,
        "batch",
    )
    assert op(api, "trackEntityV2").limits.max_request_bytes == 32768
    broadcast = op(api, "triggerBroadcast").limits
    assert (broadcast.rate_requests, broadcast.rate_per_seconds) == (1, 10)


def test_background_delivery_takes_its_limits_from_the_batch_operation(
    api: ir.Api,
) -> None:
    """The background clients batch within the batch operation's own limits and the
    surface's documented rate (3000 requests per 3 s for Pipelines)."""
    pipes = surface(api, "pipelines").delivery
    assert pipes is not None and pipes.operation_id == "pipelinesBatch"
    limits = pipes.limits
    assert (limits.max_request_bytes, limits.max_item_bytes) == (500000, 32768)
    assert (limits.rate_requests, limits.rate_per_seconds) == (3000, 3)
    track = surface(api, "track").delivery
    assert track is not None and track.operation_id == "trackBatchV2"
    assert track.limits == op(api, "trackBatchV2").limits


def _body(api: ir.Api, op_id: str) -> ir.Schema:
    schema = op(api, op_id).body.schema  # type: ignore[union-attr]
    return api.model(schema.class_name)


@pytest.mark.parametrize(
    "op_id", ["pipelinesIdentify", "pipelinesTrack", "pipelinesPage", "pipelinesScreen"]
)
def test_identity_is_one_of_user_id_or_anonymous_id(api: ir.Api, op_id: str) -> None:
    model = _body(api, op_id)
    assert "userId" not in model.required and "anonymousId" not in model.required
    # a track call may also be an event of a group alone (its anyOf branch carries an
    # x-ciogen-source, which leaves it a constraint, not a union variant)
    group = {("groupId",)} if op_id == "pipelinesTrack" else set()
    assert set(model.required_one_of) == {("userId",), ("anonymousId",)} | group


def test_group_requires_group_id_and_alias_both_ids(api: ir.Api) -> None:
    assert "groupId" in _body(api, "pipelinesGroup").required
    assert set(_body(api, "pipelinesAlias").required) >= {"previousId", "userId"}


def test_track_requires_an_event_name(api: ir.Api) -> None:
    assert "event" in _body(api, "pipelinesTrack").required


def test_strict_mode_is_a_client_flag(api: ir.Api) -> None:
    flags = surface(api, "pipelines").flags
    assert [(f.name, f.header, f.value) for f in flags] == [
        ("strict", "X-Strict-Mode", "1")
    ]


def test_message_ids_on_every_pipelines_call(api: ir.Api) -> None:
    assert {o.message_id_field for o in surface(api, "pipelines").operations} == {
        "messageId"
    }
    assert {o.message_id_field for o in surface(api, "track").operations} == {""}


def test_context_channel_enum(api: ir.Api) -> None:
    channel = next(p for p in api.model("Context").properties if p.name == "channel")
    resolved: Any = (
        api.model(channel.schema.class_name)
        if channel.schema.class_name
        else channel.schema
    )
    assert resolved.enum_values == ("browser", "server", "mobile")


def test_semantic_events(api: ir.Api) -> None:
    families = {e.name: e.family for e in api.events}
    assert len(families) == 22
    assert "Email Unsubscribed" in families and "Unsubscribed" not in families
    assert sum(f == "action" for f in families.values()) == 9
    assert sum(f == "email" for f in families.values()) == 6
    assert sum(f == "mobile_app" for f in families.values()) == 7
    # the seeds' three, and one from Customer.io's published Pipelines document
    not_from_reference = {e.name for e in api.events if not e.from_reference}
    assert not_from_reference == {
        "Device Created or Updated",
        "Email Bounced",
        "Application Installed",
        "Report Content Event",
    }
    device = next(e for e in api.events if e.name == "Device Created or Updated")
    ctx = {(c.location, c.name): c.required for c in device.context}
    assert ctx[("context.device", "token")] is True
    assert ("context.device", "type") in ctx
    obj = next(e for e in api.events if e.name == "Object Deleted")
    assert obj.identity == ("anonymousId",)
    assert {p.name for p in obj.properties} >= {"objectId", "objectTypeId"}


def test_forty_one_operations_and_only_track_bodies_check_events(api: ir.Api) -> None:
    assert (
        len(api.operations) == 41
    )  # 38 from the seeds, 3 from the published Track document
    checked = {o.operation_id for o in api.operations if o.validates_events}
    assert checked == {
        "pipelinesTrack",
        "trackActionEvent",
        "trackEmailEvent",
        "trackMobileAppEvent",
    }


def test_a_union_body_s_unix_time_path_needs_every_variant_to_agree(
    tmp_path: Path,
) -> None:
    """`at` is unix-time in A and B but text in C: a datetime there cannot be sent as
    seconds for a dict body that may be C, so only `seen` (unix-time or absent everywhere)
    and the array's items are converted."""
    unix = {"type": "integer", "format": "unix-time"}

    def obj(**props: Any) -> dict[str, Any]:
        return {"type": "object", "properties": props}

    schemas = {
        "A": obj(at=unix, seen=unix),
        "B": obj(
            at=unix,
            items={"type": "array", "items": {"$ref": "#/components/schemas/A"}},
        ),
        "C": obj(at={"type": "string", "format": "date-time"}),
        "Body": {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in "ABC"]},
    }
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Unions", "version": "1"},
        "paths": {
            "/x": {
                "post": {
                    "operationId": "postX",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Body"}
                            }
                        }
                    },
                    "responses": {"204": {"description": "done"}},
                }
            }
        },
        "components": {"schemas": schemas},
    }
    spec = tmp_path / "unions.json"
    spec.write_text(json.dumps(doc))
    built, _ = build_api([spec], package="unions")
    body = op(built, "postX").body
    assert body is not None
    assert body.unix_time_fields == (
        ("seen",),
        ("items", None, "at"),
        ("items", None, "seen"),
    )


def _layered_models(depth: int, unix_at_bottom: bool) -> dict[str, ir.Schema]:
    """Models L0..L<depth>, each with two fields linking to the next: 2**depth paths from
    L0 to the bottom one, which has a unix-time field or a string."""
    leaf = ir.Schema(
        kind=ir.PRIMITIVE,
        type="integer" if unix_at_bottom else "string",
        format="unix-time" if unix_at_bottom else "",
    )
    models = {
        f"L{depth}": ir.Schema(
            kind=ir.OBJECT,
            class_name=f"L{depth}",
            properties=(
                ir.Property(name="at", py_name="at", schema=leaf, required=True),
            ),
        )
    }
    for n in range(depth - 1, -1, -1):
        link = ir.Schema(kind=ir.OBJECT, class_name=f"L{n + 1}", ref=f"L{n + 1}")
        fields = tuple(
            ir.Property(name=f, py_name=f, schema=link, required=True)
            for f in ("left", "right")
        )
        models[f"L{n}"] = ir.Schema(
            kind=ir.OBJECT, class_name=f"L{n}", properties=fields
        )
    return models


def test_unix_time_paths_do_not_walk_models_that_lead_to_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Microsoft Graph's models link to each other so richly that walking every path
    from a body never ended; models from which no unix-time field is reachable are
    not entered at all (the test counts the models entered, not time)."""
    from generator.ir import operations

    entered: list[str] = []
    follow = operations._follow

    def counting(schema: ir.Schema, models: Any, seen: frozenset[str]) -> Any:
        entered.append(schema.ref)
        return follow(schema, models, seen)

    monkeypatch.setattr(operations, "_follow", counting)
    models = _layered_models(12, unix_at_bottom=False)  # 4,096 paths
    top = ir.Schema(kind=ir.OBJECT, class_name="L0", ref="L0")
    assert operations.unix_time_paths(top, models) == ()
    assert len(entered) == 0
    # with a unix-time field at the bottom every path leads there, and all are found
    models = _layered_models(4, unix_at_bottom=True)
    paths = operations.unix_time_paths(top, models)
    assert len(paths) == 2**4 and all(p[-1] == "at" and len(p) == 5 for p in paths)
