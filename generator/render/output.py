"""Writing the generated package, and comparing it with a fresh render.

`write_package` never leaves a half-written package: the new tree is assembled in a sibling
temporary directory (unchanged files are hard-linked or copied with their mtime) and swapped
in with renames. When nothing changed it touches nothing at all.

The manifest (`.ciogen-manifest.json` in the package) records the hash of every input
(spec files, templates, generator sources, options) and every output, so `check` can answer
"in sync" without importing Jinja, black or the validator. It still catches a hand-edited
output (hashes differ), a changed template or generator (input hashes differ) and a new spec
file (the spec directories are listed again).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..spec.files import spec_base, spec_name

MANIFEST = ".ciogen-manifest.json"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def templates_dir() -> Path:
    """`templates/` beside the generator in a checkout; the installed copy otherwise."""
    local = Path(__file__).resolve().parent.parent.parent / "templates"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parent.parent / "templates"


def source_files() -> list[Path]:
    """Generator sources and templates: a change to any of them changes the output."""
    here = Path(__file__).resolve().parent.parent
    generator = sorted(
        p
        for p in here.rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".typed")
        and "__pycache__" not in p.parts
    )
    return generator + sorted(p for p in templates_dir().rglob("*") if p.is_file())


def input_hashes(options: dict[str, str]) -> dict[str, str]:
    """The hash of every input but the specs: generator sources, templates and options
    (the specs are the manifest's own table, `spec_digests`)."""
    out: dict[str, str] = {}
    root = Path(__file__).resolve().parent.parent.parent
    tdir = templates_dir()
    for p in source_files():
        if tdir in p.parents:  # same key in a checkout and in an installed ciogen
            rel = "templates/" + p.relative_to(tdir).as_posix()
        else:
            try:
                rel = str(p.relative_to(root))
            except ValueError:
                rel = str(p)
        out[f"src:{rel}"] = sha256_file(p)
    for k, v in sorted(options.items()):
        out[f"opt:{k}"] = v
    return dict(sorted(out.items()))


def read_tree(package_dir: Path) -> dict[str, bytes]:
    if not package_dir.is_dir():
        return {}
    out: dict[str, bytes] = {}
    for p in sorted(package_dir.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.name != MANIFEST:
            out[str(p.relative_to(package_dir))] = p.read_bytes()
    return out


def manifest_bytes(
    inputs: dict[str, str],
    specs: dict[str, str],
    files: dict[str, bytes],
    spec_dirs: Sequence[str],
) -> bytes:
    """`specs`: the sha256 of every file the run read, the `--spec` files and those their
    `$ref`s lead to, by their names (paths from `spec_base`, so the same in any clone).
    """
    data = {
        "inputs": inputs,
        "specs": dict(sorted(specs.items())),
        "spec_dirs": sorted(spec_dirs),
        "outputs": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())},
    }
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()


def write_package(
    package_dir: Path, files: dict[str, bytes], manifest: bytes
) -> list[str]:
    """Make package_dir hold exactly `files` (+ manifest); return the paths that changed."""
    current = read_tree(package_dir)
    changed = sorted(
        {k for k in files if current.get(k) != files[k]} | (set(current) - set(files))
    )
    old_manifest = package_dir / MANIFEST
    if not changed and old_manifest.exists() and old_manifest.read_bytes() == manifest:
        return []
    package_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{package_dir.name}.", dir=package_dir.parent))
    try:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel not in changed:
                _keep(package_dir / rel, target)
            else:
                target.write_bytes(data)
        (tmp / MANIFEST).write_bytes(manifest)
        _swap(tmp, package_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return changed


def _keep(src: Path, dst: Path) -> None:
    """Carry an unchanged file over with its mtime (make and pre-commit rely on it)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _swap(new: Path, final: Path) -> None:
    old: Path | None = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
    try:
        new.rename(final)
    except OSError:
        if old is not None:
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def unified_diff(
    expected: dict[str, bytes], actual: dict[str, bytes], root: str
) -> tuple[list[str], str]:
    """(stale paths, diff text) between a fresh render and what is on disk."""
    stale = sorted(
        k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k)
    )
    chunks: list[str] = []
    for rel in stale:
        a = actual.get(rel, b"").decode("utf-8", "replace").splitlines(keepends=True)
        b = expected.get(rel, b"").decode("utf-8", "replace").splitlines(keepends=True)
        chunks.extend(
            difflib.unified_diff(
                a, b, f"{root}/{rel} (on disk)", f"{root}/{rel} (fresh render)"
            )
        )
    return stale, "".join(chunks)


def fast_check(
    package_dir: Path,
    spec_files: Sequence[Path],
    spec_dirs: Sequence[str],
    options: dict[str, str],
) -> bool:
    """True only when the manifest proves the package is in sync (no rendering needed)."""
    try:
        manifest = json.loads((package_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("spec_dirs") != sorted(spec_dirs):
        return False
    specs = manifest.get("specs")
    if not isinstance(specs, dict):
        return False
    base = spec_base(Path(d) for d in spec_dirs)
    if not {spec_name(p, base) for p in spec_files} <= set(specs):
        return False  # a spec file the last run did not read
    # every file the last run read, referenced ones included: an edit to a file a $ref
    # leads to (outside the spec folders, say) makes the package stale too
    for name, digest in specs.items():
        try:
            if sha256_file(base / name) != digest:
                return False
        except OSError:  # removed since
            return False
    if manifest.get("inputs") != input_hashes(options):
        return False
    outputs = manifest.get("outputs", {})
    on_disk = read_tree(package_dir)
    if sorted(on_disk) != sorted(outputs):
        return False
    return all(hashlib.sha256(on_disk[k]).hexdigest() == v for k, v in outputs.items())
