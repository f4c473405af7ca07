"""Writing the generated package, and comparing it with a fresh render.

`write_package` never leaves a half-written package: the new tree is assembled in a sibling
temporary directory (unchanged files are hard-linked or copied with their mtime) and swapped
in with renames, holding a lock (`DIR/.NAME.lock`, flock) so that two runs into one
package take turns. When nothing changed it touches nothing at all. It replaces only what it
wrote itself: an empty directory or one holding a manifest; anything else at the package's
path (a file, a directory of someone's own code) stops the run before anything is written.
A symbolic link to a directory is written through: the directory it names is replaced.

The manifest (`.ciogen-manifest.json` in the package) records the hash of every input
(spec files, templates, generator sources, options) and every output, so `check` can answer
"in sync" without importing Jinja, black or the validator. It still catches a hand-edited
output (hashes differ), a changed template or generator (input hashes differ) and a new spec
file (the spec directories are listed again).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from ..errors import UsageError
from ..spec.files import spec_base, spec_name

try:
    import fcntl

    HAVE_FLOCK = True
except ImportError:  # Windows: runs into one package are not serialised there
    HAVE_FLOCK = False

MANIFEST = ".ciogen-manifest.json"
# A run that finds another writing the same package waits for it: it says so after
# LOCK_NOTICE seconds and gives up (exit 2) after LOCK_TIMEOUT.
LOCK_NOTICE = 1.0
LOCK_TIMEOUT = 300.0

T = TypeVar("T")
_READ_ATTEMPTS = 5  # by `settled`, of a read that fails


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
    """Every file under package_dir by its path in the package ("/"-separated), but the
    manifest and anything under `__pycache__`."""
    return {rel: _read(path) for rel, path in _files(package_dir).items()}


def _files(package_dir: Path) -> dict[str, str]:
    """The files `read_tree` reads: path in the package -> path on disk, sorted.
    (os.scandir: a huge API's package has thousands of files, and pathlib's walk took
    longer than reading them.)"""
    if not package_dir.is_dir():
        return {}
    out: dict[str, str] = {}
    todo = [("", str(package_dir))]
    while todo:
        prefix, folder = todo.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name == "__pycache__":
                    continue
                if entry.is_dir():
                    todo.append((f"{prefix}{entry.name}/", entry.path))
                elif entry.is_file() and entry.name != MANIFEST:
                    out[prefix + entry.name] = entry.path
    return dict(sorted(out.items()))


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _signature(package_dir: Path) -> list[tuple[str, int, int, int]]:
    """What tells whether the files under package_dir changed since they were read: their
    paths, inodes, sizes and modification times (a run replaces the whole directory, so
    each of its files is a new inode)."""
    out = []
    for rel, path in _files(package_dir).items():
        st = os.stat(path)
        out.append((rel, st.st_ino, st.st_size, st.st_mtime_ns))
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


def target_of(package_dir: Path) -> Path:
    """Where the package is written: `package_dir`, or the directory its symbolic link names."""
    return package_dir.resolve() if package_dir.is_symlink() else package_dir


def refusal(package_dir: Path) -> str | None:
    """Why what stands at `package_dir` may not be replaced by a package (None: it may).

    ciogen replaces only what it wrote: nothing, an empty directory, or a directory with a
    manifest. A file, or a directory of someone's own code, is left alone.
    """
    target = target_of(package_dir)
    if package_dir.is_symlink() and not target.is_dir():
        return f"{package_dir} is a symbolic link to {target}, which is not a directory"
    # One listing, not several looks: another run's swap (two renames) may take the
    # package away and put the new one in between two looks, and a look at each moment
    # saw "a directory without a manifest" that was never there.
    try:
        names = os.listdir(target)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return (
            f"{package_dir} exists and is not a directory; ciogen will not replace it"
        )
    except OSError as exc:
        return f"cannot read {package_dir}: {exc.strerror or exc}"
    if MANIFEST in names or not names:
        return None
    return (
        f"{package_dir} is not a package ciogen wrote (not empty, no {MANIFEST}); "
        "move it away or choose another --out or --package"
    )


def changed_paths(
    package_dir: Path,
    files: dict[str, bytes],
    manifest: bytes,
    current: dict[str, bytes] | None = None,
) -> list[str] | None:
    """The paths a write would change (or remove); None when nothing at all would change.
    `current`: what package_dir holds, when it was just read."""
    if current is None:
        current = read_tree(package_dir)
    changed = sorted(
        {k for k in files if current.get(k) != files[k]} | (set(current) - set(files))
    )
    old_manifest = package_dir / MANIFEST
    if not changed and old_manifest.exists() and old_manifest.read_bytes() == manifest:
        return None
    return changed


def write_package(
    package_dir: Path,
    files: dict[str, bytes],
    manifest: bytes,
    on_wait: Callable[[str], None] | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> list[str]:
    """Make package_dir hold exactly `files` (+ manifest); return the paths that changed.

    Raises UsageError, writing nothing, when package_dir holds something ciogen did not
    write (`refusal`). The write holds the package's lock (`locked`): a second run waits
    for it (`on_wait` hears of it after LOCK_NOTICE seconds). Leftovers of interrupted
    runs beside the package are removed first. A package already up to date is only read.
    """
    why = refusal(package_dir)
    if why:
        raise UsageError(why)
    target = target_of(package_dir)
    # What the package held, read before taking the lock, with the signature it had
    # throughout the read: reused under the lock while the signature is the same (a
    # huge API's package is thousands of files, and most runs find no other run there).
    seen: tuple[list[tuple[str, int, int, int]], dict[str, bytes]] | None = None
    try:
        before = _signature(target)
        current = read_tree(target)
        if changed_paths(target, files, manifest, current) is None:
            if not leftovers(target):
                return []
        elif before == _signature(target):
            seen = (before, current)
    except OSError:  # another run's swap under way: look again under the lock
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target, package_dir, on_wait, lock_timeout):
        why = refusal(package_dir)  # again: what stands there now is what is replaced
        if why:
            raise UsageError(why)
        for path in leftovers(target):
            shutil.rmtree(path, ignore_errors=True)
        if seen is not None and seen[0] == _signature(target):
            changed = changed_paths(target, files, manifest, seen[1])
        else:
            changed = changed_paths(target, files, manifest)
        if changed is None:
            return []
        _write(target, files, manifest, changed)
    return changed


def lock_file(package_dir: Path) -> Path:
    """`DIR/.NAME.lock`: beside the package, never in it; there only while a run writes."""
    return package_dir.with_name(f".{package_dir.name}.lock")


@contextmanager
def locked(
    package_dir: Path,
    shown: Path,
    on_wait: Callable[[str], None] | None = None,
    timeout: float = LOCK_TIMEOUT,
) -> Iterator[None]:
    """Hold package_dir's lock (flock on `lock_file`) for the block; wait while another
    run holds it. The lock file is removed on the way out; a run that was waiting on the
    removed file takes the lock on a new one. Where flock is missing (Windows) or the
    filesystem has none, runs are not serialised."""
    if not HAVE_FLOCK:
        yield
        return
    path = lock_file(package_dir)
    start = time.monotonic()
    told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    pass
                except OSError as exc:
                    if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                        break  # no locks on this filesystem: write unserialised
                    raise
                waited = time.monotonic() - start
                holder = _holder(fd)
                if waited >= timeout:
                    raise UsageError(
                        f"{shown}: another ciogen run{holder} has been writing it for "
                        f"more than {timeout:g} s (lock file {path})"
                    )
                if on_wait is not None and not told and waited >= LOCK_NOTICE:
                    on_wait(
                        f"{shown}: waiting for another ciogen run{holder} to finish "
                        f"writing it (lock file {path})"
                    )
                    told = True
                time.sleep(0.05)
            try:
                mine = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                mine = False
        except BaseException:
            os.close(fd)
            raise
        if mine:
            break
        os.close(fd)  # the run before removed the file it locked: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        try:
            os.unlink(path)  # still locked: a waiter finds it gone and starts again
        except OSError:
            pass
        os.close(fd)


def settled(
    package_dir: Path, read: Callable[[], T], timeout: float = LOCK_TIMEOUT
) -> T:
    """`read()` of package_dir as no run is writing it (what `check` sees). While a write
    is under way (a run holds the lock file beside the package) this waits for it to end;
    a read that fails, or that a write began during (a swap can take the package away
    between two looks), is done again. The lock file is only locked, never created:
    `check` writes nothing, and works in a read-only checkout."""
    path = lock_file(target_of(package_dir))
    deadline = time.monotonic() + timeout
    failed = 0
    while True:
        _wait_unlocked(path, deadline)
        before = _identity(path)
        try:
            result = read()
        except OSError:
            # a swap's doing is gone by the next look (the writer holds the lock until
            # the package is back, and is waited for above); anything else stays
            failed += 1
            if failed >= _READ_ATTEMPTS or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
            continue
        if _identity(path) == before and not _held(path):
            return result
        if time.monotonic() >= deadline:
            raise UsageError(
                f"{package_dir}: another ciogen run has been writing it for more than "
                f"{timeout:g} s (lock file {path})"
            )


def _identity(path: Path) -> tuple[int, int] | None:
    """Which lock file stands at `path`, and when it was last taken (None: none)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def _held(path: Path) -> bool:
    """Whether a run holds the lock file at `path` (a run killed outright leaves the file
    behind, unheld)."""
    if not HAVE_FLOCK:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False  # no locks on this filesystem
    finally:
        os.close(fd)


def _wait_unlocked(path: Path, deadline: float) -> None:
    """Return once no run holds the lock file at `path`, or at the deadline."""
    while _held(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def _holder(fd: int) -> str:
    """` (pid N)`: the run holding the lock, as its lock file says (empty when unknown)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


def _write(
    package_dir: Path, files: dict[str, bytes], manifest: bytes, changed: list[str]
) -> None:
    tmp = _scratch(package_dir)
    # the modes any mkdir and file write get here (the umask, a default ACL): the package
    # is for whoever imports it, not only for the user who generated it
    file_mode = tmp.stat().st_mode & 0o666
    try:
        for folder in sorted({Path(rel).parent for rel in files}):
            (tmp / folder).mkdir(parents=True, exist_ok=True)
        for rel, data in files.items():
            target = tmp / rel
            if rel not in changed:
                _keep(package_dir / rel, target, file_mode)
            else:
                target.write_bytes(data)
        (tmp / MANIFEST).write_bytes(manifest)
        _swap(tmp, package_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# A run's scratch copy and the package it moves aside are `.NAME.ciogen-new-PID-HEX` and
# `.NAME.ciogen-old-PID-HEX` beside the package: a run killed before it removed them
# left them there, and a later run removes them once process PID is gone. (`.NAME.old-PID`
# is what earlier versions left: removed too when it is a package, a manifest inside.)
def _leftover_name(package_dir: Path) -> re.Pattern[str]:
    name = re.escape(package_dir.name)
    return re.compile(rf"\.{name}\.(?:ciogen-(?:new|old)-(\d+)-[0-9a-f]+|old-(\d+))\Z")


def _own(package_dir: Path, kind: str) -> Path:
    token = secrets.token_hex(4)
    return package_dir.with_name(
        f".{package_dir.name}.ciogen-{kind}-{os.getpid()}-{token}"
    )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # an earlier process's: this one's are made after the clean-up
    if os.name != "posix":
        return True  # no harmless probe (os.kill would end the process): keep it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def leftovers(package_dir: Path) -> list[Path]:
    """Scratch and moved-aside copies of package_dir that runs no longer alive left."""
    pattern = _leftover_name(package_dir)
    found: list[Path] = []
    try:
        entries = list(os.scandir(package_dir.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if match.group(2) and not (path / MANIFEST).is_file():
            continue  # an old ciogen moved someone's directory aside: theirs to remove
        if not _alive(int(match.group(1) or match.group(2))):
            found.append(path)
    return sorted(found)


def _scratch(package_dir: Path) -> Path:
    """A new, empty directory beside package_dir, with the mode `mkdir` gives it."""
    while True:
        path = _own(package_dir, "new")
        try:
            path.mkdir(0o777)  # not mkdtemp's 0o700: less the umask, like any mkdir
        except FileExistsError:
            continue
        return path


def _keep(src: Path, dst: Path, mode: int) -> None:
    """Carry an unchanged file over with its mtime (make and pre-commit rely on it), with
    the mode a new file gets."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    if dst.stat().st_mode & 0o7777 != mode:
        os.chmod(dst, mode)


def _swap(new: Path, final: Path) -> None:
    """Put `new` at `final` by two renames; interrupted or failed between them (Ctrl-C
    too), the old package is put back."""
    old = _own(final, "old") if os.path.lexists(final) else None
    try:
        if old is not None:
            final.rename(old)
        new.rename(final)
    except BaseException:
        if old is not None and old.exists() and not os.path.lexists(final):
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
        on_disk, fresh = actual.get(rel, b""), expected.get(rel, b"")
        both = rel in actual and rel in expected
        if both and b"\r\n" in on_disk and b"\r\n" not in fresh:
            # a checkout with CRLF line endings (git's core.autocrlf): say so, and show
            # what else differs, not every line as changed
            on_disk = on_disk.replace(b"\r\n", b"\n")
            same = on_disk == fresh
            chunks.append(
                f"{root}/{rel}: line endings differ (CRLF)"
                + ("\n" if same else "; the diff below ignores them\n")
            )
            if same:
                continue
        a = on_disk.decode("utf-8", "replace").splitlines(keepends=True)
        b = fresh.decode("utf-8", "replace").splitlines(keepends=True)
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
