"""REFERENCE.md, rendered from the IR, lists every surface, operation, model and event."""

from __future__ import annotations

import pytest
from support.packages import ROOT, build_api

from generator import ir
from generator.codegen.types import annotation as py_type

REFERENCE = (ROOT / "generated" / "customerio_client" / "REFERENCE.md").read_text()


@pytest.fixture(scope="module")
def api() -> ir.Api:
    return build_api([ROOT / "specs"], package="customerio_client")[0]


def test_every_surface_with_its_regions(api: ir.Api) -> None:
    for s in api.surfaces:
        assert s.class_name in REFERENCE
        for server in s.servers:
            assert server.url in REFERENCE


def test_every_operation_with_method_path_parameters_and_body(api: ir.Api) -> None:
    for op in api.operations:
        assert f"`{op.method} {op.path}` (operationId `{op.operation_id}`)" in REFERENCE
        assert op.py_name in REFERENCE
        for p in op.parameters:
            assert f"`{p.name}`" in REFERENCE
        if op.body is not None and op.body.schema.class_name:
            assert f"`{op.body.schema.class_name}`" in REFERENCE


def test_every_model_is_listed(api: ir.Api) -> None:
    for m in api.models:
        assert f"### {m.class_name}\n" in REFERENCE


def test_every_event_with_property_types_and_required(api: ir.Api) -> None:
    for ev in api.events:
        assert f"### `events.{ev.py_name}`" in REFERENCE
        section = REFERENCE.split(f"### `events.{ev.py_name}`", 1)[1].split(
            "\n### ", 1
        )[0]
        assert f"Event `{ev.name}`" in section
        for p in (*ev.properties, *ev.context):
            required = "yes" if p.required else "no"
            assert f"`{p.py_name}` | `{p.name}` |" in section, (ev.name, p.name)
            row = next(
                line
                for line in section.splitlines()
                if f"`{p.py_name}` | `{p.name}` |" in line
            )
            assert "`" + py_type(p.schema).replace(
                "|", "\\|"
            ) + "`" in row and row.rstrip(" |").endswith(required), row


def test_spec_text_cannot_break_a_table_or_inline_code() -> None:
    from generator.codegen import markdown

    # a `|` would open a new cell, a newline end the row, a backtick close the code
    assert markdown.cell("a | b\nc") == "a \\| b c"
    assert markdown.cell(None) == "None"
    assert markdown.code("dict[str, A | B]") == "`dict[str, A \\| B]`"
    assert markdown.code("`x`") == "`'x'`"
    assert markdown.code("") == "-"
    assert markdown.prose("one\n\n  two\tthree") == "one two three"
    assert (markdown.yes(True), markdown.yes(0)) == ("yes", "no")
    # an HTML comment that never ends would hide the rest of the file
    assert markdown.prose("see <!-- here") == "see &lt;!-- here"
    assert markdown.prose("a <!-- b --> c") == "a <!-- b --> c"


def test_an_apis_own_description_keeps_its_markdown_and_cannot_break_the_file() -> None:
    """A surface's description (the document's info.description) used to be run into one
    line: its headings, lists and tables came out as one paragraph of `## Intro 1. Go to
    ... | Name | ...`."""
    from generator.codegen import markdown

    text = (
        "Intro.\r\n\r\n\r\n## Get a key ##\n1. Go there.\n2. Click.\f\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |   \n\n#\n"
        "```sh\n# a comment, not a heading\n\n\ncurl x\n```\n"
        "###### deep\n~~~\nleft open"
    )
    assert markdown.block(text) == (
        "Intro.\n\n**Get a key**\n1. Go there.\n2. Click.\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```sh\n# a comment, not a heading\n\n\ncurl x\n```\n"
        "**deep**\n~~~\nleft open\n~~~"
    )
    # headings become bold lines: none can take the anchor of this file's own sections
    assert markdown.block("# Models\ntext") == "**Models**\ntext"
    assert markdown.block("x <!-- never closed\n\n") == "x &lt;!-- never closed"
    # the Pipelines description's sections and event table, as their author wrote them
    assert "\n**Get an API key**\n\n1. Go to the tab and click Sources.\n" in REFERENCE
    assert "\n| Event Name | Description |\n|---|---|\n" in REFERENCE
