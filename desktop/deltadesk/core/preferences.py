"""Small preferences that outlive a session, kept in a JSON file beside the profiles.

Besides the view preferences this remembers which models refused `stream_options`
(usage reporting), per endpoint and model: one model refusing it says nothing about the
others on the same endpoint, so the profile's own include_usage stays on.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from deltadesk.core.settings_file import read_json_document, write_json_document

log = logging.getLogger(__name__)

USAGE_REFUSALS_KEY = "usage_refusals"


ZOOM_MIN = 50
ZOOM_MAX = 300
ZOOM_DEFAULT = 100
THEMES = ("system", "light", "dark")


@dataclass(frozen=True, slots=True)
class Preferences:
    keep_reasoning_open: bool = False  # do not fold the thinking when the answer starts
    zoom_percent: int = ZOOM_DEFAULT  # the conversation and the window's labels, 50-300
    theme: str = "system"  # "system" follows the desktop; "light" or "dark" overrides it
    # The window as it was left: (x, y, width, height) of its normal geometry, () if never
    # saved; whether it was maximised; the splitter's sizes (sidebar, chat); the
    # conversation in view (0: a new chat).
    window_rect: tuple[int, ...] = ()
    window_maximized: bool = False
    splitter_sizes: tuple[int, ...] = ()
    last_conversation_id: int = 0


def clamp_zoom(percent: int) -> int:
    return max(ZOOM_MIN, min(ZOOM_MAX, int(percent)))


def endpoint_key(base_url: str) -> str:
    """One spelling per endpoint: "http://h/v1/" and "http://h/v1" are the same server."""
    return base_url.strip().rstrip("/")


class PreferenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.current = Preferences()
        self._refusals: dict[str, list[str]] = {}
        self._load()

    # -- view preferences ----------------------------------------------------------------------

    def update(self, **changes: object) -> None:
        self.current = replace(self.current, **changes)  # type: ignore[arg-type]
        self._save()

    # -- usage refusals per (endpoint, model) --------------------------------------------------

    def usage_refused(self, base_url: str, model: str) -> bool:
        return model in self._refusals.get(endpoint_key(base_url), [])

    def refuse_usage(self, base_url: str, model: str) -> None:
        """Remember that ``model`` at ``base_url`` rejects stream_options.include_usage."""
        if self.usage_refused(base_url, model):
            return
        self._refusals.setdefault(endpoint_key(base_url), []).append(model)
        self._save()

    def usage_refusals(self, base_url: str) -> list[str]:
        """The models at ``base_url`` that do not report usage, in the order they refused."""
        return list(self._refusals.get(endpoint_key(base_url), []))

    def clear_usage_refusals(self, base_url: str) -> int:
        """Ask every model at ``base_url`` for usage again; return how many were forgotten."""
        cleared = self._refusals.pop(endpoint_key(base_url), [])
        if cleared:
            self._save()
        return len(cleared)

    # -- the file ------------------------------------------------------------------------------

    def _load(self) -> None:
        # An unusable file is moved aside (never deleted) and the defaults are used.
        data = read_json_document(self.path, "preferences")
        if data is None:
            return
        self.current = _preferences_from(data)
        self._refusals = _refusals_from(data.get(USAGE_REFUSALS_KEY))

    def _save(self) -> None:
        document: dict[str, object] = {**asdict(self.current), USAGE_REFUSALS_KEY: self._refusals}
        try:
            write_json_document(self.path, document)
        except OSError as exc:  # a read-only folder: the preference lasts this session
            log.warning("preferences: cannot save %s (%s)", self.path, exc)


def _preferences_from(data: dict[str, object]) -> Preferences:
    """The known, well-typed values of ``data``; anything else takes its default."""
    defaults = Preferences()
    values: dict[str, Any] = {}
    for field in fields(Preferences):
        if field.name not in data:
            continue
        value = _typed_like(getattr(defaults, field.name), data[field.name])
        if value is not None:
            values[field.name] = value
    prefs = replace(defaults, **values)
    if prefs.theme not in THEMES:
        prefs = replace(prefs, theme=defaults.theme)
    if len(prefs.window_rect) != 4 or min(prefs.window_rect[2:], default=0) <= 0:
        prefs = replace(prefs, window_rect=())
    if len(prefs.splitter_sizes) != 2 or min(prefs.splitter_sizes, default=0) < 0:
        prefs = replace(prefs, splitter_sizes=())
    return replace(
        prefs,
        zoom_percent=clamp_zoom(prefs.zoom_percent),
        last_conversation_id=max(0, prefs.last_conversation_id),
    )


def _typed_like(default: object, value: object) -> object | None:
    """``value`` if it has the default's type (JSON lists for tuples of ints), else None."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else None
    if isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31
        return value if ok else None
    if isinstance(default, tuple):
        if not isinstance(value, list) or len(value) > 8:
            return None
        ints = [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
        in_range = all(abs(v) < 1_000_000 for v in ints)
        return tuple(ints) if len(ints) == len(value) and in_range else None
    return value if isinstance(value, type(default)) else None


def _refusals_from(raw: object) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        return {}
    refusals: dict[str, list[str]] = {}
    for url, models in raw.items():
        if not isinstance(url, str) or not isinstance(models, list):
            continue
        names = list(dict.fromkeys(m for m in models if isinstance(m, str)))
        if names:
            refusals[endpoint_key(url)] = names
    return refusals
