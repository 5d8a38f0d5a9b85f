"""Where Deltadesk keeps its files: platformdirs locations, or one directory chosen by the user.

Everything Deltadesk writes is private to the user: folders it creates are 0700 and files 0600
on POSIX (history, profiles, preferences, the log). Other users of the machine must not read
the chat history. Windows has no such mode bits; there the user's profile folder is private.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "deltadesk"
HOME_ENV = "DELTADESK_HOME"

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


@dataclass(frozen=True)
class AppPaths:
    config: Path
    data: Path

    @property
    def db(self) -> Path:
        return self.data / "history.sqlite3"

    @property
    def profiles(self) -> Path:
        return self.config / "profiles.json"

    @property
    def preferences(self) -> Path:
        return self.config / "preferences.json"

    @property
    def log(self) -> Path:
        return self.data / "deltadesk.log"


def app_paths(data_dir: str | Path | None = None) -> AppPaths:
    """Resolve (and create) the config and data directories.

    An explicit ``data_dir`` (the ``--data-dir`` option) wins, then ``DELTADESK_HOME``; either
    puts everything in that one directory, which is what keeps tests and portable runs isolated.
    A chosen directory that already exists keeps its mode (it may be a folder the user shares
    on purpose); the platformdirs folders are Deltadesk's own and are made private.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(HOME_ENV) or None
    if chosen is not None:
        root = Path(chosen).expanduser()
        paths = AppPaths(config=root, data=root)
        ensure_private_dir(root)
    else:
        paths = AppPaths(
            config=platformdirs.user_config_path(APP_NAME),
            data=platformdirs.user_data_path(APP_NAME),
        )
        for folder in (paths.config, paths.data):
            ensure_private_dir(folder, tighten=True)
    return paths


def ensure_private_dir(folder: Path, *, tighten: bool = False) -> None:
    """Create ``folder`` (and missing parents) with the leaf private to the user.

    An existing folder is left as it is unless ``tighten``: then it is made 0700 too.
    Missing parents get the default mode, as `mkdir -p` gives them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another instance made it meanwhile
            folder.mkdir(mode=PRIVATE_DIR_MODE)
            tighten = True  # mkdir's mode is masked by the umask: set it exactly
    if tighten and os.name == "posix" and folder.is_dir():
        with contextlib.suppress(OSError):  # a folder we do not own: leave it, it still works
            folder.chmod(PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> None:
    """Make sure ``path`` exists and is readable by its owner only (0600 on POSIX).

    Call it before a library opens the file in its own way (logging.FileHandler, sqlite3),
    so the file is never, even for a moment, created with the umask's wider mode.
    Raises OSError when the file cannot be created (a read-only folder).
    """
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
    try:
        if os.name == "posix":
            os.fchmod(fd, PRIVATE_FILE_MODE)  # an older file made with a wider mode, too
    except OSError:
        pass  # not our file (another owner): it still works, only its mode stays
    finally:
        os.close(fd)
