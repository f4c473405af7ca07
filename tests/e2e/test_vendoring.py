"""Vendoring: `generate --out DIR --package NAME` writes a package that stands on its own.

The package is generated under a different name, checked statically (relative imports only,
standard library otherwise, no trace of `generator` or `customerio_client`), then copied into
an empty directory and used from a fresh virtual environment that has nothing installed:
a real call reaches a small HTTP server run by this test.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = "acme_cio"  # the vendored package's name

STDLIB = set(sys.stdlib_module_names) | {"__future__"}


@pytest.fixture(scope="module")
def vendored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vendor-out")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "generate",
            "--spec",
            str(ROOT / "specs"),
            "--out",
            str(out),
            "--package",
            NAME,
            "--no-cache",
        ],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    package = out / NAME
    assert (package / "__init__.py").is_file()
    return package


def _type_checking_only(tree: ast.Module) -> set:  # type: ignore[type-arg]
    """Import nodes inside `if TYPE_CHECKING:` blocks (never executed at run time)."""
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        nodes.add(id(sub))
    return nodes


def _imports(package: Path) -> list[tuple[str, int, str, int, bool]]:
    """(file, line, module, level, runtime) for every import in the package."""
    out = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        guarded = _type_checking_only(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    out.append(
                        (path.name, node.lineno, alias.name, 0, id(node) not in guarded)
                    )
            elif isinstance(node, ast.ImportFrom):
                out.append(
                    (
                        path.name,
                        node.lineno,
                        node.module or "",
                        node.level,
                        id(node) not in guarded,
                    )
                )
    return out


def test_imports_are_relative_or_stdlib(vendored: Path) -> None:
    bad = []
    for file, line, module, level, runtime in _imports(vendored):
        if level >= 1:
            continue
        top = module.split(".")[0]
        if top in (NAME, "customerio_client", "generator"):
            bad.append(f"{file}:{line}: absolute import of {module}")
        elif top not in STDLIB and runtime:
            bad.append(f"{file}:{line}: runtime import of non-stdlib {module}")
        elif top not in STDLIB and top != "typing_extensions":
            bad.append(f"{file}:{line}: type-checking import of {module}")
    assert not bad, "\n".join(bad)


def test_no_trace_of_the_default_name(vendored: Path) -> None:
    """Module-path strings (logger names, importlib targets) follow the package name too."""
    for path in sorted(vendored.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in (
            '"customerio_client.',
            "'customerio_client.",
            "import customerio_client",
        ):
            assert needle not in text, f"{path.name} mentions {needle}"


def test_package_files(vendored: Path) -> None:
    assert (vendored / "py.typed").is_file()
    readme = (vendored / "README.md").read_text(encoding="utf-8")
    from generator import __version__

    assert f"ciogen {__version__}" in readme
    for spec in sorted((ROOT / "specs").glob("*.yaml")):
        digest = hashlib.sha256(spec.read_bytes()).hexdigest()
        assert spec.name in readme and digest in readme, spec.name
    init = (vendored / "__init__.py").read_text(encoding="utf-8")
    spec_hash = ast.literal_eval(init.split("SPEC_HASH = ", 1)[1].splitlines()[0])
    assert spec_hash in readme
    assert f"import {NAME}" in readme or f"from {NAME}" in readme


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.seen.append(
            {
                "method": "POST",
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "json": json.loads(body or b"null"),
            }
        )
        reply = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: ClassVar[list[dict[str, Any]]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


SCRIPT = """
import sys
import {name}
from {name} import PipelinesClient

client = PipelinesClient("vendored-key", base_url=sys.argv[1], max_retries=0)
r = client.track(body={{"type": "track", "event": "Vendored", "userId": "u-1"}})
assert r.status_code == 200, r.status_code
assert {name}.__file__.startswith(sys.argv[2]), {name}.__file__
leaks = sorted(m for m in sys.modules if m.split(".")[0] in ("customerio_client", "generator", "jinja2"))
assert not leaks, leaks
print("ok", sys.prefix)
"""


def test_vendored_package_runs_in_a_bare_virtualenv(
    vendored: Path, tmp_path: Path, server: tuple[str, list[dict[str, Any]]]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(vendored, project / NAME)
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=300,
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    }
    url, seen = server
    r = subprocess.run(
        [str(python), "-c", SCRIPT.format(name=NAME), url, str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok " + str(venv))
    assert len(seen) == 1
    request = seen[0]
    assert request["path"].endswith("/track")
    assert request["json"]["event"] == "Vendored"
    auth = request["headers"]["authorization"]
    assert auth.startswith("Basic ")
    assert base64.b64decode(auth[6:]).decode().startswith("vendored-key:")
