"""Regions: every operation, in both regions, goes to the right Customer.io host.

The real Customer.io hosts must never be contacted from tests, so the per-operation URL checks
plug a recording ``Transport`` (the generated ``_transport.Transport`` protocol) into the real
client: the client plans and encodes the request exactly as for the network, and the transport
records the URL instead of sending it. This is the only place a transport is replaced; every
other wire behaviour is tested against a real HTTP server (tests/test_wire.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import (
    CLIENT_NAMES,
    client_class,
    make_client,
    request_kwargs,
    spec_operations,
)
from customerio_client import OPERATIONS, Timeout
from customerio_client._transport import RawResponse

# Independent of the specs on purpose: the hosts Customer.io documents for each API and region.
EXPECTED_HOSTS = {
    ("track", "us"): "track.customer.io",
    ("track", "eu"): "track-eu.customer.io",
    ("app", "us"): "api.customer.io",
    ("app", "eu"): "api-eu.customer.io",
    ("pipelines", "us"): "cdp.customer.io",
    ("pipelines", "eu"): "cdp-eu.customer.io",
}
SURFACE_CLIENT = {
    "track": "TrackClient",
    "app": "AppClient",
    "pipelines": "PipelinesClient",
}


class RecordingTransport:
    """Records what would be sent to a real Customer.io host; answers 200 ``{}``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.closed = False

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        self.sent.append((method, url))
        return RawResponse(200, {"content-type": "application/json"}, b"{}")

    def close(self) -> None:
        self.closed = True


class AsyncRecordingTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Timeout,
    ) -> RawResponse:
        self.sent.append((method, url))
        return RawResponse(200, {"content-type": "application/json"}, b"{}")

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("region", ["us", "eu"])
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_operation_goes_to_the_region_host(
    operation_id: str, region: str
) -> None:
    info = OPERATIONS[operation_id]
    transport = RecordingTransport()
    client = make_client(info.client, region=region, transport=transport, max_retries=0)
    response = getattr(client, info.method)(**request_kwargs(operation_id))
    assert response.status_code == 200
    [(method, url)] = transport.sent
    parts = urlsplit(url)
    assert method == info.http_method
    assert parts.scheme == "https"
    assert parts.hostname == EXPECTED_HOSTS[(info.surface, region)]
    assert parts.port is None
    client.close()
    assert not transport.closed, "a transport passed in belongs to the caller"


@pytest.mark.parametrize("region", ["us", "eu"])
@pytest.mark.parametrize(
    "client_name", ["AsyncTrackClient", "AsyncAppClient", "AsyncPipelinesClient"]
)
def test_async_clients_go_to_the_region_host(client_name: str, region: str) -> None:
    operation_id = next(
        op
        for op, info in sorted(OPERATIONS.items())
        if info.client == client_name[len("Async") :]
    )
    info = OPERATIONS[operation_id]
    transport = AsyncRecordingTransport()
    client = make_client(client_name, region=region, transport=transport, max_retries=0)

    async def call() -> Any:
        return await getattr(client, info.method)(**request_kwargs(operation_id))

    assert asyncio.run(call()).status_code == 200
    [(_, url)] = transport.sent
    assert urlsplit(url).hostname == EXPECTED_HOSTS[(info.surface, region)]


def _servers(doc: dict[str, Any]) -> dict[str, str]:
    return {server["x-ciogen-region"]: server["url"] for server in doc["servers"]}


def test_regions_tables_match_the_specs_servers() -> None:
    files_seen: set[str] = set()
    for operation_id, op in spec_operations().items():
        client = OPERATIONS[operation_id].client
        assert client == SURFACE_CLIENT[op.doc["x-ciogen-surface"]]
        for name in (client, "Async" + client):
            assert dict(client_class(name).REGIONS) == _servers(op.doc), (
                name,
                op.spec.name,
            )
        files_seen.add(op.spec.name)
    assert files_seen == {
        "track.yaml",
        "app.yaml",
        "pipelines.yaml",
        "action-events.yaml",
        "email-events.yaml",
        "mobile-app-events.yaml",
    }
    for (surface, region), host in EXPECTED_HOSTS.items():
        assert (
            client_class(SURFACE_CLIENT[surface]).REGIONS[region] == f"https://{host}"
        )


@pytest.mark.parametrize("client_name", sorted(CLIENT_NAMES))
def test_default_region_is_us(client_name: str) -> None:
    client = make_client(client_name)
    assert client.base_url == client_class(client_name).REGIONS["us"]


@pytest.mark.parametrize("client_name", sorted(CLIENT_NAMES))
@pytest.mark.parametrize("region", ["", "au", "eu ", "e u"])
def test_unknown_region_is_rejected(client_name: str, region: str) -> None:
    with pytest.raises(ValueError, match=f"unknown region {region!r}"):
        make_client(client_name, region=region)


@pytest.mark.parametrize("client_name", sorted(CLIENT_NAMES))
@pytest.mark.parametrize("region", ["US", "EU", "Eu"])
def test_a_region_in_any_case_selects_that_region(
    client_name: str, region: str
) -> None:
    """Customer.io writes its regions US and EU; the client's names are lowercase."""
    client = make_client(client_name, region=region)
    assert client.base_url == client_class(client_name).REGIONS[region.lower()]


@pytest.mark.parametrize("client_name", sorted(CLIENT_NAMES))
def test_base_url_wins_over_region(client_name: str, server: Any) -> None:
    client = make_client(client_name, region="eu", base_url=server.url + "/")
    assert client.base_url == server.url
    # base_url also overrides a region that does not exist.
    assert (
        make_client(client_name, region="nowhere", base_url=server.url).base_url
        == server.url
    )


@pytest.mark.parametrize("region", ["us", "eu"])
@pytest.mark.parametrize("client_name", ["TrackClient", "AppClient", "PipelinesClient"])
def test_base_url_override_reaches_the_given_server(
    client_name: str, region: str, server: Any
) -> None:
    operation_id = next(
        op for op, info in sorted(OPERATIONS.items()) if info.client == client_name
    )
    info = OPERATIONS[operation_id]
    with make_client(
        client_name, region=region, base_url=server.url, max_retries=0
    ) as client:
        getattr(client, info.method)(**request_kwargs(operation_id))
    [recorded] = server.requests
    assert recorded.method == info.http_method
    assert recorded.headers["host"] == urlsplit(server.url).netloc
