"""What a user of the command line meets: the cache in their repository, the stale message,
bad arguments, packages for other APIs, and invalid-but-common spec constructs that warn
instead of stopping the run (exit 2 only with --strict)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.packages import DATA, ROOT, run_cli

from generator import __version__
from generator.cli import _read_table
from generator.codegen.modules import _DELIVERY_EXPORTS, _PACKAGE_EXPORTS
from generator.errors import SpecError, UsageError
from generator.ir.build import api_name
from generator.reserved import DELIVERY_ERRORS, PACKAGE_ERRORS, TESTING_BASE
from generator.spec.files import find_spec_files

SCHEMES = """openapi: 3.0.3
info: {title: Acme Widgets API, version: '1'}
servers: [{url: 'https://api.acme.example'}]
security: [{missing: []}]
paths:
  /widgets:
    get:
      operationId: listWidgets
      responses: {'200': {description: ok}}
"""

ARRAY_MAPPING = """openapi: 3.0.3
info: {title: Acme Widgets API, version: '1'}
servers: [{url: 'https://api.acme.example'}]
paths:
  /things:
    get:
      operationId: getThing
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
components:
  schemas:
    Thing:
      oneOf:
        - {$ref: '#/components/schemas/Box'}
        - {$ref: '#/components/schemas/Boxes'}
      discriminator:
        propertyName: kind
        mapping:
          box: '#/components/schemas/Box'
          boxes: '#/components/schemas/Boxes'
    Box:
      type: object
      required: [kind]
      properties: {kind: {type: string}}
    Boxes:
      type: array
      items: {$ref: '#/components/schemas/Box'}
"""


def test_the_cache_ignores_itself_in_the_users_repository(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    out = ("--out", "out", "--package", "p")
    r = run_cli("generate", "--spec", str(DATA / "coverage31.yaml"), *out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / ".ciogen-cache").is_dir()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".ciogen-cache" not in status and "out/p/" in status


def test_the_stale_message_names_the_users_own_command(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text((DATA / "coverage31.yaml").read_text())
    args = ("--spec", "api.yaml", "--out", "vendored", "--package", "acme")
    assert run_cli("generate", *args, cwd=tmp_path).returncode == 0
    spec.write_text(spec.read_text().replace("mode:", "speed:"))
    r = run_cli("check", *args, cwd=tmp_path)
    assert r.returncode == 1
    wanted = "ciogen generate --spec api.yaml --out vendored --package acme"
    assert f"run `{wanted}`" in r.stderr
    assert "make generate" not in r.stderr


def test_an_out_path_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file\n")
    spec = str(DATA / "coverage31.yaml")
    r = run_cli("generate", "--spec", spec, "--out", "taken", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["error: --out 'taken' is not a directory"]
    blocked = tmp_path / "ro"
    blocked.mkdir()
    blocked.chmod(0o500)
    try:
        r = run_cli("generate", "--spec", spec, "--out", "ro/sub", cwd=tmp_path)
    finally:
        blocked.chmod(0o700)
    if r.returncode != 0:  # root may write anywhere; anyone else gets a clean error
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_a_keyword_is_no_package_name(tmp_path: Path) -> None:
    for name in ("class", "not-a-name"):
        r = run_cli("generate", "--package", name, "--out", str(tmp_path))
        assert r.returncode == 2 and "not a valid Python package name" in r.stderr


def test_group_by_takes_one_of_its_modes_from_the_command_line_or_config(
    tmp_path: Path,
) -> None:
    spec = str(DATA / "coverage31.yaml")
    r = run_cli("generate", "--spec", spec, "--group-by", "tags", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "invalid choice: 'tags'" in r.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.ciogen]\ngroup_by = "tags"\n')
    r = run_cli("generate", "--spec", spec, "--out", "out", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: pyproject.toml: [tool.ciogen] group_by: 'tags' is not one of auto, tag, none"
    ]


def test_version() -> None:
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"ciogen {__version__}"


def test_a_package_for_another_api_carries_no_customerio_names(tmp_path: Path) -> None:
    spec = tmp_path / "acme.yaml"
    spec.write_text(SCHEMES.replace("security: [{missing: []}]\n", ""))
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        "out",
        "--package",
        "acme",
        "--no-cache",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    package = tmp_path / "out" / "acme"
    assert not (package / "events.py").exists()
    assert not (package / "_semantic.py").exists()
    for path in package.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8").lower()
            for needle in ("customer.io", "customerio", "cio_server"):
                assert needle not in text, (path.name, needle)
    testing = (package / "testing.py").read_text()
    init = (package / "__init__.py").read_text()
    assert (
        "class FakeAcmeWidgets(" in testing and "def _acme_widgets_server(" in testing
    )
    assert "AcmeWidgetsError = Error" in init
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        "out2",
        "--package",
        "acme",
        "--name",
        "Acme",
        "--no-cache",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (
        "AcmeError = Error" in (tmp_path / "out2" / "acme" / "__init__.py").read_text()
    )


def test_a_quiet_generate_counts_the_warnings_and_names_what_lists_them(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "acme.yaml"
    spec.write_text(SCHEMES)
    base = ("--spec", "acme.yaml", "--package", "acme", "--no-cache", "--out", "out")
    loud = run_cli("generate", *base, cwd=tmp_path)
    listed = [l for l in loud.stderr.splitlines() if l.startswith("warning: ")]
    assert loud.returncode == 0 and listed, loud.stderr
    quiet = run_cli("generate", "-q", *base, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "warning: " not in quiet.stderr
    command = "ciogen validate --spec acme.yaml --package acme --no-cache --out out"
    assert quiet.stderr.strip() == (
        f"{len(listed)} warning(s) not shown; `{command}` lists them"
    )
    assert "file(s) written" in quiet.stdout or "up to date" in quiet.stdout
    named = run_cli(*command.split()[1:], cwd=tmp_path)
    assert [l for l in named.stderr.splitlines() if l.startswith("warning: ")] == listed


def test_an_undefined_security_scheme_warns_and_generates(tmp_path: Path) -> None:
    spec = tmp_path / "acme.yaml"
    spec.write_text(SCHEMES)
    base = ("--spec", str(spec), "--package", "acme", "--no-cache")
    r = run_cli("generate", *base, "--out", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "warning: acme.yaml#/components/securitySchemes/missing" in r.stderr
    assert "sends no credential" in r.stderr
    assert (tmp_path / "out" / "acme" / "acme_widgets_api.py").exists()
    r = run_cli("generate", *base, "--out", "strict", "--strict", cwd=tmp_path)
    assert r.returncode == 2 and not (tmp_path / "strict").exists()


DIGEST = SCHEMES.replace("[{missing: []}]", "[{challenged: []}]") + (
    "components:\n  securitySchemes:\n    challenged: {type: http, scheme: Digest}\n"
)


def _generate_acme(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """`text` as tmp_path/acme.yaml, generated into tmp_path/out/acme (checked to pass)."""
    (tmp_path / "acme.yaml").write_text(text)
    r = run_cli(
        "generate",
        "--spec",
        "acme.yaml",
        "--package",
        "acme",
        "--no-cache",
        "--out",
        "out",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    return r


def test_an_http_scheme_needing_a_challenge_warns_and_sends_no_credential(
    tmp_path: Path,
) -> None:
    """Digest was sent as `Authorization: Bearer <token>`, which no such server takes."""
    r = _generate_acme(tmp_path, DIGEST)
    assert (
        "warning: acme.yaml#/components/securitySchemes/challenged/scheme" in r.stderr
    )
    assert "'Digest' is not supported" in r.stderr and "sends no credential" in r.stderr
    client = (tmp_path / "out" / "acme" / "acme_widgets_api.py").read_text()
    assert "Bearer" not in client and "_auth.require" not in client


BOTH_KEYS = SCHEMES.replace("[{missing: []}]", "[{hdrKey: [], queryKey: []}]") + (
    "components:\n  securitySchemes:\n"
    "    hdrKey: {type: apiKey, in: header, name: X-API-Key}\n"
    "    queryKey: {type: apiKey, in: query, name: api_key}\n"
)


def test_a_requirement_of_two_schemes_at_once_sends_both(tmp_path: Path) -> None:
    """The second key was dropped (with a warning, after a while without one): the
    client now takes and sends both (tests/client/test_security_schemes.py sends them).
    """
    r = _generate_acme(tmp_path, BOTH_KEYS)
    assert "security" not in r.stderr, r.stderr
    client = (tmp_path / "out" / "acme" / "acme_widgets_api.py").read_text()
    assert '_auth.api_key_header("X-API-Key", x_api_key)' in client
    assert '{"api_key": api_key}' in client


def test_a_discriminator_mapping_to_an_array_warns_and_generates(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "acme.yaml"
    spec.write_text(ARRAY_MAPPING)
    base = ("--spec", str(spec), "--package", "acme", "--no-cache")
    r = run_cli("generate", *base, "--out", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "components/schemas/Thing/discriminator/mapping/boxes" in r.stderr
    code = (
        "from acme.models import Box, decode_Thing\n"
        "assert isinstance(decode_Thing({'kind': 'box'}), Box)\n"
        "assert decode_Thing({'kind': 'boxes'}) == {'kind': 'boxes'}\n"
    )
    done = subprocess.run(
        ["python3", "-c", code], cwd=tmp_path / "out", capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    r = run_cli("generate", *base, "--out", "strict", "--strict", cwd=tmp_path)
    assert r.returncode == 2


SAME_SHAPE_PATHS = """\
openapi: 3.0.3
info: {title: Acme, version: "1"}
paths:
  /v2/{logName}:
    parameters:
      - {name: logName, in: path, required: true, schema: {type: string}}
    delete: {operationId: deleteLog, responses: {"204": {description: gone}}}
  /v2/{metricName}:
    parameters:
      - {name: metricName, in: path, required: true, schema: {type: string}}
    delete: {operationId: deleteMetric, responses: {"204": {description: gone}}}
  /v2/{metricName}/points:
    parameters:
      - {name: metricName, in: path, required: true, schema: {type: string}}
    get: {operationId: listPoints, responses: {"204": {description: none}}}
"""


def test_paths_that_differ_only_in_parameter_names_warn_and_generate(
    tmp_path: Path,
) -> None:
    """OpenAPI forbids them (no server can tell their calls apart, nor the testing kit's
    fake API); Google's and Azure's published documents have some, so it is a warning.
    """
    r = _generate_acme(tmp_path, SAME_SHAPE_PATHS)
    (line,) = [x for x in r.stderr.splitlines() if "names of its parameters" in x]
    assert line.startswith("warning: acme.yaml#/paths/~1v2~1{metricName}: path ")
    assert "'/v2/{logName}'" in line and "OpenAPI forbids" in line
    base = ("--spec", "acme.yaml", "--package", "acme", "--no-cache")
    r = run_cli("generate", *base, "--out", "strict", "--strict", cwd=tmp_path)
    assert r.returncode == 2


SENT_AS_JSON = """\
openapi: 3.0.3
info: {title: Acme, version: "1"}
paths:
  /users:
    post:
      operationId: createUser
      requestBody:
        content:
          text/xml:
            schema:
              type: object
              properties: {name: {type: string}}
      responses: {"204": {description: made}}
  /notes:
    post:
      operationId: addNote
      requestBody:
        content:
          "":
            schema: {type: array, items: {type: string}}
      responses: {"204": {description: added}}
  /blobs:
    post:
      operationId: putBlob
      requestBody:
        content:
          application/xml: {schema: {type: string}}
      responses: {"204": {description: stored}}
"""


def test_a_structured_body_under_a_media_type_it_is_not_written_in_warns(
    tmp_path: Path,
) -> None:
    """An object under text/xml (AWS's query APIs) or under an empty media type went out
    as JSON without a word; a string body under XML is sent as it is (no warning)."""
    r = _generate_acme(tmp_path, SENT_AS_JSON)
    lines = [x for x in r.stderr.splitlines() if "sent as JSON" in x]
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith(
        "warning: acme.yaml#/paths/~1notes/post/requestBody/content/: "
    )
    assert "under no media type" in lines[0]
    assert lines[1].startswith(
        "warning: acme.yaml#/paths/~1users/post/requestBody/content/text~1xml: "
    )
    assert "under 'text/xml'" in lines[1] and "never in another format" in lines[1]


# ---- what `generate` may replace ------------------------------------------------------------


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root (hidden ones too): a file's bytes, None for a directory."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def test_generate_replaces_only_a_package_it_wrote(tmp_path: Path) -> None:
    spec = str(DATA / "coverage31.yaml")
    args = ("generate", "--spec", spec, "--out", "src", "--package", "mylib")
    own = tmp_path / "src" / "mylib"
    own.mkdir(parents=True)
    (own / "handwritten.py").write_text("precious = True\n")
    before = tree(tmp_path)
    r = run_cli(*args, "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    wanted = (
        "error: src/mylib is not a package ciogen wrote (not empty, no "
        ".ciogen-manifest.json); move it away or choose another --out or --package"
    )
    assert r.stderr.strip().splitlines() == [wanted]
    assert tree(tmp_path) == before  # nothing written, nothing moved aside
    (own / "handwritten.py").unlink()
    own.rmdir()
    own.write_text("a file\n")
    before = tree(tmp_path)
    r = run_cli(*args, "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: src/mylib exists and is not a directory; ciogen will not replace it"
    ]
    assert tree(tmp_path) == before
    own.unlink()
    own.mkdir()  # an empty directory is taken
    assert run_cli(*args, cwd=tmp_path).returncode == 0
    assert (own / ".ciogen-manifest.json").is_file()
    (own / "stray.py").write_text("x = 1\n")  # a package it wrote is replaced as it is
    r = run_cli(*args, "--name", "Other", cwd=tmp_path)
    assert r.returncode == 0 and "removed" in r.stdout
    assert not (own / "stray.py").exists()
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["mylib"]


def test_a_package_behind_a_symbolic_link_is_written_where_the_link_points(
    tmp_path: Path,
) -> None:
    spec = str(DATA / "coverage31.yaml")
    args = ("generate", "--spec", spec, "--out", "src", "--package", "mylib")
    (tmp_path / "real").mkdir()
    (tmp_path / "src").mkdir()
    link = tmp_path / "src" / "mylib"
    link.symlink_to("../real/mylib")
    r = run_cli(*args, cwd=tmp_path)
    wanted = (
        f"error: src/mylib is a symbolic link to {tmp_path / 'real' / 'mylib'}, "
        "which is not a directory"
    )
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [wanted]
    (tmp_path / "real" / "mylib").mkdir()
    for name in ("One", "Two"):  # written, then replaced, through the link
        r = run_cli(*args, "--name", name, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert link.is_symlink() and (link / ".ciogen-manifest.json").is_file()
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["mylib"]
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["mylib"]


def modes(root: Path) -> set[tuple[str, str]]:
    return {
        ("dir" if p.is_dir() else "file", oct(p.stat().st_mode & 0o7777))
        for p in [root, *root.rglob("*")]
    }


def test_the_package_gets_the_modes_of_any_new_directory_and_file(
    tmp_path: Path,
) -> None:
    """Generated as root in a container and imported as another user: the package is
    readable by whoever the umask lets read it (mkdtemp made it 0o700 whatever the umask).
    """
    spec = tmp_path / "api.yaml"
    spec.write_text((DATA / "coverage31.yaml").read_text())
    args = ("generate", "--spec", "api.yaml", "--out", "out", "--package", "p")
    old = os.umask(0o022)
    try:
        assert run_cli(*args, cwd=tmp_path).returncode == 0
        assert modes(tmp_path / "out" / "p") == {("dir", "0o755"), ("file", "0o644")}
        os.umask(0o077)
        spec.write_text(spec.read_text().replace("mode:", "speed:"))
        r = run_cli(*args, cwd=tmp_path)
        assert r.returncode == 0 and "unchanged" in r.stdout
        # unchanged files are carried over, with the mode a new file gets now
        assert modes(tmp_path / "out" / "p") == {("dir", "0o700"), ("file", "0o600")}
        os.umask(0o027)
        spec.write_text(spec.read_text().replace("speed:", "mode:"))
        assert run_cli(*args, cwd=tmp_path).returncode == 0
        assert modes(tmp_path / "out" / "p") == {("dir", "0o750"), ("file", "0o640")}
    finally:
        os.umask(old)


def test_a_run_removes_what_interrupted_runs_left_beside_the_package(
    tmp_path: Path,
) -> None:
    """Scratch copies and moved-aside packages of runs that were killed are removed by the
    next run (even one with nothing to write); those of a live run, and anything else, stay.
    """
    spec = str(DATA / "coverage31.yaml")
    args = ("generate", "--spec", spec, "--out", "out", "--package", "p")
    assert run_cli(*args, cwd=tmp_path).returncode == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead, live = gone.pid, os.getpid()
    out = tmp_path / "out"
    removed = [
        f".p.ciogen-new-{dead}-0a1b2c3d",
        f".p.ciogen-old-{dead}-4e5f6a7b",
        f".p.old-{dead}",  # an earlier version's, a package inside
    ]
    kept = [
        f".p.ciogen-new-{live}-0a1b2c3d",  # a run still going
        f".p.old-{dead + 1}",  # an earlier version moved someone's directory aside
        ".p.settings",  # not ciogen's
        f".q.ciogen-new-{dead}-0a1b2c3d",  # another package's
    ]
    for name in removed + kept:
        (out / name / "models").mkdir(parents=True)
        (out / name / "models" / "pet.py").write_text("x = 1\n")
    (out / f".p.old-{dead}" / ".ciogen-manifest.json").write_text("{}\n")
    (out / f".p.ciogen-old-{dead}-00000000").write_text("a file\n")
    kept.append(f".p.ciogen-old-{dead}-00000000")
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 0 and "up to date" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(["p", *kept])


def test_a_second_run_into_the_same_package_waits_for_the_first(tmp_path: Path) -> None:
    """The lock is `OUT/.PACKAGE.lock` (held by this test here): a run that finds it held
    says so after a moment and writes when it is let go; the lock file goes with the run.
    """
    fcntl = pytest.importorskip("fcntl")

    out = tmp_path / "out"
    out.mkdir()
    lock = out / ".p.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(f"{os.getpid()}\n")
        held.flush()
        args = [
            "--spec",
            str(DATA / "coverage31.yaml"),
            "--out",
            "out",
            "--package",
            "p",
        ]
        run = subprocess.Popen(
            [sys.executable, "-m", "generator", "generate", *args],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert run.stderr is not None
        line = run.stderr.readline()
        while line.startswith("warning: "):  # the spec's, before the write
            line = run.stderr.readline()
        wanted = (
            f"out/p: waiting for another ciogen run (pid {os.getpid()}) to finish "
            "writing it (lock file out/.p.lock)\n"
        )
        assert line == wanted
        assert run.poll() is None and not (out / "p").exists()
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 0 and "error" not in stderr, stderr
    # the runtime modules (with _encoding.py, split off _base_client.py) and those rendered
    assert stdout == "out/p: 21 file(s) written, 0 unchanged\n"
    assert sorted(p.name for p in out.iterdir()) == ["p"]  # the lock file too is gone


# ---- what `check` says ----------------------------------------------------------------------


def test_check_of_a_missing_package_says_so_in_one_line(tmp_path: Path) -> None:
    args = ("--spec", str(DATA / "coverage31.yaml"), "--out", "out", "--package", "p")
    for extra in ((), ("--full",)):
        r = run_cli("check", *extra, *args, cwd=tmp_path)
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.splitlines() == [
            f"out/p: missing; run `ciogen generate {' '.join(args)}`"
        ]
    (tmp_path / "out" / "p").mkdir(parents=True)
    r = run_cli("check", *args, cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0].startswith("out/p: empty; run `ciogen generate")
    (tmp_path / "out" / "p").rmdir()
    (tmp_path / "out" / "p").write_text("a file\n")
    r = run_cli("check", *args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["error: out/p exists and is not a directory"]


def test_check_names_a_file_whose_line_endings_alone_differ(tmp_path: Path) -> None:
    """A checkout that turned LF into CRLF (git's core.autocrlf) is stale, but the diff of
    every line against an identical-looking one helps nobody: one line says what it is.
    """
    args = ("--spec", str(DATA / "coverage31.yaml"), "--out", "out", "--package", "p")
    assert run_cli("generate", *args, cwd=tmp_path).returncode == 0
    readme = tmp_path / "out" / "p" / "README.md"
    readme.write_bytes(readme.read_bytes().replace(b"\n", b"\r\n"))
    client = next((tmp_path / "out" / "p").glob("*_client.py"))
    edited = client.read_bytes().replace(b"\n", b"\r\n", 3) + b"# edited\r\n"
    client.write_bytes(edited)
    for extra in ((), ("--full",)):
        r = run_cli("check", *extra, *args, cwd=tmp_path)
        assert r.returncode == 1
        lines = r.stdout.splitlines()
        assert "out/p/README.md: line endings differ (CRLF)" in lines
        assert not any("README.md (on disk)" in line for line in lines)
        assert (
            f"out/p/{client.name}: line endings differ (CRLF); the diff below ignores them"
            in lines
        )
        assert [line for line in lines if line.startswith(("-", "+"))] == [
            f"--- out/p/{client.name} (on disk)",
            f"+++ out/p/{client.name} (fresh render)",
            "-# edited",
        ]
        assert "out/p/README.md" in r.stderr


# ---- [tool.ciogen] and the options -----------------------------------------------------

WIDGETS = SCHEMES.replace("security: [{missing: []}]\n", "")


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    """The run's one line of error (exit 2, no traceback)."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


BROKEN_PYPROJECTS: dict[str, tuple[bytes, str]] = {
    "ciogen_not_a_table": (
        b'[tool]\nciogen = "x"\n',
        "error: pyproject.toml: [tool.ciogen] must be a table, not a string",
    ),
    "tool_not_a_table": (
        b"tool = 1\n",
        "error: pyproject.toml: tool: must be a table, not a number",
    ),
    "not_utf8": (
        b'[tool.ciogen]\nname = "Caf\xe9"\n',
        "error: pyproject.toml: not UTF-8 text: byte 0xe9 at offset 25 (line 2)",
    ),
    "not_toml": (b"[tool.ciogen\n", "error: pyproject.toml: "),
}


def test_a_broken_pyproject_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(WIDGETS)
    for case, (content, wanted) in BROKEN_PYPROJECTS.items():
        (tmp_path / "pyproject.toml").write_bytes(content)
        r = run_cli("generate", "--spec", "api.yaml", cwd=tmp_path)
        assert one_error_line(r).startswith(wanted), case
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "pyproject.toml").mkdir()
    r = run_cli("generate", "--spec", "api.yaml", cwd=tmp_path)
    assert one_error_line(r) == "error: pyproject.toml: cannot read: Is a directory"
    assert not (tmp_path / "generated").exists()


BAD_TABLE_VALUES = {
    'specs = ["api.yaml", 5]': "specs: must be an array of non-empty strings",
    "specs = []": "specs: an empty array names no specs",
    'specs = "api.yaml,"': "specs: 'api.yaml,' names an empty path",
    'out = ["a"]': "out: must be a string, not an array (['a'])",
    "package = 5": "package: must be a string, not a number (5)",
    'package = ""': "package: must not be empty",
    'package = "not-a-name"': "package: 'not-a-name' is not a valid Python package name",
    'name = "acme"': "name: 'acme' must be a PascalCase identifier (e.g. Acme)",
    # `<Name>Error = Error` would pass 88 columns, and the package fail `black --check`
    f'name = "{"A" * 76}"': f"name: {'A' * 20!r}... is longer than 75 characters",
    "cache = 3": "cache: must be a string, not a number (3)",
    'group_by = "tags"': "group_by: 'tags' is not one of auto, tag, none",
    'speks = "x"': "speks: unknown key (known: specs, out, package, name, group_by, cache)",
    "strict = true": "strict: unknown key (known: specs, out, package, name, group_by, cache)",
    'out = "api.yaml"': "out: 'api.yaml' is not a directory",
}


def test_every_value_of_the_table_is_checked(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(WIDGETS)
    for line, problem in BAD_TABLE_VALUES.items():
        (tmp_path / "pyproject.toml").write_text(
            f'[tool.ciogen]\nspecs = "api.yaml"\n{line}\n'
            if not line.startswith("specs")
            else f"[tool.ciogen]\n{line}\n"
        )
        r = run_cli("generate", cwd=tmp_path)
        assert one_error_line(r) == f"error: pyproject.toml: [tool.ciogen] {problem}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.yaml", "pyproject.toml"]


def test_the_table_takes_an_array_of_specs_and_a_cache_folder(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.yaml").write_text(
            WIDGETS.replace("Acme Widgets", f"Acme {name.upper()}").replace(
                "listWidgets", f"list{name.upper()}"
            )
        )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ciogen]\nspecs = ["a", "b"]\npackage = "acme"\nname = "Acme"\n'
        'cache = "build/cache"\n'
    )
    r = run_cli("generate", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    init = (tmp_path / "generated" / "acme" / "__init__.py").read_text()
    assert "AcmeAApiClient" in init and "AcmeBApiClient" in init
    assert (tmp_path / "build" / "cache").is_dir()
    assert not (tmp_path / ".ciogen-cache").exists()


def test_the_table_is_read_by_hand_where_python_has_no_tomllib() -> None:
    text = (
        '[project]\nname = "x"\n[tool.ciogen]  # ciogen\nspecs = ["a", "b"]  # two\n'
        "package = 'p'\ncache = 3\nstrict = true\n[tool.other]\nout = 'no'\n"
    )
    table = _read_table(text, "tool.ciogen")
    assert table == {"specs": ["a", "b"], "package": "p", "cache": 3, "strict": True}
    # the usual layout of a long array: one item a line, comments, a trailing comma
    text = '[tool.ciogen]\nspecs = [  # ours\n  "a",\n  "b",  # two\n]\npackage = "p"\n'
    assert _read_table(text, "tool.ciogen") == {"specs": ["a", "b"], "package": "p"}
    text = '[tool.ciogen]\nspecs = [\n  "a",\n'  # never closed
    with pytest.raises(UsageError, match="cannot read"):
        _read_table(text, "tool.ciogen")


def test_empty_options_are_refused(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(WIDGETS)
    for flag in ("--package", "--name", "--out"):
        r = run_cli("generate", "--spec", "api.yaml", flag, "", cwd=tmp_path)
        assert one_error_line(r) == (
            f"error: {flag}: an empty value (leave the option out for its default)"
        )
    r = run_cli("generate", "--spec", "", cwd=tmp_path)
    assert (
        one_error_line(r) == "error: --spec: an empty path (name a file or a directory)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.yaml"]


def test_validate_does_not_check_out(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(WIDGETS)
    (tmp_path / "afile").write_text("a file\n")
    r = run_cli(
        "validate", "--spec", "api.yaml", "--out", "afile", "--no-cache", cwd=tmp_path
    )
    assert r.returncode == 0 and r.stdout.startswith("ok: "), r.stderr


def test_a_wrong_argument_is_one_line(tmp_path: Path) -> None:
    r = run_cli("generate", "--bogus", cwd=tmp_path)
    assert one_error_line(r) == (
        "error: ciogen: unrecognized arguments: --bogus (see ciogen --help)"
    )
    r = run_cli("check", "--group-by", "tags", cwd=tmp_path)
    assert one_error_line(r) == (
        "error: ciogen check: argument --group-by: invalid choice: 'tags' (choose from "
        "'auto', 'tag', 'none') (see ciogen check --help)"
    )
    assert one_error_line(run_cli(cwd=tmp_path)).startswith("error: ciogen: ")


def test_the_help_says_where_defaults_come_from() -> None:
    generate = run_cli("generate", "--help").stdout
    for default in ("specs/", "generated/", "customerio_client", ".ciogen-cache/"):
        assert f"else {default}" in " ".join(generate.split())
    assert " ".join(generate.split()).count("default: [tool.ciogen]") == 5
    top = " ".join(run_cli("--help").stdout.split())
    assert "write nothing" not in top and "writes no package (only its cache" in top


def test_a_standard_library_module_is_no_package_name(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(WIDGETS)
    for name in ("json", "http", "typing", "os", "enum", "collections", "dataclasses"):
        r = run_cli("generate", "--spec", "api.yaml", "--package", name, cwd=tmp_path)
        assert one_error_line(r) == (
            f"error: --package {name!r} is a standard-library module (the package "
            "would shadow it or not be importable): pick another name"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.yaml"]


def test_a_soft_keyword_is_a_package_name(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(WIDGETS)
    for name in ("match", "case", "type", "_"):
        r = run_cli(
            "generate",
            "--spec",
            "api.yaml",
            "--package",
            name,
            "--no-cache",
            cwd=tmp_path,
        )
        assert r.returncode == 0, (name, r.stderr)
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            "import match, case, _; print(match.AcmeWidgetsApiClient)",
        ],
        cwd=tmp_path / "generated",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "AcmeWidgetsApiClient" in r.stdout, r.stderr


def test_a_name_whose_error_class_is_taken_is_refused(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(WIDGETS)
    clashes = {
        "API": "APIError would replace the package's own APIError class",
        "NotFound": "NotFoundError would replace the package's own NotFoundError class",
        "RateLimit": "RateLimitError would replace the package's own RateLimitError class",
        "BadRequest": "BadRequestError would replace the package's own BadRequestError class",
        "QueueFull": "QueueFullError would replace the package's own QueueFullError class",
        "Value": "ValueError would shadow Python's built-in ValueError",
        "Api": "FakeApi would replace the testing kit's base class FakeApi",
    }
    for name, clash in clashes.items():
        r = run_cli("generate", "--spec", "api.yaml", "--name", name, cwd=tmp_path)
        assert (
            one_error_line(r) == f"error: --name {name!r}: {clash}; pick another name"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.yaml"]


def test_a_name_from_a_title_keeps_clear_of_the_packages_classes(
    tmp_path: Path,
) -> None:
    (tmp_path / "api.yaml").write_text(
        WIDGETS.replace("Acme Widgets API", "Rate Limit API")
    )
    r = run_cli(
        "generate", "--spec", "api.yaml", "--package", "rl", "--no-cache", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    probe = (
        "import rl, rl._errors as e, rl.testing as t\n"
        "assert rl.RateLimitError is e.RateLimitError is not e.Error\n"
        "assert rl.RateLimitApiError is e.Error\n"
        "assert t.FakeRateLimitApi.__name__ == 'FakeRateLimitApi'\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path / "generated",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


def test_checking_a_name_does_not_import_the_ir(tmp_path: Path) -> None:
    code = (
        "import sys; from generator.cli import options, parser\n"
        "options(parser().parse_args(['check', '--name', 'Acme']))\n"
        "print(sorted(m for m in sys.modules if m.startswith('generator.ir')))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert r.stdout.strip() == "[]", r.stderr


def test_api_names_derived_from_titles_avoid_every_clash() -> None:
    assert api_name(["Rate Limit API"], "p") == "RateLimitApi"
    assert api_name(["Not Found"], "p") == "NotFoundApi"
    assert api_name(["Key API"], "p") == "KeyApi"  # KeyError is Python's
    assert api_name([], "api") == "ApiApi"  # FakeApi is the testing kit's
    assert api_name(["Acme Widgets API"], "p") == "AcmeWidgets"


def test_the_reserved_error_names_are_the_packages_exports() -> None:
    exported = {
        n
        for names in (*_PACKAGE_EXPORTS.values(), *_DELIVERY_EXPORTS.values())
        for n in names
        if n.endswith("Error")
    }
    assert exported == PACKAGE_ERRORS | DELIVERY_ERRORS
    assert {n for n in _PACKAGE_EXPORTS["._errors"]} == PACKAGE_ERRORS
    testing = (ROOT / "templates" / "package" / "testing.py.j2").read_text()
    assert f"class {{{{ fake }}}}({TESTING_BASE}):" in testing


def test_a_spec_whose_info_is_no_object_warns_and_is_named_from_the_package(
    tmp_path: Path,
) -> None:
    (tmp_path / "api.yaml").write_text(
        WIDGETS.replace("info: {title: Acme Widgets API, version: '1'}", 'info: "x"')
    )
    r = run_cli(
        "generate",
        "--spec",
        "api.yaml",
        "--package",
        "acme",
        "--no-cache",
        cwd=tmp_path,
    )
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "api.yaml#/info: 'x' is not of type 'object'" in r.stderr
    init = (tmp_path / "generated" / "acme" / "__init__.py").read_text()
    assert "AcmeError = Error" in init


# ---- which files are the specs ---------------------------------------------------------

FRAGMENTS = """Widget:
  type: object
  properties: {id: {type: string}}
"""


def test_a_spec_directory_skips_files_that_are_no_openapi_document(
    tmp_path: Path,
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "API.YAML").write_text(
        WIDGETS
        + "components:\n  schemas:\n    Widget: {$ref: 'schemas.yaml#/Widget'}\n"
    )
    (specs / "schemas.yaml").write_text(FRAGMENTS)  # $ref'd by the spec
    (specs / "config.yaml").write_text("openapi_generator: {enabled: true}\n")
    (specs / "notes.yml").write_text("a: [1\n")  # not even YAML: no spec either
    (specs / "Other.Json").write_text(
        '{"info": {"title": "Other", "version": "1"}, "openapi": "3.0.3", "paths": {}}'
    )
    r = run_cli("validate", "--spec", "specs", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(
        "ok: 3 file(s), 2 surface(s), 1 operation(s), 1 model(s)"
    )


def test_a_file_named_that_is_no_openapi_document_says_so(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("enabled: true\n")
    r = run_cli("validate", "--spec", "config.yaml", "--no-cache", cwd=tmp_path)
    assert one_error_line(r) == (
        "error: config.yaml#: not an OpenAPI document (no `openapi` key)"
    )
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.yaml").write_text("enabled: true\n")
    r = run_cli("validate", "--spec", "empty", "--no-cache", cwd=tmp_path)
    assert one_error_line(r) == (
        "error: empty#: no OpenAPI files found (a directory's YAML and JSON files "
        "without a top-level `openapi` key are not specs)"
    )


def test_a_dangling_link_is_named_as_given(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").symlink_to("gone/real.yaml")
    r = run_cli("validate", "--spec", "api.yaml", "--no-cache", cwd=tmp_path)
    assert one_error_line(r) == (
        "error: api.yaml#: a symbolic link to 'gone/real.yaml', which does not exist"
    )


def test_an_unreadable_spec_directory_is_a_spec_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path) -> Iterator[Path]:
        raise PermissionError(13, "Permission denied", str(self))

    (tmp_path / "specs").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(SpecError) as caught:
        find_spec_files([Path("specs")])
    assert str(caught.value) == "specs#: cannot read directory: Permission denied"


# ---- Ctrl-C --------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("later", [0.0, 0.5])  # while validating; while rendering
def test_ctrl_c_is_one_line_and_exit_130_from_every_process(
    later: float, tmp_path: Path
) -> None:
    paths = "".join(
        f"  /widgets{i}/{{id}}:\n    get:\n      operationId: getWidget{i}\n"
        "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
        "      responses:\n        '200':\n          description: ok\n"
        "          content: {application/json: {schema: {$ref: '#/components/schemas/W'}}}\n"
        # big enough that the run is still going at the interrupt on a fast machine (400
        # operations were done in 0.6 s, before the later one); it costs only till then
        for i in range(3000)
    )
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: Acme, version: '1'}\n"
        "servers: [{url: 'https://api.acme.example'}]\npaths:\n"
        + paths
        + "components:\n  schemas:\n    W: {type: object, properties: {id: {type: string}}}\n"
    )
    args = ["generate", "--spec", "api.yaml", "--out", "out", "--no-cache"]
    run = subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CIOGEN_JOBS": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
    )
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children")
    workers: list[str] = []
    deadline = time.monotonic() + 60
    while not workers and run.poll() is None and time.monotonic() < deadline:
        workers = children.read_text().split() if children.exists() else []
        time.sleep(0.01)
    assert workers, "the run made no worker processes (or ended first)"
    time.sleep(later)
    workers += children.read_text().split()  # a render helper, by now
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = run.communicate(timeout=60)
    assert (run.returncode, err) == (130, "interrupted\n")
    time.sleep(0.2)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()]
    assert not (tmp_path / "out").exists()


SPLIT_BY_SERVER = """\
openapi: 3.0.3
info:
  title: Acme API
  version: "1"
  description: |
    ## About

    Pings, *fast*.
servers: [{url: "https://api.acme.test"}]
paths:
  /ping:
    get:
      operationId: ping
      responses: {"204": {description: done}}
  /beta/ping:
    get:
      operationId: betaPing
      servers: [{url: "https://beta.acme.test"}]
      responses: {"204": {description: done}}
"""


def test_the_readme_names_each_title_once_and_lists_only_what_the_package_has(
    tmp_path: Path,
) -> None:
    """Operations with servers of their own make a surface of their own, with their
    document's title: the README said "a client for Acme API and Acme API". A package
    with no models, no semantic events and no background delivery does not claim them.
    """
    _generate_acme(tmp_path, SPLIT_BY_SERVER)
    readme = (tmp_path / "out" / "acme" / "README.md").read_text()
    assert "A typed Python client for Acme API, generated by ciogen" in readme
    assert "The errors of calls derive from `AcmeError`" in readme
    assert "Every operation is listed in [REFERENCE.md]" in readme
    init = (tmp_path / "out" / "acme" / "__init__.py").read_text()
    assert '"""Acme API: a typed Python client' in init
    # the description the two surfaces share is shown once
    reference = (tmp_path / "out" / "acme" / "REFERENCE.md").read_text()
    assert reference.count("**About**\n\nPings, *fast*.") == 1
    assert "Described under [AcmeApiClient](#acmeapiclient)." in reference
    ours = (ROOT / "generated" / "customerio_client" / "README.md").read_text()
    assert "The errors of calls and deliveries derive from" in ours
    assert "Every operation, model and semantic event is listed" in ours
