"""A 3xx answer an operation documents is that operation's answer, on the wire.

GitHub's tarball download answers only `302` (its Location says where the archive is),
swaggerhub's search `303`: the client returns such an answer as an APIResponse (status,
headers, the body decoded as the spec says, None when it documents none) after one
request, and never follows it (the credentials would go along). A 3xx the operation does
not document stays an error. A small spec written here is generated into a package, and a
real HTTP server on 127.0.0.1 gives the answers.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.packages import generate, imported

SPEC = """\
openapi: 3.0.3
info: {title: Redirects, version: "1.0"}
servers: [{url: "https://api.example.com"}]
security: [{token: []}]
components:
  securitySchemes:
    token: {type: http, scheme: bearer}
  schemas:
    Job:
      type: object
      required: [id]
      properties:
        id: {type: string}
        state: {type: string}
    Archive:
      type: object
      required: [name]
      properties:
        name: {type: string}
paths:
  /archives/{name}:
    get:
      operationId: downloadArchive
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        "302":
          description: Where the archive is.
          headers:
            Location: {schema: {type: string}}
  /jobs:
    post:
      operationId: startJob
      responses:
        "303":
          description: The job started, and where to follow it.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Job"}
  /mirrors/{name}:
    get:
      operationId: findMirror
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: The archive, described here.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Archive"}
        "3XX":
          description: Described elsewhere.
  /archives/{name}/copies:
    post:
      operationId: copyArchive
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: Copied at once.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Archive"}
        "2XX":
          description: Copying.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Job"}
        "302":
          description: Already there.
  /archives/{name}/info:
    get:
      operationId: archiveInfo
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: The archive.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Archive"}
"""

TOKEN = "tok-SECRET-4d2e9a"
# a redirect's body is a note for browsers: no client reads it as the answer's data
NOTE = b"<html><body>Found: <a href='/elsewhere'>here</a></body></html>"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("redirects")
    spec = where / "redirects.yaml"
    spec.write_text(SPEC)
    generate(where, "redir_pkg", [spec])
    with imported(where):
        yield where


@pytest.fixture(scope="module")
def pkg(out: Path) -> Any:
    return importlib.import_module("redir_pkg")


Answer = tuple[int, dict[str, str], bytes]


class ScriptedServer(ThreadingHTTPServer):
    """Answers each path with the answer set for it (404 otherwise), and records every
    request as (method, path, Authorization)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, Answer] = {}
        self.seen: list[tuple[str, str, str]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str, status: int, body: bytes = b"", **headers: str) -> None:
        self.answers[path] = (
            status,
            {k.replace("_", "-"): v for k, v in headers.items()},
            body,
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization") or ""
        self.server.seen.append((self.command, self.path, auth))
        status, headers, body = self.server.answers.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _call_both(pkg: Any, url: str, method: str, *args: Any) -> list[Any]:
    """The sync client's response (http.client), then the async one's (httpx)."""
    with pkg.RedirectsClient(TOKEN, base_url=url) as client:
        sync = getattr(client, method)(*args)

    async def call_async() -> Any:
        client = pkg.AsyncRedirectsClient(TOKEN, base_url=url)
        try:
            return await getattr(client, method)(*args)
        finally:
            await client.aclose()

    return [sync, asyncio.run(call_async())]


# ---- documented: returned, once, not followed -------------------------------------------


def test_a_documented_302_without_content_is_returned_with_its_location(
    pkg: Any, server: ScriptedServer
) -> None:
    server.answer(
        "/archives/v1",
        302,
        NOTE,
        Location=f"{server.url}/elsewhere",
        Content_Type="text/html",
    )
    for response in _call_both(pkg, server.url, "download_archive", "v1"):
        assert response.status_code == 302
        assert response.headers["location"] == f"{server.url}/elsewhere"
        assert response.headers["Location"] == f"{server.url}/elsewhere"
        assert response.data is None
        assert response.raw == NOTE
        assert response.retries == 0
    # one request per call, and the place it points to never asked (with the token)
    assert [path for _, path, _ in server.seen] == ["/archives/v1", "/archives/v1"]
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in server.seen)


def test_a_documented_303_with_json_is_decoded_by_its_schema(
    pkg: Any, server: ScriptedServer
) -> None:
    body = json.dumps({"id": "job-7", "state": "queued"}).encode()
    server.answer(
        "/jobs", 303, body, Location="/jobs/job-7", Content_Type="application/json"
    )
    for response in _call_both(pkg, server.url, "start_job"):
        assert response.status_code == 303
        assert response.headers["location"] == "/jobs/job-7"
        assert isinstance(response.data, pkg.models.Job)
        assert (response.data.id_, response.data.state) == ("job-7", "queued")
        assert response.retries == 0
    assert [(m, p) for m, p, _ in server.seen] == [("POST", "/jobs")] * 2


@pytest.mark.parametrize("status", [301, 307, 308])
def test_any_status_of_a_documented_3xx_range_is_returned(
    pkg: Any, server: ScriptedServer, status: int
) -> None:
    server.answer("/mirrors/v1", status, NOTE, Location="https://mirror.example.net/v1")
    for response in _call_both(pkg, server.url, "find_mirror", "v1"):
        assert response.status_code == status
        assert response.headers["location"] == "https://mirror.example.net/v1"
        assert response.data is None
        assert response.retries == 0
    assert len(server.seen) == 2


def test_the_2xx_answers_beside_a_3xx_range_keep_their_schema(
    pkg: Any, server: ScriptedServer
) -> None:
    """The range is told apart by its class: a 201 the spec does not list is still read
    as the 200 is, not as the 3XX's nothing."""
    server.answer("/mirrors/v1", 201, b'{"name": "v1.tar.gz"}')
    for response in _call_both(pkg, server.url, "find_mirror", "v1"):
        assert response.status_code == 201
        assert response.data == pkg.models.Archive(name="v1.tar.gz")


def test_a_2xx_range_beside_a_documented_302_claims_no_3xx(
    pkg: Any, server: ScriptedServer
) -> None:
    """copyArchive: 200 is an Archive, any other 2xx a Job (the 2XX range), 302 nothing:
    each answer is read as its own status says."""
    answers = [
        (200, b'{"name": "v1.tar.gz"}', pkg.models.Archive(name="v1.tar.gz")),
        (202, b'{"id": "job-8"}', pkg.models.Job(id_="job-8")),
        (302, NOTE, None),
    ]
    for status, body, data in answers:
        server.answer("/archives/v1/copies", status, body, Location="/archives/v1")
        for response in _call_both(pkg, server.url, "copy_archive", "v1"):
            assert (response.status_code, response.data) == (status, data)


# ---- undocumented: an error, as before ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("archive_info", "/archives/v1/info", 302),
        ("download_archive", "/archives/v1", 301),
    ],
)
def test_a_3xx_the_operation_does_not_document_is_an_error(
    pkg: Any, server: ScriptedServer, method: str, path: str, status: int
) -> None:
    """archiveInfo documents only 200, downloadArchive only 302: a 302, a 301 raises
    APIError with its status and headers, after one request each, and is not followed.
    """
    server.answer(path, status, NOTE, Location=f"{server.url}/elsewhere")
    with pkg.RedirectsClient(TOKEN, base_url=server.url) as client:
        with pytest.raises(pkg.APIError) as caught:
            getattr(client, method)("v1")

    async def call_async() -> None:
        client = pkg.AsyncRedirectsClient(TOKEN, base_url=server.url)
        try:
            await getattr(client, method)("v1")
        finally:
            await client.aclose()

    with pytest.raises(pkg.APIError) as again:
        asyncio.run(call_async())
    for error in (caught.value, again.value):
        assert error.status_code == status
        assert error.retries == 0
        assert error.headers["location"] == f"{server.url}/elsewhere"
    assert [p for _, p, _ in server.seen] == [path, path]


# ---- what the package says and what a type checker sees -----------------------------------


def test_the_docstring_and_reference_say_the_3xx_is_returned(
    pkg: Any, out: Path
) -> None:
    doc = pkg.RedirectsClient.download_archive.__doc__
    assert "A 302 answer is returned" in doc
    assert 'response.headers["location"]' in doc
    assert "not raised" in pkg.AsyncRedirectsClient.start_job.__doc__
    assert "location" not in (pkg.RedirectsClient.archive_info.__doc__ or "")
    reference = (out / "redir_pkg" / "REFERENCE.md").read_text()
    section = reference.split("#### `RedirectsClient.find_mirror`")[1].split("####")[0]
    assert "- returns: `Archive` (200), no body (3XX)" in section
    assert "A 3XX answer is returned, not raised" in section


def test_the_testing_kit_answers_a_documented_redirect(pkg: Any) -> None:
    """An operation answered only by a 3xx is answered so by the fake server, with a
    Location on the fake itself; a 303's example body comes with it."""
    from redir_pkg.testing import FakeRedirects

    with FakeRedirects() as fake:
        url = fake.url
        with pkg.RedirectsClient(TOKEN, base_url=url) as client:
            moved = client.download_archive("v1")
            started = client.start_job()
        fake.assert_called("downloadArchive", times=1)
    assert (moved.status_code, moved.data) == (302, None)
    assert moved.headers["location"] == url + "/"
    assert started.status_code == 303 and isinstance(started.data, pkg.models.Job)


def test_the_return_types_say_what_a_call_can_return(out: Path, tmp_path: Path) -> None:
    """mypy --strict passes on the package and on code using it, whose `assert_type`s
    hold: a 302 with no content is None, a 303's data its model, and an operation
    with several answers has the union of their types."""
    user = tmp_path / "use_redirects.py"
    user.write_text(textwrap.dedent("""
        from typing import Optional, Union, assert_type

        from redir_pkg import RedirectsClient
        from redir_pkg.models import Archive, Job

        def use(client: RedirectsClient) -> None:
            assert_type(client.download_archive("v1").data, None)
            assert_type(client.start_job().data, Optional[Job])
            assert_type(client.find_mirror("v1").data, Optional[Archive])
            assert_type(client.copy_archive("v1").data, Union[Archive, Job, None])
        """))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "c")]
        + ["redir_pkg", str(user)],
        cwd=out,
        env={"MYPYPATH": str(out), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_which_responses_are_answers_in_the_ir() -> None:
    """The 2XX responses (or `default`) come first, then the 3XX ones; the first answer
    of an operation answered only by a redirect is that redirect (what the fake server
    answers), a range's as 302."""
    from generator.ir import model as ir
    from generator.ir.examples import success_status

    def op(*statuses: str) -> ir.Operation:
        responses = tuple(ir.Response(status, "") for status in statuses)
        return ir.Operation("op", "op", "GET", "/", "s", responses=responses)

    assert [r.status for r in op("200", "302", "404").answers] == ["200", "302"]
    assert [r.status for r in op("302", "default").answers] == ["default", "302"]
    assert op("201", "303", "3XX").redirect_statuses == ("303", "3XX")
    assert op("200", "3xy").redirects == ()  # no status a client could test
    assert success_status(op("302", "4XX")) == 302
    assert success_status(op("3XX")) == 302
    assert success_status(op("204", "302")) == 204
