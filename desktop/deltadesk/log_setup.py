"""Logging set-up: a private log file, and never a traceback because logging itself failed."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from deltadesk.core.paths import AppPaths, create_private_file


def setup_logging(paths: AppPaths, verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[log_handler(paths.log, verbose)],
    )
    # The HTTP layers log request details at DEBUG, headers included: keep them quiet.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_handler(path: Path, verbose: bool) -> logging.Handler:
    """The log file, private to its owner; stderr (warnings only, unless verbose) when the
    file cannot be written, e.g. in a read-only data folder: that must not stop the app."""
    try:
        create_private_file(path)
        return QuietFileHandler(path, encoding="utf-8")
    except OSError as exc:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
        handler.setFormatter(logging.Formatter("deltadesk: %(levelname)s %(message)s"))
        print(f"deltadesk: no log file ({exc.strerror or exc}); warnings go here.", file=sys.stderr)
        return handler


class QuietFileHandler(logging.FileHandler):
    """A log file that, once it cannot be written (the disk is full, the folder gone), says
    so in one line and stops logging. The stock handler prints a traceback per record on
    stderr instead, which buries what the user needs to read (`ask` output included)."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        problem = sys.exc_info()[1]
        reason = getattr(problem, "strerror", None) or problem
        print(
            f"deltadesk: the log file cannot be written ({reason}); logging stopped.",
            file=sys.stderr,
        )

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def close(self) -> None:
        # The last flush on a full disk fails too: already said, nothing more to do.
        with contextlib.suppress(OSError):
            super().close()
