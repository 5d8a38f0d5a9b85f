"""What can go wrong with the history database, in words a person can act on."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

WriteFailure = Literal["busy", "full", "readonly", "other"]


class StoreError(Exception):
    """The history database cannot be opened, migrated or written as asked."""


class StoreWriteError(StoreError):
    """A write did not happen; nothing already stored was changed.

    ``reason`` says why: "busy" (another program holds the database: try again later),
    "full" (the disk or the database size limit is full), "readonly" (the file or its
    folder cannot be written), "other".
    """

    def __init__(self, reason: WriteFailure, message: str) -> None:
        super().__init__(message)
        self.reason: WriteFailure = reason


def failure_reason(exc: sqlite3.Error) -> WriteFailure:
    """Classify an SQLite error by its result code (the message only as a fallback)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "busy"
    if primary == sqlite3.SQLITE_FULL:
        return "full"
    if primary == sqlite3.SQLITE_READONLY:
        return "readonly"
    text = str(exc).lower()
    if "disk is full" in text or "database or disk is full" in text:
        return "full"
    if "locked" in text or "busy" in text:
        return "busy"
    if "readonly" in text or "read-only" in text:
        return "readonly"
    return "other"


def write_error(exc: sqlite3.Error, path: Path) -> StoreWriteError:
    """The StoreWriteError that tells the user what ``exc`` means for saving to ``path``."""
    reason = failure_reason(exc)
    return StoreWriteError(reason, _MESSAGES[reason].format(path=path, detail=exc))


def read_only_error(path: Path) -> StoreWriteError:
    return StoreWriteError("readonly", _MESSAGES["readonly"].format(path=path, detail=""))


_MESSAGES: dict[WriteFailure, str] = {
    "busy": "Not saved: the history is locked by another program (another Deltadesk?).",
    "full": "Not saved: the disk is full.",
    "readonly": "Not saved: the history {path} is read-only.",
    "other": "Not saved: the history database refused the write ({detail}).",
}
