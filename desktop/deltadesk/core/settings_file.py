"""Reading and writing the small JSON settings files (profiles, preferences) safely.

A settings file is written with an atomic replace (a crash leaves the old file or the new
one) and private mode 0600. A file that cannot be understood is never deleted and never
overwritten: it is moved aside under a timestamped name, so a second corruption cannot
replace the copy of the first, and the app starts from defaults.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
import time
from pathlib import Path

from deltadesk.core.paths import ensure_private_dir

logger = logging.getLogger(__name__)

# A settings file is a few kilobytes; anything this large is not one of ours, and reading it
# whole would only cost memory.
MAX_SETTINGS_BYTES = 4 * 1024 * 1024


class SettingsFileError(ValueError):
    """A settings file exists but is not a document we can use."""


def read_json_document(path: Path, what: str) -> dict[str, object] | None:
    """The JSON object in ``path``, or None when there is none or it was unusable.

    An unusable file (a folder, too large, not UTF-8, not JSON, nested too deeply, not an
    object) is moved aside with a warning naming where it went. ``what`` names the file in
    the log ("profiles").
    """
    try:
        document = _parse(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        # RecursionError: deeply nested JSON ("[[[[...") exhausts the decoder's stack.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        set_aside(path, what, reason)
        return None
    return document


def _parse(path: Path) -> dict[str, object]:
    # A folder, a FIFO (opening it would wait for a writer for ever) or a device is no file of
    # ours. stat raises FileNotFoundError for a missing file, as the caller expects.
    if not stat.S_ISREG(path.stat().st_mode):
        raise SettingsFileError("not a regular file")
    with open(path, "rb") as file:
        raw = file.read(MAX_SETTINGS_BYTES + 1)
    if len(raw) > MAX_SETTINGS_BYTES:
        raise SettingsFileError(f"larger than {MAX_SETTINGS_BYTES // (1024 * 1024)} MB")
    # utf-8-sig: a file saved by an editor that adds a byte-order mark is still ours.
    document = json.loads(raw.decode("utf-8-sig"))  # UnicodeDecodeError is a ValueError
    if not isinstance(document, dict):
        raise SettingsFileError("not a JSON object")
    return document


def set_aside(path: Path, what: str, reason: str) -> Path | None:
    """Move an unusable ``path`` to a new timestamped name beside it; log what happened.

    Returns the new path, or None when even the move failed (a read-only folder): then the
    file stays where it is, untouched, and the app runs on defaults.
    """
    for attempt in range(1000):
        aside = path.with_name(
            f"{path.name}.corrupt-{_timestamp()}" + (f"-{attempt}" * bool(attempt))
        )
        if aside.exists():
            continue
        try:
            # os.rename would silently replace an existing file on POSIX; the exists() check
            # above and the per-second timestamp make a clash all but impossible, and the
            # counter covers two corruptions within one second.
            os.rename(path, aside)
        except OSError as exc:
            logger.warning(
                "%s: %s is unreadable (%s) and could not be moved aside (%s); "
                "using defaults and leaving it untouched",
                what,
                path,
                reason,
                exc,
            )
            return None
        logger.warning(
            "%s: %s is unreadable (%s); moved it to %s and started from defaults",
            what,
            path,
            reason,
            aside.name,
        )
        return aside
    return None  # pragma: no cover - a thousand copies in one second


def _timestamp() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime())


def write_json_document(path: Path, document: dict[str, object]) -> None:
    """Write ``document`` atomically as UTF-8 JSON; NaN and infinities are refused (ValueError)."""
    # allow_nan=False: a NaN timeout is refused here rather than written as JSON that other
    # tools cannot read.
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers and crashes see the old file or the new one.

    The file is private (mkstemp creates it 0600) and its folder is created private.
    """
    ensure_private_dir(path.parent)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as temp:
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a directory, and there
    # os.replace is already as durable as it gets.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
