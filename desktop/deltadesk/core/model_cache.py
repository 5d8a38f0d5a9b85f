"""The model lists of the profiles' endpoints (`/models`), cached per profile so the model
picker fills at once and the endpoint is asked again only when its list has aged.

Kept in ``models-cache.json`` beside the profiles; read tolerantly (an unusable file is moved
aside, a bad entry is skipped), written atomically; a failed write only costs a refetch.
Model names come from outside: control characters go, absurd names and lists are cut.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from deltadesk.core.markdown import sanitize
from deltadesk.core.profile_model import Profile
from deltadesk.core.settings_file import read_json_document, write_json_document

logger = logging.getLogger(__name__)

MODEL_CACHE_FILE_NAME = "models-cache.json"
MAX_AGE_S = 6 * 3600.0  # lists change seldom; a new model shows up within hours
MAX_MODEL_NAME_CHARS = 256
MAX_MODELS = 5000
MAX_PROFILES = 200


def usable_model_names(names: Sequence[str]) -> tuple[list[str], int]:
    """The names worth listing (control characters dropped, no absurd lengths, no
    duplicates), and how many were left out."""
    kept: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = sanitize(str(raw)).strip()
        if not name or len(name) > MAX_MODEL_NAME_CHARS or "\n" in name or name in seen:
            continue
        seen.add(name)
        kept.append(name)
    kept = kept[:MAX_MODELS]
    return kept, len(names) - len(kept)


def cache_key(profile: Profile) -> str:
    """One list per profile and endpoint: a profile pointed elsewhere asks again."""
    return f"{profile.name}\n{profile.base_url}"


class ModelCache:
    def __init__(
        self,
        path: Path | None,
        *,
        max_age_s: float = MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_age_s = max_age_s
        self._clock = clock
        self._lists: dict[str, tuple[float, list[str]]] = self._load()

    def get(self, profile: Profile) -> list[str] | None:
        """The list last fetched for the profile, however old (None: never fetched)."""
        cached = self._lists.get(cache_key(profile))
        return list(cached[1]) if cached is not None else None

    def is_fresh(self, profile: Profile) -> bool:
        cached = self._lists.get(cache_key(profile))
        if cached is None:
            return False
        age = self._clock() - cached[0]
        return 0 <= age < self.max_age_s  # a clock set back makes it stale, not fresh forever

    def put(self, profile: Profile, models: Sequence[str]) -> list[str]:
        """Keeps a fetched list (cleaned; that is what is returned) and writes the file."""
        kept, _left_out = usable_model_names(list(models))
        self._lists.pop(cache_key(profile), None)
        self._lists[cache_key(profile)] = (self._clock(), kept)
        while len(self._lists) > MAX_PROFILES:  # the oldest written goes
            del self._lists[next(iter(self._lists))]
        self._write()
        return list(kept)

    def forget(self, profile: Profile) -> None:
        if self._lists.pop(cache_key(profile), None) is not None:
            self._write()

    def _load(self) -> dict[str, tuple[float, list[str]]]:
        if self.path is None:
            return {}
        document = read_json_document(self.path, "model cache")
        entries = document.get("lists") if document is not None else None
        lists: dict[str, tuple[float, list[str]]] = {}
        for key, entry in entries.items() if isinstance(entries, dict) else []:
            if not isinstance(entry, dict):
                continue
            fetched, models = entry.get("fetched_at"), entry.get("models")
            if isinstance(fetched, bool) or not isinstance(fetched, int | float):
                continue
            if not isinstance(models, list) or len(lists) >= MAX_PROFILES:
                continue
            kept, _left_out = usable_model_names([m for m in models if isinstance(m, str)])
            lists[str(key)] = (float(fetched), kept)
        return lists

    def _write(self) -> None:
        if self.path is None:
            return
        lists: dict[str, object] = {
            key: {"fetched_at": fetched, "models": models}
            for key, (fetched, models) in self._lists.items()
        }
        try:
            write_json_document(self.path, {"version": 1, "lists": lists})
        except (OSError, ValueError) as exc:
            logger.info("model cache: could not write %s (%s)", self.path, exc)


__all__ = ["MAX_AGE_S", "MODEL_CACHE_FILE_NAME", "ModelCache", "usable_model_names"]
