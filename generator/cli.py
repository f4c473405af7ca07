"""Command line: `python -m generator {generate,check,validate}` (also the `ciogen` script).

Exit codes: 0 done / in sync; 1 `check` found stale files; 2 bad input or usage (one line
naming the file and JSON pointer, never a traceback).

A render uses two helper processes (tasks.Helper) beside this one: one validates the spec
files the cache does not answer, the other runs black on the pieces of output the cache does
not hold, while this process builds the IR and renders the templates. Nothing is written
before the validation is complete. CIOGEN_JOBS=1 runs everything in this process.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .errors import SpecError, UsageError

DEFAULTS = {"specs": "specs", "out": "generated", "package": "customerio_client"}


@dataclass
class Options:
    specs: List[Path]
    out: Path
    package: str
    strict: bool
    cache_dir: Optional[Path]


def read_config(root: Path) -> Dict[str, str]:
    """`[tool.ciogen]` from pyproject.toml (string values only)."""
    path = root / "pyproject.toml"
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]

        data = tomllib.loads(text)
    except ModuleNotFoundError:  # Python < 3.11: the table is simple enough to read by hand
        return _read_table(text, "tool.ciogen")
    except ValueError as exc:
        raise UsageError(f"pyproject.toml: {exc}") from None
    table = data.get("tool", {}).get("ciogen", {})
    return {k: str(v) for k, v in table.items() if isinstance(v, (str, int, float))}


def _read_table(text: str, name: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
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
    p = argparse.ArgumentParser(prog="ciogen", description="Generate a typed Python client from OpenAPI specs.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("generate", "render the client into OUT/PACKAGE"),
        ("check", "exit 1 with a diff when OUT/PACKAGE differs from a fresh render"),
        ("validate", "load and validate the specs, report, write nothing"),
    ):
        c = sub.add_parser(name, help=help_text)
        c.add_argument("--spec", action="append", type=Path, metavar="PATH",
                       help="an OpenAPI file or a directory of them (repeatable; default specs/)")
        c.add_argument("--out", type=Path, metavar="DIR", help="output directory (default generated/)")
        c.add_argument("--package", metavar="NAME", help="package name (default customerio_client)")
        c.add_argument("--strict", action="store_true", help="treat every validation finding as an error")
        c.add_argument("--no-cache", action="store_true", help="do not read or write .ciogen-cache/")
        if name == "check":
            c.add_argument("--full", action="store_true", help="always render in full (no manifest fast path)")
    return p


def options(args: argparse.Namespace) -> Options:
    cfg = {**DEFAULTS, **read_config(Path.cwd())}
    specs = args.spec or [Path(s) for s in cfg["specs"].split(",")]
    package = args.package or cfg["package"]
    if not package.isidentifier():
        raise UsageError(f"--package {package!r} is not a valid Python package name")
    cache = None if args.no_cache else Path(cfg.get("cache", ".ciogen-cache"))
    return Options(specs=specs, out=args.out or Path(cfg["out"]), package=package,
                   strict=bool(args.strict), cache_dir=cache)


def _spec_files(opts: Options) -> List[Path]:
    from .specfiles import find_spec_files

    return find_spec_files(opts.specs)


def _option_hashes(opts: Options) -> Dict[str, str]:
    return {"package": opts.package, "strict": str(opts.strict)}


def render(opts: Options):  # type: ignore[no-untyped-def]
    """Load, normalize and render everything in memory: (api, files, manifest, findings)."""
    from .formatting import import_black, nothing_cached
    from .tasks import Helper
    from .validate import import_validator, needs_validator

    # Two helpers: one validates (its import alone is the slowest step of a small change),
    # the other runs black, so neither waits for the other and this process does neither.
    with Helper() as checker, Helper() as helper:
        if needs_validator(_spec_files(opts), opts.cache_dir):
            # a spec changed, so some output will: both imports overlap everything below
            checker.submit(import_validator)
            if nothing_cached(opts.cache_dir):
                # Every piece needs black, and this process will format half of them: import
                # black once, here, and the helper forked next inherits it (no second import).
                import_black()
            helper.submit(import_black)
        return _render_with(opts, checker, helper)


def _render_with(opts: Options, checker: Any, helper: Any):  # type: ignore[no-untyped-def]
    from .build import build_api
    from .loader import load
    from .output import combined_hash, input_hashes, manifest_bytes
    from .formatting import Formatter
    from .render import make_environment, render_all
    from .validate import start

    # Parsing the specs and building the IR make many long-lived objects and little garbage:
    # the cyclic GC would walk them again and again (about a tenth of a second in all). It is
    # paused meanwhile, and what was built is then frozen (left out of later collections,
    # which black's cyclic parse trees do need).
    collecting = gc.isenabled()
    gc.disable()
    try:
        ws = load(opts.specs)
        hashes = input_hashes([d.path for d in ws.docs.values()], _option_hashes(opts))
        validation = start(ws, opts.cache_dir, checker.submit)
        env = make_environment(cache_dir=opts.cache_dir)
        formatter = Formatter(opts.cache_dir, helper.submit)
        api, example_findings = build_api(opts.specs, package=opts.package,
                                          input_hash=combined_hash(hashes),
                                          cache_dir=opts.cache_dir, workspace=ws)
        gc.freeze()
        if collecting:
            gc.enable()
        files = render_all(api, formatter, env)
        findings = validation.result() + example_findings  # nothing is written before this
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()
    _stop_if_strict(opts, findings)
    manifest = manifest_bytes(hashes, files, [str(s) for s in opts.specs])
    return api, files, manifest, findings


def _stop_if_strict(opts: Options, findings: List[Any]) -> None:
    if opts.strict and findings:
        f = findings[0]
        raise SpecError(f.file, f.pointer, f.message + " (--strict)")


def cmd_generate(opts: Options) -> int:
    from .output import write_package

    _, files, manifest, findings = render(opts)
    for f in findings:
        print(f"warning: {f}", file=sys.stderr)
    changed = write_package(opts.out / opts.package, files, manifest)
    where = opts.out / opts.package
    if not changed:
        print(f"{where}: up to date")
        return 0
    written = [rel for rel in changed if rel in files]
    removed = len(changed) - len(written)
    print(f"{where}: {len(written)} file(s) written, {len(files) - len(written)} unchanged"
          + (f", {removed} removed" if removed else ""))
    return 0


def cmd_check(opts: Options, full: bool) -> int:
    from .output import fast_check, read_tree, unified_diff

    package_dir = opts.out / opts.package
    if not full and fast_check(package_dir, _spec_files(opts), [str(s) for s in opts.specs],
                               _option_hashes(opts)):
        print(f"{package_dir}: in sync")
        return 0
    _, files, _, _ = render(opts)
    stale, diff = unified_diff(files, read_tree(package_dir), str(package_dir))
    if not stale:
        print(f"{package_dir}: in sync")
        return 0
    sys.stdout.write(diff)
    print(f"\n{package_dir} is stale: {len(stale)} file(s) differ from a fresh render:", file=sys.stderr)
    for rel in stale:
        print(f"  {package_dir / rel}", file=sys.stderr)
    print("run `python -m generator generate` (or `make generate`) and commit the result", file=sys.stderr)
    return 1


def cmd_validate(opts: Options) -> int:
    from .build import build_api
    from .loader import load
    from .validate import validate

    ws = load(opts.specs)
    findings = validate(ws, opts.cache_dir)
    api, example_findings = build_api(opts.specs, package=opts.package,
                                      cache_dir=opts.cache_dir, workspace=ws)
    findings += example_findings
    _stop_if_strict(opts, findings)
    for f in findings:
        print(f"warning: {f}", file=sys.stderr)
    ops = sum(len(s.operations) for s in api.surfaces)
    print(f"ok: {len(api.spec_files)} file(s), {len(api.surfaces)} surface(s), {ops} operation(s), "
          f"{len(api.models)} model(s), {len(api.events)} semantic event(s), {len(findings)} warning(s)")
    return 0


# Schemas are converted recursively, a few frames per level of `$ref`/nesting; Python's
# default limit (1,000) stops at about 200 levels, which a long chain of references in a real
# document can reach. Deeper than this limit allows is reported as an error, not a traceback.
RECURSION_LIMIT = 20_000


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        opts = options(args)
        if args.command == "generate":
            code = cmd_generate(opts)
        elif args.command == "check":
            code = cmd_check(opts, args.full)
        else:
            code = cmd_validate(opts)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        files = ", ".join(str(s) for s in getattr(args, "spec", None) or ["specs/"])
        print(f"error: {files}: schemas nest or reference each other too deeply to convert "
              f"(more than about {RECURSION_LIMIT // 5} levels)", file=sys.stderr)
        return 2
    except Exception as exc:  # a generator bug: still one line, and where to look
        from .errors import RenderError

        if isinstance(exc, RenderError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
    return code


def run() -> None:
    """The program (`python -m generator`, the `ciogen` script): `main()`, then a hard exit.

    Tearing the interpreter down (freeing every object of the specs, the IR, Jinja and
    black one by one) takes about 0.1 s, a third of a small regeneration, and does nothing
    for a finished run: every file is written and closed and both helpers have exited by
    then. So the output streams are flushed and the process ends at once.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
