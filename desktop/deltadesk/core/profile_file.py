"""The profiles file as a JSON document: one profile as JSON, the document's versions and
the migrations between them. ProfileStore (profiles.py) reads and writes the file with these.

Version history:
1. the first format.
2. first_chunk_timeout became the first-*token* limit with 0 = automatic (300 s for
   self-hosted servers, 120 s for hosted ones); usage refusals moved to the preferences,
   per endpoint and model.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import shutil
from pathlib import Path

from deltadesk.core.profile_model import MAX_TOKENS_FIELDS, Profile

logger = logging.getLogger("deltadesk.core.profiles")

PROFILES_FILE_VERSION = 2

# The old default first-chunk timeout. A v1 file holding exactly this never had it chosen by
# the user (the settings dialog offered it as the default), so it becomes "automatic".
V1_DEFAULT_FIRST_CHUNK_TIMEOUT = 5.0

# Profile fields that could hold a key by name. Keys belong in the keyring (secrets.py); such a
# field found in the file is dropped and the file rewritten at once so the key leaves the disk.
_SECRET_FIELD = re.compile(r"(^|[_-])(api[_-]?key|key|token|password|passwd|secret)($|[_-])")


class ProfileFileError(ValueError):
    """The profiles file cannot be understood at all."""


def looks_like_secret(field_name: str) -> bool:
    return _SECRET_FIELD.search(field_name.lower()) is not None


def document_version(document: dict[str, object]) -> int:
    """The file's version; a file without a usable one is treated as version 1."""
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return 1
    return version


def migrate(document: dict[str, object]) -> dict[str, object]:
    """``document`` brought to PROFILES_FILE_VERSION (a new dict; the input is not changed).

    A newer document is returned as it is: its entries are read as far as they are understood.
    """
    version = document_version(document)
    migrated = dict(document)
    if version < 2:
        migrated = _v1_to_v2(migrated)
    return migrated


def _v1_to_v2(document: dict[str, object]) -> dict[str, object]:
    entries = document.get("profiles")
    if isinstance(entries, list):
        document["profiles"] = [_entry_v1_to_v2(entry) for entry in entries]
    document["version"] = 2
    return document


def _entry_v1_to_v2(entry: object) -> object:
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    timeout = entry.get("first_chunk_timeout")
    if not isinstance(timeout, bool) and timeout == V1_DEFAULT_FIRST_CHUNK_TIMEOUT:
        entry["first_chunk_timeout"] = 0.0
    # Version 1 turned include_usage off for the whole profile when one model refused it;
    # refusals are now remembered per endpoint and model, so the profile asks again.
    if entry.get("include_usage") is False:
        entry["include_usage"] = True
    return entry


def backup_before_migration(path: Path, version: int) -> None:
    """Keep a copy of the file as it was (``profiles.json.bak-v1``) before rewriting it.

    An existing backup is kept: it is the oldest state, the one worth having.
    """
    backup = path.with_name(f"{path.name}.bak-v{version}")
    if backup.exists():
        return
    try:
        shutil.copy2(path, backup)
        backup.chmod(0o600)  # copy2 copies the old file's mode, which may be wider
    except OSError as exc:
        logger.warning("profiles: could not back up %s before upgrading it (%s)", path, exc)


# -- a profile as JSON --------------------------------------------------------------------------

# The JSON type each Profile field must have (extend the map when a field of a new type is added).
_PROFILE_FIELD_TYPES: dict[str, type] = {
    name: {"str": str, "float": float, "int": int, "bool": bool}[hint]
    for name, hint in Profile.__annotations__.items()
}
_PROFILE_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Profile) if f.default is not dataclasses.MISSING
}
# The range each number field may take: (smallest, whether the smallest itself is allowed,
# largest). A timeout of 0 s would fail every request, but first_chunk_timeout 0 means
# "automatic". The ceilings sit far above the settings dialog's and stop a hand-edited file
# from asking for the absurd: a socket refuses a timeout of 1e300 s (OverflowError).
DAY_S = 86_400.0
_NUMBER_RANGES: dict[str, tuple[float, bool, float]] = {
    "first_chunk_timeout": (0.0, True, DAY_S),
    "idle_timeout": (0.0, False, DAY_S),
    "connect_timeout": (0.0, False, DAY_S),
    "max_attempts": (1, True, 100),
    "max_answer_chars": (1, True, 1_000_000_000),  # SQLite's longest string by default
}


def _coerce(name: str, value: object) -> object:
    """``value`` as the type of Profile field ``name``; raise TypeError when it is not one."""
    expected = _PROFILE_FIELD_TYPES[name]
    # bool is an int to Python, but `true` is no timeout and `1` is no flag.
    if isinstance(value, bool) != (expected is bool):
        raise TypeError(name)
    if expected is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, expected):
        raise TypeError(name)
    return value


def number_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be Profile field ``name`` (NaN, infinite, out of range), or None."""
    if name not in _NUMBER_RANGES or not isinstance(value, int | float):
        return None
    floor, floor_allowed, ceiling = _NUMBER_RANGES[name]
    if not math.isfinite(value):
        return f"{name} must be a finite number, not {value}"
    if value < floor or (value == floor and not floor_allowed):
        relation = "at least" if floor_allowed else "more than"
        return f"{name} must be {relation} {floor:g}, not {value:g}"
    if value > ceiling:
        return f"{name} must be at most {ceiling:g}, not {value:g}"
    return None


# Text fields that take one of a few values.
_CHOICES: dict[str, tuple[str, ...]] = {"max_tokens_field": MAX_TOKENS_FIELDS}


def choice_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be Profile field ``name`` (not one of its choices), or None."""
    choices = _CHOICES.get(name)
    if choices is None or value in choices:
        return None
    return f"{name} must be one of {', '.join(choices)}, not {str(value)[:40]!r}"


def check_profile(profile: Profile) -> None:
    """Raise ValueError when a profile cannot be used or saved as it is."""
    if not profile.name.strip():
        raise ValueError("A profile needs a name.")
    for name in _CHOICES:
        problem = choice_problem(name, getattr(profile, name))
        if problem:
            raise ValueError(f"Profile {profile.name!r}: {problem}.")
    for name in _NUMBER_RANGES:
        problem = number_problem(name, getattr(profile, name))
        if problem:
            raise ValueError(f"Profile {profile.name!r}: {problem}.")


def profile_from_json(data: object) -> tuple[Profile | None, list[str]]:
    """Build a Profile from one JSON object: (profile or None if unusable, secret fields seen).

    Unknown fields are ignored; missing, mistyped or out-of-range optional fields (a NaN, an
    infinite or a negative timeout) take their defaults with a warning.
    """
    if not isinstance(data, dict):
        return None, []
    secrets_seen = [key for key in data if isinstance(key, str) and looks_like_secret(key)]
    values: dict[str, object] = {}
    for name in _PROFILE_FIELD_TYPES:
        if name not in data or looks_like_secret(name):
            continue
        try:
            value = _coerce(name, data[name])
        except TypeError:
            logger.warning("profiles: ignoring %s of the wrong type; using the default", name)
            continue
        problem = number_problem(name, value) or choice_problem(name, value)
        if problem:
            logger.warning("profiles: %s; using the default", problem)
            continue
        values[name] = value
    required = set(_PROFILE_FIELD_TYPES) - set(_PROFILE_DEFAULTS)
    if not required <= values.keys() or not str(values["name"]).strip():
        return None, secrets_seen
    return Profile(**values), secrets_seen  # type: ignore[arg-type]


def profile_to_json(profile: Profile) -> dict[str, object]:
    # No Profile field looks like a secret (a test holds that line), so all of them are written.
    return dataclasses.asdict(profile)
