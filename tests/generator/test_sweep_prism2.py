"""Findings of the second Prism sweep (60 APIs.guru documents, drawn with seed 25).

Each test writes a small spec reproducing one finding into tmp_path, generates its package
by the real command line, and calls it with the package's own fixtures against Prism (the
validating mock server), which must report no request violation. Skipped without Prism,
except under CI=true (see support.prism.require_prism).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from support.packages import generate, imported
from support.prism import prism_mock, require_prism

PREFIX = "sweepprism2_"  # unique module names: never clash with another test's packages


def _spec(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Sweep", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _post(operation_id: str, schema_ref: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{schema_ref}"}
                    }
                },
            },
            "responses": {"204": {"description": "done"}},
        }
    }


def _calls_pass_prism(
    tmp_path: Path, name: str, spec: dict[str, Any]
) -> tuple[ModuleType, dict[str, dict[str, Any]]]:
    """Generate `spec`, call every operation with its fixture against Prism; return the
    fixtures module and each operation's fixture, after asserting Prism found no fault.
    """
    require_prism()
    spec_path = tmp_path / f"{name}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    out = tmp_path / "out"
    generate(out, PREFIX + name, [spec_path])
    with imported(out):
        pkg = importlib.import_module(PREFIX + name)
        fixtures = importlib.import_module(PREFIX + name + ".fixtures")
        sent = {op: fixtures.request(op) for op in sorted(pkg.OPERATIONS)}
        with prism_mock(spec_path) as prism:
            for op, kwargs in sent.items():
                info = pkg.OPERATIONS[op]
                mark = prism.mark()
                with getattr(pkg, info.client)(
                    base_url=prism.url, max_retries=0
                ) as client:
                    target = getattr(client, info.group) if info.group else client
                    response = getattr(target, info.method)(**kwargs)
                violations = prism.violations(since=mark)
                assert violations == [], "\n".join(str(v) for v in violations)
                assert response.status_code == 204
    return fixtures, sent


def test_fixtures_meet_min_length_by_repeating_what_the_pattern_repeats(
    tmp_path: Path,
) -> None:
    """AWS's ssm-contacts AcceptCode (`^[0-9]*$`, 6 to 10) and opensearchserverless'
    PolicyVersion (base64, 20 to 36): the pattern's sample padded with x to minLength is
    no longer found, so the fixture fell back to `example-<name>`, which Prism refused.
    """
    base64 = "^([0-9a-zA-Z+/]{4})*(([0-9a-zA-Z+/]{2}==)|([0-9a-zA-Z+/]{3}=))?$"
    schemas = {
        "AcceptCode": {
            "type": "string",
            "pattern": "^[0-9]*$",
            "minLength": 6,
            "maxLength": 10,
        },
        "PolicyVersion": {
            "type": "string",
            "pattern": base64,
            "minLength": 20,
            "maxLength": 36,
        },
        "Accept": {
            "type": "object",
            "required": ["code", "version", "ticket"],
            "properties": {
                "code": {"$ref": "#/components/schemas/AcceptCode"},
                "version": {"$ref": "#/components/schemas/PolicyVersion"},
                # padding with x still works here: kept as before
                "ticket": {"type": "string", "pattern": "^T-", "minLength": 5},
            },
        },
    }
    spec = _spec({"/accept": _post("acceptPage", "Accept")}, schemas)
    _, sent = _calls_pass_prism(tmp_path, "pattern_repeats", spec)
    assert sent["acceptPage"]["body"] == {
        "code": "000000",
        "version": "0" * 18 + "==",
        "ticket": "T-xxx",
    }


def test_union_variants_of_the_same_keys_are_told_apart_by_their_types(
    tmp_path: Path,
) -> None:
    """Vonage's number insight answers a oneOf of two objects with the same required keys,
    `roaming` an object in the first and the string `unknown` in the second. The decoder
    picked the first by its keys alone, and refused Prism's (valid) answer of the second.
    Checked on a real HTTP server on 127.0.0.1 (the package's FakeServer)."""
    variant = {
        "type": "object",
        "required": ["status", "number"],
        "properties": {
            "status": {"type": "integer"},
            "number": {"type": "string"},
        },
    }
    known = {**variant, "properties": {**variant["properties"]}}
    known["properties"]["roaming"] = {"$ref": "#/components/schemas/Roaming"}
    unknown = {**variant, "properties": {**variant["properties"]}}
    unknown["properties"]["roaming"] = {"type": "string", "enum": ["unknown"]}
    schemas = {
        "Roaming": {
            "type": "object",
            "nullable": True,
            "properties": {"country": {"type": "string"}},
        },
        "Known": known,
        "Unknown": unknown,
    }
    answer = {
        "description": "the insight",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Known"},
                        {"$ref": "#/components/schemas/Unknown"},
                    ]
                }
            }
        },
    }
    paths = {
        "/insight": {"get": {"operationId": "getInsight", "responses": {"200": answer}}}
    }
    spec_path = tmp_path / "insight.json"
    spec_path.write_text(json.dumps(_spec(paths, schemas)), encoding="utf-8")
    out = tmp_path / "out"
    name = PREFIX + "union_types"
    generate(out, name, [spec_path])
    bodies = [
        {"status": 0, "number": "47", "roaming": "unknown"},
        {"status": 0, "number": "47", "roaming": {"country": "NO"}},
        {"status": 0, "number": "47", "roaming": None},
        {"status": 0, "number": "47"},
    ]
    with imported(out):
        pkg = importlib.import_module(name)
        models = importlib.import_module(name + ".models")
        fake = importlib.import_module(name + "._fake_server")
        replies = [
            (200, {"Content-Type": "application/json"}, json.dumps(b).encode())
            for b in bodies
        ]
        with fake.FakeServer(responder=lambda request: replies.pop(0)) as server:
            with pkg.SweepClient(base_url=server.url, max_retries=0) as client:
                got = [client.get_insight().data for _ in bodies]
        # inside the block: the models are imported on first use
        assert got == [
            models.Unknown(status=0, number="47", roaming="unknown"),
            models.Known(status=0, number="47", roaming=models.Roaming(country="NO")),
            models.Known(status=0, number="47", roaming=None),
            models.Known(status=0, number="47"),  # either fits: the first, as before
        ]
