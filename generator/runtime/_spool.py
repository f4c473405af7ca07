"""The durable spool of the delivery engine: an SQLite file of messages not yet delivered.

A message is written here before ``enqueue`` returns and deleted once the API has taken it,
so a process killed without warning (SIGKILL, OOM killer, power to the container cut) loses
nothing: the next process that opens the same file sends what is left.

One process at a time: the connection takes SQLite's exclusive lock when it opens and keeps
it until it closes. The operating system drops the lock when its process dies, however it
dies, so a crashed producer never leaves the spool locked; a second live process gets
``SpoolLockedError`` at once instead of sending the first one's messages a second time.

Several processes (a web server's workers, forked children) share a spool *directory*
instead: each takes the first of its files ``spool-0.sqlite``, ``spool-1.sqlite``, ... that
no live process holds (``claim``), so the process that replaces a dead one sends what it
left, and it takes over the messages of files nobody holds any more (``adopt``).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from ._errors import Error

# Inherited connections a forked child must never touch nor close (see ``Spool.abandon``).
_ABANDONED: list[sqlite3.Connection] = []

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"
)

_UNREADABLE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS unreadable (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"
)
_SET_ASIDE = "INSERT INTO unreadable (body) SELECT body FROM messages WHERE id = ?"
_DELETE = "DELETE FROM messages WHERE id = ?"
_INSERT = "INSERT INTO messages (body) VALUES (?)"


class SpoolLockedError(Error):
    """Another process (or another engine in this one) has the spool open."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"the spool {path} is in use by another process or delivery engine; "
            "give each process a spool path of its own"
        )
        self.path = path


class SpoolDamagedError(Error):
    """The spool file is not an SQLite database, or a damaged one (truncated, overwritten):
    its messages cannot be read. The file is left as it is."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"the spool {path} cannot be read ({reason}); it was left as it is: move it "
            "aside to start a new spool (sqlite3's .recover may save some of its messages)"
        )
        self.path = path


class Spool:
    """A file of encoded messages, each under an increasing integer id. Thread-safe."""

    def __init__(self, path: str | Path, wait: float = 0.05) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        # A short busy timeout: a spool held by a live process stays held, so waiting for
        # it would only delay the error.
        conn = sqlite3.connect(
            self.path, timeout=wait, isolation_level=None, check_same_thread=False
        )
        try:
            # Exclusive locking before WAL: no shared-memory index, and the lock taken by the
            # first write below is never given back while this connection lives.
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, NORMAL writes each commit to the log before returning: a killed
            # process loses nothing; only a power cut may lose the last commits.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute(_SCHEMA)
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise SpoolLockedError(self.path) from None
            raise
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one
            conn.close()
            raise SpoolDamagedError(self.path, str(exc)) from None
        self._conn: sqlite3.Connection | None = conn

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the spool is closed")
        return self._conn

    def add(self, body: bytes) -> int:
        """Store one message; its id once the write is in the log."""
        with self._lock:
            cursor = self._connection().execute(_INSERT, (body,))
            rowid = cursor.lastrowid
        if (
            rowid is None
        ):  # sqlite3 sets it after every INSERT; this is for the type checker
            raise RuntimeError("the spool did not return an id")
        return rowid

    def add_all(self, bodies: list[bytes]) -> None:
        """Store several messages, all in one transaction."""
        rows = [(body,) for body in bodies]
        if rows:
            self._in_one_transaction(lambda conn: conn.executemany(_INSERT, rows))

    def remove(self, ids: list[int]) -> None:
        """Forget delivered (or given up) messages, all in one transaction."""
        rows = [(i,) for i in ids]
        if rows:
            self._in_one_transaction(lambda conn: conn.executemany(_DELETE, rows))

    def load(self) -> list[tuple[int, bytes]]:
        """Every message still stored, oldest first."""
        with self._lock:
            try:
                rows = self._connection().execute(
                    "SELECT id, body FROM messages ORDER BY id"
                )
                return [(int(rowid), bytes(body)) for rowid, body in rows]
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError as exc:  # pages missing or overwritten
                raise SpoolDamagedError(self.path, str(exc)) from None

    def set_aside(self, ids: list[int]) -> None:
        """Move messages that cannot be sent to the table ``unreadable``, where they are
        kept (for whoever looks into the file) and never sent, all in one transaction.
        """
        rows = [(i,) for i in ids]

        def move(conn: sqlite3.Connection) -> None:
            conn.execute(_UNREADABLE_SCHEMA)
            conn.executemany(_SET_ASIDE, rows)
            conn.executemany(_DELETE, rows)

        if rows:
            self._in_one_transaction(move)

    def _in_one_transaction(self, work: Callable[[sqlite3.Connection], object]) -> None:
        """`work` on the connection as one transaction: all of it or none."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def abandon(self) -> None:
        """In a forked child: drop the parent's connection without closing it.

        Closing it here could checkpoint and delete the log file the parent is still
        writing; a reference kept for the life of the child means it is never closed.
        """
        if self._conn is not None:
            _ABANDONED.append(self._conn)
        self._conn = None
        self._lock = threading.Lock()


_SLOT = re.compile(r"spool-(0|[1-9][0-9]*)\.sqlite")


def slots(directory: str | Path) -> list[Path]:
    """The spool files of a spool directory, by slot number."""
    found = []
    for path in Path(directory).iterdir():
        match = _SLOT.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def claim(directory: str | Path) -> tuple[Spool, list[str]]:
    """The first spool of `directory` (made if missing) that no live process holds, a new
    one when every one is held; with the paths of damaged ones it passed over (they are
    left as they are)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    damaged: list[str] = []
    index = 0
    while True:
        try:
            # no wait: a held spool stays held, and the next slot is free to try
            return Spool(folder / f"spool-{index}.sqlite", wait=0.0), damaged
        except SpoolLockedError:
            pass
        except SpoolDamagedError as exc:
            damaged.append(exc.path)
        index += 1


def adopt(own: Spool, directory: str | Path) -> tuple[int, list[str]]:
    """Move into `own` the messages of the other spools of `directory` that no live process
    holds (left by a process that died or stopped for good); the number moved, and the
    paths of damaged spools passed over.

    Each is copied and committed before it is deleted where it was: a crash in between
    sends those messages twice (with their ids, so the API can drop the copies), never none.
    """
    moved = 0
    damaged: list[str] = []
    for path in slots(directory):
        if str(path) == own.path:
            continue
        try:
            other = Spool(path, wait=0.0)
        except SpoolLockedError:
            continue
        except SpoolDamagedError as exc:
            damaged.append(exc.path)
            continue
        try:
            rows = other.load()
            if rows:
                own.add_all([body for _, body in rows])
                other.remove([rowid for rowid, _ in rows])
                moved += len(rows)
        except SpoolDamagedError as exc:
            damaged.append(exc.path)
        finally:
            other.close()
    return moved, damaged
