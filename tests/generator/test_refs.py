"""`$ref`s across files: each is resolved relative to the file that holds it, wherever it
was reached from, and one that leads to the wrong kind of node is a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.packages import DATA, build_api, generate, imported, run_cli

from generator.errors import SpecError
from generator.spec.refs import load

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


def test_a_referenced_file_need_not_be_a_whole_openapi_document(tmp_path: Path) -> None:
    api, findings = build_api([REFS / "fragments.yaml"], package="p")
    ops = {op.operation_id: op for s in api.surfaces for op in s.operations}
    pet = ops["getPet"].responses[0].schema
    assert pet is not None and pet.source.endswith("lib/pet.yaml#")
    body = ops["addPet"].body
    assert body is not None and body.schema.source.endswith("lib/fragments.yaml#/Owner")
    listing = ops["listOrders"]
    assert listing.source.endswith("lib/fragments.yaml#/paths/orders/get")
    assert [p.name for p in listing.parameters] == ["limit"]
    items = listing.responses[0].schema
    # one file and pointer, one model, however it is reached
    assert items is not None and items.items is not None
    assert items.items.class_name == pet.class_name != ""
    assert findings == []
    with imported(tmp_path):
        generate(tmp_path, "fragments", [REFS / "fragments.yaml"])
        import fragments

        assert fragments.FragmentsClient is not None


def test_a_referenced_file_is_read_in_the_version_of_the_document_that_refers_to_it() -> (
    None
):
    ws = load([REFS / "fragments.yaml"])
    (root,) = ws.roots
    doc, _, _ = ws.resolve(root, "lib/pet.yaml", "")
    assert (root.version, doc.version) == ("3.1", "3.1") and doc not in ws.roots


def test_a_root_document_must_be_whole_even_when_another_refers_to_it() -> None:
    with pytest.raises(
        SpecError, match=r"not an OpenAPI document \(no `openapi` key\)"
    ):
        load([REFS / "fragments.yaml", REFS / "lib" / "pet.yaml"])
    ws = load([REFS / "fragments.yaml"])
    ws.resolve(ws.roots[0], "lib/pet.yaml", "")  # read first as a referenced file
    with pytest.raises(
        SpecError, match=r"not an OpenAPI document \(no `openapi` key\)"
    ):
        ws.add_root(REFS / "lib" / "pet.yaml")


def test_a_referenced_file_that_is_no_mapping_exits_2(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- type: string\n")
    (tmp_path / "main.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    A: {$ref: 'list.yaml#/0'}\n"
    )
    code, lines = _generate(tmp_path, "main.yaml")
    # the file at fault, and the $ref that led to it
    expected = (
        "error: list.yaml#: a file a $ref leads to must hold a mapping "
        "(reached by main.yaml#/components/schemas/A/$ref)"
    )
    assert code == 2 and lines == [expected]


def test_a_schema_in_a_referenced_file_is_named_after_its_file_or_key() -> None:
    """It was named after its first use (`ListOrdersResponseItemOwner` for `#/Owner`)."""
    api, _ = build_api([REFS / "fragments.yaml"], package="p")
    assert {m.class_name: m.source.split("refs/")[-1] for m in api.models} == {
        "Owner": "lib/fragments.yaml#/Owner",
        "Pet": "lib/pet.yaml#",
        "Tag": "lib/fragments.yaml#/Tag",
    }
    api, _ = build_api([REFS / "pathitem_elsewhere.yaml"], package="p")
    names = {m.source.split("refs/")[-1]: m.class_name for m in api.models}
    assert names["lib/common.json#/components/schemas/NewThing"] == "NewThing"
    # the root's own component keeps its name; the other file's of that name comes next
    assert names["pathitem_elsewhere.yaml#/components/schemas/Thing"] == "Thing"
    assert names["lib/items.yaml#/components/schemas/Thing"] == "Thing2"


@pytest.mark.parametrize(
    ("fragment", "why"),
    [
        ("/components/schemas/A~2B", "not a JSON pointer"),
        ("/x-shapes/01", "'01' not found"),  # RFC 6901: no leading zeros
        ("/x-shapes/\u00b2", "'\u00b2' not found"),  # a digit, but not a decimal one
    ],
)
def test_a_ref_that_is_no_rfc_6901_pointer_exits_2(
    fragment: str, why: str, tmp_path: Path
) -> None:
    (tmp_path / "main.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "x-shapes: [{type: string}, {type: integer}]\n"
        "components:\n  schemas:\n"
        "    A~B: {type: string}\n"
        f"    User: {{type: object, properties: {{a: {{$ref: '#{fragment}'}}}}}}\n",
        encoding="utf-8",
    )
    code, lines = _generate(tmp_path, "main.yaml")
    where = "main.yaml#/components/schemas/User/properties/a/$ref"
    assert code == 2 and lines == [f"error: {where}: broken $ref '#{fragment}': {why}"]
