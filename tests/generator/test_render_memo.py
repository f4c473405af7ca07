"""The render memo (render/views.py, render/memo.py): a model or group module whose view is
unchanged is not rendered again, and whatever the edit, the files are byte for byte those
of a run with no cache at all."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.packages import build_api

from generator.render import package, views
from generator.render.environment import make_environment
from generator.render.formatting import Formatter
from generator.render.memo import RenderMemo


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _doc() -> dict[str, Any]:
    """Two tags of operations; models that refer to each other across modules, a union
    told apart by its variants' required keys, an enum and an inline body model."""
    op = {"responses": {"204": {"description": "done"}}}
    schemas = {
        "Pet": {
            "oneOf": [
                {"$ref": "#/components/schemas/Cat"},
                {"$ref": "#/components/schemas/Dog"},
            ]
        },
        "Cat": _obj(["meows"], meows={"type": "boolean", "description": "Does it."}),
        "Dog": _obj(["barks"], barks={"type": "boolean"}, owner={"$ref": "#/o"}),
        "Owner": _obj(["name"], name={"type": "string"}),
        "Colour": {"type": "string", "enum": ["red", "blue"]},
    }
    schemas["Dog"]["properties"]["owner"] = {"$ref": "#/components/schemas/Owner"}
    pets = {"$ref": "#/components/schemas/Pet"}
    paths = {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "tags": ["pets"],
                "summary": "All the pets.",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": pets}
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "addPet",
                "tags": ["pets"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _obj(
                                ["pet"],
                                pet=pets,
                                colour={"$ref": "#/components/schemas/Colour"},
                            )
                        }
                    },
                },
                **op,
            },
        },
        "/owners/{id}": {
            "get": {
                "operationId": "getOwner",
                "tags": ["owners"],
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Owner"}
                            }
                        },
                    }
                },
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "https://pets.example.test"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _render(
    spec: Path, cache: Path | None, rendered: list[str] | None = None
) -> dict[str, bytes]:
    """The package's files, rendered in this process (with the memo when `cache`);
    `rendered` collects the memoised files that had to be rendered."""
    api, _ = build_api([spec], package="pets", group_by="tag")
    memo = RenderMemo(cache, "pets") if cache else None
    original = package._render_file

    def counting(job: Any, f: Any) -> package.Piece:
        piece = original(job, f)
        if rendered is not None and f.template in views.MEMOISED and not piece.key:
            rendered.append(f.path)
        return piece

    package._render_file = counting  # type: ignore[assignment]
    try:
        return package.render_all(
            api, Formatter(cache, "pets"), make_environment(), 0, memo
        )
    finally:
        package._render_file = original  # type: ignore[assignment]


def _prose(doc: dict[str, Any]) -> None:
    props = doc["components"]["schemas"]["Cat"]["properties"]
    props["meows"]["description"] = "Does it, loudly."


def _variant_required(doc: dict[str, Any]) -> None:
    # Pet (a union in its own module) picks Dog by its required keys
    doc["components"]["schemas"]["Dog"]["required"] = ["barks", "owner"]


def _new_model(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["Hamster"] = _obj([], cheeks={"type": "integer"})


def _deprecated(doc: dict[str, Any]) -> None:
    doc["paths"]["/owners/{id}"]["get"]["deprecated"] = True


def _other_answer(doc: dict[str, Any]) -> None:
    content = doc["paths"]["/owners/{id}"]["get"]["responses"]["200"]["content"]
    content["application/json"]["schema"] = {"$ref": "#/components/schemas/Dog"}


def _title(doc: dict[str, Any]) -> None:
    doc["info"]["title"] = "Pets and owners"


def _enum_value(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["Colour"]["enum"] = ["red", "green"]


def _retag(doc: dict[str, Any]) -> None:
    doc["paths"]["/pets"]["post"]["tags"] = ["owners"]


def _example(doc: dict[str, Any]) -> None:
    content = doc["paths"]["/owners/{id}"]["get"]["responses"]["200"]["content"]
    content["application/json"]["example"] = {"name": "Ada"}


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "a description": _prose,
    "a union variant's required keys": _variant_required,
    "a new model": _new_model,
    "an operation deprecated": _deprecated,
    "an answer of another model": _other_answer,
    "the title": _title,
    "an enum value": _enum_value,
    "an operation moved to another tag": _retag,
    "an example": _example,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_after_any_edit_the_files_are_those_of_a_run_without_cache(
    tmp_path: Path, edit: str
) -> None:
    spec = tmp_path / "pets.json"
    doc = _doc()
    spec.write_text(json.dumps(doc))
    cache = tmp_path / "cache"
    first: list[str] = []
    _render(spec, cache, first)
    assert first  # nothing was in the memo
    again: list[str] = []
    assert _render(spec, cache, again) == _render(spec, None)
    assert again == []  # every model and group module came from the memo

    edited = copy.deepcopy(doc)
    EDITS[edit](edited)
    spec.write_text(json.dumps(edited))
    rendered: list[str] = []
    assert _render(spec, cache, rendered) == _render(spec, None)
    assert rendered  # the edit changed some module


def _rendered_after(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None]
) -> list[str]:
    """The memoised files a run renders after `edit`, the run before it cached; the files
    are checked to be those of a run without cache."""
    spec = tmp_path / "pets.json"
    doc = _doc()
    spec.write_text(json.dumps(doc))
    cache = tmp_path / "cache"
    _render(spec, cache)
    edit(doc)
    spec.write_text(json.dumps(doc))
    rendered: list[str] = []
    assert _render(spec, cache, rendered) == _render(spec, None)
    return rendered


def test_a_description_renders_only_the_module_it_is_in(tmp_path: Path) -> None:
    assert _rendered_after(tmp_path, _prose) == ["models/cat.py"]


@pytest.mark.parametrize(
    "edit, whole_api_file",
    [(_new_model, "models/__init__.py"), (_example, "fixtures.py")],
)
def test_the_memoised_whole_api_files_are_rendered_when_their_view_changes(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], whole_api_file: str
) -> None:
    assert whole_api_file in _rendered_after(tmp_path, edit)


def test_a_damaged_or_missing_cache_only_costs_a_render(tmp_path: Path) -> None:
    spec = tmp_path / "pets.json"
    spec.write_text(json.dumps(_doc()))
    cache = tmp_path / "cache"
    expected = _render(spec, None)
    _render(spec, cache)
    (memo,) = (cache / "render").iterdir()
    memo.write_bytes(b"\x00not marshal")
    rendered: list[str] = []
    assert _render(spec, cache, rendered) == expected
    assert rendered  # the damaged memo answered nothing
    # the memo is whole again, but the formatted texts it points to are gone
    for formatted in (cache / "format").iterdir():
        formatted.unlink()
    rendered.clear()
    assert _render(spec, cache, rendered) == expected
    assert rendered


def test_a_change_to_the_generator_misses_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "pets.json"
    spec.write_text(json.dumps(_doc()))
    cache = tmp_path / "cache"
    _render(spec, cache)
    monkeypatch.setattr(views, "code_digest", lambda: b"another generator")
    rendered: list[str] = []
    _render(spec, cache, rendered)
    assert "models/cat.py" in rendered


def test_a_formatted_text_gone_after_the_memo_answered_is_rendered(
    tmp_path: Path,
) -> None:
    """The memo's answer is taken only with the formatted text it points to; if that text
    is gone by the time it is read, the file is rendered, never written empty."""
    spec = tmp_path / "pets.json"
    spec.write_text(json.dumps(_doc()))
    cache = tmp_path / "cache"
    expected = _render(spec, None)
    _render(spec, cache)

    class Forgetful(Formatter):
        """Answers each file's key once, then has forgotten it."""

        def __init__(self, cache_dir: Path, pack: str) -> None:
            super().__init__(cache_dir, pack)
            self.asked: set[str] = set()

        def by_key(self, name: str, key: str) -> str | None:
            if name in self.asked:
                return None
            self.asked.add(name)
            return super().by_key(name, key)

    api, _ = build_api([spec], package="pets", group_by="tag")
    files = package.render_all(
        api,
        Forgetful(cache, "pets"),
        make_environment(),
        0,
        RenderMemo(cache, "pets"),
    )
    assert files == expected


def test_an_operations_description_changes_only_its_module_readme_and_init(
    tmp_path: Path,
) -> None:
    """The docstring's module, and the two files that carry the specs' digest. REFERENCE.md
    (which shows no operation's description) stays as it was: its header held the digest,
    so every edit rewrote it, 5 MB for GitHub's API."""
    spec = tmp_path / "pets.json"
    doc = _doc()
    spec.write_text(json.dumps(doc))
    before = _render(spec, None)
    doc["paths"]["/owners/{id}"]["get"]["description"] = "Finds an owner, quickly."
    spec.write_text(json.dumps(doc))
    after = _render(spec, None)
    changed = sorted(p for p in after if after[p] != before.get(p))
    assert changed == ["README.md", "__init__.py", "pets_groups/owners.py"]
