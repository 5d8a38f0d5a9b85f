"""Small view preferences that outlive a session, kept in a JSON file beside the profiles."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from deltadesk.core.profiles import atomic_write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Preferences:
    keep_reasoning_open: bool = False  # do not fold the thinking when the answer starts


class PreferenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.current = self._load()

    def _load(self) -> Preferences:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Preferences()
        except ValueError as exc:  # unreadable: defaults, and the file is rewritten on change
            log.warning("preferences: %s is unreadable (%s); using defaults", self.path, exc)
            return Preferences()
        known = {f.name: type(getattr(Preferences(), f.name)) for f in fields(Preferences)}
        values = {
            name: value
            for name, value in (data.items() if isinstance(data, dict) else [])
            if name in known and isinstance(value, known[name])
        }
        return Preferences(**values)

    def update(self, **changes: object) -> None:
        self.current = replace(self.current, **changes)  # type: ignore[arg-type]
        atomic_write_text(self.path, json.dumps(asdict(self.current), indent=2) + "\n")
