"""Checks on the raw documents in specs/ (the generator's input); no generator code is used.

Needs only pyyaml, openapi-spec-validator, jsonschema and pytest.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

SPECS = Path(__file__).resolve().parents[2] / "specs"

FILES = {
    "track.yaml": ("3.0.1", "track"),
    "app.yaml": ("3.0.1", "app"),
    "pipelines.yaml": ("3.0.3", "pipelines"),
    "action-events.yaml": ("3.0.3", "pipelines"),
    "email-events.yaml": ("3.1.0", "pipelines"),
    "mobile-app-events.yaml": ("3.1.0", "pipelines"),
}

HOSTS = {
    "track": {"us": "track.customer.io", "eu": "track-eu.customer.io"},
    "app": {"us": "api.customer.io", "eu": "api-eu.customer.io"},
    "pipelines": {"us": "cdp.customer.io", "eu": "cdp-eu.customer.io"},
}

# All 35 operationIds of seed 004, by the surface they belong to.
TRACK_OPS = [
    "identifyCustomer",
    "deleteCustomer",
    "trackAnonymousEvent",
    "trackCustomerEvent",
    "addDevice",
    "deleteDevice",
    "addCustomersToSegment",
    "removeCustomersFromSegment",
    "trackEntityV2",
    "trackBatchV2",
]
APP_OPS = [
    "sendTransactionalEmail",
    "sendTransactionalPush",
    "sendTransactionalSms",
    "triggerBroadcast",
    "searchCustomers",
    "getCustomerAttributes",
    "getCustomerSegments",
    "getCustomerMessages",
    "listSegments",
    "createSegment",
    "listCampaigns",
    "getCampaign",
    "getCampaignMetrics",
    "listMessages",
    "exportCustomers",
    "listExports",
    "listCollections",
    "createCollection",
]
PIPELINES_OPS = [
    "pipelinesIdentify",
    "pipelinesTrack",
    "pipelinesPage",
    "pipelinesScreen",
    "pipelinesGroup",
    "pipelinesAlias",
    "pipelinesBatch",
]
# Operations added from Customer.io's published documents (specs/README.md, "Additions ..."):
# operationId -> (path, method).
ADDED_TRACK_OPS = {
    "suppressPerson": ("/api/v1/customers/{identifier}/suppress", "post"),
    "unsuppressPerson": ("/api/v1/customers/{identifier}/unsuppress", "post"),
    "mergePeople": ("/api/v1/merge_customers", "post"),
}
PUBLISHED = (
    "openapi/_original/customer-io-track-api-openapi.json",
    "openapi/_original/customer-io-app-api-openapi.json",
    "openapi/_original/customer-io-pipelines-api-openapi.json",
    # the same repository's split of the App and Track documents by tag (specs/README.md:
    # `C`, `S`, `E`, `M`, `V`, `L`, `G`, `B`)
    "openapi/customer-io-customers-api-openapi.yml",
    "openapi/customer-io-send-messages-api-openapi.yml",
    "openapi/customer-io-exports-api-openapi.yml",
    "openapi/customer-io-campaigns-api-openapi.yml",
    "openapi/customer-io-track-events-api-openapi.yml",
    "openapi/customer-io-collections-api-openapi.yml",
    "openapi/customer-io-track-segments-api-openapi.yml",
    "openapi/customer-io-track-v2-api-openapi.yml",
)
EVENT_OPS = {
    "action-events.yaml": "trackActionEvent",
    "email-events.yaml": "trackEmailEvent",
    "mobile-app-events.yaml": "trackMobileAppEvent",
}
SURFACE_OF_OP = {
    **{o: "track" for o in TRACK_OPS},
    **{o: "track" for o in ADDED_TRACK_OPS},
    **{o: "app" for o in APP_OPS},
    **{o: "pipelines" for o in PIPELINES_OPS},
    **{o: "pipelines" for o in EVENT_OPS.values()},
}

# The 22 semantic events: event name -> (file, schema name, family).
EVENTS: dict[str, tuple[str, str, str]] = {}
for _name in [
    "Device Created or Updated",
    "Device Deleted",
    "User Deleted",
    "User Suppressed",
    "User Unsuppressed",
    "Relationship Deleted",
    "Object Deleted",
    "Report Delivery Event",
    "Report Content Event",
]:
    EVENTS[_name] = ("action-events.yaml", "", "action")
for _name in [
    "Email Bounced",
    "Email Delivered",
    "Email Link Clicked",
    "Email Marked as Spam",
    "Email Opened",
    "Email Unsubscribed",
]:
    EVENTS[_name] = ("email-events.yaml", "", "email")
for _name in [
    "Application Installed",
    "Application Opened",
    "Application Backgrounded",
    "Application Foregrounded",
    "Application Updated",
    "Application Uninstalled",
    "Application Crashed",
]:
    EVENTS[_name] = ("mobile-app-events.yaml", "", "mobile_app")
EVENTS = {
    n: (f, "".join(w[:1].upper() + w[1:] for w in n.split()), fam)
    for n, (f, _, fam) in EVENTS.items()
}
# Events whose schema comes from a seed; all others must say x-ciogen-properties-source: reference.
SEEDED_EVENTS = {"Device Created or Updated", "Email Bounced", "Application Installed"}
# events added from Customer.io's published Pipelines document (marked x-ciogen-source)
PUBLISHED_EVENTS = {"Report Content Event"}

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


# ------------------------------------------------------------------ helpers
_cache: dict[str, Any] = {}


def load(name: str) -> Any:
    if name not in _cache:
        _cache[name] = yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))
    return _cache[name]


def operations(name: str) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    doc = load(name)
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op, item


def all_operations() -> dict[str, tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    out = {}
    for name in FILES:
        for path, method, op, item in operations(name):
            assert (
                op["operationId"] not in out
            ), f"duplicate operationId {op['operationId']}"
            out[op["operationId"]] = (name, path, method, op, item)
    return out


def follow(ref: str, base: str) -> tuple[Any, str]:
    """Resolve a (possibly cross-file) $ref; returns the target and the file it lives in."""
    file_part, _, pointer = ref.partition("#")
    target_file = file_part or base
    node = load(target_file)
    for token in [t for t in pointer.split("/") if t]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, target_file


def deref(node: Any, base: str) -> Any:
    """Follow a top-level $ref chain (not recursive)."""
    while isinstance(node, dict) and "$ref" in node:
        node, base = follow(node["$ref"], base)
    return node


def to_json_schema(node: Any, base: str, depth: int = 0) -> Any:
    """Inline every $ref (across files) and turn OpenAPI 3.0 `nullable` into a JSON Schema type."""
    assert depth < 50, "recursive schema"
    if isinstance(node, list):
        return [to_json_schema(v, base, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, target_base = follow(node["$ref"], base)
        return to_json_schema(target, target_base, depth + 1)
    out = {}
    for key, value in node.items():
        if key.startswith("x-") or key in (
            "discriminator",
            "example",
            "examples",
            "nullable",
        ):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {k: to_json_schema(v, base, depth + 1) for k, v in value.items()}
        else:
            out[key] = to_json_schema(value, base, depth + 1)
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = (
                [out["type"], "null"]
                if isinstance(out["type"], str)
                else (list(out["type"]) + ["null"])
            )
        if "enum" in out and None not in out["enum"]:
            out["enum"] = list(out["enum"]) + [None]
    return out


def check(instance: Any, schema: Any, base: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(to_json_schema(schema, base))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def host_for(
    op_file: str, op: dict[str, Any], item: dict[str, Any], region: str
) -> str:
    servers = op.get("servers") or item.get("servers") or load(op_file)["servers"]
    matches = [s for s in servers if s.get("x-ciogen-region") == region]
    assert len(matches) == 1, (op["operationId"], region, servers)
    return urlparse(matches[0]["url"]).hostname or ""


def event_schema(event: str) -> dict[str, Any]:
    file, schema_name, _ = EVENTS[event]
    return load(file)["components"]["schemas"][schema_name]


def request_examples() -> Iterator[tuple[str, str, str, Any, Any]]:
    for name in FILES:
        for _, _, op, _ in operations(name):
            body = deref(op.get("requestBody"), name) if op.get("requestBody") else None
            if not body:
                continue
            for media in body["content"].values():
                for ex_name, ex in (media.get("examples") or {}).items():
                    ex = deref(ex, name)
                    yield name, op["operationId"], ex_name, ex["value"], media["schema"]


# ------------------------------------------------------------------ 1. validity
@pytest.mark.parametrize("name", sorted(FILES))
def test_file_is_valid_openapi(name: str) -> None:
    path = SPECS / name
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["openapi"] == FILES[name][0]
    validate(doc, base_uri=path.resolve().as_uri())


def test_only_expected_spec_files() -> None:
    assert sorted(p.name for p in SPECS.glob("*.yaml")) == sorted(FILES)


def test_cross_file_refs_resolve() -> None:
    def walk(node: Any, base: str) -> Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node:
                follow(node["$ref"], base)  # raises if missing
                yield node["$ref"]
            for v in node.values():
                yield from walk(v, base)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v, base)

    for name in FILES:
        for ref in walk(load(name), name):
            file_part = ref.partition("#")[0]
            assert file_part in ("",) + tuple(FILES), ref


# ------------------------------------------------------------------ 2. nothing lost
def test_all_35_operation_ids_of_seed_004_exist() -> None:
    ops = all_operations()
    seed_ids = TRACK_OPS + APP_OPS + PIPELINES_OPS
    assert len(seed_ids) == 35 and len(set(seed_ids)) == 35
    missing = [o for o in seed_ids if o not in ops]
    assert not missing
    for o in TRACK_OPS:
        assert ops[o][0] == "track.yaml"
    for o in APP_OPS:
        assert ops[o][0] == "app.yaml"
    for o in PIPELINES_OPS:
        assert ops[o][0] == "pipelines.yaml"
    for file, o in EVENT_OPS.items():
        assert ops[o][0] == file and ops[o][1] == "/v1/track" and ops[o][2] == "post"
    assert set(ops) == set(seed_ids) | set(EVENT_OPS.values()) | set(ADDED_TRACK_OPS)


def test_pipelines_paths_as_in_seed_004() -> None:
    ops = all_operations()
    for o in PIPELINES_OPS:
        path = ops[o][1]
        assert path == "/v1/" + o[len("pipelines") :].lower()
        assert ops[o][2] == "post"


def test_seed_004_schemas_kept() -> None:
    track = load("track.yaml")["components"]["schemas"]
    app = load("app.yaml")["components"]["schemas"]
    for s in [
        "Person",
        "Event",
        "DeviceRequest",
        "SegmentMembership",
        "EntityV2",
        "BatchV2",
        "Identifiers",
        "Error",
    ]:
        assert s in track
    for s in [
        "SendEmailRequest",
        "SendPushRequest",
        "SendResponse",
        "BroadcastTrigger",
        "CustomerSearch",
    ]:
        assert s in app
    # Shared schemas are defined once (track.yaml) and referenced from the other files.
    assert "Identifiers" not in app and "Error" not in app
    assert app["SendEmailRequest"]["properties"]["identifiers"] == {
        "$ref": "track.yaml#/components/schemas/Identifiers"
    }
    # A few of 004's exact values.
    # 004's integer, marked as seconds since the epoch (README: unix-time)
    assert track["Event"]["properties"]["timestamp"] == {
        "type": "integer",
        "format": "unix-time",
    }
    assert track["DeviceRequest"]["properties"]["device"]["properties"]["platform"][
        "enum"
    ] == ["ios", "android"]
    assert track["SegmentMembership"]["properties"]["ids"]["description"].startswith(
        "Customer identifiers"
    )
    assert app["SendEmailRequest"]["properties"]["transactional_message_id"][
        "description"
    ] == ("ID or trigger name of a transactional message template.")
    for name in ("track.yaml", "app.yaml"):
        unauth = load(name)["components"]["responses"]["Unauthorized"]
        assert unauth["description"] == "Authentication failed or credentials missing."


PIPELINES_FIELDS = {
    # schema: {field: (type, format or None)}
    "Identify": {
        "userId": ("string", None),
        "anonymousId": ("string", None),
        "messageId": ("string", None),
        "sentAt": ("string", "date-time"),
        "originalTimestamp": ("string", "date-time"),
        "timestamp": ("string", "date-time"),
    },
    "Track": {
        "userId": ("string", None),
        "event": ("string", None),
        "properties": ("object", None),
        "messageId": ("string", None),
        "sentAt": ("string", "date-time"),
        "originalTimestamp": ("string", "date-time"),
        "timestamp": ("string", "date-time"),
    },
    "Page": {
        "userId": ("string", None),
        "name": ("string", None),
        "properties": ("object", None),
        "messageId": ("string", None),
        "sentAt": ("string", "date-time"),
        "originalTimestamp": ("string", "date-time"),
        "timestamp": ("string", "date-time"),
    },
    "Screen": {
        "userId": ("string", None),
        "name": ("string", None),
        "properties": ("object", None),
        "messageId": ("string", None),
        "sentAt": ("string", "date-time"),
        "originalTimestamp": ("string", "date-time"),
        "timestamp": ("string", "date-time"),
    },
    "Group": {
        "userId": ("string", None),
        "groupId": ("string", None),
        "traits": ("object", None),
        "messageId": ("string", None),
        "sentAt": ("string", "date-time"),
        "originalTimestamp": ("string", "date-time"),
        "timestamp": ("string", "date-time"),
    },
    "Alias": {"previousId": ("string", None), "userId": ("string", None)},
}


def test_pipelines_call_fields_from_seed_001() -> None:
    schemas = load("pipelines.yaml")["components"]["schemas"]
    for schema_name, fields in PIPELINES_FIELDS.items():
        props = schemas[schema_name]["properties"]
        for field, (typ, fmt) in fields.items():
            prop = deref(props[field], "pipelines.yaml")
            assert prop["type"] == typ, (schema_name, field)
            assert prop.get("format") == fmt, (schema_name, field)
            assert prop.get("description"), (schema_name, field)
        for field in ("integrations", "context"):
            if schema_name != "Alias":
                assert props[field]["$ref"].endswith(field.capitalize())
    assert schemas["Identify"]["properties"]["traits"] == {
        "$ref": "#/components/schemas/Traits"
    }
    assert schemas["Alias"]["properties"]["previousId"]["description"] == (
        "The userId that you want to merge into the canonical profile."
    )
    assert (
        schemas["Track"]["properties"]["event"]["description"]
        == "The name of the event"
    )
    assert schemas["Group"]["properties"]["groupId"]["description"] == "ID of the group"
    integ = schemas["Integrations"]
    assert (
        integ["type"] == "object" and "nullable" not in integ
    )  # README: integrations-null
    assert integ["description"].startswith("Contains a list of booleans")


def test_pipelines_context_fields() -> None:
    ctx = load("pipelines.yaml")["components"]["schemas"]["Context"]
    props = ctx["properties"]
    expected = {
        "active": "boolean",
        "ip": "string",
        "locale": "string",
        "userAgent": "string",
        "channel": "string",
        "campaign": "object",
        "page": "object",
    }
    for field, typ in expected.items():
        assert props[field]["type"] == typ
        assert props[field]["description"]
    assert props["channel"]["enum"] == ["browser", "server", "mobile"]
    assert (
        props["locale"]["description"]
        == "The locale string for the current user, e.g. en-US."
    )
    assert ctx.get("additionalProperties") is True  # seed examples carry extra keys
    assert props["device"]["properties"]["type"]["enum"] == ["android", "ios"]


def test_pipelines_requirement_resolutions() -> None:
    s = load("pipelines.yaml")["components"]["schemas"]
    one_of_ids = [{"required": ["userId"]}, {"required": ["anonymousId"]}]
    for name in ("Identify", "Page", "Screen", "Group"):
        assert s[name]["anyOf"] == one_of_ids, name
    for name in ("Identify", "Track", "Page", "Screen", "Group"):
        assert "userId" not in s[name].get("required", []), name
    # a track call may be a group's event alone (the published "Group" custom event)
    *ids, by_group = s["Track"]["anyOf"]
    assert ids == one_of_ids and by_group["required"] == ["groupId"]
    assert s["Track"]["properties"]["groupId"]["type"] == "string"
    for node in (by_group, s["Track"]["properties"]["groupId"]):
        assert node["x-ciogen-source"].startswith(
            PUBLISHED[2] + "#/components/schemas/track/oneOf/0/oneOf/2/"
        )
    assert s["Track"]["required"] == ["event"]
    assert s["Group"]["required"] == ["groupId"]
    assert sorted(s["Alias"]["required"]) == ["previousId", "userId"]
    assert "required" not in s["Identify"] and "required" not in s["Page"]
    for name in ("Identify", "Track", "Page", "Screen", "Group", "Alias"):
        assert s[name]["properties"]["type"]["enum"] == [name.lower()]
        assert s[name]["properties"]["messageId"]["type"] == "string"


def test_pipelines_batch_body() -> None:
    s = load("pipelines.yaml")["components"]["schemas"]
    batch = s["Batch"]
    assert batch["properties"]["batch"]["type"] == "array"
    item = deref(batch["properties"]["batch"]["items"], "pipelines.yaml")
    calls = ["Identify", "Track", "Page", "Screen", "Group", "Alias"]
    assert item["oneOf"] == [{"$ref": f"#/components/schemas/{c}"} for c in calls]
    assert item["discriminator"] == {
        "propertyName": "type",
        "mapping": {c.lower(): f"#/components/schemas/{c}" for c in calls},
    }
    assert item["required"] == ["type"]
    assert batch["properties"]["context"] == {"$ref": "#/components/schemas/Context"}
    assert batch["properties"]["integrations"] == {
        "$ref": "#/components/schemas/Integrations"
    }
    # A batch item without a type is rejected; with one, exactly one call schema matches.
    assert check({"userId": "1"}, item, "pipelines.yaml")
    assert not check({"type": "identify", "userId": "1"}, item, "pipelines.yaml")
    assert not check(
        {"type": "alias", "previousId": "a", "userId": "b"}, item, "pipelines.yaml"
    )
    assert check({"type": "track", "userId": "1"}, item, "pipelines.yaml")  # no event


def test_pipelines_responses() -> None:
    ops = all_operations()
    for o in PIPELINES_OPS + list(EVENT_OPS.values()):
        file, _, _, op, _ = ops[o]
        ok = deref(op["responses"]["200"], file)
        assert (
            ok["description"]
            == "A successful request returns an empty object response."
        )
        assert ok["content"]["application/json"]["schema"] == {"type": "object"}
        unauth = deref(op["responses"]["401"], file)
        assert unauth["description"] == (
            "Unauthorized request. Make sure that you provided the right credentials."
        )
        assert "400" in op["responses"]
        assert op["requestBody"]["required"] is True


def test_every_seed_request_example_is_kept() -> None:
    examples: dict[str, dict[str, Any]] = {}
    for _, op_id, ex_name, value, _ in request_examples():
        examples.setdefault(op_id, {})[ex_name] = value
    for o in PIPELINES_OPS:
        key = o[len("pipelines") :].lower()
        assert key in examples[o], o
    ex = {
        o[len("pipelines") :].lower(): examples[o][o[len("pipelines") :].lower()]
        for o in PIPELINES_OPS
    }
    assert "integrations" not in ex["track"]  # published schema: an object, never null
    assert ex["track"]["receivedAt"] == "2015-12-12T19:11:01.266Z"
    assert ex["page"]["version"] == 1.1 and ex["page"]["channel"] == "browser"
    assert (
        ex["group"]["groupId"] == "0e8c78ea9d97a7b8185e8632,"
    )  # verbatim, trailing comma
    assert ex["group"]["traits"]["total billed"] == 830
    assert ex["alias"] == {"previousId": "string", "userId": "string"}
    assert ex["batch"] == {}
    assert ex["identify"]["traits"]["games_attended"] == 5
    dev = examples["trackActionEvent"]["DeviceCreatedOrUpdated"]
    assert dev["context"] == {
        "device": {"token": "", "type": "ios"},
        "additionalProperty": "anything",
    }
    bounced = examples["trackEmailEvent"]["EmailBounced"]
    assert bounced["properties"]["additionalProperty"] is None
    assert bounced["context"]["traits"] == {"email": "user@example.com"}
    installed = examples["trackMobileAppEvent"]["ApplicationInstalled"]
    assert installed["properties"] == {
        "version": "2.1.0",
        "build": "421",
        "additionalProperty": None,
    }


def test_examples_validate_against_their_schemas() -> None:
    count = 0
    for file, op_id, ex_name, value, schema in request_examples():
        errors = check(value, schema, file)
        assert not errors, (file, op_id, ex_name, errors)
        count += 1
    assert count >= 7 + 21


def test_every_event_has_an_example_that_validates_against_its_own_schema() -> None:
    seen = set()
    for file, _, _, value, _ in request_examples():
        event = value.get("event") if isinstance(value, dict) else None
        if event in EVENTS and EVENTS[event][0] == file:
            schema = {"$ref": f"#/components/schemas/{EVENTS[event][1]}"}
            assert not check(value, schema, file), event
            seen.add(event)
    assert seen == set(EVENTS)


# ------------------------------------------------------------------ 3. hosts
@pytest.mark.parametrize("region", ["us", "eu"])
def test_each_operation_reaches_its_own_host(region: str) -> None:
    ops = all_operations()
    assert set(ops) == set(SURFACE_OF_OP)
    for op_id, (file, _, _, op, item) in ops.items():
        surface = SURFACE_OF_OP[op_id]
        assert load(file)["x-ciogen-surface"] == surface
        assert host_for(file, op, item, region) == HOSTS[surface][region], op_id


def test_root_servers_are_own_surface_only() -> None:
    for name, (_, surface) in FILES.items():
        doc = load(name)
        assert doc["x-ciogen-surface"] == surface
        servers = doc["servers"]
        assert [s["x-ciogen-region"] for s in servers] == ["us", "eu"]
        assert [urlparse(s["url"]).hostname for s in servers] == [
            HOSTS[surface]["us"],
            HOSTS[surface]["eu"],
        ]
        assert all(urlparse(s["url"]).path in ("", "/") for s in servers)


# ------------------------------------------------------------------ 4. semantic events
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_semantic_event_schema(event: str) -> None:
    file, _schema_name, family = EVENTS[event]
    s = event_schema(event)
    props = s["properties"]
    assert s["type"] == "object"
    assert s["x-ciogen-event-family"] == family
    assert props["type"]["enum"] == ["track"]
    assert props["event"]["enum"] == [event]
    if FILES[file][0].startswith("3.1"):
        assert props["type"]["const"] == "track" and props["event"]["const"] == event
    assert "type" in s["required"] and "event" in s["required"]
    assert (
        props["properties"]["type"] == "object"
        or deref(props["properties"], file)["type"] == "object"
    )
    assert props["timestamp"] == {
        **props["timestamp"],
        "type": "string",
        "format": "date-time",
    }
    assert (
        props["integrations"]["$ref"]
        == "pipelines.yaml#/components/schemas/Integrations"
    )
    assert "context" in props
    if event in SEEDED_EVENTS:
        assert "x-ciogen-properties-source" not in s
    elif event in PUBLISHED_EVENTS:
        assert "x-ciogen-properties-source" not in s
        assert s["x-ciogen-source"].startswith(PUBLISHED[2] + "#/components/schemas/")
    else:
        assert s["x-ciogen-properties-source"] == "reference"
    # Extra keys are allowed inside properties and context (the seed examples carry them).
    assert (
        deref(props["properties"], file).get("additionalProperties", True) is not False
    )
    assert deref(props["context"], file).get("additionalProperties", True) is not False


IDENTITY = {
    **{e: "userId" for e in EVENTS},
    "Object Deleted": "anonymousId",
    "Report Delivery Event": None,
    "Report Content Event": None,
}


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_semantic_event_identity(event: str) -> None:
    s = event_schema(event)
    required = s["required"]
    want = IDENTITY[event]
    if want == "userId":
        assert "userId" in required and "anonymousId" not in required
    elif want == "anonymousId":
        assert "anonymousId" in required and "userId" not in s["properties"]
    else:
        assert "userId" not in required and "anonymousId" not in required
        assert "userId" in s["properties"] and "anonymousId" in s["properties"]


def test_semantic_event_specific_fields() -> None:
    def props_of(event: str) -> dict[str, Any]:
        return deref(event_schema(event)["properties"]["properties"], EVENTS[event][0])

    for event in ("Device Created or Updated", "Device Deleted"):
        s = event_schema(event)
        assert "context" in s["required"]
        ctx = deref(s["properties"]["context"], "action-events.yaml")
        assert "device" in ctx["required"]
        device = ctx["properties"]["device"]
        assert device["required"] == ["token"]
        assert device["properties"]["token"]["type"] == "string"
        assert device["properties"]["type"]["enum"] == ["ios", "android"]
        assert device.get("additionalProperties") is True
    for event in ("Relationship Deleted", "Object Deleted"):
        p = props_of(event)
        assert "properties" in event_schema(event)["required"]
        assert p["required"] == ["objectId"]
        assert p["properties"]["objectId"]["type"] == "string"
        assert p["properties"]["objectTypeId"] == {
            **p["properties"]["objectTypeId"],
            "type": "integer",
            "default": 1,
        }
    p = props_of("Report Content Event")
    assert p["required"] == ["actionType"]  # the published `activityType` names nothing
    assert p["properties"]["actionType"]["enum"] == [
        "viewed_content",
        "clicked_content",
    ]
    assert p["properties"]["contentId"]["type"] == "integer"
    assert p["properties"]["templateId"]["type"] == "integer"
    p = props_of("Report Delivery Event")
    assert "properties" in event_schema("Report Delivery Event")["required"]
    assert sorted(p["required"]) == ["deliveryId", "metric"]
    assert p["properties"]["metric"]["enum"] == [
        "delivered",
        "clicked",
        "converted",
        "opened",
    ]
    for k in ("recipient", "reason", "actionValue", "href"):
        assert k in p["properties"]
    four = ["email_id", "email_subject", "campaign_id", "campaign_name"]
    for event, (_file, _, family) in EVENTS.items():
        if family != "email":
            continue
        assert "properties" in event_schema(event)["required"]
        p = props_of(event)
        assert p["required"] == ["email_id"]
        extra = {
            "Email Link Clicked": ["link_id", "link_url"],
            "Email Unsubscribed": ["list_id", "list_name"],
        }.get(event, [])
        assert list(p["properties"]) == four + extra
        assert all(v["type"] == "string" for v in p["properties"].values())
    mobile = {
        "Application Installed": {"version": "string", "build": "string"},
        "Application Opened": {
            "from_background": "boolean",
            "referring_application": "string",
            "url": "string",
            "version": "string",
            "build": "string",
        },
        "Application Updated": {
            "previous_version": "string",
            "previous_build": "string",
            "version": "string",
            "build": "string",
        },
    }
    for event, fields in mobile.items():
        p = props_of(event)
        assert {k: v["type"] for k, v in p["properties"].items()} == fields
        assert "properties" not in event_schema(event)["required"]


@pytest.mark.parametrize("file", sorted(EVENT_OPS))
def test_event_operation_body_is_discriminated_union(file: str) -> None:
    ops = {o["operationId"]: o for _, _, o, _ in operations(file)}
    op = ops[EVENT_OPS[file]]
    media = op["requestBody"]["content"]["application/json"]
    body = media["schema"]
    names = [n for n, (f, _, _) in EVENTS.items() if f == file]
    assert body["oneOf"] == [
        {"$ref": f"#/components/schemas/{EVENTS[n][1]}"} for n in names
    ]
    assert body["discriminator"] == {
        "propertyName": "event",
        "mapping": {n: f"#/components/schemas/{EVENTS[n][1]}" for n in names},
    }
    assert op["requestBody"]["required"] is True


# ------------------------------------------------------------------ 5/6. limits, strict, auth
def test_limits() -> None:
    pipelines = load("pipelines.yaml")
    assert pipelines["x-ciogen-limits"] == {
        "max_request_bytes": 32768,
        "rate_limit": {"requests": 3000, "per_seconds": 3},
    }
    assert pipelines["x-ciogen-message-id"] == "messageId"
    ops = all_operations()
    assert ops["pipelinesBatch"][3]["x-ciogen-limits"] == {
        "max_request_bytes": 500000,
        "max_item_bytes": 32768,
        "items_field": "batch",
    }
    assert ops["trackBatchV2"][3]["x-ciogen-limits"] == {
        "max_request_bytes": 500000,
        "max_item_bytes": 32768,
        "items_field": "batch",
    }
    assert ops["trackBatchV2"][3]["x-ciogen-source"] == (
        PUBLISHED[0] + "#/paths/~1api~1v2~1batch/post/description"
    )
    assert ops["trackEntityV2"][3]["x-ciogen-limits"] == {"max_request_bytes": 32768}
    assert ops["triggerBroadcast"][3]["x-ciogen-limits"] == {
        "rate_limit": {"requests": 1, "per_seconds": 10}
    }
    for file in EVENT_OPS:  # same surface, same surface-wide settings
        assert load(file)["x-ciogen-limits"] == pipelines["x-ciogen-limits"]
        assert load(file)["x-ciogen-message-id"] == "messageId"
    for name in ("track.yaml", "app.yaml"):
        assert "x-ciogen-limits" not in load(name)
    limited = {o for o, v in ops.items() if "x-ciogen-limits" in v[3]}
    assert limited == {
        "pipelinesBatch",
        "trackBatchV2",
        "trackEntityV2",
        "triggerBroadcast",
    }


def test_x_strict_mode_on_every_pipelines_operation() -> None:
    definition = load("pipelines.yaml")["components"]["parameters"]["XStrictMode"]
    assert definition["name"] == "X-Strict-Mode" and definition["in"] == "header"
    assert definition["schema"]["enum"] == ["1"]
    assert definition["x-ciogen-client-flag"] == "strict"
    assert definition["description"].startswith(
        "When set to 1, enables strict validation"
    )
    ops = all_operations()
    for op_id, (file, _, _, op, _) in ops.items():
        params = op.get("parameters", [])
        strict = [p for p in params if deref(p, file).get("name") == "X-Strict-Mode"]
        if SURFACE_OF_OP[op_id] == "pipelines":
            assert len(strict) == 1, op_id
            want = "#/components/parameters/XStrictMode"
            assert strict[0]["$ref"] == (
                want if file == "pipelines.yaml" else "pipelines.yaml" + want
            ), op_id
        else:
            assert not strict, op_id
    for name in FILES:  # defined once
        if name != "pipelines.yaml":
            assert "parameters" not in load(name).get("components", {})


def test_security_schemes() -> None:
    track = load("track.yaml")["components"]["securitySchemes"]
    app = load("app.yaml")["components"]["securitySchemes"]
    pipe = load("pipelines.yaml")["components"]["securitySchemes"]
    assert track == {
        "basicAuth": {
            "type": "http",
            "scheme": "basic",
            "description": "Track API auth. Base-64 encode site_id:api_key and pass it in the "
            "Authorization header (Basic ...).",
            "x-ciogen-credentials": ["site_id", "api_key"],
        }
    }
    assert app == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "App API and Pipelines API auth. Pass the App API key (or Pipelines "
            "source write key) as a Bearer token in the Authorization header.",
            "x-ciogen-credentials": ["api_key"],
        }
    }
    assert list(pipe) == ["basicAuth"]
    assert pipe["basicAuth"]["scheme"] == "basic"
    assert pipe["basicAuth"]["x-ciogen-credentials"] == ["api_key"]
    assert "Password is blank" in pipe["basicAuth"]["description"]
    for file in EVENT_OPS:
        ev = load(file)["components"]["securitySchemes"]
        assert list(ev) == ["basicAuth"]
        assert ev["basicAuth"]["scheme"] == "basic"
        assert ev["basicAuth"]["x-ciogen-credentials"] == ["api_key"]
    expected = {"track": "basicAuth", "app": "bearerAuth", "pipelines": "basicAuth"}
    for op_id, (file, _, _, op, _) in all_operations().items():
        want = [{expected[SURFACE_OF_OP[op_id]]: []}]
        assert op["security"] == want, op_id
        assert load(file)["security"] == want


# ------------------------------------------------------------------ 5/7. README
README_ROWS = {
    "pipelines-auth": ["Basic", "Bearer", "x-ciogen-credentials"],
    "batch-size": ["500 KB", "1 MB"],
    "identify-identity": ["anyOf", "anonymousId"],
    "track-page-screen-identity": ["anyOf"],
    "track-v2-batch": ["32 KB", "500 KB"],
    "group-groupid": ["groupId"],
    "base-path": ["/v1/track", "https://cdp.customer.io/v1"],
    "unsubscribed-name": ["Email Unsubscribed", "Unsubscribed"],
    "alias-required": ["previousId", "userId"],
    "timestamp-type": ["integer", "date-time"],
    "email-properties-required": ["email_id"],
    "broadcast-path": ["/v1/send/broadcast", "/v1/campaigns/{broadcast_id}/triggers"],
    "export-filters": ["`filter`", "`filters`", "required"],
    "report-content-action-type": ["activityType", "actionType"],
}


def test_readme_has_a_row_for_each_known_disagreement() -> None:
    text = (SPECS / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*`([a-z0-9-]+)`", line)
        if m:
            rows[m.group(1)] = line
    for key, words in README_ROWS.items():
        assert key in rows, key
        cells = [c for c in rows[key].split("|")[1:-1]]
        assert len(cells) == 4 and all(c.strip() for c in cells), key
        for w in words:
            assert w in rows[key], (key, w)


def test_readme_names_the_seed_of_each_file() -> None:
    text = (SPECS / "README.md").read_text(encoding="utf-8")
    for name in FILES:
        assert f"`{name}`" in text, name
    for seed in ("000", "001", "002", "003", "004"):
        assert seed in text


def test_specs_are_plain_data() -> None:
    # yaml.safe_load only, and every document round-trips through copy without aliases.
    for name in FILES:
        assert copy.deepcopy(load(name)) == load(name)


# ------------------------------------------------------------------ 8. published additions
def _sources(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "x-ciogen-source" in node:
            yield node["x-ciogen-source"]
        for v in node.values():
            yield from _sources(v)
    elif isinstance(node, list):
        for v in node:
            yield from _sources(v)


def test_every_source_marker_names_a_published_document() -> None:
    seen = 0
    for name in FILES:
        for src in _sources(load(name)):
            file, sep, pointer = src.partition("#")
            assert file in PUBLISHED and sep and pointer.startswith("/"), (name, src)
            seen += 1
    assert seen >= 30


def test_added_track_operations() -> None:
    ops = all_operations()
    for op_id, (path, method) in ADDED_TRACK_OPS.items():
        file, got_path, got_method, op, _ = ops[op_id]
        assert (file, got_path, got_method) == ("track.yaml", path, method), op_id
        assert op["tags"] == ["People"]
        assert op["x-ciogen-source"].startswith(PUBLISHED[0] + "#/paths/"), op_id
        assert op["security"] == [{"basicAuth": []}]
    for op_id in ("suppressPerson", "unsuppressPerson"):
        op = ops[op_id][3]
        assert "requestBody" not in op
        assert [(p["name"], p["in"], p["required"]) for p in op["parameters"]] == [
            ("identifier", "path", True)
        ]
    merge = deref(
        ops["mergePeople"][3]["requestBody"]["content"]["application/json"]["schema"],
        "track.yaml",
    )
    assert merge["required"] == ["primary", "secondary"]
    body = {"$ref": "#/components/schemas/MergeRequest"}
    assert not check(
        {"primary": {"id": "1"}, "secondary": {"email": "a@b.c"}}, body, "track.yaml"
    )
    assert check({"primary": {}, "secondary": {"id": "2"}}, body, "track.yaml")
    assert check({"primary": {"id": "1"}}, body, "track.yaml")


def test_identifiers_require_at_least_one_key() -> None:
    ident = {"$ref": "#/components/schemas/Identifiers"}
    assert check({}, ident, "track.yaml")
    for key in ("id", "email", "cio_id"):
        assert not check({key: "x"}, ident, "track.yaml"), key
    assert load("track.yaml")["components"]["schemas"]["Identifiers"]["anyOf"] == [
        {"required": ["id"]},
        {"required": ["email"]},
        {"required": ["cio_id"]},
    ]


def test_segment_id_type_parameter() -> None:
    ops = all_operations()
    for op_id in ("addCustomersToSegment", "removeCustomersFromSegment"):
        params = {p["name"]: p for p in ops[op_id][3]["parameters"]}
        id_type = params["id_type"]
        assert id_type["in"] == "query" and id_type["required"] is False
        assert id_type["schema"]["enum"] == ["id", "email", "cio_id"]
        assert id_type["schema"]["default"] == "id"
        assert (
            id_type["x-ciogen-source"]
            == PUBLISHED[0] + "#/components/parameters/id_type_segment"
        )


def test_event_dedupe_id_and_device_attributes() -> None:
    schemas = load("track.yaml")["components"]["schemas"]
    dedupe = schemas["Event"]["properties"]["id"]
    assert (dedupe["type"], dedupe["format"]) == ("string", "ulid")
    assert dedupe["x-ciogen-source"] == PUBLISHED[0] + "#/components/schemas/dedupe_id"
    device = schemas["DeviceRequest"]["properties"]["device"]
    assert device["properties"]["attributes"] == {
        "$ref": "#/components/schemas/DeviceAttributes"
    }
    attrs = schemas["DeviceAttributes"]
    assert attrs["additionalProperties"] == {"type": "string"}
    assert attrs["properties"]["push_enabled"]["enum"] == ["true", "false"]
    for key in (
        "device_os",
        "device_model",
        "app_version",
        "cio_sdk_version",
        "device_locale",
    ):
        assert attrs["properties"][key]["type"] == "string"
    body = {"$ref": "#/components/schemas/DeviceRequest"}
    ok = {
        "device": {"id": "tok", "platform": "ios", "attributes": {"app_version": "2.1"}}
    }
    assert not check(ok, body, "track.yaml")
    assert check(
        {"device": {"id": "tok", "platform": "ios", "attributes": {"n": 1}}},
        body,
        "track.yaml",
    )


PERSON_ACTIONS = [
    "identify",
    "delete",
    "event",
    "screen",
    "page",
    "add_relationships",
    "delete_relationships",
    "add_device",
    "delete_device",
    "merge",
    "suppress",
    "unsuppress",
]
OBJECT_ACTIONS = [
    "identify",
    "identify_anonymous",
    "delete",
    "add_relationships",
    "delete_relationships",
]


def test_entity_v2_is_the_published_union() -> None:
    schemas = load("track.yaml")["components"]["schemas"]
    entity = schemas["EntityV2"]
    assert entity["discriminator"]["propertyName"] == "type"
    assert entity["discriminator"]["mapping"] == {
        t: f"#/components/schemas/{n}"
        for t, n in (
            ("person", "PersonOperation"),
            ("object", "ObjectOperation"),
            ("delivery", "DeliveryEvent"),
        )
    }
    assert [v["$ref"] for v in entity["oneOf"]] == list(
        entity["discriminator"]["mapping"].values()
    )
    # As published: within an entity type, one schema per action, picked by `action`.
    for name, actions in (
        ("PersonOperation", PERSON_ACTIONS),
        ("ObjectOperation", OBJECT_ACTIONS),
    ):
        union = schemas[name]
        assert union["discriminator"]["propertyName"] == "action"
        mapping = union["discriminator"]["mapping"]
        assert list(mapping) == actions
        assert [v["$ref"] for v in union["oneOf"]] == list(mapping.values())
        for action, ref in mapping.items():
            variant = schemas[ref.rsplit("/", 1)[1]]
            assert variant["properties"]["action"]["enum"] == [action]
            assert {"type", "action"} <= set(variant["required"])
    assert schemas["DeliveryEvent"]["properties"]["name"]["enum"] == [
        "opened",
        "converted",
        "delivered",
    ]
    assert schemas["BatchV2"]["properties"]["batch"]["items"] == {
        "$ref": "#/components/schemas/EntityV2"
    }
    e = {"$ref": "#/components/schemas/EntityV2"}
    person = {"type": "person", "identifiers": {"id": "42"}}
    valid = [
        {
            **person,
            "action": "identify",
            "attributes": {"plan": "pro", "_update": True},
        },
        {
            **person,
            "action": "event",
            "name": "purchase",
            "id": "01H5Q5SZVQDJ71SBME2SMDXS88",
        },
        {
            **person,
            "action": "add_device",
            "device": {
                "token": "t",
                "platform": "android",
                "attributes": {"push_enabled": "true"},
            },
        },
        {**person, "action": "delete_device", "device": {"token": "t"}},
        {**person, "action": "suppress"},
        {**person, "action": "unsuppress"},
        {
            **person,
            "action": "add_relationships",
            "cio_relationships": [
                {"identifiers": {"object_type_id": "1", "object_id": "acme"}}
            ],
        },
        {
            "type": "person",
            "action": "merge",
            "primary": {"id": "1"},
            "secondary": {"id": "2"},
        },
        {
            "type": "object",
            "identifiers": {"object_type_id": "1", "object_id": "acme"},
            "action": "delete",
        },
        {
            "type": "object",
            "identifiers": {"cio_object_id": "obb7fd050101"},
            "action": "add_relationships",
            "cio_relationships": [{"identifiers": {"id": "42"}}],
        },
        {
            "type": "object",
            "identifiers": {"object_type_id": "1", "object_id": "acme"},
            "action": "identify_anonymous",
            "cio_relationships": [{"identifiers": {"anonymous_id": "anon-1"}}],
        },
        {
            "type": "delivery",
            "action": "event",
            "identifiers": {"id": "d"},
            "name": "opened",
            "attributes": {"device_token": "t"},
        },
    ]
    for body in valid:
        assert not check(body, e, "track.yaml"), body
    invalid = [
        {"type": "person", "identifiers": {}, "action": "delete"},  # empty identifiers
        {"type": "person", "action": "delete"},  # no identifiers
        {"type": "object", "identifiers": {"object_id": "acme"}, "action": "delete"},
        {**person, "action": "identify_anonymous"},  # an object-only action
        {"type": "object", "identifiers": {"cio_object_id": "o"}, "action": "suppress"},
        {"type": "person", "action": "merge", "primary": {"id": "1"}},
        {**person, "action": "add_device", "device": {"platform": "ios"}},  # no token
        {
            "type": "delivery",
            "action": "event",
            "identifiers": {"id": "d"},
            "name": "clicked",
            "attributes": {"device_token": "t"},
        },
        {"type": "account", "identifiers": {"id": "1"}, "action": "identify"},
        # what each action needs (the published per-action required fields)
        {**person, "action": "event"},  # no name
        {**person, "action": "page", "attributes": {}},  # no name
        {**person, "action": "add_relationships"},  # no cio_relationships
        {**person, "action": "add_device", "device": {"token": "t"}},  # no platform
        {**person, "action": "delete_device"},  # no device
        {
            "type": "object",
            "identifiers": {"cio_object_id": "o"},
            "action": "delete_relationships",
        },  # no cio_relationships
    ]
    for body in invalid:
        assert check(body, e, "track.yaml"), body


def test_pagination_markers() -> None:
    ops = all_operations()
    marked = {o: v for o, v in ops.items() if "x-ciogen-pagination" in v[3]}
    assert set(marked) == {"listMessages", "searchCustomers", "getCustomerMessages"}
    for op_id, (file, _, method, op, _) in marked.items():
        assert file == "app.yaml" and method in ("get", "post"), op_id
        pag = op["x-ciogen-pagination"]
        assert set(pag) <= {"cursor", "limit", "next", "items"} and {
            "cursor",
            "next",
            "items",
        } <= set(pag)
        params = {p["name"]: p for p in op["parameters"]}
        assert params[pag["cursor"]]["in"] == "query"
        assert params[pag["cursor"]]["schema"]["type"] == "string"
        if "limit" in pag:
            assert params[pag["limit"]]["schema"]["type"] == "integer"
        props = deref(
            op["responses"]["200"]["content"]["application/json"]["schema"], file
        )["properties"]
        assert props[pag["next"]]["type"] == "string"
        assert props[pag["items"]]["type"] == "array"
        assert op["x-ciogen-source"].startswith((PUBLISHED[1], PUBLISHED[3]))
    assert marked["listMessages"][3]["x-ciogen-pagination"] == {
        "cursor": "start",
        "limit": "limit",
        "next": "next",
        "items": "messages",
    }
    search = marked["searchCustomers"][3]
    assert search["x-ciogen-pagination"]["items"] == "identifiers"
    body = search["requestBody"]["content"]["application/json"]
    assert deref(body["schema"], "app.yaml")["required"] == ["filter"]
    assert body["example"]["filter"]  # the fixture is a search the API accepts


def test_required_fields_of_transactional_sends_and_segment_creation() -> None:
    ops = all_operations()

    def body_schema(op_id: str) -> Any:
        file, _, _, op, _ = ops[op_id]
        return deref(op["requestBody"]["content"]["application/json"]["schema"], file)

    assert body_schema("sendTransactionalEmail")["required"] == ["to"]
    assert body_schema("sendTransactionalPush")["required"] == [
        "transactional_message_id",
        "identifiers",
    ]
    assert body_schema("sendTransactionalSms")["required"] == [
        "transactional_message_id",
        "identifiers",
        "to",
    ]
    segment = body_schema("createSegment")
    assert segment["required"] == ["segment"]
    assert segment["properties"]["segment"]["required"] == ["name"]
    for op_id in (
        "sendTransactionalEmail",
        "sendTransactionalPush",
        "sendTransactionalSms",
        "createSegment",
    ):
        schema = body_schema(op_id)
        assert schema["x-ciogen-source"].partition("#")[0] in PUBLISHED, op_id
        assert check({}, schema, "app.yaml"), op_id  # an empty body is refused


def test_trigger_broadcast_is_the_published_endpoint() -> None:
    """004 posts to `/v1/send/broadcast` with the broadcast's id in the body; the App API's
    published document triggers a broadcast at `/v1/campaigns/{broadcast_id}/triggers`.
    """
    file, path, method, op, _ = all_operations()["triggerBroadcast"]
    assert (file, path, method) == (
        "app.yaml",
        "/v1/campaigns/{broadcast_id}/triggers",
        "post",
    )
    (param,) = op["parameters"]
    assert (param["name"], param["in"], param["required"]) == (
        "broadcast_id",
        "path",
        True,
    )
    assert param["schema"] == {"type": "integer"}
    body = deref(op["requestBody"]["content"]["application/json"]["schema"], file)
    assert "id" not in body["properties"]  # the broadcast is named by the path
    assert {"emails", "ids", "per_user_data", "data_file_url", "recipients"} <= set(
        body["properties"]
    )
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["properties"]["id"]["type"] == "integer"  # the trigger's id
    for node in (op, param, body, answer):
        assert node["x-ciogen-source"].startswith(PUBLISHED[4] + "#/paths/"), node


def test_export_customers_sends_the_published_filters() -> None:
    """004's body has an optional `filter`; the published App document requires `filters`
    (plural): every export 004's form describes would be refused."""
    file, path, method, op, _ = all_operations()["exportCustomers"]
    assert (file, path, method) == ("app.yaml", "/v1/exports/customers", "post")
    media = op["requestBody"]["content"]["application/json"]
    body = deref(media["schema"], file)
    assert body["required"] == ["filters"]
    assert set(body["properties"]) == {"filters"}
    assert body["properties"]["filters"]["type"] == "object"
    assert body["x-ciogen-source"] == (
        PUBLISHED[5] + "#/paths/~1v1~1exports~1customers/post/requestBody/content"
        "/application~1json/schema"
    )
    assert not check(media["example"], body, file)  # the fixture names an audience
    assert media["example"]["filters"]
    assert check({"filter": media["example"]["filters"]}, body, file)  # 004's form


def test_campaign_metrics_take_the_published_query_parameters() -> None:
    """`version` is required by the published document; the rest narrow the series."""
    _, _, _, op, _ = all_operations()["getCampaignMetrics"]
    params = {p["name"]: p for p in op["parameters"]}
    assert set(params) == {
        "campaign_id",
        "version",
        "type",
        "res",
        "tz",
        "start",
        "end",
        "period",
        "steps",
    }
    version = params["version"]
    assert (version["in"], version["required"]) == ("query", True)
    assert version["schema"]["enum"] == ["1", "2"]  # strings, as published
    assert all(
        not params[n]["required"] for n in params if n not in ("version", "campaign_id")
    )
    for name in ("start", "end"):  # Unix seconds: a datetime is sent as seconds
        assert params[name]["schema"] == {"type": "integer", "format": "unix-time"}
    for i, name in enumerate(list(params)[1:], start=1):
        assert params[name]["x-ciogen-source"] == (
            PUBLISHED[6] + "#/paths/~1v1~1campaigns~1{campaign_id}~1metrics"
            f"/parameters/{i}"
        ), name


def test_an_anonymous_event_has_its_anonymous_id() -> None:
    file, _, _, op, _ = all_operations()["trackAnonymousEvent"]
    media = op["requestBody"]["content"]["application/json"]
    assert media["schema"] == {"$ref": "#/components/schemas/AnonymousEvent"}
    schema = load(file)["components"]["schemas"]["AnonymousEvent"]
    assert schema["allOf"][0] == {"$ref": "#/components/schemas/Event"}
    assert schema["allOf"][1]["properties"]["anonymous_id"]["type"] == "string"
    assert (
        "anonymous_id" not in load(file)["components"]["schemas"]["Event"]["properties"]
    )  # a known person's event is named by the path
    assert not check(media["example"], media["schema"], file)
    assert media["example"]["anonymous_id"] == "abc123"  # the published sample
    assert schema["x-ciogen-source"].startswith(PUBLISHED[7] + "#/components/")


def test_a_collection_needs_a_name_and_its_rows_or_their_url() -> None:
    file, _, _, op, _ = all_operations()["createCollection"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["name"]
    assert body["properties"]["url"]["format"] == "uri"
    assert not check({"name": "n", "data": [{"a": 1}]}, body, file)
    assert not check({"name": "n", "url": "https://example.com/rows.csv"}, body, file)
    assert check({"name": "n"}, body, file)  # neither rows nor where they are
    assert check({"data": []}, body, file)  # no name
    assert body["x-ciogen-source"].startswith(PUBLISHED[8] + "#/paths/")


def test_segment_membership_takes_1_to_1000_ids() -> None:
    ids = load("track.yaml")["components"]["schemas"]["SegmentMembership"][
        "properties"
    ]["ids"]
    assert (ids["minItems"], ids["maxItems"]) == (1, 1000)
    assert ids["x-ciogen-source"].startswith(PUBLISHED[9] + "#/paths/")


def test_track_v2_batch_declares_its_partial_failure_answer() -> None:
    """The published 207: the batch is accepted but for the operations `errors` lists, by
    `batch_index`. The extension is what the background client reads."""
    file, _, _, op, _ = all_operations()["trackBatchV2"]
    assert op["x-ciogen-partial-failure"] == {
        "status": 207,
        "errors": "errors",
        "index": "batch_index",
    }
    answer = op["responses"]["207"]
    schema = deref(answer["content"]["application/json"]["schema"], file)
    entry = schema["properties"]["errors"]["items"]["properties"]
    assert entry["batch_index"]["type"] == "integer"
    assert {"reason", "field", "message"} <= set(entry)
    assert answer["x-ciogen-source"] == (
        PUBLISHED[10] + "#/paths/~1api~1v2~1batch/post/responses/207"
    )
    others = {
        o for o, v in all_operations().items() if "x-ciogen-partial-failure" in v[3]
    }
    assert others == {"trackBatchV2"}
