"""Where Deltadesk keeps its files: platformdirs locations, or one directory chosen by the user."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "deltadesk"
HOME_ENV = "DELTADESK_HOME"


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
    """
    chosen = data_dir if data_dir is not None else os.environ.get(HOME_ENV) or None
    if chosen is not None:
        root = Path(chosen).expanduser()
        paths = AppPaths(config=root, data=root)
    else:
        paths = AppPaths(
            config=platformdirs.user_config_path(APP_NAME),
            data=platformdirs.user_data_path(APP_NAME),
        )
    paths.config.mkdir(parents=True, exist_ok=True)
    paths.data.mkdir(parents=True, exist_ok=True)
    return paths
