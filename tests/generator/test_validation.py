"""The spec validator as ciogen runs it finds what openapi-spec-validator finds."""

from __future__ import annotations

from pathlib import Path

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
