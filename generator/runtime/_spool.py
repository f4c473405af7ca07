"""The durable spool of the delivery engine: an SQLite file of messages not yet delivered.

A message is written here before ``enqueue`` returns and deleted once the API has taken it,
so a process killed without warning (SIGKILL, OOM killer, power to the container cut) loses
nothing: the next process that opens the same file sends what is left.

One process at a time: the connection takes SQLite's exclusive lock when it opens and keeps
it until it closes. The operating system drops the lock when its process dies, however it
dies, so a crashed producer never leaves the spool locked; a second live process gets
``SpoolLockedError`` at once instead of sending the first one's messages a second time.
"""

from __future__ import annotations

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

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        # A short busy timeout: a spool held by a live process stays held, so waiting for
        # it would only delay the error.
        conn = sqlite3.connect(
            self.path, timeout=0.05, isolation_level=None, check_same_thread=False
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
            cursor = self._connection().execute(
                "INSERT INTO messages (body) VALUES (?)", (body,)
            )
            rowid = cursor.lastrowid
        if (
            rowid is None
        ):  # sqlite3 sets it after every INSERT; this is for the type checker
            raise RuntimeError("the spool did not return an id")
        return rowid

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
