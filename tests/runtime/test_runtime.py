"""Tests for the runtime copied into every generated package (generator/runtime/*.py).

The runtime modules are imported where they live (`generator.runtime`) and exercised against
its `_fake_server.FakeServer`: a real HTTP/1.1 server on 127.0.0.1, no mocks. A copy under
another name (`rtpkg`) checks what a vendored package sees: mypy, ruff and Python 3.9.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import email.utils
import enum
import importlib
import json
import logging
import pickle
import random
import shutil
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import black
import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "generator" / "runtime"
MODULES = (
    "_types",
    "_version",
    "_errors",
    "_retry",
    "_transport",
    "_encoding",
    "_base_client",
    "_fake_server",
)

SITE_ID = "site-0123456789"
API_KEY = "key-SECRET-9f8e7d6c5b4a"
TOKEN = base64.b64encode(f"{SITE_ID}:{API_KEY}".encode()).decode()
AUTH = {"Authorization": f"Basic {TOKEN}"}


@pytest.fixture(scope="session")
def sources() -> dict[str, str]:
    return {
        name: (RUNTIME / f"{name}.py").read_text(encoding="utf-8") for name in MODULES
    }


@pytest.fixture(scope="session")
def pkg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole runtime copied into a package named `rtpkg`, as a generated package holds it."""
    root = tmp_path_factory.mktemp("runtime")
    package = root / "rtpkg"
    package.mkdir()
    for source in RUNTIME.iterdir():
        if source.suffix in (".py", ".typed"):
            shutil.copy(source, package / source.name)
    return root


@pytest.fixture(scope="session")
def rt():
    yield SimpleNamespace(
        **{
            name.lstrip("_"): importlib.import_module(f"generator.runtime.{name}")
            for name in MODULES
        }
    )


@pytest.fixture
def server(rt):
    with rt.fake_server.FakeServer() as srv:
        yield srv


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(rt, server, sleeps):
    clients = []

    def factory(**kwargs):
        kwargs.setdefault("base_url", server.url)
        kwargs.setdefault("auth_headers", AUTH)
        client = rt.base_client.BaseClient(**kwargs)
        client._sleep = sleeps.append
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def make_call(rt, **kwargs):
    kwargs.setdefault("operation_id", "op")
    kwargs.setdefault("method", "POST")
    kwargs.setdefault("path", "/v1/thing")
    return rt.base_client.Call(**kwargs)


def identity(data):
    return data


def json_reply(status: int, payload: object, **headers: str):
    return (
        status,
        {"Content-Type": "application/json", **headers},
        json.dumps(payload).encode(),
    )


# --- the modules as files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODULES)
def test_rendered_modules_are_black_stable(sources: dict[str, str], name: str) -> None:
    assert black.format_str(sources[name], mode=black.Mode()) == sources[name]
    # The generator formats with a Python 3.9 target; that must not change anything either.
    py39 = black.Mode(target_versions={black.TargetVersion.PY39})
    assert black.format_str(sources[name], mode=py39) == sources[name]


def test_rendered_package_passes_mypy_strict_and_ruff(pkg_dir: Path) -> None:
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "rtpkg"],
        cwd=pkg_dir,
        capture_output=True,
        text=True,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    # The project's ruff settings (target py39) are the ones the generated package is held to.
    ruff = Path(sys.executable).parent / "ruff"
    lint = subprocess.run(
        [
            str(ruff),
            "check",
            "--no-cache",
            "--config",
            str(REPO / "pyproject.toml"),
            "rtpkg",
        ],
        cwd=pkg_dir,
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # ruff's own default rule set, with the package's minimum Python.
    isolated = [
        str(ruff),
        "check",
        "--no-cache",
        "--isolated",
        "--target-version",
        "py39",
    ]
    lint = subprocess.run(
        [*isolated, "rtpkg"], cwd=pkg_dir, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


_SMOKE = """
import sys
from rtpkg._base_client import BaseClient, Call, Limits
from rtpkg._errors import NotFoundError
from rtpkg._fake_server import FakeServer

with FakeServer() as server:
    with BaseClient(base_url=server.url, auth_headers={"Authorization": "Bearer tok-123456"}) as c:
        c._sleep = lambda seconds: None
        server.fail_next(1, 503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        call = Call("op", "POST", "/a/{x}", {"x": "a b"}, {"q": [1, True]}, {}, {"k": 1},
                    limits=Limits(max_request_bytes=100), message_id_field="mid")
        assert c._request(call, lambda data: data).retries == 1
        server.fail_next(1, 404)
        try:
            c._request(Call("op", "GET", "/x"), lambda data: data)
        except NotFoundError:
            pass
    assert server.requests[0].path == "/a/a%20b" and server.connections == 1
print("ok", sys.version_info[:2])
"""


def _python39() -> str | None:
    candidates = [shutil.which("python3.9")]
    candidates += [
        str(path) for path in Path.home().glob(".pyenv/versions/3.9*/bin/python")
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() == "True":
            return candidate
    return None


def test_runtime_runs_on_python_39(pkg_dir: Path) -> None:
    python = _python39()
    if python is None:
        pytest.skip("no Python 3.9 interpreter found")
    run = subprocess.run(
        [python, "-c", _SMOKE], cwd=pkg_dir, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok (3, 9)"


def test_user_agent_names_package_and_version(rt) -> None:
    from generator import __version__

    assert rt.version.VERSION == __version__
    prefix = f"generator.runtime/{__version__} python/3."
    assert rt.base_client.USER_AGENT.startswith(prefix)


# --- small types -----------------------------------------------------------------------------


def test_unset_is_a_falsy_singleton(rt) -> None:
    unset = rt.types.UNSET
    assert not unset
    assert repr(unset) == "UNSET"
    assert type(unset) is rt.types.Unset and list(rt.types.Unset) == [unset]
    assert str(unset) == "UNSET"
    assert copy.deepcopy(unset) is unset
    assert pickle.loads(pickle.dumps(unset)) is unset


def test_timeout_of(rt) -> None:
    Timeout = rt.types.Timeout
    default = Timeout(connect=5.0, read=30.0)
    assert Timeout.of(None, default) is default
    assert Timeout.of(Timeout(1.0, 2.0), default) == Timeout(1.0, 2.0)
    assert Timeout.of(60, default) == Timeout(connect=5.0, read=60.0)
    assert Timeout.of(0.2, default) == Timeout(connect=0.2, read=0.2)
    with pytest.raises(ValueError):
        Timeout(0, 1)


# --- retry policy ----------------------------------------------------------------------------


def test_retryable_statuses(rt) -> None:
    retryable = rt.retry.is_retryable_status
    assert all(retryable(status) for status in (408, 429, 500, 502, 503, 504, 599))
    assert not any(
        retryable(status) for status in (200, 301, 400, 401, 403, 404, 409, 422)
    )


def test_retry_after_forms(rt) -> None:
    after = rt.retry.retry_after_seconds
    now = 1_700_000_000.0
    assert after({"retry-after": "3"}) == 3.0
    assert after({"Retry-After": "2.5"}) == 2.5
    assert after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert (
        after({"retry-after": email.utils.formatdate(now + 30, usegmt=True)}, now=now)
        == 30.0
    )
    assert (
        after({"retry-after": email.utils.formatdate(now - 30, usegmt=True)}, now=now)
        == 0.0
    )
    assert after({"retry-after": "soon"}) is None
    assert after({"retry-after": "-1"}) is None
    assert after({}) is None


def test_backoff_is_jittered_and_capped(rt) -> None:
    rng = random.Random(7)
    for retry_number in range(12):
        ceiling = min(
            rt.retry.MAX_RETRY_DELAY, rt.retry.INITIAL_RETRY_DELAY * 2**retry_number
        )
        for _ in range(50):
            assert 0.0 <= rt.retry.backoff_delay(retry_number, rng) <= ceiling
    assert rt.retry.backoff_delay(10_000, rng) <= rt.retry.MAX_RETRY_DELAY


def test_decide(rt) -> None:
    decide, rng = rt.retry.decide, random.Random(1)
    assert decide(0, 2, None, {}, rng).retry  # connection error
    assert not decide(2, 2, None, {}, rng).retry  # exhausted
    assert not decide(0, 2, 404, {}, rng).retry
    honoured = decide(0, 2, 503, {"retry-after": "4"}, rng)
    assert honoured.retry and honoured.delay == 4.0
    too_long = decide(0, 2, 429, {"retry-after": "61"}, rng)
    assert not too_long.retry and "61" in too_long.reason


# --- errors ----------------------------------------------------------------------------------


def test_error_for_response_message_and_class(rt) -> None:
    errors = rt.errors
    err = errors.error_for_response(
        401,
        {"meta": {"error": "bad key"}},
        {"X-Request-Id": "abc"},
        "POST",
        "/v1/track",
        0,
    )
    assert type(err) is errors.AuthenticationError
    assert str(err) == "401 Unauthorized from POST /v1/track (request id abc): bad key"
    assert (
        type(errors.error_for_response(418, None, {}, "GET", "/", 0)) is errors.APIError
    )
    for status in (500, 502, 599):
        err = errors.error_for_response(status, "", {}, "GET", "/", 3)
        assert isinstance(err, errors.InternalServerError) and err.retries == 3


def test_request_id_header_order(rt) -> None:
    request_id = rt.errors.request_id_from
    assert (
        request_id({"cf-ray": "c", "x-amzn-requestid": "a", "x-request-id": "r"}) == "r"
    )
    assert request_id({"cf-ray": "c", "x-amzn-requestid": "a"}) == "a"
    assert request_id({"CF-Ray": "c"}) == "c"
    assert request_id({}) is None


def test_long_text_body_is_shortened(rt) -> None:
    err = rt.errors.error_for_response(500, "x" * 1000, {}, "GET", "/p", 0)
    assert str(err) == "500 Internal Server Error from GET /p: " + "x" * 200 + "..."


# --- planning and the wire format ------------------------------------------------------------


def test_path_params_are_escaped(rt, server, make_client) -> None:
    client = make_client()
    call = make_call(
        rt,
        method="PUT",
        path="/api/v1/customers/{identifier}/devices/{device}",
        path_params={"identifier": "a+b/c d@example.com", "device": "x?y#z%"},
    )
    client._request(call, identity)
    assert (
        server.requests[0].path
        == "/api/v1/customers/a%2Bb%2Fc%20d%40example.com/devices/x%3Fy%23z%25"
    )


def test_missing_or_empty_path_param_is_rejected(rt, server, make_client) -> None:
    client = make_client()
    for params in ({}, {"id": None}, {"id": rt.types.UNSET}, {"id": ""}):
        with pytest.raises(ValueError):
            client._request(make_call(rt, path="/x/{id}", path_params=params), identity)
    assert server.requests == []


def test_path_params_in_their_styles(rt, server, make_client) -> None:
    styled = rt.encoding.styled
    client = make_client()
    params = {
        "a": ["x,y", "z"],  # a comma inside a value is escaped, the separator is not
        "b": styled(["p", "q"], "label", False),
        "c": styled({"k": "v w"}, "matrix", True),
        "d": styled([], "matrix", False),
        "e": {"k": 1, "u": rt.types.UNSET},
    }
    call = make_call(rt, method="GET", path="/{a}/{b}/{c}/{d}/{e}", path_params=params)
    client._request(call, identity)
    assert server.requests[0].path == "/x%2Cy,z/.p,q/;k=v%20w/;d/k,1"


def test_query_params_in_their_styles(rt) -> None:
    query_param = rt.encoding.query_param
    assert query_param("f", {"a": {"b": 1}, "c": None}, "deepObject", True) == {
        "f[a][b]": 1
    }
    encode_query = rt.encoding.encode_query
    assert encode_query(query_param("s", [1, 2], "spaceDelimited", False)) == "s=1%202"
    assert query_param("s", [1, 2], "spaceDelimited", True) == {"s": [1, 2]}
    pipe = query_param("o", {"a": 1, "b": "x"}, "pipeDelimited", False)
    assert encode_query(pipe) == "o=a%7C1%7Cb%7Cx"
    assert str(pipe["o"]) == "a|1|b|x"
    assert query_param("u", rt.types.UNSET, "form", True) == {}
    # form, not exploded: the commas between items go as they are (RFC 6570), so a comma
    # inside an item, percent-encoded, is not taken for one
    assert encode_query(query_param("c", ["a,b", "c d"], "form", False)) == (
        "c=a%2Cb,c%20d"
    )
    assert encode_query(query_param("m", {"k": "v,w"}, "form", False)) == "m=k,v%2Cw"
    # allowReserved keeps the reserved characters of each item as they are
    reserved = query_param("r", ["a/b", "c?"], "form", False, allow_reserved=True)
    assert encode_query(reserved) == "r=a/b,c?"
    # an object no style takes apart is JSON text, never a Python repr
    assert rt.encoding.encode_query({"i": [{"a": 1}]}) == "i=%7B%22a%22%3A1%7D"
    # bytes (`format: binary`) are their text, never `b'...'`; bytes no text reads are
    # refused, not sent garbled
    assert encode_query({"f": b"a c\xc3\xa9"}) == "f=a%20c%C3%A9"
    with pytest.raises(ValueError, match="not UTF-8"):
        encode_query({"f": b"\xff"})


def test_success_bodies_are_read_as_the_call_declares(rt, server, make_client) -> None:
    replies = iter(
        [
            (200, {"Content-Type": "text/plain; charset=nope"}, b"null"),
            (206, {"Content-Type": "application/json"}, b"[1]"),
            (201, {"Content-Type": "application/octet-stream"}, b"[1]"),
        ]
    )
    server.responder = lambda request: next(replies)
    client = make_client()
    call = make_call(
        rt,
        method="GET",
        response_format="text",
        response_formats={"200": "text", "201": "binary", "2XX": "json"},
    )
    got = [client._request(call, identity).data for _ in range(3)]
    assert got == ["null", [1], b"[1]"]  # an unknown charset reads as UTF-8


def test_query_encoding(rt, server, make_client) -> None:
    class Kind(enum.Enum):
        PERSON = "person"

    client = make_client()
    query = {
        "q": "a b&c=d/é",
        "ids": [1, 2, None],
        "flag": True,
        "off": False,
        "none": None,
        "unset": rt.types.UNSET,
        "since": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        "until": datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        "kind": Kind.PERSON,
    }
    client._request(make_call(rt, method="GET", query=query), identity)
    recorded = server.requests[0]
    assert recorded.query == {
        "q": ["a b&c=d/é"],
        "ids": ["1", "2"],
        "flag": ["true"],
        "off": ["false"],
        "since": ["2024-01-02T03:04:05.000Z"],  # as a body sends it
        "until": ["2024-01-02T03:04:05.000Z"],
        "kind": ["person"],
    }
    assert recorded.raw_query.startswith(
        "q=a%20b%26c%3Dd%2F%C3%A9&ids=1&ids=2&flag=true"
    )


def test_headers(rt, server, make_client) -> None:
    client = make_client(default_headers={"X-Extra": "1"})
    client._request(
        make_call(rt, method="GET", headers={"X-Opt": rt.types.UNSET}), identity
    )
    client._request(
        make_call(rt, body={"a": 1}, headers={"X-Call": 7}),
        identity,
        extra_headers={"X-Per-Request": "yes"},
    )
    get, post = server.requests
    assert get.headers["authorization"] == f"Basic {TOKEN}"
    assert get.headers["user-agent"].startswith("generator.runtime/")
    assert get.headers["accept"] == "application/json"
    assert get.headers["x-extra"] == "1"
    assert "content-type" not in get.headers and "x-opt" not in get.headers
    assert get.body == b""
    assert post.headers["content-type"] == "application/json"
    assert post.headers["x-call"] == "7"
    assert post.headers["x-per-request"] == "yes"


def test_json_body_is_compact_utf8(rt, server, make_client) -> None:
    client = make_client()
    body = {"name": "Zoë", "tags": ["a", "b"], "n": 1.5, "ok": True, "none": None}
    response = client._request(make_call(rt, body=body), identity)
    assert (
        server.requests[0].body
        == '{"name":"Zoë","tags":["a","b"],"n":1.5,"ok":true,"none":null}'.encode()
    )
    assert response.status_code == 200 and response.data == {} and response.retries == 0


def test_success_response_parsing(rt, server, make_client) -> None:
    server.responder = lambda request: json_reply(
        201, {"id": 5}, **{"X-Request-Id": "req-1"}
    )
    client = make_client()
    response = client._request(make_call(rt), lambda data: data["id"])
    assert (response.status_code, response.data, response.request_id) == (
        201,
        5,
        "req-1",
    )
    assert response.json() == {"id": 5}
    server.responder = lambda request: (204, {}, b"")
    assert client._request(make_call(rt), identity).data is None


# --- retries ---------------------------------------------------------------------------------


def test_two_500s_then_success(rt, server, make_client, sleeps) -> None:
    server.fail_next(2, status=500)
    response = make_client()._request(make_call(rt), identity)
    assert response.retries == 2
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    assert all(0.0 <= delay <= rt.retry.MAX_RETRY_DELAY for delay in sleeps)


def test_retry_after_is_honoured(rt, server, make_client, sleeps) -> None:
    server.fail_next(1, status=429, headers={"Retry-After": "1"})
    response = make_client()._request(make_call(rt), identity)
    assert response.retries == 1
    assert sleeps == [1.0]


def test_retry_after_ms_is_honoured(rt, server, make_client, sleeps) -> None:
    server.fail_next(1, status=503, headers={"retry-after-ms": "250"})
    make_client()._request(make_call(rt), identity)
    assert sleeps == [0.25]


def test_retry_after_over_the_cap_raises_without_sleeping(
    rt, server, make_client, sleeps
) -> None:
    server.fail_next(1, status=429, headers={"Retry-After": "120"})
    with pytest.raises(rt.errors.RateLimitError) as caught:
        make_client()._request(make_call(rt), identity)
    assert caught.value.retries == 0
    assert sleeps == []
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "class_name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (409, "ConflictError"),
        (422, "UnprocessableEntityError"),
    ],
)
def test_client_errors_are_not_retried(
    rt, server, make_client, sleeps, status, class_name
) -> None:
    body = json.dumps({"meta": {"error": "nope"}}).encode()
    server.fail_next(1, status=status, headers={"X-Request-Id": "rid-9"}, body=body)
    call = make_call(
        rt, path="/v1/customers/{id}", path_params={"id": "a@b"}, query={"x": 1}
    )
    with pytest.raises(rt.errors.APIError) as caught:
        make_client()._request(call, identity)
    err = caught.value
    assert type(err) is getattr(rt.errors, class_name)
    assert (err.status_code, err.body, err.request_id) == (
        status,
        {"meta": {"error": "nope"}},
        "rid-9",
    )
    assert (err.method, err.path, err.retries) == ("POST", "/v1/customers/a%40b", 0)
    assert str(err).startswith(f"{status} ") and str(err).endswith(
        "(request id rid-9): nope"
    )
    assert len(server.requests) == 1 and sleeps == []


def test_5xx_exhausts_retries(rt, server, make_client, sleeps) -> None:
    server.fail_next(10, status=503, body=b"overloaded")
    with pytest.raises(rt.errors.InternalServerError) as caught:
        make_client(max_retries=3)._request(make_call(rt), identity)
    assert caught.value.retries == 3
    assert caught.value.body == "overloaded"
    assert len(server.requests) == 4 and len(sleeps) == 3


def test_per_call_max_retries_override(rt, server, make_client, sleeps) -> None:
    client = make_client(max_retries=2)
    server.fail_next(1, status=500)
    with pytest.raises(rt.errors.InternalServerError) as caught:
        client._request(make_call(rt), identity, max_retries=0)
    assert caught.value.retries == 0 and len(server.requests) == 1
    server.fail_next(4, status=502)
    assert client._request(make_call(rt), identity, max_retries=4).retries == 4
    assert len(server.requests) == 6


def test_dropped_connection_is_retried(rt, server, make_client, sleeps) -> None:
    server.fail_next(1, drop=True)
    assert make_client()._request(make_call(rt), identity).retries == 1
    assert len(sleeps) == 1


def test_dropped_connections_exhaust_retries(rt, server, make_client, sleeps) -> None:
    server.fail_next(3, drop=True)
    with pytest.raises(rt.errors.APIConnectionError) as caught:
        make_client(max_retries=2)._request(make_call(rt), identity)
    assert not isinstance(caught.value, rt.errors.APITimeoutError)
    assert caught.value.retries == 2
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_stale_keep_alive_connection_is_replaced_transparently(
    rt, server, make_client, sleeps
) -> None:
    client = make_client()
    client._request(make_call(rt), identity)
    # The pooled connection dies before answering: the transport re-sends once, by itself.
    server.fail_next(1, drop=True)
    response = client._request(make_call(rt), identity)
    assert response.retries == 0 and sleeps == []
    assert len(server.requests) == 3 and server.connections == 2


def test_read_timeout(rt, server, make_client, sleeps) -> None:
    server.fail_next(2, delay=5.0)
    with pytest.raises(rt.errors.APITimeoutError) as caught:
        make_client(timeout=0.2, max_retries=1)._request(make_call(rt), identity)
    assert isinstance(caught.value, rt.errors.APIConnectionError)
    assert caught.value.retries == 1 and len(sleeps) == 1


def test_per_call_timeout(rt, server, make_client) -> None:
    server.fail_next(1, delay=5.0)
    client = make_client(max_retries=0)
    with pytest.raises(rt.errors.APITimeoutError):
        client._request(
            make_call(rt), identity, timeout=rt.types.Timeout(connect=1.0, read=0.2)
        )


# --- connections -----------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(rt, server, make_client) -> None:
    client = make_client()
    for _ in range(10):
        client._request(make_call(rt, method="GET"), identity)
    assert server.connections == 1
    assert {request.connection_id for request in server.requests} == {1}


def test_connection_close_is_respected(rt, server, make_client) -> None:
    server.responder = lambda request: (200, {"Connection": "close"}, b"{}")
    client = make_client()
    for _ in range(3):
        client._request(make_call(rt, method="GET"), identity)
    assert server.connections == 3


def test_thread_safety(rt, server, make_client) -> None:
    client = make_client()

    def worker(thread: int) -> list[int]:
        return [
            client._request(
                make_call(rt, body={"t": thread, "i": i}), identity
            ).status_code
            for i in range(10)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [
            status for statuses in pool.map(worker, range(8)) for status in statuses
        ]
    assert results == [200] * 80
    assert len(server.requests) == 80
    assert sorted((r.json["t"], r.json["i"]) for r in server.requests) == [
        (t, i) for t in range(8) for i in range(10)
    ]
    assert server.connections <= 8


def test_closed_transport_refuses_requests(rt, server, make_client) -> None:
    client = make_client()
    client.close()
    with pytest.raises(RuntimeError):
        client._request(make_call(rt), identity)


def test_context_manager_closes(rt, server) -> None:
    with rt.base_client.BaseClient(base_url=server.url, auth_headers=AUTH) as client:
        client._request(make_call(rt), identity)
    with pytest.raises(RuntimeError):
        client._request(make_call(rt), identity)


# --- message ids -----------------------------------------------------------------------------


def test_message_id_added_once_and_kept_across_retries(rt, server, make_client) -> None:
    server.fail_next(2, status=500)
    body = {"type": "track", "event": "x"}
    make_client()._request(
        make_call(rt, body=body, message_id_field="messageId"), identity
    )
    ids = {request.json["messageId"] for request in server.requests}
    assert len(server.requests) == 3 and len(ids) == 1
    uuid.UUID(ids.pop())
    assert "messageId" not in body  # the caller's dict is not modified


def test_message_ids_for_batch_items(rt, server, make_client) -> None:
    server.fail_next(1, status=503)
    body = {
        "batch": [{"a": 1}, {"a": 2, "messageId": "keep-me"}, {"a": 3}, "not-a-dict"]
    }
    limits = rt.base_client.Limits(items_field="batch")
    call = make_call(rt, body=body, message_id_field="messageId", limits=limits)
    make_client()._request(call, identity)
    first, second = (request.json for request in server.requests)
    assert first == second
    items = first["batch"]
    assert items[1]["messageId"] == "keep-me"
    assert items[3] == "not-a-dict"
    generated = {items[0]["messageId"], items[2]["messageId"]}
    assert len(generated) == 2 and "keep-me" not in generated
    assert "messageId" not in first  # the messages carry ids, the envelope none
    assert "messageId" not in body["batch"][0]


def test_existing_message_id_is_kept(rt, server, make_client) -> None:
    call = make_call(rt, body={"messageId": "mine"}, message_id_field="messageId")
    make_client()._request(call, identity)
    assert server.requests[0].json == {"messageId": "mine"}


# --- limits ----------------------------------------------------------------------------------


def test_request_over_max_bytes_is_not_sent(rt, server, make_client) -> None:
    limits = rt.base_client.Limits(max_request_bytes=100)
    call = make_call(rt, operation_id="batch", body={"data": "x" * 200}, limits=limits)
    with pytest.raises(rt.errors.PayloadTooLargeError) as caught:
        make_client()._request(call, identity)
    err = caught.value
    assert isinstance(err, ValueError)
    assert (err.limit, err.size, err.operation_id, err.index) == (
        100,
        211,
        "batch",
        None,
    )
    assert server.requests == []


def test_item_over_max_item_bytes_is_not_sent(rt, server, make_client) -> None:
    limits = rt.base_client.Limits(max_item_bytes=50, items_field="batch")
    body = {"batch": [{"a": 1}, {"a": "y" * 100}, {"a": 2}]}
    with pytest.raises(rt.errors.PayloadTooLargeError) as caught:
        make_client()._request(make_call(rt, body=body, limits=limits), identity)
    assert caught.value.index == 1
    assert "item 1" in str(caught.value)
    assert server.requests == []


def test_body_within_limits_is_sent(rt, server, make_client) -> None:
    limits = rt.base_client.Limits(
        max_request_bytes=1000, max_item_bytes=50, items_field="batch"
    )
    make_client()._request(
        make_call(rt, body={"batch": [{"a": 1}]}, limits=limits), identity
    )
    assert len(server.requests) == 1


# --- secrets ---------------------------------------------------------------------------------


def _echo_credentials(request):
    # A badly behaved server that quotes the credentials it received in its error.
    return json_reply(
        401, {"meta": {"error": f"bad {request.headers['authorization']} {API_KEY}"}}
    )


def test_secrets_never_leak(rt, server, make_client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(max_retries=1, timeout=0.2)
    raised = []
    server.responder = _echo_credentials
    for failure in ({"status": 500}, {"drop": True}, {"delay": 5.0}, {"status": 429}):
        server.fail_next(2, **failure)
        with pytest.raises(rt.errors.Error) as caught:
            client._request(
                make_call(rt, body={"email": "person@example.com"}), identity
            )
        raised.append(caught.value)
    with pytest.raises(rt.errors.AuthenticationError) as caught:
        client._request(make_call(rt), identity)
    raised.append(caught.value)
    assert "[REDACTED]" in str(caught.value)

    texts = [repr(client)] + [text for err in raised for text in (str(err), repr(err))]
    texts += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) >= 4
    for secret in (API_KEY, TOKEN, "person@example.com"):
        assert not [text for text in texts if secret in text]
    assert repr(client) == f"BaseClient(base_url={server.url!r})"


def test_prepared_request_repr_hides_headers_and_body(rt) -> None:
    call = make_call(rt, body={"email": "person@example.com"})
    request = rt.base_client.plan(call, "https://api.example.com", AUTH)
    assert API_KEY not in repr(request) and TOKEN not in repr(request)
    assert "person@example.com" not in repr(request) + repr(call)


def test_credentials_in_base_url_are_rejected(rt) -> None:
    with pytest.raises(ValueError) as caught:
        rt.base_client.BaseClient(
            base_url=f"https://u:{API_KEY}@x.example", auth_headers={}
        )
    assert API_KEY not in str(caught.value)


# --- httpx transports ------------------------------------------------------------------------


def test_httpx_transport(rt, server, sleeps) -> None:
    transport = rt.transport.HTTPXTransport()
    client = rt.base_client.BaseClient(
        base_url=server.url, auth_headers=AUTH, transport=transport, timeout=0.2
    )
    client._sleep = sleeps.append
    try:
        server.fail_next(1, status=500)
        call = make_call(
            rt, path="/c/{id}", path_params={"id": "a b@c"}, body={"k": "v"}
        )
        assert client._request(call, identity).retries == 1
        assert server.requests[-1].path == "/c/a%20b%40c"
        assert server.requests[-1].headers["authorization"] == f"Basic {TOKEN}"
        assert server.requests[-1].json == {"k": "v"}
        server.fail_next(1, status=404)
        with pytest.raises(rt.errors.NotFoundError):
            client._request(make_call(rt), identity)
        server.fail_next(1, delay=5.0)
        with pytest.raises(rt.errors.APITimeoutError):
            client._request(make_call(rt), identity, max_retries=0)
        server.fail_next(1, drop=True)
        with pytest.raises(rt.errors.APIConnectionError):
            client._request(make_call(rt), identity, max_retries=0)
    finally:
        client.close()
        transport.close()


def test_async_httpx_transport(rt, server) -> None:
    sleeps: list[float] = []

    async def record_sleep(delay: float) -> None:
        sleeps.append(delay)

    async def scenario() -> None:
        async with rt.base_client.AsyncBaseClient(
            base_url=server.url, auth_headers=AUTH, timeout=0.2
        ) as client:
            client._sleep = record_sleep
            server.fail_next(2, status=429, headers={"Retry-After": "1"})
            call = make_call(rt, body={"a": 1}, message_id_field="messageId")
            response = await client._request(call, identity)
            assert response.retries == 2 and sleeps == [1.0, 1.0]
            assert len({request.json["messageId"] for request in server.requests}) == 1
            server.fail_next(1, status=422, body=b'{"errors":[{"detail":"bad field"}]}')
            with pytest.raises(rt.errors.UnprocessableEntityError) as caught:
                await client._request(make_call(rt), identity)
            assert str(caught.value).endswith(": bad field")
            server.fail_next(1, delay=5.0)
            with pytest.raises(rt.errors.APITimeoutError):
                await client._request(make_call(rt), identity, max_retries=0)
            limits = rt.base_client.Limits(max_request_bytes=10)
            with pytest.raises(rt.errors.PayloadTooLargeError):
                await client._request(
                    make_call(rt, body={"x": "y" * 20}, limits=limits), identity
                )

    asyncio.run(scenario())
    assert len(server.requests) == 5


def test_with_unix_times_converts_only_datetimes_at_the_given_paths() -> None:
    from generator.runtime._serde import with_unix_times

    at = datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)
    paths = (("timestamp",), ("device", "last_used"), ("missing",))
    body = {"timestamp": at, "device": {"last_used": at, "id": "d"}, "other": at}
    out = with_unix_times(body, paths)
    assert out == {
        "timestamp": 1705314600,
        "device": {"last_used": 1705314600, "id": "d"},
        "other": at,  # not a unix-time field: to_json writes it as ISO text
    }
    assert body["device"]["last_used"] is at  # the caller's mappings are copied
    assert with_unix_times({"device": "not an object"}, paths) == {
        "device": "not an object"
    }
    model = object()
    assert with_unix_times(model, paths) is model  # a model encodes itself


def test_with_unix_times_enters_each_item_of_an_array() -> None:
    from generator.runtime._serde import with_unix_times

    at = datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)
    model = object()  # an item given as a model is left to its to_dict
    items = [{"timestamp": at, "name": "a"}, model, {"name": "b"}, "odd"]
    body = {"batch": items, "stamps": (at, 7)}
    paths = (("batch", None, "timestamp"), ("stamps", None), ("name", None))
    out = with_unix_times(body, paths)
    assert out == {
        "batch": [{"timestamp": 1705314600, "name": "a"}, model, {"name": "b"}, "odd"],
        "stamps": [1705314600, 7],
    }
    assert items[0]["timestamp"] is at and body["stamps"] == (at, 7)  # not changed
