"""Opening the history database (writable if it can be, read-only if it must, checked first),
and the transactions of the open one (Database).

The order matters. Nothing is written before the file is known to be ours, intact and of a
schema we understand: a newer or damaged database is left byte-for-byte as it was.

1. A missing file is created private (0600) before SQLite sees it; the -wal and -shm files
   SQLite makes beside it take the database's mode.
2. A file or folder that cannot be written is opened read-only (mode=ro; immutable=1 when
   the folder cannot even hold the -shm file). If no file exists and none can be created,
   an empty read-only history in memory stands in, so the app still starts.
3. PRAGMA quick_check finds damaged pages behind a valid header.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deltadesk.core.migrations import Progress, Upgrade, known_version, migrate, schema_version
from deltadesk.core.paths import PRIVATE_FILE_MODE, create_private_file
from deltadesk.core.store_errors import (
    StoreError,
    failure_reason,
    read_only_error,
    write_error,
)

log = logging.getLogger(__name__)

# Opening may have to wait for another instance's migration or a long save; the short
# timeout a window asks for applies once the database is open.
OPEN_BUSY_TIMEOUT_MS = 5000
WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024


@dataclass
class Opened:
    conn: sqlite3.Connection
    read_only: bool
    in_memory: bool = False
    upgrade: Upgrade | None = None  # what opening did to an older schema


def open_database(path: Path, busy_timeout_ms: int, progress: Progress | None = None) -> Opened:
    try:
        exists = path.exists()
    except OSError as exc:  # a folder we may not even look into
        raise StoreError(f"Cannot reach the history database {path}: {exc}") from exc
    if not exists:
        try:
            create_private_file(path)
        except OSError as exc:
            log.warning("history: cannot create %s (%s); history is read-only", path, exc)
            return _empty_in_memory(busy_timeout_ms)
    opened = _open_writable(path) or _open_read_only(path)
    try:
        _check_readable(opened.conn, path)
        if not opened.read_only:
            _configure_wal(opened.conn, path)
            make_private(path)
            opened.upgrade = migrate(opened.conn, path, progress)
        elif schema_version(opened.conn) < known_version():
            copy = _upgraded_copy(opened.conn, path, progress)
            opened.conn.close()
            opened = Opened(copy, read_only=True, in_memory=True)
        opened.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms):d}")
    except BaseException:
        opened.conn.close()
        raise
    return opened


def _upgraded_copy(
    conn: sqlite3.Connection, path: Path, progress: Progress | None
) -> sqlite3.Connection:
    """A read-only history of an older schema, read as its upgrade would leave it: copied
    into memory and upgraded there. The file stays exactly as it is, and no backup is
    written (its folder may not take one); writes are refused as for any read-only one."""
    log.warning("history: %s is read-only and of an older schema: reading an upgraded copy", path)
    copy = _connect(":memory:")
    try:
        conn.backup(copy)
        migrate(copy, path, progress, backup_first=False)
    except BaseException:
        copy.close()
        raise
    return copy


def _connect(target: str | Path, *, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(target, isolation_level=None, uri=uri)
    conn.execute(f"PRAGMA busy_timeout = {OPEN_BUSY_TIMEOUT_MS:d}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _open_writable(path: Path) -> Opened | None:
    """A read-write connection, or None when SQLite finds the file or folder read-only."""
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        if failure_reason(exc) == "readonly" or _cannot_open(exc):
            return None
        raise StoreError(f"Cannot open the history database {path}: {exc}") from exc
    try:
        version = _version_or_raise(conn, path)
        # Change a page and roll back: the question "may I write?" as SQLite answers it,
        # truthfully for root too (who ignores permission bits, where os.access would say
        # yes). A rolled-back change never leaves the page cache, so nothing is written. No
        # waiting: a lock held by another instance already says the file is writable.
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA user_version = {version:d}")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):  # keep the error that answers the question
                conn.execute("ROLLBACK")
            raise
        conn.execute("ROLLBACK")
        conn.execute(f"PRAGMA busy_timeout = {OPEN_BUSY_TIMEOUT_MS:d}")
    except sqlite3.Error as exc:
        conn.close()
        reason = failure_reason(exc)
        if reason == "readonly" or _cannot_open(exc):
            return None
        if reason == "busy":  # another instance is writing: the file is writable
            return Opened(_connect(path), read_only=False)
        raise StoreError(f"Cannot open the history database {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return Opened(conn, read_only=False)


def _open_read_only(path: Path) -> Opened:
    log.warning("history: %s cannot be written; opening it read-only", path)
    uri = path.resolve().as_uri()
    try:
        return Opened(_connect_checked(f"{uri}?mode=ro", path), read_only=True)
    except sqlite3.Error as exc:
        if not (failure_reason(exc) == "readonly" or _cannot_open(exc)):
            raise StoreError(f"Cannot open the history database {path}: {exc}") from exc
    # The folder cannot hold the -shm file a WAL database needs even for reading. Then the
    # file can only be read as immutable, which ignores a -wal file: refuse if one has data.
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"The history database {path} is read-only and its latest changes are still in "
            f"{wal.name}, which only a writable folder lets Deltadesk read. Make the folder "
            "writable, then start again."
        )
    try:
        return Opened(_connect_checked(f"{uri}?mode=ro&immutable=1", path), read_only=True)
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open the history database {path}: {exc}") from exc


def _connect_checked(uri: str, path: Path) -> sqlite3.Connection:
    conn = _connect(uri, uri=True)
    try:
        _version_or_raise(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _empty_in_memory(busy_timeout_ms: int) -> Opened:
    conn = _connect(":memory:")
    migrate(conn, Path(":memory:"))
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms):d}")
    return Opened(conn, read_only=True, in_memory=True)


def _cannot_open(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_CANTOPEN


def _version_or_raise(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version; a newer one or a file that is no database raises StoreError.

    Read before anything writes: a newer database must stay byte-for-byte as it was, and
    switching to WAL would already change its header.
    """
    try:
        version = schema_version(conn)
    except sqlite3.DatabaseError as exc:
        if failure_reason(exc) in ("readonly", "busy") or _cannot_open(exc):
            raise
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_CORRUPT:
            raise damaged(path, str(exc)) from exc
        raise StoreError(
            f"{path} is not a readable history database ({exc}). "
            "Move it away to start a fresh history."
        ) from exc
    known = known_version()
    if version > known:
        raise StoreError(
            f"The history database {path} was made by a newer Deltadesk "
            f"(schema {version}); this version understands up to {known}."
        )
    return version


def _check_readable(conn: sqlite3.Connection, path: Path) -> None:
    """Damaged pages behind a valid header: found here, not by a crash mid-session."""
    try:
        rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        rows = [str(exc)]
    if rows != ["ok"]:
        raise damaged(path, "; ".join(rows))


def damaged(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"The history database {path} is damaged ({detail[:300]}). "
        "Deltadesk has not changed it. Restore a backup (a .bak file beside it) or "
        "move it away to start a fresh history; the sqlite3 tool's .recover command "
        "can often save most of it."
    )


def _configure_wal(conn: sqlite3.Connection, path: Path) -> None:
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = NORMAL")
        # After a checkpoint the -wal file shrinks back to this, rather than staying as large
        # as the largest answer ever saved (the final save of a 10 MB answer).
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES:d}")
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot prepare the history database {path}: {exc}") from exc
    if str(mode).lower() != "wal":
        raise StoreError(f"Cannot switch {path} to WAL mode (got {mode!r}).")


def make_private(path: Path) -> None:
    """The database and its -wal/-shm files readable by their owner only.

    Files made by an older Deltadesk may be wider; a file we do not own is left alone.
    """
    if os.name != "posix":
        return
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        with contextlib.suppress(OSError):
            os.chmod(path.with_name(name), PRIVATE_FILE_MODE)


class Database:
    """The open history and its transactions, for the Store.

    One write is one transaction (BEGIN IMMEDIATE, so the write lock is taken before the first
    read of a write and two instances never interleave). Inside another write it is a
    savepoint instead: it stays all-or-nothing on its own, and a failure undoes only it.
    """

    def __init__(self, path: Path, busy_timeout_ms: int, progress: Progress | None = None) -> None:
        self.path = path
        opened = open_database(path, busy_timeout_ms, progress)
        self.conn = opened.conn
        self.read_only = opened.read_only
        self.in_memory = opened.in_memory
        self.upgrade = opened.upgrade
        self._depth = 0  # how many writes are open, the outermost first

    def close(self) -> None:
        self.conn.close()

    def copy_to(self, destination: Path) -> None:
        """What this connection reads (a consistent snapshot, its -wal included, or the copy
        in memory) written whole to `destination` (SQLite's online backup)."""
        with contextlib.closing(sqlite3.connect(destination)) as target:
            self.conn.backup(target)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; an SQLite failure becomes a StoreWriteError.

        IntegrityError (a constraint) passes through for the caller to explain.
        """
        if self.read_only:
            raise read_only_error(self.path)
        conn, nested = self.conn, self._depth > 0
        try:
            conn.execute("SAVEPOINT write" if nested else "BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise write_error(exc, self.path) from exc
        self._depth += 1
        try:
            yield conn
            conn.execute("RELEASE write" if nested else "COMMIT")
        except BaseException as exc:
            self._undo(nested)
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                raise write_error(exc, self.path) from exc
            raise
        finally:
            self._depth -= 1

    def _undo(self, nested: bool) -> None:
        # After "disk is full" SQLite may already have rolled the transaction back; then the
        # ROLLBACK itself fails ("no transaction is active") and would hide the real error.
        if not self.conn.in_transaction:
            return
        with contextlib.suppress(sqlite3.Error):
            if nested:
                self.conn.execute("ROLLBACK TO write")
                self.conn.execute("RELEASE write")
            else:
                self.conn.execute("ROLLBACK")

    def read(self, query: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return self.conn.execute(query, parameters).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot read the history database {self.path}: {exc}") from exc
