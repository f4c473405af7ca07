"""One run from end to end: spec files -> documents -> IR -> rendered files, with findings.

The stages run in this process; the slow, independent work (validating documents the cache
does not answer, running black on pieces it has not seen) goes to worker processes
(pool.py) as soon as it is known, so it overlaps the IR and the rendering. Nothing is
written here: the caller writes the files, once every finding is in.
"""

from __future__ import annotations

import gc
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import Finding, SpecError

if TYPE_CHECKING:  # `check` on an in-sync tree imports this module and needs neither
    from . import ir
    from .pool import Pool
    from .spec.validate import Pending


@dataclass(frozen=True)
class Options:
    specs: list[Path]
    out: Path
    package: str
    name: str  # the API's name ("" to derive it from the specs' titles)
    strict: bool
    cache_dir: Path | None
    group_by: str = "auto"  # see ir/groups.py

    def format_pack(self) -> str:
        """The name of this output's formatting cache (per package and output folder)."""
        where = hashlib.sha256(str(self.out.resolve()).encode()).hexdigest()[:12]
        return f"{self.package}-{where}"

    def hashed(self) -> dict[str, str]:
        """The options that change the output (the manifest records them)."""
        return {
            "package": self.package,
            "name": self.name,
            "strict": str(self.strict),
            "group_by": self.group_by,
        }


@dataclass(frozen=True)
class Result:
    api: ir.Api
    files: dict[str, bytes]  # path in the package -> content
    manifest: bytes
    findings: list[Finding]


def prepare_cache(cache_dir: Path | None) -> None:
    """Create the cache directory, ignored by git from the inside (as pytest's is), so it
    never shows up as new files in the user's repository or in a pre-commit run."""
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        ignore = cache_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text(
                "# created by ciogen: the cache is not part of the project\n*\n"
            )
    except OSError:
        pass  # a cache that cannot be written only costs time


def load_and_build(opts: Options, pool: Pool) -> tuple[ir.Api, list[Finding]]:
    """Documents, IR and every finding (waits for the validation)."""
    api, pending, findings = start_and_build(opts, pool)
    return api, pending.result() + findings


def start_and_build(opts: Options, pool: Pool) -> tuple[ir.Api, Pending, list[Finding]]:
    """Documents and IR, with the IR's findings; validation of the documents the cache
    does not answer is started on `pool` and left running (its findings come from the
    returned `Pending`), so it overlaps whatever the caller does next."""
    from .ir.build import build_api
    from .spec import digest_memo, validate
    from .spec.refs import load

    # Parsing and building the IR make many long-lived objects and little garbage: the
    # cyclic GC would walk them again and again. It is paused meanwhile.
    prepare_cache(opts.cache_dir)
    collecting = gc.isenabled()
    gc.disable()
    try:
        ws = load(opts.specs)
        docs = list(ws.docs.values())
        kept = digest_memo.attach(docs, opts.cache_dir)
        pending = validate.start(ws.roots, opts.cache_dir, pool.submit)
        api, findings = build_api(
            ws,
            package=opts.package,
            version=__version__,
            name=opts.name,
            cache_dir=opts.cache_dir,
            group_by=opts.group_by,
        )
        digest_memo.store(docs, opts.cache_dir, kept)
    finally:
        if collecting:
            gc.enable()
    return api, pending, findings


def render(opts: Options) -> Result:
    """Load, build and render everything in memory (nothing is written). The rendering
    does not wait for the validation: its findings are only needed before anything is
    written (and to stop a `--strict` run), and the IR stage stops a run on whatever would
    make the code wrong."""
    from .pool import Pool
    from .render.environment import make_environment
    from .render.formatting import Formatter
    from .render.memo import RenderMemo
    from .render.output import input_hashes, manifest_bytes
    from .render.package import render_all

    with Pool() as pool:
        api, pending, ir_findings = start_and_build(opts, pool)
        stop_if_strict(opts, ir_findings)
        # The documents and the IR live to the end of the run and hold no garbage: the
        # cyclic GC need not walk them again and again while the files are rendered.
        gc.freeze()
        try:
            env = make_environment(cache_dir=opts.cache_dir)
            formatter = Formatter(opts.cache_dir, opts.format_pack())
            # without a cache there is no last run to compare with: no fingerprints
            memo = (
                RenderMemo(opts.cache_dir, opts.format_pack())
                if opts.cache_dir
                else None
            )
            # a second CPU renders alongside (it fills what the validation leaves idle)
            helpers = 1 if pool.jobs > 1 else 0
            files = render_all(api, formatter, env, helpers, memo)
        finally:
            gc.unfreeze()
        findings = pending.result() + ir_findings
        stop_if_strict(opts, findings)
    hashes = input_hashes(opts.hashed())
    manifest = manifest_bytes(
        hashes, dict(api.spec_files), files, [str(s) for s in opts.specs]
    )
    return Result(api, files, manifest, findings)


def stop_if_strict(opts: Options, findings: list[Finding]) -> None:
    if opts.strict and findings:
        f = findings[0]
        raise SpecError(f.file, f.pointer, f.message + " (--strict)")
