"""Rendering with a forked helper (render/package.py): the same bytes as rendering alone,
whatever happens to the helper."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from support.packages import ROOT, build_api

from generator.errors import RenderError
from generator.render import package
from generator.render.environment import make_environment
from generator.render.formatting import Formatter


def _render(api: Any, helpers: int, tmp_path: Path) -> dict[str, bytes]:
    return package.render_all(
        api, Formatter(tmp_path / "cache"), make_environment(), helpers
    )


@pytest.fixture(scope="module")
def api() -> Any:
    return build_api([ROOT / "specs"], package="customerio_client", group_by="tag")[0]


def test_a_helper_renders_the_same_bytes(api: Any, tmp_path: Path) -> None:
    alone = _render(api, 0, tmp_path)
    assert _render(api, 1, tmp_path) == alone
    assert any("_groups/" in path for path in alone)  # grouped modules too


def test_the_costliest_files_are_rendered_first(api: Any) -> None:
    """Files are taken biggest first, so that neither process is left with a big one at
    the end: whole-API files, then modules by their operations or models."""
    plan = [f for f in package.plan_outputs(api) if f.template]
    order = [f.path for f in sorted(plan, key=package._cost(api))]
    modules = [p for p in order if "/" in p and not p.endswith("__init__.py")]
    assert modules
    assert order.index("REFERENCE.md") < min(order.index(p) for p in modules)
    assert order.index("models/__init__.py") < min(order.index(p) for p in modules)


def test_a_helper_that_dies_leaves_its_share_to_this_process(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _render(api, 0, tmp_path)

    def die(writer: Any) -> None:
        # take some files from the counter, then die without answering
        for _ in range(5):
            with package._SHARED["counter"].get_lock():
                package._SHARED["counter"].value += 1
        os._exit(3)

    monkeypatch.setattr(package, "_helper", die)
    assert _render(api, 1, tmp_path) == alone


def test_a_helper_that_fails_leaves_its_share_to_this_process(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = package._render_share
    parent = os.getpid()

    def broken() -> dict[str, str]:
        if os.getpid() != parent:
            raise RenderError("the helper's share failed")
        return real()

    monkeypatch.setattr(package, "_render_share", broken)
    # the helper fails and answers nothing: this process renders everything
    assert _render(api, 1, tmp_path) == _render(api, 0, tmp_path)
