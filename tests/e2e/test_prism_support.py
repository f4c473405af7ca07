"""Smoke test for tests/support/prism.py against a tiny two-file spec in tests/data/prism."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.prism import PrismServer, prism_mock, require_prism

_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({})
)  # no proxies for 127.0.0.1
SPEC = Path(__file__).resolve().parents[1] / "data" / "prism" / "openapi.yaml"


@pytest.fixture(scope="module")
def prism() -> Iterator[PrismServer]:
    require_prism()
    with prism_mock(SPEC) as server:
        yield server


def _send(
    server: PrismServer,
    method: str,
    path: str,
    body: object | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(server.url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with _OPENER.open(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_valid_post_has_no_violations(prism: PrismServer) -> None:
    mark = prism.mark()
    status, body = _send(
        prism,
        "POST",
        "/widgets",
        {"name": "sprocket", "size": 3},
        {"X-Request-Id": "r-1"},
    )
    assert status == 201, body
    # the example comes from the spec (no dynamic generation)
    assert json.loads(body) == {"name": "sprocket", "size": 3}
    assert prism.violations(since=mark) == [], prism.log_text()


def test_invalid_post_is_reported(prism: PrismServer) -> None:
    mark = prism.mark()
    # missing required header, missing required "name" (defined in components/schemas.yaml)
    status, _ = _send(prism, "POST", "/widgets", {"size": -1})
    assert status == 422
    messages = [v.message for v in prism.violations(since=mark)]
    assert messages, prism.log_text()
    assert any(
        "'name'" in m for m in messages
    ), messages  # cross-file $ref was resolved
    assert any("x-request-id" in m for m in messages), messages
    assert all(
        v.kind == "request" and v.request == "post /widgets"
        for v in prism.violations(mark)
    )


def test_get_path_param(prism: PrismServer) -> None:
    mark = prism.mark()
    status, _ = _send(prism, "GET", "/widgets/7")
    assert status == 200
    assert prism.violations(since=mark) == []

    mark = prism.mark()
    status, _ = _send(prism, "GET", "/widgets/not-a-number")
    assert 400 <= status < 500
    violations = prism.violations(since=mark)
    assert [v.kind for v in violations] == ["request"], violations
    assert "widget_id" in violations[0].message


def test_unknown_route_is_a_violation(prism: PrismServer) -> None:
    mark = prism.mark()
    status, _ = _send(prism, "DELETE", "/widgets/7")
    assert status == 405
    violations = prism.violations(since=mark)
    assert [v.kind for v in violations] == ["routing"], violations
    assert prism.response_violations(since=mark) == []


def test_log_text_and_url(prism: PrismServer) -> None:
    assert prism.url.startswith("http://127.0.0.1:")
    assert "Prism is listening on " + prism.url in prism.log_text()
