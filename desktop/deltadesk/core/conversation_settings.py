"""What one conversation sends with every request, beyond its messages.

Kept with the conversation (the history's ``conversations.settings`` column, JSON), shown in
the chat settings panel, and the start of a new conversation made from a preset. ``None``
everywhere means "the profile's default": nothing is sent for it. Reading is tolerant: a
value that is missing, of the wrong type or out of range is the default, never an error, since
the column may come from an older or a hand-edited file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

REASONING_EFFORTS = ("low", "medium", "high")
MAX_SYSTEM_CHARS = 100_000
MAX_NAME_CHARS = 200
MAX_TEMPERATURE = 2.0
MAX_TOKENS_LIMIT = 10_000_000


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    system: str | None = None  # a system message sent first
    temperature: float | None = None  # 0 ... 2
    max_tokens: int | None = None  # sent as max_tokens or max_completion_tokens (profile)
    reasoning_effort: str | None = None  # one of REASONING_EFFORTS, where the profile thinks
    profile: str | None = None  # the profile's name; None: the window's active profile
    model: str | None = None  # None: the profile's own model

    @property
    def is_default(self) -> bool:
        return self == ConversationSettings()

    def to_json(self) -> str | None:
        """The column's text; None for the defaults (nothing stored)."""
        if self.is_default:
            return None
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_json(cls, text: str | None) -> ConversationSettings:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):
            return cls()
        return cls.from_mapping(raw) if isinstance(raw, dict) else cls()

    @classmethod
    def from_mapping(cls, raw: dict[str, object]) -> ConversationSettings:
        return cls(
            system=_text(raw.get("system"), MAX_SYSTEM_CHARS),
            temperature=_temperature(raw.get("temperature")),
            max_tokens=_max_tokens(raw.get("max_tokens")),
            reasoning_effort=_effort(raw.get("reasoning_effort")),
            profile=_text(raw.get("profile"), MAX_NAME_CHARS),
            model=_text(raw.get("model"), MAX_NAME_CHARS),
        )

    def with_changes(self, **changes: object) -> ConversationSettings:
        """A copy with ``changes``, each checked as when read (a bad value is the default)."""
        return ConversationSettings.from_mapping({**asdict(self), **changes})


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] or None


def _temperature(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value <= MAX_TEMPERATURE:  # before float(): a huge int would overflow it
        return None
    return float(value)


def _max_tokens(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_TOKENS_LIMIT else None


def _effort(value: object) -> str | None:
    return value if value in REASONING_EFFORTS else None


__all__ = ["REASONING_EFFORTS", "ConversationSettings"]
