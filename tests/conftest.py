"""Shared set-up for the tests of the generated client (tests/test_wire.py, test_regions.py,
test_prism.py): the specs by operationId, credentials, and a
started FakeServer (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import base64
import copy
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"


# Long enough (>= 6 characters) for the client to redact them from error messages.
SITE_ID = "site-7f3a9c2e41"
TRACK_KEY = "trk-SECRET-5e8d1b7a90"
APP_KEY = "app-SECRET-c0ffee1234"
CDP_KEY = "cdp-SECRET-8badf00d77"

# The generated package is imported lazily, so a broken package fails only the tests that use it.
CLIENT_NAMES = (
    "TrackClient",
    "AppClient",
    "PipelinesClient",
    "AsyncTrackClient",
    "AsyncAppClient",
    "AsyncPipelinesClient",
)


def client_class(name: str) -> Any:
    import customerio_client

    return getattr(customerio_client, name)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


# Authorization header each client must send, per the specs' securitySchemes.
EXPECTED_AUTH = {
    "TrackClient": f"Basic {_b64(f'{SITE_ID}:{TRACK_KEY}')}",
    "AppClient": f"Bearer {APP_KEY}",
    "PipelinesClient": f"Basic {_b64(f'{CDP_KEY}:')}",  # blank password
}
SECRETS = (
    SITE_ID,
    TRACK_KEY,
    APP_KEY,
    CDP_KEY,
    *(v.split(" ", 1)[1] for v in EXPECTED_AUTH.values()),
)


def make_client(client: str, **options: Any) -> Any:
    """A client of the named class (sync or Async) with this module's credentials."""
    cls = client_class(client)
    base = client.removeprefix("Async")
    if base == "TrackClient":
        return cls(SITE_ID, TRACK_KEY, **options)
    if base == "AppClient":
        return cls(APP_KEY, **options)
    return cls(CDP_KEY, **options)


@dataclass(frozen=True)
class SpecOperation:
    operation_id: str
    spec: Path  # the file that defines the operationId
    method: str
    path: str
    doc: dict[str, Any]  # the whole spec file
    operation: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]  # local $refs resolved

    def param_type(self, name: str) -> str | None:
        for param in self.parameters:
            if param.get("name") == name:
                return (param.get("schema") or {}).get("type")
        return None

    def limits(self) -> dict[str, Any]:
        """x-ciogen-limits: the operation's over the file's."""
        return {
            **self.doc.get("x-ciogen-limits", {}),
            **self.operation.get("x-ciogen-limits", {}),
        }

    def body_constants(self) -> dict[str, Any]:
        """Top-level body fields the spec allows one value for (single-value enums)."""
        content = (self.operation.get("requestBody") or {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            schema = _resolve(schema["$ref"], self.doc, self.spec)
        return {
            name: prop["enum"][0]
            for name, prop in (schema.get("properties") or {}).items()
            if len(prop.get("enum", ())) == 1
        }

    @property
    def message_id_field(self) -> str:
        return str(self.doc.get("x-ciogen-message-id", ""))

    @property
    def success_status(self) -> int:
        return min(
            int(code)
            for code in self.operation["responses"]
            if str(code).startswith("2")
        )


def _resolve(ref: str, doc: dict[str, Any], spec: Path) -> dict[str, Any]:
    file, _, pointer = ref.partition("#")
    target = _load(spec.parent / file) if file else doc
    for part in pointer.strip("/").split("/"):
        target = target[part]
    return target


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def spec_operations() -> dict[str, SpecOperation]:
    found: dict[str, SpecOperation] = {}
    for spec in sorted(SPECS.glob("*.yaml")):
        doc = _load(spec)
        for path, item in (doc.get("paths") or {}).items():
            for method, op in item.items():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                params = [*item.get("parameters", []), *op.get("parameters", [])]
                resolved = tuple(
                    _resolve(p["$ref"], doc, spec) if "$ref" in p else p for p in params
                )
                found[op["operationId"]] = SpecOperation(
                    op["operationId"], spec, method.upper(), path, doc, op, resolved
                )
    return found


PATH_PARAM = re.compile(r"\{([^{}]+)\}")


def py_name(name: str) -> str:
    """The Python argument name of a spec parameter (snake_case)."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"\W", "_", snake).lower()


def request_kwargs(operation_id: str) -> dict[str, Any]:
    """Keyword arguments for the operation's client method, from the package's own fixtures."""
    from customerio_client import fixtures

    return copy.deepcopy(dict(fixtures.request(operation_id)))


def response_body(operation_id: str) -> Any:
    """The JSON a successful response carries, from the package's own fixtures."""
    from customerio_client import fixtures

    return copy.deepcopy(fixtures.response(operation_id))


@pytest.fixture
def server() -> Iterator[Any]:
    """A started FakeServer (real HTTP/1.1 on 127.0.0.1), stopped after the test."""
    from customerio_client._fake_server import FakeServer

    with FakeServer() as fake:
        yield fake
