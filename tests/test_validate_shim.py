"""The light stand-ins for the validators' pydantic settings (generator/validate.py) change
no finding: the same documents give the same findings with the real settings modules, and
with the stand-ins pydantic is never imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A document with findings of the validator: a default outside its bounds and an empty
# `responses` (its bad example is examples.py's finding, not the validator's).
FINDINGS_SPEC = """\
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - {name: n, in: query, schema: {type: integer, minimum: 3, default: 1}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {id: {type: integer}}}
              example: {id: not-a-number}
  /b:
    post:
      responses: {}
"""

SCRIPT = """
import json, sys
from pathlib import Path
if sys.argv[1] == "real":
    import openapi_spec_validator.settings, openapi_schema_validator.settings  # noqa: F401
from generator.loader import load
from generator.validate import _validate_document
out = {}
for p in sys.argv[2:]:
    for doc in load([Path(p)]).roots:
        out[doc.name] = [[f.pointer, f.message] for f in _validate_document(doc)]
print(json.dumps({"findings": out, "pydantic": "pydantic" in sys.modules}))
"""


def findings(mode: str, paths: list) -> dict:
    r = subprocess.run([sys.executable, "-c", SCRIPT, mode, *map(str, paths)], cwd=ROOT,
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_stand_in_settings_give_the_same_findings_without_pydantic(tmp_path: Path) -> None:
    bad = tmp_path / "findings.yaml"
    bad.write_text(FINDINGS_SPEC)
    paths = [bad, *sorted((ROOT / "specs").glob("*.yaml")),
             *sorted((ROOT / "tests" / "data" / "openapi").glob("*.yaml"))]
    real, light = findings("real", paths), findings("light", paths)
    assert real["pydantic"] and not light["pydantic"]
    assert light["findings"] == real["findings"]
    ours = [found for name, found in light["findings"].items() if name.endswith("findings.yaml")]
    assert ours and len(ours[0]) >= 2, "the findings document must give findings"
