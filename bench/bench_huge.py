"""ciogen on a huge spec (GitHub's REST API description), side by side with the peer.

Prints figures, never asserts. The peer is openapi-python-client 0.29.1 (installed on first
use into bench/.venv-peer, as bench_generate.py does); GitHub's description comes from the
npm package pinned in tools/octokit (`npm ci` there on first use). Every timed command is a
whole process (interpreter start included), timed in rounds that alternate the tools, so
drift in the machine's speed touches both alike; each figure is the median over the rounds.

Per command: wall seconds; CPU seconds (user + system of the process and of the helpers it
waited for, from wait4's rusage); peak RSS of the largest single process (ru_maxrss); and
the peak summed over the process tree (PSS, sampled every 0.25 s from /proc, so helpers
that share pages after a fork are not counted twice).

Figures:
- the unmodified document: cold generate (empty cache, no output) for both; `check` on
  the in-sync tree; two one-line edits regenerated with a warm cache (the peer: its normal
  full run): a description in the middle of the document (prose), and `deprecated: true`
  added to an operation there (structure: the code changes); output files, lines and bytes;
- importing the generated package in a fresh interpreter and making one call (`meta/root`,
  GET /) against a local server that answers the spec's own example: wall, peak RSS, and
  the import and call times measured inside the process; the first import (bytecode cache
  empty) once, then warm ones;
- `python -m compileall` on each output: wall and peak RSS;
- synthetic specs 1x/2x/4x/8x: a slice of the document (every STEP-th path and what its
  `$ref`s reach) copied k times with renamed paths, operation ids and components; cold
  generate for each and the fitted exponent (least-squares slope of log time vs log bytes).

Like bench_generate.py, processes run with the bytecode cache on, in a scratch
PYTHONPYCACHEPREFIX (warmed by the first runs). ciogen runs as `python -m generator
generate --spec FILE --out DIR --package NAME` from a scratch directory (its cache is
`.ciogen-cache/` there), with this repository on PYTHONPATH.

Usage: .venv/bin/python bench/bench_huge.py [--runs N] [--only PART ...] [--step N]
       [--scratch DIR] [--keep]
"""

from __future__ import annotations

import argparse
import copy
import http.server
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_generate import ONE_DOCUMENT, PEER_VENV, PEER_VERSION, peer_bin

ROOT = Path(__file__).resolve().parent.parent
OCTOKIT = ROOT / "tools" / "octokit"
DOCUMENT = (
    OCTOKIT
    / "node_modules"
    / "@octokit"
    / "openapi"
    / "generated"
    / "api.github.com.json"
)
PACKAGE = "github_client"
PARTS = ("github", "import", "compile", "synthetic")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CALL_OPERATION = (
    "meta/root"  # GET /: no parameters, a plain object model in both outputs
)
ANSWER_EXAMPLE = "root"  # components/examples/root: what the local server answers

CHOSEN = {"document": DOCUMENT}  # --document: another description (a test of the bench)
ENV = dict(os.environ)  # for every process the bench starts (see the module docstring)
MiB = 1024 * 1024


# -- running one command -----------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    rss: float  # MiB, largest single process (ru_maxrss)
    tree: float  # MiB, peak PSS summed over the process tree (sampled)
    code: int
    output: str
    load: float = (
        0.0  # the 1-minute load average when it ended (other work on the machine)
    )


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Peak PSS of a process and its descendants, sampled until `stop()`."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        began = time.perf_counter()
        while not self._stop_event.is_set():
            kids, total = _children(), 0
            todo = list(kids.get(self.pid, ()))  # the launcher's descendants
            while todo:
                pid = todo.pop()
                total += _pss_kib(pid)
                todo.extend(kids.get(pid, ()))
            self.peak_kib = max(self.peak_kib, total)
            # often at first, so that short commands get a sample too
            self._stop_event.wait(
                0.02 if time.perf_counter() - began < 1 else self.interval
            )

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_kib / 1024


# The measured command runs under this small launcher, which forks it and reports its
# wait4 figures: a process started straight from the bench (vfork + exec) would carry the
# bench's own peak RSS into its ru_maxrss (Linux keeps the larger across exec).
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, u = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as f:
    f.write("%d %r %r %d" % (code, wall, u.ru_utime + u.ru_stime, u.ru_maxrss))
sys.exit(code)
"""


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """One whole process: wall, CPU and memory (see the module docstring)."""
    os.sync()  # the last run's writes are flushed now, not while this one is timed
    with tempfile.TemporaryDirectory() as tmp:
        figures, log = Path(tmp) / "figures", Path(tmp) / "log"
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(figures)]
        with open(log, "wb") as f:
            p = subprocess.Popen(
                launcher + list(cmd), cwd=cwd, env=env or ENV, stdout=f, stderr=f
            )
            sampler = TreeSampler(p.pid)
            sampler.start()
            p.wait()
            tree = sampler.stop()
        output = log.read_text(encoding="utf-8", errors="replace")
        if not figures.exists():
            raise SystemExit(f"{cmd[0]} did not start ({p.returncode}):\n{output}")
        code, wall, cpu, rss = figures.read_text().split()
    load = os.getloadavg()[0]
    return Run(float(wall), float(cpu), int(rss) / 1024, tree, int(code), output, load)


def must(r: Run, what: str) -> Run:
    if r.code != 0:
        raise SystemExit(f"{what} failed ({r.code}):\n{r.output[-3000:]}")
    return r


def ciogen_env() -> dict[str, str]:
    return {**ENV, "PYTHONPATH": str(ROOT)}


def ciogen(command: str, spec: Path, out: Path, cwd: Path) -> Run:
    cmd = [sys.executable, "-m", "generator", command, "--spec", str(spec)]
    return run(cmd + ["--out", str(out), "--package", PACKAGE], cwd, ciogen_env())


def peer(spec: Path, out: Path, cwd: Path) -> Run:
    exe = str(peer_bin())
    cmd = [
        exe,
        "generate",
        "--path",
        str(spec),
        "--output-path",
        str(out),
        "--overwrite",
    ]
    return run(cmd, cwd)


def empty(*dirs: Path) -> None:
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


# -- the documents -----------------------------------------------------------------------


def document() -> Path:
    if CHOSEN["document"] != DOCUMENT:
        return CHOSEN["document"]
    if not DOCUMENT.exists():
        if shutil.which("npm") is None:
            raise SystemExit(
                "npm not found: it installs tools/octokit (GitHub's document)"
            )
        cmd = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(cmd, cwd=OCTOKIT, check=True)
    return DOCUMENT


def dump(data: Any, path: Path) -> int:
    """Write as the package's files are written (2-space indent, UTF-8): loading and
    dumping the unmodified document gives back its exact bytes."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def operations(data: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in data.get("paths", {}).items():
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item[method]


def edit_middle(data: dict[str, Any], n: int) -> str:
    """Change one description string about halfway through the operations (in place)."""
    ops = list(operations(data))
    for path, method, op in ops[len(ops) // 2 :]:
        if isinstance(op.get("description"), str):
            op["description"] += f" (edit {n})"
            return f"{method.upper()} {path}"
    raise SystemExit("no operation with a description in the second half")


def deprecate_middle(data: dict[str, Any]) -> str:
    """Mark one operation about halfway through deprecated (in place): one line added to
    the document, a warning added to one method of the generated code."""
    ops = list(operations(data))
    for path, method, op in ops[len(ops) // 2 :]:
        if not op.get("deprecated"):
            op["deprecated"] = True
            return f"{method.upper()} {path}"
    raise SystemExit("no operation left to deprecate in the second half")


def _refs(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.append(ref)
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)


def base_slice(data: dict[str, Any], step: int) -> dict[str, Any]:
    """Every `step`-th path (in document order) and the components its $refs reach."""
    paths = dict(list(data["paths"].items())[::step])
    components = data.get("components", {})
    keep: dict[str, dict[str, Any]] = {}
    todo: list[str] = []
    _refs(paths, todo)
    while todo:
        ref = todo.pop()
        m = re.fullmatch(r"#/components/([^/]+)/([^/]+)", ref)
        if not m:
            raise SystemExit(f"unexpected $ref {ref!r}")
        section, name = m.group(1), unescape(m.group(2))
        if name in keep.setdefault(section, {}):
            continue
        keep[section][name] = node = components[section][name]
        _refs(node, todo)
    kept = {
        s: {n: v for n, v in components[s].items() if n in keep.get(s, {})}
        for s in components
    }
    # x-webhooks (GitHub's webhooks, an extension of OpenAPI 3.0) is left out: neither tool
    # reads it, and its $refs would reach components the slice does not keep
    out = {
        k: v for k, v in data.items() if k not in ("paths", "components", "x-webhooks")
    }
    out["paths"] = paths
    out["components"] = {s: v for s, v in kept.items() if v}
    return out


def _renamed(node: Any, suffix: str) -> Any:
    if isinstance(node, dict):
        out = {k: _renamed(v, suffix) for k, v in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            out["$ref"] = ref + suffix
        return out
    if isinstance(node, list):
        return [_renamed(v, suffix) for v in node]
    return node


def replicate(base: dict[str, Any], k: int) -> dict[str, Any]:
    """`base` and k-1 renamed copies of its paths, operation ids and components."""
    out = copy.deepcopy(base)
    for c in range(2, k + 1):
        suffix = f"-copy{c}"
        for path, item in base["paths"].items():
            item = _renamed(item, suffix)
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, dict) and "operationId" in op:
                    op["operationId"] += suffix
            out["paths"][f"/copy{c}{path}"] = item
        for section, named in base["components"].items():
            for name, node in named.items():
                out["components"][section][name + suffix] = _renamed(node, suffix)
    return out


# -- outputs -----------------------------------------------------------------------------


@dataclass
class Tree:
    files: int
    py_files: int
    lines: int
    mib: float
    biggest: list[tuple[str, int, int]]  # (path, bytes, lines), largest first


def tree(path: Path) -> Tree:
    rows = []
    for f in sorted(path.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            data = f.read_bytes()
            rows.append((str(f.relative_to(path)), len(data), data.count(b"\n")))
    rows.sort(key=lambda r: -r[1])
    py = [r for r in rows if r[0].endswith(".py")]
    total = sum(r[1] for r in rows)
    return Tree(len(rows), len(py), sum(r[2] for r in py), total / MiB, rows)


def peer_package(out: Path) -> Path:
    found = [p.parent for p in out.glob("*/__init__.py")]
    if len(found) != 1:
        raise SystemExit(f"expected one package in {out}, found {found}")
    return found[0]


# -- figures -----------------------------------------------------------------------------


def med(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def row(label: str, ours: list[Run] | None, theirs: list[Run] | None) -> None:
    def cell(runs: list[Run] | None) -> str:
        if not runs:
            return f"{'-':>38}"
        w, c, m, t = (med(runs, f) for f in ("wall", "cpu", "rss", "tree"))
        return f"{w:8.2f} s {c:7.1f} s cpu {m:6.0f}/{t:5.0f} MiB"

    LOADS.extend(r.load for r in (ours or []) + (theirs or []))
    ratio = ""
    if ours and theirs:
        ratio = f"  {med(ours, 'wall') / med(theirs, 'wall'):5.2f}x"
    print(f"  {label:<34}{cell(ours)}  |{cell(theirs)}{ratio}")


LOADS: list[float] = []  # of every run in the current table (see `loads`)


def loads() -> None:
    if LOADS:
        print(
            f"    (1-minute load average as the runs ended: {min(LOADS):.1f} to {max(LOADS):.1f})"
        )
    LOADS.clear()


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"  {'':<34}{'ciogen: wall, cpu, rss/tree':>38}  |{'peer':>38}  ciogen/peer")


def bench_github(scratch: Path, runs: int) -> tuple[Path, Path]:
    """Cold, check and one-line edit on GitHub's document; returns the two outputs."""
    work = scratch / "github"
    work.mkdir()
    data = json.loads(document().read_text(encoding="utf-8"))
    spec = work / "github.json"
    size = dump(data, spec)
    pristine = spec.read_text(encoding="utf-8")
    out, peer_out = work / "out", work / "peer"

    cold: list[Run] = []
    peer_cold: list[Run] = []
    check: list[Run] = []
    prose: list[Run] = []
    structure: list[Run] = []
    peer_edit: list[Run] = []
    written: dict[str, list[str]] = {"prose": [], "structure": []}
    for n in range(runs):
        peer_cold.append(must(peer(spec, peer_out, work), "peer"))
        empty(work / ".ciogen-cache", out)
        cold.append(must(ciogen("generate", spec, out, work), "ciogen cold"))
        check.append(must(ciogen("check", spec, out, work), "ciogen check"))
        edited = json.loads(pristine)
        described = edit_middle(edited, n)
        dump(edited, spec)
        prose.append(must(ciogen("generate", spec, out, work), "ciogen prose edit"))
        written["prose"] += re.findall(r"\d+ file\(s\) written", prose[-1].output)
        peer_edit.append(must(peer(spec, peer_out, work), "peer one-line"))
        edited = json.loads(pristine)
        deprecated = deprecate_middle(edited)
        dump(edited, spec)
        structure.append(must(ciogen("generate", spec, out, work), "ciogen edit"))
        written["structure"] += re.findall(
            r"\d+ file\(s\) written", structure[-1].output
        )
        spec.write_text(pristine, encoding="utf-8")
    # the outputs left are those of the last edit: one operation is deprecated

    ours, theirs = tree(out / PACKAGE), tree(peer_package(peer_out))
    print(f"\nGitHub's REST API description ({document().name}, {size:,} B,")
    ops = sum(1 for _ in operations(data))
    print(f"{ops} operations; {runs} interleaved run(s) per figure, medians)")
    header("  the unmodified document")
    row("cold generate", cold, peer_cold)
    row("check (in sync)", check, None)
    row("one-line edit (prose), warm cache", prose, peer_edit)
    print(
        f"    (the description of {described}; ciogen: {', '.join(written['prose'])})"
    )
    row("one-line edit (code), warm cache", structure, peer_edit)
    print(
        f"    (deprecated: true on {deprecated}; ciogen: "
        f"{', '.join(written['structure'])})"
    )
    loads()
    print(
        f"  output: ciogen {ours.files} files ({ours.py_files} .py), {ours.lines:,} lines of"
    )
    print(
        f"    Python, {ours.mib:.1f} MiB; peer {theirs.files} files ({theirs.py_files} .py),"
    )
    print(f"    {theirs.lines:,} lines of Python, {theirs.mib:.1f} MiB")
    print("  ciogen's largest files (bytes, lines):")
    for name, size_b, lines in ours.biggest[:10]:
        print(f"    {name:<56}{size_b:>12,}{lines:>9,}")
    print("  the peer's largest files (bytes, lines):")
    for name, size_b, lines in theirs.biggest[:5]:
        print(f"    {name:<56}{size_b:>12,}{lines:>9,}")
    return out, peer_out


class _Answer(http.server.BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


OURS_CALL = """
import json, sys, time
t0 = time.perf_counter()
import {package} as pkg
t1 = time.perf_counter()
info = pkg.OPERATIONS["{operation}"]
client = getattr(pkg, info.client)(base_url=sys.argv[1])
r = getattr(getattr(client, info.group) if info.group else client, info.method)()
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "call": t2 - t1, "type": type(r.data).__name__}}))
"""

PEER_CALL = """
import importlib, json, sys, time
t0 = time.perf_counter()
pkg = importlib.import_module("{package}")
op = importlib.import_module("{package}.{module}")
t1 = time.perf_counter()
r = op.sync(client=pkg.Client(base_url=sys.argv[1]))
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "call": t2 - t1, "type": type(r).__name__}}))
"""


def peer_module(package: Path, path: str) -> str:
    for f in sorted((package / "api").rglob("*.py")):
        text = f.read_text(encoding="utf-8")
        if f'"url": "{path}",' in text and '"method": "get",' in text:
            return ".".join(f.relative_to(package).with_suffix("").parts)
    raise SystemExit(f"no module of the peer's package calls GET {path}")


def bench_import(scratch: Path, out: Path, peer_out: Path, runs: int) -> None:
    data = json.loads(document().read_text(encoding="utf-8"))
    _Answer.body = json.dumps(
        data["components"]["examples"][ANSWER_EXAMPLE]["value"]
    ).encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    package = peer_package(peer_out)
    module = peer_module(package, "/")
    ours_cmd = [
        sys.executable,
        "-c",
        OURS_CALL.format(package=PACKAGE, operation=CALL_OPERATION),
        url,
    ]
    theirs_cmd = [
        str(PEER_VENV / "bin" / "python"),
        "-c",
        PEER_CALL.format(package=package.name, module=module),
        url,
    ]
    cache = scratch / "import-pycache"
    try:
        first: dict[str, Run] = {}
        warm: dict[str, list[Run]] = {"ours": [], "peer": []}
        inner: dict[str, list[dict[str, Any]]] = {"ours": [], "peer": []}
        cases = (("ours", ours_cmd, out), ("peer", theirs_cmd, package.parent))
        for name, cmd, cwd in cases:
            env = {**ENV, "PYTHONPYCACHEPREFIX": str(cache / name)}
            first[name] = must(run(cmd, cwd, env), f"{name} first import")
        for _ in range(runs):
            for name, cmd, cwd in cases:
                env = {**ENV, "PYTHONPYCACHEPREFIX": str(cache / name)}
                r = must(run(cmd, cwd, env), f"{name} import")
                warm[name].append(r)
                inner[name].append(json.loads(r.output.strip().splitlines()[-1]))
        env = {**ENV, "PYTHONPYCACHEPREFIX": str(cache / "ours")}
        importtime = must(
            run(
                [sys.executable, "-X", "importtime", "-c", f"import {PACKAGE}"],
                out,
                env,
            ),
            "importtime",
        )
    finally:
        server.shutdown()
    header(f"import + one call ({CALL_OPERATION}, GET / on 127.0.0.1; peer: {module})")
    row("first import + call (compiles)", [first["ours"]], [first["peer"]])
    row("import + call, bytecode cached", warm["ours"], warm["peer"])
    loads()
    for name, label in (("ours", "ciogen"), ("peer", "peer")):
        got = inner[name]
        imp = statistics.median(g["import"] for g in got)
        call = statistics.median(g["call"] for g in got)
        print(
            f"    {label}: import {imp:.3f} s, call {call:.3f} s (inside the process),"
        )
        print(f"      result {got[-1]['type']}")
    print("    ciogen's slowest imports (-X importtime, self time):")
    rows = []
    for line in importtime.output.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (.*)", line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), m.group(3).strip()))
    for self_us, total_us, name in sorted(rows, reverse=True)[:4]:
        print(
            f"      {name:<60} {self_us / 1e6:6.3f} s self, {total_us / 1e6:6.3f} s cumulative"
        )


def bench_compile(scratch: Path, out: Path, peer_out: Path) -> None:
    ours, theirs = [], []
    py_peer = str(PEER_VENV / "bin" / "python")
    for name, py, target, into in (
        ("ours", sys.executable, out / PACKAGE, ours),
        ("peer", py_peer, peer_package(peer_out), theirs),
    ):
        env = {**ENV, "PYTHONPYCACHEPREFIX": str(scratch / "compileall" / name)}
        cmd = [py, "-m", "compileall", "-q", str(target)]
        into.append(must(run(cmd, scratch, env), "compileall"))
    header("python -m compileall -q on the output (bytecode cache empty)")
    row("compileall", ours, theirs)
    loads()


def warm_up(scratch: Path) -> None:
    """One run of each tool on a small document: bytecode caches, before any timing."""
    work = scratch / "warm-up"
    work.mkdir()
    must(ciogen("generate", ONE_DOCUMENT, work / "out", work), "ciogen warm-up")
    must(peer(ONE_DOCUMENT, work / "peer", work), "peer warm-up")


def fit(sizes: list[float], times: list[float]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in times]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum(
        (x - mx) ** 2 for x in xs
    )


def bench_synthetic(scratch: Path, runs: int, step: int) -> None:
    work = scratch / "synthetic"
    work.mkdir()
    data = json.loads(document().read_text(encoding="utf-8"))
    base = base_slice(data, step)
    factors = (1, 2, 4, 8)
    specs, sizes = {}, {}
    for k in factors:
        specs[k] = work / f"x{k}.json"
        sizes[k] = dump(replicate(base, k), specs[k])
    ours: dict[int, list[Run]] = {k: [] for k in factors}
    theirs: dict[int, list[Run]] = {k: [] for k in factors}
    for _ in range(runs):
        for k in factors:
            theirs[k].append(
                must(peer(specs[k], work / f"peer{k}", work), f"peer x{k}")
            )
            empty(work / ".ciogen-cache", work / f"out{k}")
            ours[k].append(
                must(ciogen("generate", specs[k], work / f"out{k}", work), f"x{k}")
            )
    n_ops = sum(1 for _ in operations(base))
    n_schemas = len(base["components"].get("schemas", {}))
    header(
        f"synthetic specs: every {step}th path of the document and what it reaches "
        f"({n_ops} operations, {n_schemas} schemas) copied k times; cold generate"
    )
    for k in factors:
        lines = tree(work / f"out{k}" / PACKAGE).lines
        row(f"{k}x ({sizes[k] / MiB:5.2f} MiB, {lines:,} lines)", ours[k], theirs[k])
    loads()
    xs = [float(sizes[k]) for k in factors]
    print(
        "    exponents (least-squares slope of log time vs log bytes), 1x-8x and 2x-8x"
    )
    print(
        "    (the second leaves out the smallest spec, where start-up costs weigh most):"
    )
    for label, got in (("ciogen", ours), ("peer", theirs)):
        for field in ("wall", "cpu"):
            ts = [med(got[k], field) for k in factors]
            print(
                f"      {label:<7}{field:<5}{fit(xs, ts):7.3f}{fit(xs[1:], ts[1:]):7.3f}"
                f"   8x/4x time ratio {ts[3] / ts[2]:.2f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    ap.add_argument(
        "--step", type=int, default=16, help="synthetic base: every STEP-th path"
    )
    ap.add_argument(
        "--scratch", type=Path, help="scratch directory (default: a new /tmp/huge-*)"
    )
    ap.add_argument(
        "--document", type=Path, help="another JSON description (default GitHub's)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument(
        "--inherit-env", action="store_true", help="leave the bytecode-cache settings"
    )
    args = ap.parse_args()
    if args.document:
        CHOSEN["document"] = args.document.resolve()
    if args.scratch:
        args.scratch.mkdir(parents=True)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="huge-"))
    if not args.inherit_env:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, {platform.python_implementation()}"
        f" {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the start;"
        f" peer openapi-python-client {PEER_VERSION}; scratch {scratch}"
    )
    print("cells: median wall, median CPU, median peak RSS of the largest process /")
    print("       of the process tree (PSS)")
    started = time.perf_counter()
    try:
        document()
        peer_bin()
        warm_up(scratch)
        if {"github", "import", "compile"} & set(args.only):
            out, peer_out = bench_github(scratch, args.runs)
            if "import" in args.only:
                bench_import(scratch, out, peer_out, args.runs)
            if "compile" in args.only:
                bench_compile(scratch, out, peer_out)
        if "synthetic" in args.only:
            bench_synthetic(scratch, args.runs, args.step)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"\ntook {time.perf_counter() - started:.0f} s;"
        f" load average {os.getloadavg()[0]:.2f} at the end"
    )


if __name__ == "__main__":
    main()
