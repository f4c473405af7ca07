"""A security requirement naming several schemes at once: the client sends every one.

An API key with its secret in the query (Vonage's), a token with an application id in a
header, session keys in cookies: each scheme of the requirement is a constructor argument,
and each goes out on every call, where the spec puts it. Wire tests against a real server
on 127.0.0.1 (the package's own FakeServer).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.packages import generate, imported, run_cli

SPEC = """\
openapi: 3.0.3
info: {title: Acme, version: "1"}
servers: [{url: "https://acme.example"}]
security: [{key: [], secret: []}]
paths:
  /messages:
    get:
      operationId: listMessages
      parameters: [{name: page, in: query, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: object}}}
  /balance:
    get:
      operationId: getBalance
      security: [{key: []}]
      responses: {"204": {description: ok}}
  /apps/{id}:
    get:
      operationId: getApp
      servers: [{url: "https://apps.acme.example"}]
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: theme, in: cookie, schema: {type: string}}
      security: [{token: [], app: [], session: [], csrf: []}]
      responses: {"204": {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: query, name: api_key}
    secret: {type: apiKey, in: query, name: api_secret}
    token: {type: http, scheme: bearer}
    app: {type: apiKey, in: header, name: X-App-Id}
    session: {type: apiKey, in: cookie, name: sid}
    csrf: {type: apiKey, in: cookie, name: csrf}
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("schemes")
    spec = root / "acme.yaml"
    spec.write_text(SPEC)
    generate(root / "out", "acme", [spec])
    with imported(root / "out"):
        yield root / "out"


def _answer(request: object) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, b"{}"


def test_a_key_and_its_secret_both_go_in_the_query(out: Path) -> None:
    from acme import AcmeClient
    from acme._fake_server import FakeServer

    with FakeServer(_answer) as server:
        with AcmeClient("k-123456", "s-abcdef", base_url=server.url) as client:
            client.list_messages(page=2)
            client.get_balance()  # asks for the key alone: the secret goes too
        first, second = server.requests
    assert first.query == {
        "page": ["2"],
        "api_key": ["k-123456"],
        "api_secret": ["s-abcdef"],
    }
    assert second.query == {"api_key": ["k-123456"], "api_secret": ["s-abcdef"]}


def test_the_secret_is_an_argument_the_client_checks(out: Path) -> None:
    from acme import AcmeClient
    from acme._errors import MissingCredentialError

    with pytest.raises(MissingCredentialError, match="api_secret"):
        AcmeClient("k-123456", "")
    with pytest.raises(TypeError):
        AcmeClient("k-123456")  # type: ignore[call-arg]


def test_neither_key_shows_in_an_error_that_echoes_them(out: Path) -> None:
    from acme import AcmeClient
    from acme._errors import APIError
    from acme._fake_server import FakeServer, RecordedRequest

    def echo(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        text = f"bad credentials {request.raw_query}: {request.query}"
        return 401, {"Content-Type": "application/json"}, json.dumps(text).encode()

    with FakeServer(echo) as server:
        with AcmeClient("k-123456", "s-abcdef", base_url=server.url) as client:
            with pytest.raises(APIError) as caught:
                client.get_balance()
    shown = str(caught.value) + repr(caught.value)
    assert "k-123456" not in shown and "s-abcdef" not in shown


def test_a_token_an_app_id_and_two_cookies_go_together(out: Path) -> None:
    from acme import AppsClient
    from acme._fake_server import FakeServer

    with FakeServer(_answer) as server:
        with AppsClient(
            "app-42", "csrf-777777", "sid-999999", "tok-555555", base_url=server.url
        ) as client:
            client.get_app("a1")
            client.get_app("a2", theme="dark")
        plain, themed = server.requests
    assert plain.headers["authorization"] == "Bearer tok-555555"
    assert plain.headers["x-app-id"] == "app-42"
    assert plain.headers["cookie"] == "csrf=csrf-777777; sid=sid-999999"
    # an operation's own cookie joins the credentials' in the one Cookie header
    assert themed.headers["cookie"] == "csrf=csrf-777777; sid=sid-999999; theme=dark"


def test_the_generator_no_longer_warns_about_the_requirement(tmp_path: Path) -> None:
    spec = tmp_path / "acme.yaml"
    spec.write_text(SPEC)
    args = ("--spec", str(spec), "--package", "acme", "--no-cache")
    r = run_cli("generate", *args, "--out", str(tmp_path / "out"), "--strict")
    assert r.returncode == 0, r.stderr


CLASH = """\
openapi: 3.1.0
info: {title: Clash, version: "1"}
servers: [{url: "https://clash.example"}]
security: [{basic: [], token: []}]
paths:
  /a:
    get:
      operationId: getA
      responses: {"204": {description: ok}}
components:
  securitySchemes:
    basic: {type: http, scheme: basic}
    token: {type: http, scheme: bearer}
"""


def test_two_schemes_for_one_header_send_the_first_and_say_so(tmp_path: Path) -> None:
    spec = tmp_path / "clash.yaml"
    spec.write_text(CLASH)
    args = ("--spec", str(spec), "--package", "clash", "--no-cache")
    r = run_cli("generate", *args, "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    (line,) = [x for x in r.stderr.splitlines() if "authorization" in x]
    assert line.startswith("warning: clash.yaml#/components/securitySchemes/token")
    assert "sends 'basic' only" in line
    client = (tmp_path / "out" / "clash" / "clash.py").read_text()
    assert "_auth.basic(username, password)" in client and "bearer" not in client


def test_the_package_type_checks(out: Path, tmp_path: Path) -> None:
    user = tmp_path / "user.py"
    user.write_text(
        "from acme import AcmeClient, AppsClient\n"
        "AcmeClient('k', 's').list_messages(page=1)\n"
        "AppsClient('a', 'c', 's', 't').get_app('x', theme='y')\n"
    )
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mc")]
        + [str(out / "acme"), str(user)],
        env={"MYPYPATH": str(out), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


BATCH = """\
openapi: 3.0.3
info: {title: Feed, version: "1"}
servers: [{url: "https://feed.example"}]
security: [{key: [], secret: []}]
paths:
  /batch:
    post:
      operationId: sendBatch
      x-ciogen-limits: {items_field: batch, max_request_bytes: 100000}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [batch]
              properties:
                batch: {type: array, items: {$ref: "#/components/schemas/Item"}}
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: query, name: api_key}
    secret: {type: apiKey, in: header, name: X-Secret}
  schemas:
    Item:
      oneOf: [{$ref: "#/components/schemas/Ping"}]
      discriminator: {propertyName: type, mapping: {ping: "#/components/schemas/Ping"}}
    Ping:
      type: object
      required: [type, name]
      properties:
        type: {type: string, enum: [ping]}
        name: {type: string}
"""


def test_a_background_client_sends_a_query_key_and_keeps_it_secret(
    tmp_path: Path,
) -> None:
    """The background client sent no query key at all: every batch was refused."""
    spec = tmp_path / "feed.yaml"
    spec.write_text(BATCH)
    out = tmp_path / "out"
    generate(out, "feed", [spec])
    with imported(out):
        from feed import BackgroundFeedClient
        from feed._fake_server import FakeServer, RecordedRequest

        def refuse(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
            text = json.dumps({"error": f"bad key {request.raw_query}"})
            return 401, {"Content-Type": "application/json"}, text.encode()

        with FakeServer() as server:
            client = BackgroundFeedClient(
                "k-123456", "s-abcdef", base_url=server.url, flush_interval=0.05
            )
            client.ping(name="one")
            assert client.flush(timeout=10)
            client.close()
            (sent,) = server.requests
        assert sent.query == {"api_key": ["k-123456"]}
        assert sent.headers["x-secret"] == "s-abcdef"
        assert "k-123456" not in repr(client) + repr(client.endpoint)

        failures: list[BaseException] = []
        with FakeServer(refuse) as server:
            client = BackgroundFeedClient(
                "k-123456",
                "s-abcdef",
                base_url=server.url,
                max_retries=0,
                on_error=lambda items, exc: failures.append(exc),
            )
            client.ping(name="two")
            client.flush(timeout=10)
            client.close()
        (exc,) = failures
        assert "k-123456" not in str(exc) + repr(exc)
