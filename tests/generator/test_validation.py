"""The spec validator as ciogen runs it finds what openapi-spec-validator finds."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.spec import validate
from generator.spec.reader import read_document

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "openapi"

FLAWED = """\
openapi: "{version}"
info: {{title: Flawed, version: "1"}}
paths:
  /a/{{id}}:
    get:
      operationId: getA
      parameters:
        - {{name: id, in: path, required: true, schema: {{type: integer, default: x}}}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/A"}}
  /b:
    get:
      operationId: getA
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/A"}}
components:
  schemas:
    A:
      type: object
      required: [missing]
      properties:
        n: {{type: integer, default: "not a number"}}
        b: {{$ref: "#/components/schemas/B"}}
    B:
      allOf:
        - $ref: "#/components/schemas/A"
        - {{type: object, required: [also_missing]}}
"""


def _stock(path: Path) -> list[str]:
    from openapi_spec_validator.validation import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    doc = read_document(path)
    cls = OpenAPIV31SpecValidator if doc.version == "3.1" else OpenAPIV30SpecValidator
    messages = []
    for err in cls(doc.data, base_uri=path.as_uri()).iter_errors():
        messages.append(validate._message(err))
    return sorted(messages)


def _ours(path: Path) -> list[str]:
    return sorted(f.message for f in validate._validate_document(read_document(path)))


SPECS = sorted(
    [
        *DATA.glob("*.yaml"),
        *(DATA / "realworld").glob("*.yaml"),
        *ROOT.glob("specs/*.yaml"),
    ]
)


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_flaws_are_found_as_the_stock_validator_finds_them(
    tmp_path: Path, version: str
) -> None:
    spec = tmp_path / "flawed.yaml"
    spec.write_text(FLAWED.format(version=version))
    yaml.safe_load(spec.read_text())  # the fixture itself is well-formed YAML
    ours = _ours(spec)
    assert ours, "the flawed document has findings"
    assert ours == _stock(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_every_test_document_gets_the_stock_findings(spec: Path) -> None:
    assert _ours(spec) == _stock(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_the_two_passes_apart_find_what_one_run_finds(spec: Path) -> None:
    """A big document's two validator passes run on two workers; together they must
    report exactly what one run of the validator reports."""
    doc = read_document(spec)
    apart = [
        f for part in validate.PARTS for f in validate._validate_document(doc, part)
    ]
    assert validate._ordered(apart) == validate._validate_document(doc)


def test_a_big_document_is_validated_in_two_passes_on_the_pool(tmp_path: Path) -> None:
    spec = tmp_path / "flawed.yaml"
    spec.write_text(FLAWED.format(version="3.0.3"))
    doc = read_document(spec)
    submitted: list[tuple[Any, ...]] = []

    def submit(fn: Any, *args: Any) -> Future[Any]:
        submitted.append(args)
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done

    whole = validate.start([doc], None, submit).result()
    assert [args[1] for args in submitted] == ["all"]
    submitted.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validate, "SPLIT_BYTES", 0)
        apart = validate.start([doc], None, submit).result()
    assert [args[1] for args in submitted] == list(validate.PARTS)
    assert apart == whole and whole


def test_forked_workers_validate_the_documents_already_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker forked for the validation uses the documents this process parsed: it
    reads no file again (a 13 MB description costs about half a second to read)."""
    from generator.pool import Pool

    spec = tmp_path / "flawed.yaml"
    spec.write_text(FLAWED.format(version="3.0.3"))
    doc = read_document(spec)
    expected = validate._validate_document(doc)

    def read_again(path: Path) -> None:
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(validate, "read_document", read_again)
    with Pool(2) as pool:
        assert validate.start([doc], None, pool.submit).result() == expected
    assert not validate._SUBMITTED  # nothing kept once the findings are in
