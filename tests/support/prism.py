"""Run Prism (the validating OpenAPI mock server) from tests.

Prism is pinned in ``tools/prism/package.json`` / ``package-lock.json`` and installed
with ``make prism`` (``npm ci`` in ``tools/prism``). This module only needs the stdlib.

Usage::

    ok, reason = prism_available()
    with prism_mock("specs/track.yaml") as server:
        urllib.request.urlopen(server.url + "/api/v1/...")
        assert server.violations() == []

Log format (Prism 5.16, non-TTY output, one event per line)::

    [10:53:28 AM] › [HTTP SERVER] post /widgets ℹ  info      Request received
    [10:53:28 AM] ›     [VALIDATOR] ⚠  warning   Request did not pass the validation rules
    [10:53:28 AM] ›     [VALIDATOR] ✖  error     Request body must have required property 'name'
    [10:53:28 AM] › [HTTP SERVER] post /widgets ✖  error     Request terminated with error: \
https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY: Invalid request

Request violations are the ``[VALIDATOR]`` lines at level ``error`` (one per problem), plus
routing failures (``#NO_PATH_MATCHED_ERROR`` etc.), which Prism reports only on the
``[HTTP SERVER] ... Request terminated with error`` line. Response violations (the spec's own
example does not match its schema) are reported as ``#VIOLATIONS`` (with ``--errors``, HTTP 500)
or as ``[VALIDATOR] ... error  Violation: response...`` lines (without ``--errors``).

Prism's log lags behind its HTTP responses, so every log read first sends a barrier request
(``GET /__prism_support_sync__/N``, which matches no route) and waits until Prism has logged it;
those lines are filtered out. Avoid specs with a catch-all ``/{path}`` route.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PRISM_DIR = REPO_ROOT / "tools" / "prism"
PRISM_VERSION = "5.16.0"
_BIN_NAME = "prism.cmd" if sys.platform == "win32" else "prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / _BIN_NAME

STARTUP_TIMEOUT = 60.0  # overall cap for Prism to start listening
_POLL_INTERVAL = 0.25
_SETTLE_CAP = 5.0  # bound on waiting for Prism's log to catch up
_SYNC_PATH = "/__prism_support_sync__"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# "[time] › <indent>[TAG] <request?> <symbol>  <level>   <message>"
_LINE = re.compile(
    r"\[(?P<tag>[A-Z][A-Z ]*[A-Z])\]\s*(?P<prefix>.*?)\s"
    r"(?P<level>awaiting|start|info|success|warning|error|fatal|debug|trace|note)\s{2,}"
    r"(?P<msg>.*)$"
)
_REQUEST = re.compile(r"^(?P<method>[a-z]+) (?P<path>\S+)")
_TERMINATED = "Request terminated with error: "


def _request_finished(line: str) -> bool:
    return _TERMINATED in line or "> Responding with" in line


_ROUTING_ERRORS = (
    "NO_PATH_MATCHED_ERROR",
    "NO_METHOD_MATCHED_ERROR",
    "NO_SERVER_MATCHED_ERROR",
)


@dataclass(frozen=True)
class Violation:
    """One problem Prism reported.

    kind: "request" (request did not match the spec), "routing" (no path/method/server in the
    spec matched), or "response" (the mocked response did not match the spec).
    request: "post /widgets" as Prism printed it (the most recent request received), or "".
    """

    kind: str
    request: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.request}: {self.message}"


def prism_available() -> tuple[bool, str]:
    """(True, "") when Prism can be run, else (False, reason)."""
    if not PRISM_BIN.exists():
        if shutil.which("npm") is None:
            return False, "npm not found: install Node.js/npm, then run `make prism`"
        return False, f"Prism is not installed ({PRISM_BIN} missing): run `make prism`"
    if shutil.which("node") is None:
        return False, "node not found on PATH (needed by Prism): install Node.js"
    try:
        meta = PRISM_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
        version = json.loads(meta.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        version = None
    if version != PRISM_VERSION:
        return (
            False,
            f"Prism {version} installed, {PRISM_VERSION} expected: run `make prism`",
        )
    return True, ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrismServer:
    """A running ``prism mock`` process; see :func:`prism_mock`."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._sync_count = 0
        self._reader = threading.Thread(
            target=self._read, name=f"prism-{port}", daemon=True
        )
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = _ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\r\n")
            with self._lock:
                self._lines.append(line)

    def _snapshot(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def _settle(self) -> list[str]:
        """The log up to now, without the barrier requests.

        Prism's log lines lag behind its HTTP responses (they can arrive after the client has
        its answer), so this sends a barrier request (``GET /__prism_support_sync__/N``, an
        unmatched route) and waits, bounded, until Prism has logged its end: everything logged
        for earlier requests is then in the log too.
        """
        self._sync_count += 1
        tag = f"{_SYNC_PATH}/{self._sync_count}"
        end_marker = (
            tag + " "
        )  # "get /__prism_support_sync__/3 ✖  error  Request terminated..."
        done = False
        if self.proc.poll() is None:
            try:
                with _NO_PROXY.open(self.url + tag, timeout=_SETTLE_CAP) as resp:
                    resp.read()
            except (
                urllib.error.HTTPError
            ) as err:  # 404 NO_PATH_MATCHED_ERROR, as intended
                err.read()
            except OSError:
                done = True  # Prism is gone or stuck; return what we have
        deadline = time.monotonic() + _SETTLE_CAP
        while not done and time.monotonic() < deadline and self.proc.poll() is None:
            if any(
                end_marker in line and _request_finished(line)
                for line in self._snapshot()
            ):
                break
            time.sleep(0.02)
        return [line for line in self._snapshot() if _SYNC_PATH not in line]

    def log_lines(self) -> list[str]:
        return self._settle()

    def log_text(self) -> str:
        """Everything Prism printed so far (stdout and stderr, ANSI colours removed)."""
        return "\n".join(self._settle())

    def mark(self) -> int:
        """A position in the log; pass it as ``since=`` to look only at later output."""
        return len(self._settle())

    def _all_violations(self, since: int) -> list[Violation]:
        found: list[Violation] = []
        request = ""
        for line in self._settle()[since:]:
            m = _LINE.search(line)
            if not m:
                continue
            tag, prefix, level, msg = m.group("tag", "prefix", "level", "msg")
            if tag == "HTTP SERVER":
                req = _REQUEST.match(prefix)
                if req:
                    request = f"{req.group('method')} {req.group('path')}"
                if level == "error" and msg.startswith(_TERMINATED):
                    detail = msg[len(_TERMINATED) :]
                    if any(f"#{code}" in detail for code in _ROUTING_ERRORS):
                        found.append(Violation("routing", request, detail))
                    elif "#VIOLATIONS" in detail:
                        found.append(Violation("response", request, detail))
            elif tag == "VALIDATOR" and level in ("error", "fatal"):
                kind = (
                    "response" if msg.startswith("Violation: response") else "request"
                )
                found.append(Violation(kind, request, msg))
        return found

    def violations(self, since: int = 0) -> list[Violation]:
        """Request-side violations (kinds "request" and "routing") Prism reported."""
        return [v for v in self._all_violations(since) if v.kind != "response"]

    def response_violations(self, since: int = 0) -> list[Violation]:
        """Mocked responses that did not match the spec (a problem in the spec's examples)."""
        return [v for v in self._all_violations(since) if v.kind == "response"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._reader.join(timeout=2)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _start(spec: Path, port: int, errors: bool, dynamic: bool) -> PrismServer:
    cmd = [str(PRISM_BIN), "mock", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--dynamic", "true" if dynamic else "false"]
    if errors:
        cmd.append("--errors")
    cmd.append(str(spec))
    env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0")
    proc = subprocess.Popen(
        cmd,
        cwd=str(spec.parent),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return PrismServer(proc, port)


@contextmanager
def prism_mock(
    spec_path: str | os.PathLike[str],
    *,
    errors: bool = True,
    dynamic: bool = False,
    startup_timeout: float = STARTUP_TIMEOUT,
) -> Iterator[PrismServer]:
    """Start ``prism mock`` on a free 127.0.0.1 port for ``spec_path`` and stop it on exit.

    errors=True passes ``--errors`` (responses that violate the spec become HTTP 500; invalid
    requests are answered 4xx in any case). dynamic=False (``--dynamic false``) makes responses
    come from the spec's examples. Relative ``$ref``s to other files resolve against the spec's
    directory. Raises RuntimeError when Prism is unavailable or does not start in time.
    """
    ok, reason = prism_available()
    if not ok:
        raise RuntimeError(reason)
    spec = Path(spec_path).resolve()
    if not spec.is_file():
        raise FileNotFoundError(spec)

    server: PrismServer | None = None
    deadline = time.monotonic() + startup_timeout
    for _attempt in range(3):  # the free port can be taken between probing and binding
        server = _start(spec, _free_port(), errors, dynamic)
        started = False
        max_polls = int(startup_timeout / _POLL_INTERVAL) + 1
        for _ in range(max_polls):
            if server.proc.poll() is not None or time.monotonic() >= deadline:
                break
            lines = server._snapshot()
            if any("Prism is listening on" in line for line in lines) and _port_open(
                server.port
            ):
                started = True
                break
            time.sleep(_POLL_INTERVAL)
        if started:
            break
        server.stop()
        log = "\n".join(server._snapshot())
        if "EADDRINUSE" in log and time.monotonic() < deadline:
            continue
        raise RuntimeError(
            f"Prism did not start for {spec} (exit {server.proc.returncode}):\n{log}"
        )
    else:
        raise RuntimeError(f"Prism could not find a free port for {spec}")

    assert server is not None
    try:
        yield server
    finally:
        server.stop()


def require_prism() -> None:
    """Skip the calling test without Prism, but fail it under CI=true (CI must run Prism)."""
    import pytest

    ok, reason = prism_available()
    if ok:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Prism is required when CI=true: {reason}")
    pytest.skip(reason)
