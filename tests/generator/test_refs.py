"""`$ref`s across files: each is resolved relative to the file that holds it, wherever it
was reached from, and one that leads to the wrong kind of node is a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.packages import DATA, build_api, run_cli

REFS = DATA / "refs"


def _generate(where: Path, *specs: str) -> tuple[int, list[str]]:
    """Run `generate` from `where` (so messages name files relative to it)."""
    args = ["generate", "--out", str(where / "out"), "--package", "p", "--no-cache"]
    for spec in specs:
        args += ["--spec", spec]
    r = run_cli(*args, cwd=where)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, r.stderr.strip().splitlines()


def test_refs_inside_a_path_item_of_another_file_are_relative_to_that_file() -> None:
    api, findings = build_api([REFS / "pathitem_elsewhere.yaml"], package="p")
    ops = {op.operation_id: op for s in api.surfaces for op in s.operations}
    listing, adding = ops["listThings"], ops["addThing"]
    assert listing.source.endswith("lib/items.yaml#/components/pathItems/Things/get")
    (ok,) = listing.responses
    assert ok.schema is not None
    # lib/items.yaml's Thing, not the root document's Thing of the same name
    assert ok.schema.source.endswith("lib/items.yaml#/components/schemas/Thing")
    assert [(p.name, p.location) for p in listing.parameters] == [("limit", "query")]
    assert adding.body is not None
    assert adding.body.schema.source.endswith(
        "lib/common.json#/components/schemas/NewThing"
    )
    assert findings == []


BROKEN_ITEM = """\
openapi: 3.1.0
info: {title: t, version: "1"}
components:
  pathItems:
    X:
      get:
        responses:
          "200": {$ref: '#/components/responses/Missing'}
"""


def test_an_error_inside_a_path_item_of_another_file_names_that_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "items.yaml").write_text(BROKEN_ITEM)
    (tmp_path / "main.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /x: {$ref: 'lib/items.yaml#/components/pathItems/X'}\n"
    )
    code, lines = _generate(tmp_path, "main.yaml")
    assert code == 2 and lines == [
        (
            "error: lib/items.yaml#/components/pathItems/X/get/responses/200/$ref: "
            "broken $ref '#/components/responses/Missing': 'responses' not found"
        )
    ]
    assert not (tmp_path / "out").exists()


NOT_A_PATH_ITEM = {"null": "null", "list": "[get, post]", "string": "'GET /x'"}


@pytest.mark.parametrize("kind", sorted(NOT_A_PATH_ITEM))
@pytest.mark.parametrize("elsewhere", [False, True], ids=["same file", "other file"])
def test_a_path_item_ref_to_something_else_exits_2_naming_the_target(
    kind: str, elsewhere: bool, tmp_path: Path
) -> None:
    target = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
    target += f"components:\n  pathItems:\n    X: {NOT_A_PATH_ITEM[kind]}\n"
    ref = (
        "other.yaml#/components/pathItems/X"
        if elsewhere
        else "#/components/pathItems/X"
    )
    main = f"paths:\n  /x: {{$ref: '{ref}'}}\n"
    if elsewhere:
        (tmp_path / "other.yaml").write_text(target)
        (tmp_path / "main.yaml").write_text(target.split("components:")[0] + main)
    else:
        (tmp_path / "main.yaml").write_text(target + main)
    code, lines = _generate(tmp_path, "main.yaml")
    file = "other.yaml" if elsewhere else "main.yaml"
    assert code == 2 and lines == [
        f"error: {file}#/components/pathItems/X: a path item must be an object"
    ]


def test_a_chain_of_path_item_refs_is_followed(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /x: {$ref: '#/components/pathItems/A'}\n"
        "components:\n  pathItems:\n    A: {$ref: '#/components/pathItems/B'}\n"
        "    B: {get: {operationId: getX, responses: {'200': {description: ok}}}}\n"
    )
    api, _ = build_api([tmp_path / "main.yaml"], package="p")
    (op,) = [op for s in api.surfaces for op in s.operations]
    assert op.operation_id == "getX" and op.source.endswith(
        "#/components/pathItems/B/get"
    )
