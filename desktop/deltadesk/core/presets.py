"""Chat presets: named sets of a system prompt, profile, model and parameters to start a new
conversation from. Kept in ``presets.json`` beside the profiles file.

The file is read tolerantly, as the other settings files are (settings_file.py): a file that
cannot be understood is moved aside and the app starts with no presets; an entry without a
usable name is skipped; its settings are read as a conversation's are (a bad value is the
default). A write that fails keeps the change for this run and says why (`save_problem`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from deltadesk.core.conversation_settings import MAX_NAME_CHARS, ConversationSettings
from deltadesk.core.settings_file import read_json_document, write_json_document

logger = logging.getLogger(__name__)

PRESETS_FILE_VERSION = 1
PRESETS_FILE_NAME = "presets.json"
MAX_PRESETS = 500


@dataclass(frozen=True, slots=True)
class ChatPreset:
    name: str
    settings: ConversationSettings = field(default_factory=ConversationSettings)


def preset_name(text: str) -> str:
    """A name as kept: one line, trimmed, not endlessly long."""
    return " ".join(text.split())[:MAX_NAME_CHARS]


class PresetStore:
    """The presets in the file's order; each change is written at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.save_problem: str | None = None
        self._presets: list[ChatPreset] = self._load()

    def presets(self) -> list[ChatPreset]:
        return list(self._presets)

    def names(self) -> list[str]:
        return [preset.name for preset in self._presets]

    def get(self, name: str) -> ChatPreset | None:
        return next((p for p in self._presets if p.name == name), None)

    def save(self, name: str, settings: ConversationSettings) -> ChatPreset:
        """Adds a preset, or replaces the one of that name (in its place)."""
        name = preset_name(name)
        if not name:
            raise ValueError("A preset needs a name.")
        preset = ChatPreset(name, settings)
        index = self._index(name)
        if index is None:
            if len(self._presets) >= MAX_PRESETS:
                raise ValueError(f"There are {MAX_PRESETS} presets already.")
            self._presets.append(preset)
        else:
            self._presets[index] = preset
        self._write()
        return preset

    def rename(self, old: str, new: str) -> None:
        new = preset_name(new)
        index = self._index(old)
        if index is None:
            raise ValueError(f"There is no preset named {old!r}.")
        if not new:
            raise ValueError("A preset needs a name.")
        if new != old and self._index(new) is not None:
            raise ValueError(f"A preset named {new!r} exists already.")
        self._presets[index] = ChatPreset(new, self._presets[index].settings)
        self._write()

    def delete(self, name: str) -> None:
        index = self._index(name)
        if index is not None:
            del self._presets[index]
            self._write()

    def _index(self, name: str) -> int | None:
        return next((i for i, p in enumerate(self._presets) if p.name == name), None)

    # -- the file --------------------------------------------------------------------------

    def _load(self) -> list[ChatPreset]:
        document = read_json_document(self.path, "presets")
        entries = document.get("presets") if document is not None else None
        if document is not None and not isinstance(entries, list):
            logger.warning("presets: %s holds no list of presets; starting with none", self.path)
        presets: list[ChatPreset] = []
        for entry in entries if isinstance(entries, list) else []:
            preset = _preset_from_json(entry)
            if preset is None:
                logger.warning("presets: skipping an entry without a usable name")
            elif any(p.name == preset.name for p in presets):
                logger.warning("presets: skipping a second preset named %r", preset.name)
            elif len(presets) < MAX_PRESETS:
                presets.append(preset)
        return presets

    def _write(self) -> None:
        document: dict[str, object] = {
            "version": PRESETS_FILE_VERSION,
            "presets": [_preset_to_json(p) for p in self._presets],
        }
        try:
            write_json_document(self.path, document)
        except OSError as exc:
            self.save_problem = f"Presets could not be saved ({exc.strerror or exc})."
            logger.warning("presets: could not write %s (%s)", self.path, exc)
        else:
            self.save_problem = None


def _preset_from_json(entry: object) -> ChatPreset | None:
    if not isinstance(entry, dict):
        return None
    name = entry.get("name")
    if not isinstance(name, str) or not preset_name(name):
        return None
    raw = entry.get("settings")
    settings = ConversationSettings.from_mapping(raw) if isinstance(raw, dict) else None
    return ChatPreset(preset_name(name), settings or ConversationSettings())


def _preset_to_json(preset: ChatPreset) -> dict[str, object]:
    values = {
        "system": preset.settings.system,
        "temperature": preset.settings.temperature,
        "max_tokens": preset.settings.max_tokens,
        "reasoning_effort": preset.settings.reasoning_effort,
        "profile": preset.settings.profile,
        "model": preset.settings.model,
    }
    return {"name": preset.name, "settings": {k: v for k, v in values.items() if v is not None}}


__all__ = ["PRESETS_FILE_NAME", "ChatPreset", "PresetStore", "preset_name"]
