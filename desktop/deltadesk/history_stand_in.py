"""A history that cannot be written (a read-only file or data folder) still lets the window
work: it runs on a private copy in a temporary folder, dropped when the app closes, and the
window says that nothing new is kept. Reading the old conversations works as ever."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
from pathlib import Path

from deltadesk.core.paths import create_private_file
from deltadesk.core.store import Store, StoreError

log = logging.getLogger(__name__)

READ_ONLY_NOTICE = (
    "The history {path} is read-only: you can read it, and new answers are shown but "
    "not saved (they are gone when Deltadesk closes). Make it writable to keep them."
)


class StandIn:
    """A writable copy of a read-only history, and the folder to remove at the end."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder

    def remove(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def writable_stand_in(read_only: Store) -> StandIn | None:
    """A private copy of ``read_only`` that can take new answers; None if none can be made
    (then the read-only store is used as it is, and saving says it cannot)."""
    folder = Path(tempfile.mkdtemp(prefix="deltadesk-read-only-"))  # 0700
    copy_path = folder / "history.sqlite3"
    try:
        create_private_file(copy_path)
        # What the read-only store reads: its file's consistent snapshot (-wal included),
        # or its copy in memory (an older schema, upgraded there; or an empty history).
        read_only.copy_to(copy_path)
        return StandIn(Store(copy_path), folder)
    except (OSError, sqlite3.Error, StoreError) as exc:
        log.warning("no writable copy of the read-only history: %s", exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None
