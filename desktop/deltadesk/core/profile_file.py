"""The profiles file as a JSON document: its versions and the migrations between them.

This module knows the document's shape, not the Profile class (profiles.py builds profiles
from the entries), so the two stay free of import cycles.

Version history:
1. the first format.
2. first_chunk_timeout became the first-*token* limit with 0 = automatic (300 s for
   self-hosted servers, 120 s for hosted ones); usage refusals moved to the preferences,
   per endpoint and model.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

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
