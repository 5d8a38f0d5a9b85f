"""Applying what the settings dialog changed: profiles replaced, and their keys moved, set or
deleted in the keyring (a rename carries its key along; swapped names swap keys)."""

from __future__ import annotations

from collections.abc import Callable

from deltadesk.core.secrets import SecretStoreError
from deltadesk.services import Services
from deltadesk.ui.profile_edits import ProfileEdits


def apply_profile_edits(services: Services, edits: ProfileEdits) -> list[str]:
    """Stores what the settings dialog changed; returns messages for what could not be done."""
    secrets = services.secrets
    errors: list[str] = []

    def attempt(action: Callable[..., object], *args: str) -> None:
        try:
            action(*args)
        except SecretStoreError as exc:  # its message never holds the key
            errors.append(str(exc))

    def read(name: str) -> str | None:
        try:
            return secrets.get(name)
        except SecretStoreError as exc:
            errors.append(str(exc))
            return None

    # Read every moving key before touching any: renames may swap two names.
    moving = {new: read(old) for old, new in edits.renamed.items()}
    for name in [*edits.removed, *edits.renamed, *edits.keys_to_delete]:
        attempt(secrets.delete, name)
    keys = {new: key for new, key in moving.items() if key} | edits.keys_to_set
    for name, key in keys.items():
        attempt(secrets.set, name, key)
    services.profiles.replace_all(edits.profiles, edits.active)
    return errors
