"""The generator core: CLI contract, loader errors, OpenAPI coverage, determinism, freshness."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.packages import DATA, ROOT, generate, imported, run_cli
from support.py39 import not_python_39

PY = sys.executable


@pytest.fixture(scope="module")
def coverage_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("coverage")
    for name in ("coverage30", "coverage31", "webhooks31"):
        generate(out, name, [DATA / f"{name}.yaml"])
    with imported(out):
        yield out


# ---- general OpenAPI coverage --------------------------------------------------------------


def test_coverage_packages_pass_mypy_strict_and_ruff(coverage_out: Path) -> None:
    bindir = Path(PY).parent
    mypy = subprocess.run(
        [PY, "-m", "mypy", "--strict", "coverage30", "coverage31", "webhooks31"],
        cwd=coverage_out,
        capture_output=True,
        text=True,
    )
    assert mypy.returncode == 0, mypy.stdout
    ruff = subprocess.run(
        [
            str(bindir / "ruff"),
            "check",
            "--no-cache",
            "--config",
            str(ROOT / "pyproject.toml"),
            ".",
        ],
        cwd=coverage_out,
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout
    # ruff's own default rules too (pyupgrade, simplify, isort...): what a user's linter sees
    ruff = subprocess.run(
        [
            str(bindir / "ruff"),
            "check",
            "--no-cache",
            "--isolated",
            "--target-version",
            "py39",
            ".",
        ],
        cwd=coverage_out,
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout


def test_all_of_merges_parts(coverage_out: Path) -> None:
    m = importlib.import_module("coverage30.models")
    names = [f for f in m.Pet.__dataclass_fields__]
    assert {"name", "kind", "id_", "born", "seen_at", "photo"} <= set(names)
    pet = m.Pet.from_dict({"id": 1, "name": "a", "kind": "cat"})
    assert pet.id_ == 1 and pet.name == "a"


def test_discriminator_decodes_by_value_not_by_trial(coverage_out: Path) -> None:
    m = importlib.import_module("coverage30.models")
    # a Dog payload that would also satisfy Cat's required keys: only the tag decides
    assert isinstance(m.decode_Animal({"species": "dog", "good": True}), m.Dog)
    assert isinstance(m.decode_Animal({"species": "cat", "lives": 9}), m.Cat)
    unknown = m.decode_Animal({"species": "bird"})
    assert unknown == {"species": "bird"}  # an unlisted tag is kept raw, not forced


def test_union_without_discriminator_decodes_by_shape(coverage_out: Path) -> None:
    m = importlib.import_module("coverage30.models")
    assert m.decode_Shape([1, 2]) == [1, 2]
    assert isinstance(m.decode_Shape({"species": "cat"}), m.Cat)
    assert m.decode_NewPetIdOrName("x") == "x" and m.decode_NewPetIdOrName(3) == 3


def test_string_and_integer_enums_keep_unknown_values(coverage_out: Path) -> None:
    m = importlib.import_module("coverage30.models")
    pet = m.NewPet.from_dict({"name": "a", "kind": "dog", "size": 2})
    assert pet.kind is m.Kind.DOG and pet.size is m.Size.VALUE_2
    assert m.Kind.IN_BETWEEN.value == "in-between"
    odd = m.NewPet.from_dict({"name": "a", "kind": "lizard", "size": 9})
    assert odd.kind == "lizard" and not isinstance(odd.kind, m.Kind)
    assert odd.size == 9 and not isinstance(odd.size, m.Size)
    assert odd.to_dict()["kind"] == "lizard"


def test_nullable_30_and_31_and_unset_vs_null(coverage_out: Path) -> None:
    m30 = importlib.import_module("coverage30.models")
    m31 = importlib.import_module("coverage31.models")
    assert m30.NewPet(name="a", kind="cat").to_dict() == {"name": "a", "kind": "cat"}
    assert m30.NewPet(name="a", kind="cat", nickname=None).to_dict()["nickname"] is None
    thing = m31.Thing.from_dict({"kind": "thing", "note": None, "count": None})
    assert thing.note is None and thing.count is None
    assert m31.Thing(note=None).to_dict() == {"note": None, "kind": "thing"}


def test_const_is_a_literal_with_its_value_as_default(coverage_out: Path) -> None:
    m31 = importlib.import_module("coverage31.models")
    assert m31.Thing(note="n").kind == "thing"
    assert "Literal['thing']" in m31.Thing.__annotations__["kind"].replace('"', "'")


def test_additional_properties_true_and_schema(coverage_out: Path) -> None:
    m = importlib.import_module("coverage30.models")
    pet = m.NewPet.from_dict(
        {
            "name": "a",
            "kind": "cat",
            "labels": {"a": "b"},
            "extra": {"x": [1]},
            "unknown": True,
        }
    )
    assert pet.labels == {"a": "b"} and pet.extra == {"x": [1]}
    assert pet.additional_properties == {"unknown": True}
    assert pet.to_dict()["unknown"] is True
    assert "dict[str, str]" in m.NewPet.__annotations__["labels"]


def test_arrays_of_refs_and_recursive_refs(coverage_out: Path) -> None:
    m = importlib.import_module("coverage30.models")
    data = {
        "label": "root",
        "children": [{"label": "kid", "children": [{"label": "grandkid"}]}],
    }
    tag = m.Tag.from_dict(data)
    assert isinstance(tag.children[0], m.Tag) and isinstance(
        tag.children[0].children[0], m.Tag
    )
    assert tag.to_dict() == data
    pet = m.NewPet.from_dict(
        {"name": "a", "kind": "cat", "parent": {"name": "p", "kind": "dog"}}
    )
    assert isinstance(pet.parent, m.NewPet)


def test_inline_objects_are_named_from_where_they_stand(coverage_out: Path) -> None:
    m = importlib.import_module("coverage30.models")
    assert hasattr(m, "PutOwnerRequest") and hasattr(m, "PutOwnerRequestAddress")
    owner = m.PutOwnerRequest.from_dict(
        {"name": "n", "address": {"street": "s", "zip": None}}
    )
    assert (
        isinstance(owner.address, m.PutOwnerRequestAddress)
        and owner.address.zip_ is None
    )


def test_formats_date_time_date_and_binary(coverage_out: Path) -> None:
    import datetime

    m = importlib.import_module("coverage30.models")
    pet = m.Pet.from_dict(
        {
            "id": 1,
            "name": "a",
            "kind": "cat",
            "born": "2020-02-02",
            "seen_at": "2024-01-15T10:30:00Z",
        }
    )
    assert pet.born == datetime.date(2020, 2, 2)
    assert pet.seen_at == datetime.datetime(
        2024, 1, 15, 10, 30, tzinfo=datetime.timezone.utc
    )
    assert pet.to_dict()["seen_at"] == "2024-01-15T10:30:00.000Z"
    assert m.Pet.__annotations__["photo"].startswith("bytes")  # format: binary
    # bytes stay bytes in to_dict: a multipart body sends them as a file part, and the JSON
    # encoder writes them as base64
    photo = m.Pet(name="a", kind="cat", id_=1, photo=b"\x00").to_dict()["photo"]
    assert photo == b"\x00"


def test_parameters_optional_body_content_types_and_derived_ids(
    coverage_out: Path,
) -> None:
    import inspect

    pkg = importlib.import_module("coverage30")
    client_cls = pkg.CoverageThirtyClient
    sig = inspect.signature(client_cls.get_pet)
    params = sig.parameters
    assert params["pet_id"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert params["x_trace_id"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["x_trace_id"].default is inspect.Parameter.empty  # required header
    assert "class_" in params and "expand" in params  # keyword escaped
    post = inspect.signature(client_cls.post_pets).parameters
    assert post["body"].default is pkg.UNSET  # optional request body
    assert (
        "post_pets" == pkg.OPERATIONS["post_pets"].method
    )  # missing operationId derived
    assert pkg.OPERATIONS["post_pets"].path == "/pets"
    src = (coverage_out / "coverage30" / "coverage_thirty.py").read_text()
    assert (
        "application/xml" not in src.split("class ")[0]
    )  # JSON (the default) preferred
    assert 'content_type="application/octet-stream"' in src


def test_spec_text_cannot_break_or_inject_code(coverage_out: Path) -> None:
    pkg = importlib.import_module("coverage30")
    doc = pkg.CoverageThirtyClient.get_pet.__doc__ or ""
    assert 'Get a pet """ with quotes' in doc
    assert "Ends with a backslash \\" in doc
    assert "{{ jinja }}" in (pkg.CoverageThirtyClient.__doc__ or "")
    models = importlib.import_module("coverage30.models")
    assert (models.Unused.__doc__ or "").startswith(
        'Not referenced by any operation, still generated: "quoted"'
    )


def test_a_date_time_that_does_not_parse_is_a_typed_error_on_the_wire(
    coverage_out: Path,
) -> None:
    """A 200 answer whose date-time field does not parse raises the package's
    APIResponseValidationError with the status, the body and the request id (never a bare
    ValueError, never the text left in a datetime field)."""
    pkg = importlib.import_module("coverage30")
    fake = importlib.import_module("coverage30._fake_server")
    pet = {"id": 1, "name": "Rex", "kind": "dog", "seen_at": "last tuesday"}
    headers = {"Content-Type": "application/json", "X-Request-Id": "req-9"}
    answer = json.dumps(pet).encode()
    with fake.FakeServer(responder=lambda request: (200, headers, answer)) as server:
        with pkg.CoverageThirtyClient(base_url=server.url) as client:
            with pytest.raises(pkg.APIResponseValidationError) as caught:
                client.get_pet(1, x_trace_id="t-1")
            pet["seen_at"] = "2024-01-15T10:30:00Z"
            answer = json.dumps(pet).encode()
            seen = client.get_pet(1, x_trace_id="t-1").data.seen_at
    err = caught.value
    assert err.status_code == 200 and err.request_id == "req-9"
    assert err.body == {**pet, "seen_at": "last tuesday"}
    assert seen is not None and seen.year == 2024 and seen.tzinfo is not None


def test_webhooks_only_and_no_responses_generate(coverage_out: Path) -> None:
    hooks = importlib.import_module("webhooks31.models")
    assert hooks.NewPetPostWebhookRequest.from_dict({"name": "x"}).name == "x"
    c31 = importlib.import_module("coverage31")
    assert "createThing" in c31.OPERATIONS


def test_nothing_is_dropped(coverage_out: Path) -> None:
    import yaml

    m = importlib.import_module("coverage30.models")
    spec = yaml.safe_load((DATA / "coverage30.yaml").read_text())
    for name in spec["components"]["schemas"]:
        assert hasattr(m, name), name
    ops = importlib.import_module("coverage30").OPERATIONS
    n_ops = sum(1 for item in spec["paths"].values() for k in item if k != "parameters")
    assert len(ops) == n_ops


# ---- bad input: exit 2, one line, file and pointer, nothing written -----------------------


BAD_CASES: dict[str, tuple[str | bytes, str]] = {
    "broken_ref": (
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
            "      responses:\n        '200':\n          description: ok\n          content:\n"
            "            application/json:\n              schema: {$ref: '#/components/schemas/Nope'}\n"
        ),
        "#/paths/~1a/get/responses/200/content/application~1json/schema/$ref",
    ),
    "unknown_type": (
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n"
            "  schemas:\n    A: {type: strin}\n"
        ),
        "#/components/schemas/A/type",
    ),
    "malformed_yaml": ("openapi: 3.0.3\ninfo: [unclosed\n", "invalid YAML"),
    "swagger2": (
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n",
        "#/swagger",
    ),
    "partial_failure_status": (
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /b:\n    post:\n"
            "      x-ciogen-partial-failure: {status: 207, errors: errors, index: i}\n"
            "      responses:\n        '200': {description: ok}\n"
        ),
        "#/paths/~1b/post/x-ciogen-partial-failure/status",
    ),
    "partial_failure_field": (
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /b:\n    post:\n"
            "      x-ciogen-partial-failure: {status: 207, errors: 3, index: i}\n"
            "      responses:\n        '207': {description: some refused}\n"
        ),
        "#/paths/~1b/post/x-ciogen-partial-failure/errors",
    ),
    "bad_properties": (
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n"
            "  schemas:\n    A: {type: object, properties: [1, 2]}\n"
        ),
        "#/components/schemas/A/properties",
    ),
    # aliases that lead back to each other: there is no schema to type them with
    "circular_alias": (
        (
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n"
            "  schemas:\n    A: {$ref: '#/components/schemas/B'}\n"
            "    B: {$ref: '#/components/schemas/A'}\n"
        ),
        "#/components/schemas/B/$ref: circular $ref",
    ),
    # the bytes are not UTF-8: the error says which one and where
    "not_utf8": (
        b"openapi: 3.0.3\ninfo: {title: caf\xe9, version: '1'}\npaths: {}\n",
        "#: not UTF-8 text: byte 0xe9 at offset 32 (line 2)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_exits_2_with_file_and_pointer(case: str, tmp_path: Path) -> None:
    text, where = BAD_CASES[case]
    spec = tmp_path / "bad.yaml"
    spec.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "out"
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        str(out),
        "--package",
        "pkg",
        "--no-cache",
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "bad.yaml" in lines[0] and where in lines[0], lines[0]
    assert not out.exists()


def test_tags_that_are_no_list_are_a_warning_not_a_crash(tmp_path: Path) -> None:
    spec = tmp_path / "tags.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      operationId: getA\n      tags: 5\n"
        "      responses:\n        '200': {description: ok}\n"
    )
    r = run_cli(
        "generate", "--spec", str(spec), "--out", str(tmp_path / "o"), "--no-cache"
    )
    assert r.returncode == 0, r.stderr
    assert "warning:" in r.stderr and "/paths/~1a/get/tags" in r.stderr


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    r = run_cli("generate", "--package", "not-a-name", "--out", str(tmp_path))
    assert r.returncode == 2 and "not a valid Python package name" in r.stderr
    r = run_cli(
        "generate", "--spec", str(tmp_path / "missing.yaml"), "--out", str(tmp_path)
    )
    assert (
        r.returncode == 2 and "missing.yaml" in r.stderr and "Traceback" not in r.stderr
    )


INVALID_EXAMPLE_SPEC = (
    "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    post:\n"
    "      operationId: postA\n      requestBody:\n        content:\n          application/json:\n"
    "            schema: {type: object, properties: {n: {type: integer}}}\n"
    "            example: {n: not-a-number}\n      responses:\n        '200': {description: ok}\n"
)


def test_invalid_example_is_a_warning_and_strict_makes_it_an_error(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "ex.yaml"
    spec.write_text(INVALID_EXAMPLE_SPEC)
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        str(tmp_path / "o"),
        "--package",
        "p",
        "--no-cache",
    )
    assert r.returncode == 0, r.stderr
    assert (
        "warning:" in r.stderr
        and "ex.yaml#/paths/~1a/post/requestBody/examples/example" in r.stderr
    )
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        str(tmp_path / "o2"),
        "--package",
        "p",
        "--no-cache",
        "--strict",
    )
    assert r.returncode == 2 and "ex.yaml" in r.stderr
    assert not (tmp_path / "o2").exists()


def test_failed_run_leaves_previous_output_untouched(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    shutil.copy(DATA / "coverage31.yaml", spec)
    out = tmp_path / "out"
    assert (
        run_cli(
            "generate", "--spec", str(spec), "--out", str(out), "--package", "p"
        ).returncode
        == 0
    )
    before = {p: p.read_bytes() for p in (out / "p").rglob("*") if p.is_file()}
    spec.write_text(spec.read_text().replace("format: date-time", "type: strange"))
    r = run_cli("generate", "--spec", str(spec), "--out", str(out), "--package", "p")
    assert r.returncode == 2
    after = {p: p.read_bytes() for p in (out / "p").rglob("*") if p.is_file()}
    assert before == after
    assert sorted(x.name for x in out.iterdir()) == [
        "p"
    ]  # no temporary directory left behind


# ---- determinism, freshness, check ----------------------------------------------------------


def render_in_memory(cache: Any) -> dict[str, bytes]:
    from generator.pipeline import Options, render

    opts = Options(
        specs=[ROOT / "specs"],
        out=ROOT / "generated",
        package="customerio_client",
        name="CustomerIO",
        strict=False,
        cache_dir=cache,
    )
    result = render(opts)
    return {**result.files, ".ciogen-manifest.json": result.manifest}


def test_two_renders_are_byte_identical(tmp_path: Path) -> None:
    first = render_in_memory(None)
    second = render_in_memory(tmp_path / "cache")  # cold cache, then
    third = render_in_memory(tmp_path / "cache")  # warm cache
    assert first == second == third


def test_every_file_has_a_banner_with_the_version_and_no_hash_or_timestamp() -> None:
    """The banner names the generator version only: a file whose content did not change is
    not rewritten because some other input did."""
    import re

    from generator import __version__

    files = render_in_memory(None)
    for name, data in files.items():
        if name.endswith((".json", ".typed")):
            continue
        head = data.decode().splitlines()[0]
        assert f"ciogen {__version__}" in head, name
        assert not re.search(r"[0-9a-f]{16}|\d{4}-\d{2}-\d{2}", head), name


def test_generate_rewrites_nothing_when_fresh(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = (
        "generate",
        "--spec",
        str(DATA / "coverage30.yaml"),
        "--out",
        str(out),
        "--package",
        "p",
    )
    assert run_cli(*args).returncode == 0
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "p").rglob("*") if p.is_file()}
    r = run_cli(*args)
    assert r.returncode == 0 and "up to date" in r.stdout
    assert {
        p: p.stat().st_mtime_ns for p in (out / "p").rglob("*") if p.is_file()
    } == mtimes


def test_generate_counts_written_unchanged_and_removed_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = (
        "generate",
        "--spec",
        str(DATA / "coverage30.yaml"),
        "--out",
        str(out),
        "--package",
        "p",
    )
    assert run_cli(*args).returncode == 0
    total = len(
        [
            p
            for p in (out / "p").rglob("*")
            if p.is_file() and not p.name.startswith(".")
        ]
    )
    (out / "p" / "stray.py").write_text("x = 1\n")
    (out / "p" / "models" / "pet.py").write_text("edited\n")
    r = run_cli(*args)
    assert r.returncode == 0
    assert f"1 file(s) written, {total - 1} unchanged, 1 removed" in r.stdout
    assert not (out / "p" / "stray.py").exists()


def test_check_detects_hand_edits_and_names_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = (
        "--spec",
        str(DATA / "coverage30.yaml"),
        "--out",
        str(out),
        "--package",
        "p",
    )
    assert run_cli("generate", *base).returncode == 0
    assert run_cli("check", *base).returncode == 0
    assert run_cli("check", "--full", *base).returncode == 0
    target = out / "p" / "models" / "pet.py"
    target.write_text(target.read_text().replace("class Pet:", "class Pet:  # edited"))
    for extra in ((), ("--full",)):
        r = run_cli("check", *extra, *base)
        assert r.returncode == 1
        assert "models/pet.py" in r.stderr and "-class Pet:  # edited" in r.stdout


@pytest.mark.parametrize("given", ["file", "directory"])
def test_the_output_does_not_depend_on_the_working_directory(
    given: str, tmp_path: Path
) -> None:
    """Spec files are named from the folder holding the --spec paths: a file given alone
    by its name, a directory's files as `<directory>/<file>`, from wherever the run is.
    """
    api = tmp_path / "api"
    api.mkdir()
    shutil.copy(DATA / "coverage31.yaml", api / "s.yaml")
    spec = api / "s.yaml" if given == "file" else api
    out = str(tmp_path / "out")
    # --name: the checkout's pyproject.toml names the API for runs from ROOT
    base = ("--spec", str(spec), "--out", out, "--package", "p", "--name", "Cov")
    assert run_cli("generate", "--no-cache", *base, cwd=api).returncode == 0
    name = "s.yaml" if given == "file" else "api/s.yaml"
    readme = (tmp_path / "out" / "p" / "README.md").read_text()
    assert f"| `{name}` |" in readme
    assert (
        f"from `{name}#/components/schemas/"
        in (tmp_path / "out" / "p" / "REFERENCE.md").read_text()
    )
    for cwd in (tmp_path, ROOT):
        r = run_cli("check", "--full", "--no-cache", *base, cwd=cwd)
        assert r.returncode == 0, r.stdout


def test_check_detects_a_changed_spec(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    shutil.copy(DATA / "coverage31.yaml", spec)
    base = ("--spec", str(spec), "--out", str(tmp_path / "out"), "--package", "p")
    assert run_cli("generate", *base).returncode == 0
    spec.write_text(spec.read_text().replace("mode:", "speed:"))
    r = run_cli("check", *base)
    assert r.returncode == 1 and "models/" in r.stderr


REFERRING = """openapi: 3.0.3
info: {title: Things, version: "1"}
paths:
  /thing:
    get:
      operationId: getThing
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: '../common/api.yaml#/Thing'}
"""


def test_check_sees_an_edit_to_a_file_a_ref_leads_to(tmp_path: Path) -> None:
    """The manifest keyed specs by file name: `common/api.yaml`, outside the spec folder,
    shared `specs/api.yaml`'s name, and an edit to it left the fast path "in sync"."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "common").mkdir()
    (tmp_path / "specs" / "api.yaml").write_text(REFERRING)
    common = tmp_path / "common" / "api.yaml"
    common.write_text("Thing: {type: object, properties: {a: {type: string}}}\n")
    base = ("--spec", "specs", "--out", "out", "--package", "p")
    assert run_cli("generate", *base, cwd=tmp_path).returncode == 0
    assert run_cli("check", *base, cwd=tmp_path).returncode == 0
    common.write_text(common.read_text().replace("a: {", "b: {"))
    r = run_cli("check", *base, cwd=tmp_path)
    assert r.returncode == 1 and "models/thing.py" in r.stderr


def test_config_defaults_from_pyproject_and_flags_win(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    shutil.copy(DATA / "coverage31.yaml", tmp_path / "api" / "c.yaml")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ciogen]\nspecs = "api"\nout = "build_out"\npackage = "from_config"\n'
    )
    assert run_cli("generate", cwd=tmp_path).returncode == 0
    assert (tmp_path / "build_out" / "from_config" / "__init__.py").exists()
    assert run_cli("generate", "--package", "from_flag", cwd=tmp_path).returncode == 0
    assert (tmp_path / "build_out" / "from_flag" / "__init__.py").exists()


def test_validate_reports_without_writing(tmp_path: Path) -> None:
    r = run_cli("validate", "--out", str(tmp_path / "nothing"))
    assert (
        r.returncode == 0
        and "41 operation(s)" in r.stdout
        and "22 semantic event(s)" in r.stdout
    )
    assert not (tmp_path / "nothing").exists()


def test_generated_package_is_in_sync_with_specs_and_templates() -> None:
    """The regeneration check: a full render must equal the committed generated/ tree."""
    from generator.render.output import read_tree, unified_diff

    files = render_in_memory(None)
    files.pop(".ciogen-manifest.json")
    stale, diff = unified_diff(
        files,
        read_tree(ROOT / "generated" / "customerio_client"),
        "generated/customerio_client",
    )
    assert not stale, f"stale files {stale}; run `make generate`\n{diff[:4000]}"


def test_the_committed_manifest_answers_check_without_rendering() -> None:
    """generated/'s manifest is current (regenerated after every change to the generator,
    not only to what it writes): `check`, the pre-commit hook, answers from it and
    renders nothing."""
    code = (
        "import sys; from generator.cli import main; code = main(['check']); "
        "print(code, 'generator.ir.model' in sys.modules)"
    )
    r = subprocess.run(
        [PY, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert r.stdout.strip().splitlines()[-1] == "0 False", (
        "generated/.ciogen-manifest.json is stale: run `make generate`\n" + r.stderr
    )


def test_generated_package_imports_under_python_39(tmp_path: Path) -> None:
    pyenv = Path.home() / ".pyenv" / "versions"
    candidates: list[str] = [
        str(p / "bin" / "python3.9") for p in sorted(pyenv.glob("3.9*"))
    ]
    if not candidates:
        pytest.skip("no Python 3.9 interpreter on this machine")
    code = (
        "import customerio_client as c, customerio_client.models, customerio_client.events;"
        "print(len(c.OPERATIONS))"
    )
    r = subprocess.run(
        [candidates[0], "-c", code],
        cwd=ROOT / "generated",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == 41


def test_json_specs_are_read_like_yaml(tmp_path: Path) -> None:
    import yaml

    spec = tmp_path / "c.json"
    spec.write_text(json.dumps(yaml.safe_load((DATA / "coverage31.yaml").read_text())))
    out = tmp_path / "out"
    r = run_cli(
        "generate", "--spec", str(spec), "--out", str(out), "--package", "fromjson"
    )
    assert r.returncode == 0, r.stderr
    assert "class Thing:" in (out / "fromjson" / "models" / "thing.py").read_text()
    bad = tmp_path / "bad.json"
    bad.write_text('{"openapi": "3.1.0",')
    r = run_cli("generate", "--spec", str(bad), "--out", str(out), "--package", "x")
    assert r.returncode == 2 and "bad.json" in r.stderr and "invalid JSON" in r.stderr


def test_example_findings_are_cached_without_losing_the_warning(tmp_path: Path) -> None:
    spec = tmp_path / "ex.yaml"
    spec.write_text(INVALID_EXAMPLE_SPEC)
    code = (
        "import sys; from generator.cli import main; "
        f"code = main(['generate', '--spec', {str(spec)!r}, '--out', {str(tmp_path / 'o')!r}, "
        "'--package', 'p']); "
        "print('imported' if 'openapi_schema_validator' in sys.modules else 'not imported')"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CIOGEN_JOBS": "1"}
    runs = [
        subprocess.run(
            [PY, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    for r in runs:
        assert "example does not match its schema" in r.stderr, r.stderr
    assert runs[0].stdout.splitlines()[-1] == "imported"
    assert runs[1].stdout.splitlines()[-1] == "not imported"


def test_an_example_finding_says_what_failed_where_without_quoting_the_example(
    tmp_path: Path,
) -> None:
    """The message is the error jsonschema finds most relevant (inside an array, the
    item's), and the value it quotes is cut short and spelled as JSON: a failing example
    can be megabytes, and `None`/`True` are not what the spec's author wrote."""
    pet = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string"},
                        "on": {"type": "boolean"},
                    },
                },
            },
        },
    }
    examples = {
        "deep": {"value": {"name": "x" * 500, "tags": [{"label": "a"}, {"label": 1}]}},
        "whole": {"value": [{"name": "y" * 500, "on": True, "gone": None}]},
    }
    spec = tmp_path / "pets.json"
    spec.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "t", "version": "1"},
                "paths": {
                    "/pets": {
                        "post": {
                            "operationId": "addPet",
                            "requestBody": {
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/Pet"},
                                        "examples": examples,
                                    }
                                }
                            },
                            "responses": {"204": {"description": "ok"}},
                        }
                    }
                },
                "components": {"schemas": {"Pet": pet}},
            }
        )
    )
    r = run_cli("validate", "--spec", str(spec), "--no-cache", cwd=tmp_path)
    found = {
        line.split("/examples/")[1]
        for line in r.stderr.splitlines()
        if "/examples/" in line
    }
    said = "example does not match its schema"
    deep = f"deep: {said}: 1 is not of type 'string' (at tags/1/label)"
    cut = '[{"name": "' + "y" * 46 + "..."
    assert found == {deep, f"whole: {said}: {cut} is not of type 'object'"}, r.stderr


def test_a_finding_without_a_location_is_placed_at_its_default(tmp_path: Path) -> None:
    """openapi-spec-validator reports a `default` of the wrong type with no path at all; the
    warning (and --strict's error) still names the pointer of that default."""
    spec = tmp_path / "defaults.yaml"
    spec.write_text(
        "openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /tracks:\n    get:\n"
        "      operationId: getTracks\n      parameters:\n"
        "        - {$ref: '#/components/parameters/access'}\n"
        "      responses:\n        '200': {description: ok}\ncomponents:\n  parameters:\n"
        "    access:\n      in: query\n      name: access\n"
        "      schema: {type: array, items: {type: string}, default: 'playable,preview'}\n"
    )
    where = "defaults.yaml#/components/parameters/access/schema/default"
    r = run_cli("validate", "--spec", str(spec), "--no-cache", cwd=tmp_path)
    assert r.returncode == 0 and where in r.stderr, r.stderr
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        str(tmp_path / "out"),
        "--strict",
        "--no-cache",
        cwd=tmp_path,
    )
    assert (
        r.returncode == 2
        and where in r.stderr
        and len(r.stderr.strip().splitlines()) == 1
    )


def test_operations_asking_for_another_credential_are_reported(tmp_path: Path) -> None:
    """A client holds one credential; an operation that needs another one is a warning that
    names it (and an error with --strict), never a silently wrong request."""
    spec = tmp_path / "auth.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "servers: [{url: 'https://api.example.com'}]\npaths:\n"
        "  /a:\n    post:\n      operationId: a\n      security: [{key: []}]\n"
        "      responses: {'204': {description: ok}}\n"
        "  /b:\n    post:\n      operationId: b\n      security: [{key: []}]\n"
        "      responses: {'204': {description: ok}}\n"
        "  /c:\n    post:\n      operationId: c\n      security: [{basic: []}]\n"
        "      responses: {'204': {description: ok}}\n"
        "components:\n  securitySchemes:\n    key: {type: apiKey, name: api_key, in: query}\n"
        "    basic: {type: http, scheme: basic}\n"
    )
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        str(tmp_path / "out"),
        "--no-cache",
        cwd=tmp_path,
    )
    assert r.returncode == 0
    assert (
        "auth.yaml#/paths/~1c/post/security: asks for security scheme 'basic'"
        in r.stderr
    )
    r = run_cli(
        "generate",
        "--spec",
        str(spec),
        "--out",
        str(tmp_path / "out2"),
        "--strict",
        "--no-cache",
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "/paths/~1c/post/security" in r.stderr


def test_generated_comments_and_docstrings_are_wrapped() -> None:
    """Prose in the generated package (comments and docstrings) fits 120 columns; kept
    as they are: Markdown table rows (wrapping would break the table) and single words too
    long for any line (a URL). String literals are data and are not wrapped."""
    import io
    import tokenize

    package = ROOT / "generated" / "customerio_client"
    long: list[str] = []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            is_docstring = tok.type == tokenize.STRING and tok.string.startswith('"""')
            if tok.type != tokenize.COMMENT and not is_docstring:
                continue
            for n in range(tok.start[0], tok.end[0] + 1):
                text = lines[n - 1]
                words = text.strip().lstrip("#").split()
                if (
                    len(text) > 120
                    and not text.strip().startswith("|")
                    and len(words) > 1
                ):
                    long.append(f"{path.relative_to(package)}:{n}: {len(text)}")
    assert not long, long


def test_generated_code_is_python_39_syntax_without_runtime_unions() -> None:
    """What a Python 3.9 interpreter (not on every machine: see above) would refuse, found
    without one: syntax newer than 3.9, and `X | Y` evaluated at run time."""
    assert not_python_39(ROOT / "generated" / "customerio_client") == []
