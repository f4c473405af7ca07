"""When a surface's operations are grouped by tag (ir/groups.py), as the IR records it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.packages import ROOT, build_api

from generator import ir
from generator.ir.groups import GROUP_THRESHOLD


def _spec(tmp_path: Path, n: int) -> Path:
    paths = {
        f"/things/{i}": {
            "get": {
                "operationId": f"things/get-{i}",
                "tags": ["things" if i % 2 else "other things"],
                "responses": {"204": {"description": "ok"}},
            }
        }
        for i in range(n)
    }
    paths["/health"] = {
        "get": {"operationId": "health", "responses": {"204": {"description": "ok"}}}
    }
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Many", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "paths": paths,
    }
    path = tmp_path / "many.json"
    path.write_text(json.dumps(doc))
    return path


def _surface(spec: Path, group_by: str) -> ir.Surface:
    api, _ = build_api([spec], package="many", group_by=group_by)
    (surface,) = api.surfaces
    return surface


def test_auto_groups_a_surface_only_past_the_threshold(tmp_path: Path) -> None:
    small = _surface(_spec(tmp_path, GROUP_THRESHOLD - 1), "auto")  # + health
    assert not small.groups and len(small.operations) == GROUP_THRESHOLD
    big = _surface(_spec(tmp_path, GROUP_THRESHOLD), "auto")
    assert [g.name for g in big.groups] == ["other_things", "things"]
    assert [op.py_name for op in big.direct_operations] == ["health"]
    things = big.group_operations("things")
    assert things[0].call_path == "things.get_1"  # the tag's name is not repeated
    other = big.group_operations("other_things")
    assert other[0].call_path == "other_things.things_get_0"  # nothing to drop


def test_group_by_none_and_tag_override_the_size(tmp_path: Path) -> None:
    assert not _surface(_spec(tmp_path, GROUP_THRESHOLD + 5), "none").groups
    assert len(_surface(_spec(tmp_path, 3), "tag").groups) == 2


def test_a_surface_without_tags_or_with_background_delivery_stays_flat() -> None:
    api, _ = build_api([ROOT / "specs"], package="customerio_client", group_by="tag")
    grouped = {s.name: bool(s.groups) for s in api.surfaces}
    delivering = {s.name for s in api.surfaces if s.delivery is not None}
    assert delivering and not any(grouped[name] for name in delivering)


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="group_by"):
        _surface(_spec(tmp_path, 2), "tags")
