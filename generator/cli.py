"""Command line: `python -m generator {generate,check,validate}` (also the `ciogen` script).

Exit codes: 0 done / in sync; 1 `check` found stale files (or no package: one line); 2 bad
input or usage (one line naming the file and JSON pointer, never a traceback), and a
`generate` that would replace what ciogen did not write.
"""

from __future__ import annotations

import argparse
import datetime
import keyword
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .errors import RenderError, SpecError, UsageError, json_kind
from .pipeline import Options
from .reserved import api_name_clash

DEFAULTS: dict[str, str] = {
    "specs": "specs",
    "out": "generated",
    "package": "customerio_client",
    "name": "",
    "group_by": "auto",
    "cache": ".ciogen-cache",
}
GROUP_BY = ("auto", "tag", "none")  # see ir/groups.py
CACHE_DIR = DEFAULTS["cache"]
CONFIG = "pyproject.toml"
CONFIG_KEYS = ("specs", "out", "package", "name", "group_by", "cache")


def _config_error(key: str, problem: str) -> UsageError:
    return UsageError(f"{CONFIG}: [tool.ciogen] {key}: {problem}")


def _toml_type(value: object) -> str:
    """How TOML calls a value's type (for messages)."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date or time"
    return json_kind(value)


def read_config(root: Path) -> dict[str, str | list[str]]:
    """`[tool.ciogen]` from `root`'s pyproject.toml, checked: every key known, every value a
    non-empty string (`specs` may be an array of them). Anything else is a UsageError
    naming the file and the key (exit 2), not a silent default."""
    path = root / CONFIG
    if not path.exists():
        return {}
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{CONFIG}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{CONFIG}: not UTF-8 text: byte {raw[exc.start]:#04x} at offset "
            f"{exc.start} (line {line})"
        ) from None
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    # Python < 3.11: the table is simple enough to read by hand
    except ModuleNotFoundError:
        table: object = _read_table(text, "tool.ciogen")
    else:
        try:
            data = tomllib.loads(text)
        except ValueError as exc:
            raise UsageError(f"{CONFIG}: {exc}") from None
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise UsageError(f"{CONFIG}: tool: must be a table, not {_toml_type(tool)}")
        table = tool.get("ciogen", {})
    if not isinstance(table, dict):
        raise UsageError(
            f"{CONFIG}: [tool.ciogen] must be a table, not {_toml_type(table)}"
        )
    return {key: _config_value(key, value) for key, value in table.items()}


def _config_value(key: str, value: object) -> str | list[str]:
    if key not in CONFIG_KEYS:
        raise _config_error(key, f"unknown key (known: {', '.join(CONFIG_KEYS)})")
    if key == "specs" and isinstance(value, list):
        if not value:
            raise _config_error(key, "an empty array names no specs")
        for item in value:
            if not isinstance(item, str) or not item:
                raise _config_error(key, "must be an array of non-empty strings")
        return [str(item) for item in value]
    if not isinstance(value, str):
        wanted = "a string or an array of strings" if key == "specs" else "a string"
        raise _config_error(
            key, f"must be {wanted}, not {_toml_type(value)} ({value!r})"
        )
    if not value:
        raise _config_error(key, "must not be empty")
    if key == "group_by" and value not in GROUP_BY:
        raise _config_error(key, f"{value!r} is not one of {', '.join(GROUP_BY)}")
    return value


def _literal(table: str, key: str, value: str) -> object:
    """A one-line TOML value (a string, an array of strings, a number, a boolean) as
    Python reads it, with or without a trailing comment."""
    import ast

    for text in (value, _uncommented(value)):
        try:
            return ast.literal_eval({"true": "True", "false": "False"}.get(text, text))
        except (ValueError, SyntaxError):
            pass
    raise UsageError(f"{CONFIG}: cannot read [{table}] {key.strip()} = {value}")


def _uncommented(value: str) -> str:
    return value.split(" #")[0].split("\t#")[0].strip()


def _read_table(text: str, name: str) -> dict[str, object]:
    """A `[name]` table of `key = value` lines (Python < 3.11, which has no TOML reader):
    strings, numbers and booleans on one line each, and arrays of strings on one line or
    one item per line."""
    out: dict[str, object] = {}
    inside = False
    lines = iter(text.splitlines())
    for line in lines:
        s = line.strip()
        if s.startswith("["):
            inside = s.split("#")[0].strip() == f"[{name}]"
        elif inside and "=" in s and not s.startswith("#"):
            key, _, value = s.partition("=")
            value = value.strip()
            if _uncommented(value).startswith("[") and not value.endswith("]"):
                # an array over several lines: read on to its closing bracket
                parts = [_uncommented(value)]
                while not parts[-1].endswith("]"):
                    more = next(lines, None)
                    if more is None:
                        break
                    parts.append(_uncommented(more))
                value = " ".join(parts)
            out[key.strip().strip('"').strip("'")] = _literal(name, key, value)
    return out


class _Parser(argparse.ArgumentParser):
    """argparse, with a wrong argument reported as every other bad input is: one line,
    exit 2 (argparse's usage block is what `--help` is for)."""

    def error(self, message: str) -> NoReturn:
        print(
            f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr
        )
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ciogen",
        description="Generate a typed Python client from OpenAPI specs. Defaults come "
        "from the [tool.ciogen] table of pyproject.toml in the working directory, else "
        "from the built-in ones named below.",
    )
    p.add_argument("--version", action="version", version=f"ciogen {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("generate", "render the client into OUT/PACKAGE"),
        ("check", "exit 1 with a diff when OUT/PACKAGE differs from a fresh render"),
        (
            "validate",
            (
                "load and validate the specs and report; writes no package (only its "
                "cache, unless --no-cache)"
            ),
        ),
    ):
        c = sub.add_parser(name, help=help_text, description=help_text)
        c.add_argument(
            "--spec",
            action="append",
            metavar="PATH",
            help="an OpenAPI file, or a directory whose files with a top-level `openapi` "
            "key are the specs (repeatable; default: [tool.ciogen] specs, else specs/)",
        )
        c.add_argument(
            "--out",
            metavar="DIR",
            help="output directory (default: [tool.ciogen] out, else generated/)"
            + ("; validate writes nothing there" if name == "validate" else ""),
        )
        c.add_argument(
            "--package",
            metavar="NAME",
            help="package name (default: [tool.ciogen] package, else customerio_client)",
        )
        c.add_argument(
            "--name",
            metavar="NAME",
            help="the API's name in class names (AcmeError, FakeAcme; default: "
            "[tool.ciogen] name for its own specs, else from the specs' titles)",
        )
        c.add_argument(
            "--group-by",
            choices=GROUP_BY,
            help="operations as client.<tag>.<method>() (tag), all on the client (none), "
            "or by tag for surfaces of more than 150 operations (auto; default: "
            "[tool.ciogen] group_by, else auto)",
        )
        c.add_argument(
            "--strict",
            action="store_true",
            help="treat every validation finding as an error",
        )
        c.add_argument(
            "--no-cache",
            action="store_true",
            help=f"do not read or write the cache ([tool.ciogen] cache, else {CACHE_DIR}/)",
        )
        if name == "generate":
            c.add_argument(
                "-q",
                "--quiet",
                action="store_true",
                help="do not list the specs' warnings, only count them (validate lists "
                "them)",
            )
        if name == "check":
            c.add_argument(
                "--full",
                action="store_true",
                help="always render in full (no manifest fast path)",
            )
    return p


def _pick(
    args: argparse.Namespace, cfg: dict[str, str | list[str]], key: str
) -> tuple[str, str]:
    """An option's value and how messages name it: the flag's, else the table's, else the
    default. An empty flag is refused (it would silently mean the default or `.`)."""
    flag = "--" + key.replace("_", "-")
    value = getattr(args, key)
    if value is not None:
        if not value:
            raise UsageError(
                f"{flag}: an empty value (leave the option out for its default)"
            )
        return str(value), flag
    if key in cfg:
        return str(cfg[key]), f"{CONFIG}: [tool.ciogen] {key}:"
    return DEFAULTS[key], flag


def _spec_paths(
    args: argparse.Namespace, cfg: dict[str, str | list[str]]
) -> list[Path]:
    if args.spec:
        for spec in args.spec:
            if not spec:
                raise UsageError("--spec: an empty path (name a file or a directory)")
        return [Path(s) for s in args.spec]
    specs = cfg.get("specs", DEFAULTS["specs"])
    names = specs if isinstance(specs, list) else specs.split(",")
    if not all(n.strip() for n in names):
        raise _config_error("specs", f"{specs!r} names an empty path")
    return [Path(n.strip()) for n in names]


def _is_stdlib(name: str) -> bool:
    """Whether `name` is a standard-library module (a package so named could not be
    imported, or would shadow it)."""
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names is not None:
        return name in names
    if name in sys.builtin_module_names:
        return True
    import importlib.util
    import sysconfig

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    origin = (spec.origin or "") if spec else ""
    stdlib = sysconfig.get_paths()["stdlib"]
    return origin.startswith(stdlib) and "site-packages" not in origin


def options(args: argparse.Namespace) -> Options:
    cfg = read_config(Path.cwd())
    specs = _spec_paths(args, cfg)
    package, where = _pick(args, cfg, "package")
    subject = f"{where} {package!r}"
    if not package.isidentifier() or keyword.iskeyword(package):
        raise UsageError(f"{subject} is not a valid Python package name")
    if _is_stdlib(package):
        raise UsageError(
            f"{subject} is a standard-library module (the package would shadow it or "
            "not be importable): pick another name"
        )
    # the table's name is its own specs' API: specs named on the command line are another
    # API, named from their titles (a package for another API must not carry this one's)
    name, where = (
        _pick(args, cfg, "name")
        if args.name is not None or not args.spec
        else ("", "--name")
    )
    if name:
        if not name.isidentifier() or not name[0].isupper():
            raise UsageError(
                f"{where} {name!r} must be a PascalCase identifier (e.g. Acme)"
            )
        # from reserved, not the IR: `check` answers from its manifest without the IR
        from .reserved import API_NAME_LIMIT

        if len(name) > API_NAME_LIMIT:
            # `<Name>Error = Error` in the package's __init__ would pass 88 columns
            raise UsageError(
                f"{where} {name[:20]!r}... is longer than {API_NAME_LIMIT} characters"
            )
        clash = api_name_clash(name)
        if clash:
            raise UsageError(f"{where} {name!r}: {clash}; pick another name")
    out_text, where = _pick(args, cfg, "out")
    out = Path(out_text)
    # validate writes no package: its --out is not checked
    if args.command != "validate" and out.exists() and not out.is_dir():
        raise UsageError(f"{where} {out_text!r} is not a directory")
    cache = None if args.no_cache else Path(str(cfg.get("cache", CACHE_DIR)))
    group_by, _ = _pick(args, cfg, "group_by")
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


def cmd_generate(opts: Options, quiet: bool = False, argv: Sequence[str] = ()) -> int:
    from .pipeline import render
    from .render.output import refusal, write_package

    where = opts.out / opts.package
    why = refusal(where)  # before the render: a refused run costs nothing
    if why:
        raise UsageError(why)
    result = render(opts)
    if not quiet:
        _warn(result.findings)
    elif result.findings:
        # a huge third-party spec can have hundreds, the same on every run
        print(
            f"{len(result.findings)} warning(s) not shown; "
            f"`{validate_command(argv)}` lists them",
            file=sys.stderr,
        )
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
    return _as_command(argv, "check", "generate", ("--full",))


def validate_command(argv: Sequence[str]) -> str:
    """The `validate` command that lists the warnings a quiet `generate` only counted."""
    return _as_command(argv, "generate", "validate", ("-q", "--quiet"))


def _as_command(argv: Sequence[str], old: str, new: str, drop: Sequence[str]) -> str:
    """This run's command line as command `new`, without the options in `drop`."""
    args = [a for a in argv if a not in drop]
    if old in args:
        args[args.index(old)] = new
    return "ciogen " + " ".join(shlex.quote(a) for a in args)


def cmd_check(opts: Options, full: bool, argv: Sequence[str]) -> int:
    from .render.output import fast_check, read_tree, settled, unified_diff

    package_dir = opts.out / opts.package

    def look() -> str:
        """The package's state: missing, empty, in sync (the manifest proves it), or to
        be compared with a fresh render."""
        if package_dir.exists() and not package_dir.is_dir():
            raise UsageError(f"{package_dir} exists and is not a directory")
        if not package_dir.exists():
            return "missing"
        if not any(package_dir.iterdir()):
            return "empty"
        if not full and fast_check(
            package_dir, _spec_files(opts), [str(s) for s in opts.specs], opts.hashed()
        ):
            return "in sync"
        return "render"

    try:
        # as no run is writing it: a `generate` under way is waited for
        state = settled(package_dir, look)
    except OSError as exc:
        raise UsageError(f"cannot read {package_dir}: {exc.strerror or exc}") from None
    if state in ("missing", "empty"):
        print(
            f"{package_dir}: {state}; run `{regenerate_command(argv)}`", file=sys.stderr
        )
        return 1
    if state == "in sync":
        print(f"{package_dir}: in sync")
        return 0
    from .pipeline import render

    result = render(opts)
    try:
        on_disk = settled(package_dir, lambda: read_tree(package_dir))
    except OSError as exc:
        raise UsageError(f"cannot read {package_dir}: {exc.strerror or exc}") from None
    stale, diff = unified_diff(result.files, on_disk, str(package_dir))
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
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C: the pool's workers ignore SIGINT and are stopped by the pool as the
        # interrupt unwinds it; nothing is written (a write in progress is atomic)
        print("interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        opts = options(args)
        if args.command == "generate":
            return cmd_generate(opts, args.quiet, argv)
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
