"""The settings dialog's model, without widgets: one entry per profile being edited, the
checks a profile must pass, and the result handed back to the app."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from deltadesk.core.profiles import DEMO_BASE_URL, Profile


@dataclass(frozen=True)
class ProfileEdits:
    """What the user changed. Apply renames first (moving stored keys with them), then
    removals, then `keys_to_delete`, then `keys_to_set`; renames may swap two names."""

    profiles: list[Profile]  # the full list after editing, in order
    renamed: dict[str, str]  # old name → new name
    removed: list[str]  # names as they were when the dialog opened
    keys_to_set: dict[str, str]  # profile name (new name) → key typed by the user
    keys_to_delete: list[str]  # profile names (new names) whose stored key must be removed
    active: str  # active profile name after editing


@dataclass(eq=False)  # entries are compared by identity: two copies may hold equal values
class ProfileEntry:
    profile: Profile
    original_name: str | None  # its name when the dialog opened; None when added here
    had_key: bool = False  # a key is stored under original_name
    typed_key: str = ""  # only ever what the user typed in this dialog
    delete_key: bool = False
    models: list[str] = field(default_factory=list)  # fetched in this dialog
    fetch_status: str = ""
    name_is_auto: bool = False  # "New profile" may follow the preset the user picks

    @property
    def is_demo(self) -> bool:
        return self.profile.base_url == DEMO_BASE_URL


def validation_errors(profile: Profile, other_names: Sequence[str]) -> dict[str, str]:
    """Problems with one profile, by field ("name", "base_url", "model")."""
    errors: dict[str, str] = {}
    name = profile.name.strip()
    if not name:
        errors["name"] = "Give the profile a name."
    elif name.casefold() in {other.strip().casefold() for other in other_names}:
        errors["name"] = f"Another profile is already called “{name}”."
    if profile.base_url != DEMO_BASE_URL and not _is_http_url(profile.base_url):
        errors["base_url"] = "Enter an http:// or https:// address, e.g. https://api.openai.com/v1."
    if not profile.model.strip():
        errors["model"] = "Choose or type a model."
    return errors


def _is_http_url(text: str) -> bool:
    parts = urlsplit(text.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def unique_name(base: str, taken: Sequence[str]) -> str:
    used = {name.strip().casefold() for name in taken}
    candidate, number = base, 2
    while candidate.casefold() in used:
        candidate, number = f"{base} {number}", number + 1
    return candidate
