"""Where ciogen's time goes on a huge spec: the measurements behind bench/REPORT-huge.md.

Stdlib only (black, the validator and PyYAML are ciogen's own dependencies). Subcommands:

  spec OUT.json           GitHub's description with bench_huge.WORKAROUND removed
  phases --spec F --work DIR [--fresh] [--edit N] [--cprofile OUT.prof]
                          one `generate` in this process (CIOGEN_JOBS=1: no helpers), cwd
                          DIR (its .ciogen-cache), with timers around each phase; --fresh
                          empties the cache and the output first; --edit N first changes
                          the description of the operation halfway through (as bench_huge);
                          --cprofile also runs it under cProfile (slower) and saves the stats
  black DIR               black 26.10.1 over each .py file of a generated package, as
                          ciogen runs it (in its pieces, or whole when it cannot split)
  validate F [--out J]    openapi-spec-validator over one document, as ciogen calls it
                          (backend from OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND);
                          --out writes the findings as JSON, to compare backends
  parse F                 json.loads against ciogen's YAML loader (the same data as YAML)
  anatomy DIR F           what the generated package is made of, per construct of spec F
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import hashlib
import json
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_huge  # noqa: E402 (after the path: the generator package is imported below)
from generator.formatting import _STAND_IN  # noqa: E402

PACKAGE = bench_huge.PACKAGE


# -- phases ------------------------------------------------------------------------------

SPENT: Dict[str, float] = {}
CALLS: Counter = Counter()
_ACTIVE: Counter = Counter()


def wrap(owner: Any, name: str, label: str) -> None:
    """Replace owner.name by a wrapper adding its wall time (outermost calls) to `label`."""
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if _ACTIVE[label]:
            return inner(*args, **kwargs)
        _ACTIVE[label] += 1
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - start
            CALLS[label] += 1
            _ACTIVE[label] -= 1

    setattr(owner, name, timed)


# (label, parent label or "", module, attribute): the tree printed by `phases`
PHASES: List[Tuple[str, str, str, str]] = [
    ("load: read + parse the document", "", "generator.loader", "load"),
    (
        "  json/yaml parse",
        "load: read + parse the document",
        "generator.loader",
        "parse_bytes",
    ),
    (
        "validate (openapi-spec-validator)",
        "",
        "generator.validate",
        "_validate_documents",
    ),
    ("build the IR (build_api)", "", "generator.build", "build_api"),
    (
        "  collect_operations",
        "build the IR (build_api)",
        "generator.normalize",
        "Normalizer",
    ),
    (
        "  convert_components",
        "build the IR (build_api)",
        "generator.normalize",
        "Normalizer",
    ),
    (
        "  build_surfaces",
        "build the IR (build_api)",
        "generator.normalize",
        "Normalizer",
    ),
    ("  all_models", "build the IR (build_api)", "generator.build", "all_models"),
    (
        "  extract_events",
        "build the IR (build_api)",
        "generator.build",
        "extract_events",
    ),
    (
        "  check_examples",
        "build the IR (build_api)",
        "generator.build",
        "check_examples",
    ),
    ("Jinja environment", "", "generator.render", "make_environment"),
    ("render_all (Jinja + black)", "", "generator.render", "render_all"),
    ("  load/compile templates", "render_all (Jinja + black)", "jinja2", "Environment"),
    ("  Jinja rendering", "render_all (Jinja + black)", "jinja2", "Template"),
    (
        "  split into pieces",
        "render_all (Jinja + black)",
        "generator.formatting",
        "split_pieces",
    ),
    ("  black", "render_all (Jinja + black)", "generator.formatting", "black_piece"),
    ("input hashes", "", "generator.output", "input_hashes"),
    ("write the package", "", "generator.output", "write_package"),
]
METHOD_OF = {
    "  collect_operations": "collect_operations",
    "  convert_components": "convert_components",
    "  build_surfaces": "build_surfaces",
    "  load/compile templates": "get_template",
    "  Jinja rendering": "render",
}


BLACK: Dict[str, List[float]] = {"changed": [0, 0, 0.0], "unchanged": [0, 0, 0.0]}
BLACK_BY_FILE: Dict[str, List[float]] = (
    {}
)  # file -> [calls, lines, s] changed, unchanged
_PIECE_FILE: Dict[str, str] = {}  # a piece's text (as black_piece passes it on) -> file


def count_black_passes() -> None:
    """black.format_str formats twice when its first pass changes the text: count the
    pieces (calls, lines, seconds) it changed, and those it left as they were."""
    import black

    inner = black.format_str

    def format_str(src: str, *, mode: Any) -> str:
        start = time.perf_counter()
        out: str = inner(src, mode=mode)
        spent, lines, changed = time.perf_counter() - start, src.count("\n"), out != src
        row = BLACK["changed" if changed else "unchanged"]
        row[0] += 1
        row[1] += lines
        row[2] += spent
        text = src[len(_STAND_IN) :] if src.startswith(_STAND_IN) else src
        per = BLACK_BY_FILE.setdefault(_PIECE_FILE.get(text, "?"), [0.0] * 6)
        at = 0 if changed else 3
        per[at] += 1
        per[at + 1] += lines
        per[at + 2] += spent
        return out

    black.format_str = format_str

    from generator import formatting

    start_file = formatting.Formatter.start

    def start(self: Any, source: str, name: str) -> None:
        _PIECE_FILE[source.rstrip("\n") + "\n"] = name  # formatted whole
        for p in formatting.split_pieces(source):
            _PIECE_FILE[p.text.rstrip("\n") + "\n"] = name
        start_file(self, source, name)

    formatting.Formatter.start = start  # type: ignore[method-assign]


def install_timers() -> None:
    import importlib

    count_black_passes()

    for label, _, module, attr in PHASES:
        owner = importlib.import_module(module)
        if label in METHOD_OF:
            wrap(getattr(owner, attr), METHOD_OF[label], label)
        else:
            wrap(owner, attr, label)


def preimport() -> Dict[str, float]:
    """Import what the phases import lazily, timed apart (else a phase pays for it)."""
    from generator import validate

    steps: Dict[str, Callable[[], Any]] = {
        "generator + yaml": lambda: __import__("generator.loader"),
        "jinja2": lambda: __import__("jinja2"),
        "black": lambda: __import__("black"),
        "openapi-spec-validator": validate.import_validator,
        "openapi-schema-validator": lambda: __import__("openapi_schema_validator"),
    }
    out = {}
    for name, step in steps.items():
        start = time.perf_counter()
        step()
        out[name] = time.perf_counter() - start
    return out


def cmd_phases(args: argparse.Namespace) -> None:
    os.environ["CIOGEN_JOBS"] = "1"
    work: Path = args.work.resolve()
    spec: Path = args.spec.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        shutil.rmtree(work / ".ciogen-cache", ignore_errors=True)
        shutil.rmtree(work / "out", ignore_errors=True)
    if args.edit is not None:
        data = json.loads(spec.read_text(encoding="utf-8"))
        where = bench_huge.edit_middle(data, args.edit)
        bench_huge.dump(data, spec)
        print(f"edited the description of {where}")
    os.chdir(work)
    start = time.perf_counter()
    imports = preimport()
    install_timers()
    from generator import cli

    argv = ["generate", "--spec", str(spec), "--out", "out", "--package", PACKAGE]
    cpu0 = time.process_time()
    run_start = time.perf_counter()
    if args.cprofile:
        profile = cProfile.Profile()
        code = profile.runcall(cli.main, argv)
        profile.dump_stats(args.cprofile)
    else:
        code = cli.main(argv)
    total = time.perf_counter() - run_start
    cpu = time.process_time() - cpu0
    print(f"exit {code}; generate {total:.2f} s wall, {cpu:.2f} s CPU (this process);")
    print(
        f"imports before it {sum(imports.values()):.2f} s; whole script {time.perf_counter() - start:.2f} s"
    )
    for name, spent in imports.items():
        print(f"  import {name:<40}{spent:8.2f} s")
    print("phases (wall; nested rows are part of the row above them):")
    seen = set()
    top = 0.0
    for label, parent, _, _ in PHASES:
        if label in seen:
            continue
        seen.add(label)
        spent = SPENT.get(label, 0.0)
        top += spent if not parent else 0.0
        print(f"  {label:<42}{spent:8.2f} s  {CALLS[label]:>6} call(s)")
    print(f"  {'(rest of generate: cli, gc, manifest...)':<42}{total - top:8.2f} s")
    print("black's calls (a text black changes is formatted twice):")
    for kind, (calls, lines, spent) in BLACK.items():
        rate = f"{lines / spent:8,.0f} lines/s" if spent else ""
        print(
            f"  {kind:<10}{calls:>7,.0f} call(s){lines:>10,.0f} lines{spent:8.2f} s{rate}"
        )
    print("  per file: changed calls, lines, s | unchanged calls, lines, s")
    for name, per in sorted(
        BLACK_BY_FILE.items(), key=lambda kv: -(kv[1][2] + kv[1][5])
    ):
        cells = " ".join(
            f"{v:>9,.0f}" if i % 3 != 2 else f"{v:8.2f}" for i, v in enumerate(per)
        )
        print(f"    {name:<56}{cells}")
    if args.cprofile:
        stats = pstats.Stats(str(args.cprofile))
        stats.sort_stats("tottime").print_stats(25)


# -- black ---------------------------------------------------------------------------------


def cmd_black(args: argparse.Namespace) -> None:
    import black

    from generator.formatting import black_piece, split_pieces

    print(f"black {black.__version__}, as ciogen runs it (mode: target py39)")
    print(f"{'file':<58}{'lines':>9}{'pieces':>8}{'seconds':>9}{'lines/s':>9}")
    total_lines = total_time = 0.0
    for f in sorted(args.dir.glob("*.py"), key=lambda p: p.stat().st_size):
        text = f.read_text(encoding="utf-8")
        if text.startswith("# Generated by"):
            text = text.split("\n", 1)[1]  # the banner ciogen adds after black
        pieces = split_pieces(text)
        lines = text.count("\n")
        gc.collect()
        start = time.perf_counter()
        for p in pieces:
            ok, out = black_piece(p.text, p.member)
            if not ok:
                raise SystemExit(f"{f.name}: {out}")
        spent = time.perf_counter() - start
        total_lines += lines
        total_time += spent
        print(
            f"{f.name:<58}{lines:>9,}{len(pieces):>8,}{spent:>9.2f}{lines / spent:>9,.0f}"
        )
    print(
        f"{'all':<58}{total_lines:>9,.0f}{'':>8}{total_time:>9.2f}{total_lines / total_time:>9,.0f}"
    )


# -- validate ------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> None:
    from generator import validate
    from generator.loader import read_document

    start = time.perf_counter()
    validate.import_validator()
    imported = time.perf_counter() - start
    doc = read_document(args.file.resolve())
    from openapi_spec_validator.schemas import get_validator_backend

    backend = get_validator_backend()
    start = time.perf_counter()
    cpu = time.process_time()
    found = validate._validate_document(doc)
    spent, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows = [[f.pointer, f.message] for f in found]
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]
    print(f"backend {backend}: import {imported:.2f} s, validation {spent:.2f} s wall,")
    print(f"  {cpu:.2f} s CPU, {len(rows)} finding(s), sha256 of the findings {digest}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


# -- parse ---------------------------------------------------------------------------------


def best_of(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cmd_parse(args: argparse.Namespace) -> None:
    import yaml

    from generator.loader import parse_bytes

    raw = args.file.read_bytes()
    data = json.loads(raw)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    as_yaml = yaml.dump(
        data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=1 << 30
    )
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path = Path(tmp) / "spec.yaml"
        yaml_path.write_text(as_yaml, encoding="utf-8")
        yaml_raw = yaml_path.read_bytes()
    libyaml = "with" if getattr(yaml, "__with_libyaml__", False) else "WITHOUT"
    print(
        f"{args.file.name}: {len(raw):,} B of JSON; as YAML {len(yaml_raw):,} B; PyYAML {libyaml} libyaml"
    )
    cases = {
        "json.loads (ciogen's .json path)": lambda: parse_bytes(raw, "spec.json"),
        "ciogen's YAML loader on the YAML": lambda: parse_bytes(yaml_raw, "spec.yaml"),
        "ciogen's YAML loader on the JSON text": lambda: parse_bytes(raw, "spec.yaml"),
    }
    for name, fn in cases.items():
        print(f"  {name:<42}{best_of(fn):8.2f} s (best of 3)")
    if parse_bytes(yaml_raw, "spec.yaml") != data:
        # e.g. PyYAML's (YAML 1.1) dumper leaves 012345678912345678 unquoted: a string in
        # YAML 1.1, an integer in YAML 1.2 (ciogen's loader); the timing is unaffected
        print(
            "  (some values read back differently from the YAML: see the comment here)"
        )


# -- anatomy -------------------------------------------------------------------------------


def _refs(node: Any, out: Counter) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out[node["$ref"]] += 1
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)


def _blocks(text: str, start: str) -> List[Tuple[str, int]]:
    """Top-level blocks starting with `start` (class/def): (name, lines), source order."""
    out: List[Tuple[str, int]] = []
    lines = text.splitlines()
    heads = [
        i
        for i, line in enumerate(lines)
        if re.match(r"(class|def|async def|@|[A-Za-z_])", line)
    ]
    heads.append(len(lines))
    for a, b in zip(heads, heads[1:]):
        m = re.match(rf"{start} (\w+)", lines[a])
        if m:
            out.append((m.group(1), b - a))
    return out


def _class_texts(text: str) -> List[Tuple[str, int, str]]:
    """(name, lines, text) of each top-level class with its decorators."""
    lines = text.splitlines(keepends=True)
    heads = [
        i
        for i, line in enumerate(lines)
        if re.match(r"(class|def|async def|@|[A-Za-z_])", line)
    ]
    heads.append(len(lines))
    out = []
    for a, b in zip(heads, heads[1:]):
        m = re.match(r"class (\w+)", lines[a])
        if m:
            first = a - 1 if a and lines[a - 1].startswith("@") else a
            out.append((m.group(1), b - a, "".join(lines[first:b])))
    return out


def cmd_anatomy(args: argparse.Namespace) -> None:
    data = json.loads(args.spec.read_text(encoding="utf-8"))
    schemas = data.get("components", {}).get("schemas", {})
    from_paths: Counter = Counter()
    _refs(data.get("paths", {}), from_paths)
    _refs(data.get("components", {}), from_paths)
    from_hooks: Counter = Counter()
    _refs(data.get("x-webhooks", {}), from_hooks)
    hook_only = [n for n in schemas if f"#/components/schemas/{n}" not in from_paths]
    print(
        f"{len(schemas)} component schemas; {len(hook_only)} referenced only from x-webhooks"
    )
    print("  (or from nothing): ciogen makes a model of every component schema")
    models = (args.dir / "models.py").read_text(encoding="utf-8")
    classes = _blocks(models, "class")
    from generator.naming import pascal

    component_names = {pascal(n) for n in schemas}
    hook_names = {pascal(n) for n in hook_only}
    inline = [(n, ln) for n, ln in classes if n not in component_names]
    print(
        f"models.py: {len(classes):,} classes, {sum(ln for _, ln in classes):,} lines;"
    )
    print(
        f"  {len(classes) - len(inline):,} from component schemas, {len(inline):,} inline"
    )
    print(
        "  (named after where they occur); lines in classes of webhook-only components:"
    )
    print(f"  {sum(ln for n, ln in classes if n in hook_names):,}")
    print("  largest classes (lines):")
    for name, lines in sorted(classes, key=lambda c: -c[1])[:12]:
        print(f"    {name:<70}{lines:>7,}")
    webhook = [(n, ln) for n, ln in classes if n.startswith("Webhook")]
    print(
        "  classes named Webhook* (webhook-* components and the classes inline in them):"
    )
    print(f"  {len(webhook):,}, {sum(ln for _, ln in webhook):,} lines")
    # the same class under another name: equal text once every class name is masked
    names = {n for n, _ in classes}
    shapes: Dict[str, List[Tuple[str, int]]] = {}
    for name, lines, text in _class_texts(models):
        masked = re.sub(
            r"\b[A-Z]\w*\b", lambda m: "M" if m.group(0) in names else m.group(0), text
        )
        shapes.setdefault(masked, []).append((name, lines))
    repeats = [group for group in shapes.values() if len(group) > 1]
    extra = sum(ln for group in repeats for _, ln in group[1:])
    print(
        f"  {len(shapes):,} distinct class shapes; {sum(len(g) - 1 for g in repeats):,} classes"
    )
    print(f"  repeat another's shape under another name: {extra:,} lines")
    for group in sorted(repeats, key=lambda g: -sum(ln for _, ln in g[1:]))[:5]:
        print(
            f"    {len(group):>4} x {group[0][1]:>5} lines, e.g. {group[0][0]}, {group[1][0]}"
        )
    fixtures = (args.dir / "fixtures.py").read_text(encoding="utf-8")
    print(f"fixtures.py: {fixtures.count(chr(10)):,} lines, {len(fixtures):,} B")
    for path in sorted(args.dir.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        defs = [b for b in _blocks(text, "def") if not b[0].startswith("__")]
        if len(defs) > 1000:
            top = sorted(defs, key=lambda d: -d[1])[:3]
            print(
                f"{path.name}: {len(defs):,} module-level functions, {sum(ln for _, ln in defs):,} lines;"
            )
            print(f"  largest: {top}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("spec")
    p.add_argument("out", type=Path)
    p = sub.add_parser("phases")
    p.add_argument("--spec", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--edit", type=int)
    p.add_argument("--cprofile", type=Path)
    p = sub.add_parser("black")
    p.add_argument("dir", type=Path)
    p = sub.add_parser("validate")
    p.add_argument("file", type=Path)
    p.add_argument("--out", type=Path)
    p = sub.add_parser("parse")
    p.add_argument("file", type=Path)
    p = sub.add_parser("anatomy")
    p.add_argument("dir", type=Path)
    p.add_argument("spec", type=Path)
    args = ap.parse_args()
    if args.command == "spec":
        data = json.loads(bench_huge.document().read_text(encoding="utf-8"))
        bench_huge.remove(data, bench_huge.WORKAROUND)
        size = bench_huge.dump(data, args.out)
        print(f"{args.out}: {size:,} B (removed {bench_huge.WORKAROUND})")
    else:
        globals()[f"cmd_{args.command}"](args)


if __name__ == "__main__":
    main()
