"""Command line: `python -m generator {generate,check,validate}` (also the `ciogen` script).

Exit codes: 0 done / in sync; 1 `check` found stale files (or no package: one line); 2 bad
input or usage (one line naming the file and JSON pointer, never a traceback), and a
`generate` that would replace what ciogen did not write.
"""

from __future__ import annotations

import argparse
import keyword
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import RenderError, SpecError, UsageError
from .pipeline import Options

DEFAULTS = {
    "specs": "specs",
    "out": "generated",
    "package": "customerio_client",
    "name": "",
    "group_by": "auto",
}
GROUP_BY = ("auto", "tag", "none")  # see ir/groups.py
CACHE_DIR = ".ciogen-cache"


def read_config(root: Path) -> dict[str, str]:
    """`[tool.ciogen]` from pyproject.toml (string values only)."""
    path = root / "pyproject.toml"
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]

        data = tomllib.loads(text)
    except (
        ModuleNotFoundError
    ):  # Python < 3.11: the table is simple enough to read by hand
        return _read_table(text, "tool.ciogen")
    except ValueError as exc:
        raise UsageError(f"pyproject.toml: {exc}") from None
    table = data.get("tool", {}).get("ciogen", {})
    return {k: str(v) for k, v in table.items() if isinstance(v, (str, int, float))}


def _read_table(text: str, name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    inside = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            inside = s == f"[{name}]"
        elif inside and "=" in s and not s.startswith("#"):
            key, _, value = s.partition("=")
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ciogen", description="Generate a typed Python client from OpenAPI specs."
    )
    p.add_argument("--version", action="version", version=f"ciogen {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("generate", "render the client into OUT/PACKAGE"),
        ("check", "exit 1 with a diff when OUT/PACKAGE differs from a fresh render"),
        ("validate", "load and validate the specs, report, write nothing"),
    ):
        c = sub.add_parser(name, help=help_text)
        c.add_argument(
            "--spec",
            action="append",
            type=Path,
            metavar="PATH",
            help="an OpenAPI file or a directory of them (repeatable; default specs/)",
        )
        c.add_argument(
            "--out",
            type=Path,
            metavar="DIR",
            help="output directory (default generated/)",
        )
        c.add_argument(
            "--package", metavar="NAME", help="package name (default customerio_client)"
        )
        c.add_argument(
            "--name",
            metavar="NAME",
            help="the API's name in class names (NameError, FakeName; default: from the titles)",
        )
        c.add_argument(
            "--group-by",
            choices=GROUP_BY,
            help="operations as client.<tag>.<method>() (tag), all on the client (none), "
            "or by tag for surfaces of more than 150 operations (auto, the default)",
        )
        c.add_argument(
            "--strict",
            action="store_true",
            help="treat every validation finding as an error",
        )
        c.add_argument(
            "--no-cache", action="store_true", help=f"do not read or write {CACHE_DIR}/"
        )
        if name == "check":
            c.add_argument(
                "--full",
                action="store_true",
                help="always render in full (no manifest fast path)",
            )
    return p


def options(args: argparse.Namespace) -> Options:
    cfg = {**DEFAULTS, **read_config(Path.cwd())}
    specs = args.spec or [Path(s) for s in cfg["specs"].split(",")]
    package = args.package or cfg["package"]
    if (
        not package.isidentifier()
        or keyword.iskeyword(package)
        or keyword.issoftkeyword(package)
    ):
        raise UsageError(f"--package {package!r} is not a valid Python package name")
    # the table's name is its own specs' API: specs named on the command line are another
    # API, named from their titles (a package for another API must not carry this one's)
    name = args.name or ("" if args.spec else cfg["name"])
    if name and (not name.isidentifier() or not name[0].isupper()):
        raise UsageError(f"--name {name!r} must be a PascalCase identifier (e.g. Acme)")
    out = args.out or Path(cfg["out"])
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is not a directory")
    cache = None if args.no_cache else Path(cfg.get("cache", CACHE_DIR))
    group_by = args.group_by or cfg["group_by"]
    if group_by not in GROUP_BY:
        raise UsageError(
            f"group_by {group_by!r} in [tool.ciogen] must be one of {', '.join(GROUP_BY)}"
        )
    return Options(
        specs=specs,
        out=out,
        package=package,
        name=name,
        strict=bool(args.strict),
        cache_dir=cache,
        group_by=group_by,
    )


def _spec_files(opts: Options) -> list[Path]:
    from .spec.files import find_spec_files

    return find_spec_files(opts.specs)


def _warn(findings: Sequence[object]) -> None:
    for f in findings:
        print(f"warning: {f}", file=sys.stderr)


def _notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_generate(opts: Options) -> int:
    from .pipeline import render
    from .render.output import refusal, write_package

    where = opts.out / opts.package
    why = refusal(where)  # before the render: a refused run costs nothing
    if why:
        raise UsageError(why)
    result = render(opts)
    _warn(result.findings)
    try:
        changed = write_package(where, result.files, result.manifest, _notice)
    except OSError as exc:
        raise UsageError(f"cannot write {where}: {exc.strerror or exc}") from None
    if not changed:
        print(f"{where}: up to date")
        return 0
    written = [rel for rel in changed if rel in result.files]
    removed = len(changed) - len(written)
    summary = f"{where}: {len(written)} file(s) written, {len(result.files) - len(written)} unchanged"
    print(summary + (f", {removed} removed" if removed else ""))
    return 0


def regenerate_command(argv: Sequence[str]) -> str:
    """The command that brings a stale tree up to date: this one, as `generate`, with the
    same options (so a hook user sees exactly what to run)."""
    args = [a for a in argv if a != "--full"]
    if "check" in args:
        args[args.index("check")] = "generate"
    return "ciogen " + " ".join(shlex.quote(a) for a in args)


def cmd_check(opts: Options, full: bool, argv: Sequence[str]) -> int:
    from .render.output import fast_check, read_tree, unified_diff

    package_dir = opts.out / opts.package
    if package_dir.exists() and not package_dir.is_dir():
        raise UsageError(f"{package_dir} exists and is not a directory")
    try:
        there = package_dir.exists() and any(package_dir.iterdir())
    except OSError as exc:
        raise UsageError(f"cannot read {package_dir}: {exc.strerror or exc}") from None
    if not there:
        state = "missing" if not package_dir.exists() else "empty"
        print(
            f"{package_dir}: {state}; run `{regenerate_command(argv)}`", file=sys.stderr
        )
        return 1
    if not full and fast_check(
        package_dir, _spec_files(opts), [str(s) for s in opts.specs], opts.hashed()
    ):
        print(f"{package_dir}: in sync")
        return 0
    from .pipeline import render

    result = render(opts)
    stale, diff = unified_diff(result.files, read_tree(package_dir), str(package_dir))
    if not stale:
        print(f"{package_dir}: in sync")
        return 0
    sys.stdout.write(diff)
    print(
        f"\n{package_dir} is stale: {len(stale)} file(s) differ from a fresh render:",
        file=sys.stderr,
    )
    for rel in stale:
        print(f"  {package_dir / rel}", file=sys.stderr)
    print(f"run `{regenerate_command(argv)}` and commit the result", file=sys.stderr)
    return 1


def cmd_validate(opts: Options) -> int:
    from .pipeline import load_and_build, stop_if_strict
    from .pool import Pool

    with Pool() as pool:
        api, findings = load_and_build(opts, pool)
    stop_if_strict(opts, findings)
    _warn(findings)
    ops = sum(len(s.operations) for s in api.surfaces)
    print(
        f"ok: {len(api.spec_files)} file(s), {len(api.surfaces)} surface(s), {ops} operation(s), "
        f"{len(api.models)} model(s), {len(api.events)} semantic event(s), {len(findings)} warning(s)"
    )
    return 0


# Schemas are converted recursively, a few frames per level of `$ref`/nesting; Python's
# default limit (1,000) stops at about 200 levels, which a long chain of references in a real
# document can reach. Deeper than this limit allows is reported as an error, not a traceback.
RECURSION_LIMIT = 20_000


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        opts = options(args)
        if args.command == "generate":
            return cmd_generate(opts)
        if args.command == "check":
            return cmd_check(opts, args.full, argv)
        return cmd_validate(opts)
    except (SpecError, UsageError, RenderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        files = ", ".join(str(s) for s in getattr(args, "spec", None) or ["specs/"])
        print(
            f"error: {files}: schemas nest or reference each other too deeply to convert "
            f"(more than about {RECURSION_LIMIT // 5} levels)",
            file=sys.stderr,
        )
        return 2


def run() -> None:
    """The program (`python -m generator`, the `ciogen` script): `main()`, then a hard exit.

    Tearing the interpreter down (freeing every object of the specs, the IR, Jinja and
    black one by one) takes about 0.1 s and does nothing for a finished run: every file is
    written and closed and the workers have exited by then. So the output streams are
    flushed and the process ends at once.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
