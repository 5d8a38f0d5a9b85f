"""Provider profiles and the file that keeps them: ProfileStore. Never holds a key (see
secrets.py).

The profile itself lives in profile_model.py and its JSON form in profile_file.py; both are
re-exported here, so `from deltadesk.core.profiles import Profile, ProfileStore, PRESETS`
is the one import the rest of the app needs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from deltadesk.core.profile_file import (
    PROFILES_FILE_VERSION,
    ProfileFileError,
    backup_before_migration,
    check_profile,
    document_version,
    looks_like_secret,
    migrate,
    number_problem,
    profile_from_json,
    profile_to_json,
)
from deltadesk.core.profile_model import (
    DEMO_BASE_URL,
    DEMO_MODEL,
    DEMO_PROFILE_NAME,
    FIRST_TOKEN_LIMIT_HOSTED_S,
    FIRST_TOKEN_LIMIT_LOCAL_S,
    LOCAL_HOSTS,
    MAX_ANSWER_CHARS,
    PRESETS,
    Preset,
    Profile,
    demo_profile,
)
from deltadesk.core.settings_file import (
    atomic_write_text,
    read_json_document,
    set_aside,
    write_json_document,
)

__all__ = [
    "DEMO_BASE_URL",
    "DEMO_MODEL",
    "DEMO_PROFILE_NAME",
    "FIRST_TOKEN_LIMIT_HOSTED_S",
    "FIRST_TOKEN_LIMIT_LOCAL_S",
    "LOCAL_HOSTS",
    "MAX_ANSWER_CHARS",
    "PRESETS",
    "PROFILES_FILE_VERSION",
    "Preset",
    "Profile",
    "ProfileFileError",
    "ProfileStore",
    "atomic_write_text",
    "check_profile",
    "demo_profile",
    "looks_like_secret",
    "number_problem",
    "profile_from_json",
    "profile_to_json",
]

logger = logging.getLogger(__name__)


class ProfileStore:
    """The provider profiles and which one is active, kept in a JSON file.

    Every change is saved at once with an atomic replace, so a crash leaves either the old
    file or the new one. Keys are not stored here: renaming or removing a profile's key in
    the keyring is the caller's job (SecretStore.rename / delete).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._profiles: list[Profile] = []
        self._active_name = ""
        # Set while the file cannot be written (a read-only folder): changes then last for
        # this session only, and this sentence says so to whoever shows it.
        self.save_problem: str | None = None
        if not self._load():
            self._commit([demo_profile()], DEMO_PROFILE_NAME)

    # -- reading -----------------------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        return list(self._profiles)

    def get(self, name: str) -> Profile | None:
        return next((p for p in self._profiles if p.name == name), None)

    @property
    def active_name(self) -> str:
        return self._active_name

    @property
    def active(self) -> Profile:
        profile = self.get(self._active_name)
        assert profile is not None, "the active name always names a profile"
        return profile

    # -- changing ----------------------------------------------------------------------------

    def upsert(self, profile: Profile, old_name: str | None = None) -> None:
        """Add ``profile``, or replace the one with its name; with ``old_name``, rename that one."""
        check_profile(profile)
        target = profile.name if old_name is None else old_name
        index = self._index(target)
        if old_name is not None and index is None:
            raise ValueError(f"There is no profile named {old_name!r}.")
        clash = self._index(profile.name)
        if clash is not None and clash != index:
            raise ValueError(f"A profile named {profile.name!r} already exists.")
        profiles = self.profiles()
        if index is None:
            profiles.append(profile)
        else:
            profiles[index] = profile
        active = profile.name if self._active_name == target else self._active_name
        self._commit(profiles, active)

    def remove(self, name: str) -> None:
        """Remove a profile (the demo too); the active one falls back to the first left."""
        index = self._index(name)
        if index is None:
            return
        if len(self._profiles) == 1:
            raise ValueError("Keep at least one profile.")
        profiles = self.profiles()
        del profiles[index]
        active = profiles[0].name if self._active_name == name else self._active_name
        self._commit(profiles, active)

    def replace_all(self, profiles: list[Profile], active: str) -> None:
        """Put a whole edited list in place at once (the settings dialog's result)."""
        names = [p.name for p in profiles]
        for profile in profiles:
            check_profile(profile)
        if not profiles:
            raise ValueError("Keep at least one profile.")
        if len(set(names)) != len(names):
            raise ValueError("Profile names must be unique.")
        self._commit(list(profiles), active if active in names else names[0])

    def set_active(self, name: str) -> None:
        if self._index(name) is None:
            raise ValueError(f"There is no profile named {name!r}.")
        self._commit(self.profiles(), name)

    def _index(self, name: str) -> int | None:
        return next((i for i, p in enumerate(self._profiles) if p.name == name), None)

    # -- the file ----------------------------------------------------------------------------

    def _load(self) -> bool:
        """Read the file; False when there is none (or it was unusable and moved aside)."""
        document = read_json_document(self.path, "profiles")
        if document is None:
            return False
        version = document_version(document)
        try:
            profiles, active, secrets_seen = self._parse(migrate(document))
        except ProfileFileError as exc:
            set_aside(self.path, "profiles", str(exc))
            return False
        if not any(p.name == active for p in profiles):
            active = profiles[0].name
        if secrets_seen:
            logger.warning(
                "profiles: dropped secret-looking field(s) %s from %s; keys belong in the keyring",
                ", ".join(sorted(set(secrets_seen))),
                self.path,
            )
        if version > PROFILES_FILE_VERSION:
            logger.warning(
                "profiles: %s was written by a newer Deltadesk (version %d); reading what this "
                "version understands, and leaving the file as it is until a change is saved",
                self.path,
                version,
            )
        if version < PROFILES_FILE_VERSION:
            logger.info("profiles: upgrading %s from version %d", self.path, version)
            backup_before_migration(self.path, version)
        if secrets_seen or version < PROFILES_FILE_VERSION:
            self._commit(profiles, active)  # the keys leave the disk at once
        else:
            self._profiles, self._active_name = profiles, active
        return True

    @staticmethod
    def _parse(document: dict[str, object]) -> tuple[list[Profile], str, list[str]]:
        entries = document.get("profiles")
        if not isinstance(entries, list):
            raise ProfileFileError("not a profiles document")
        profiles: list[Profile] = []
        secrets_seen: list[str] = []
        for entry in entries:
            profile, secrets = profile_from_json(entry)
            secrets_seen += secrets
            if profile is None:
                logger.warning("profiles: skipping an entry without a usable name, URL or model")
            elif any(p.name == profile.name for p in profiles):
                logger.warning("profiles: skipping a second profile named %r", profile.name)
            else:
                profiles.append(profile)
        if not profiles:
            raise ProfileFileError("no usable profile in it")
        active = document.get("active")
        return profiles, active if isinstance(active, str) else "", secrets_seen

    def _commit(self, profiles: list[Profile], active: str) -> None:
        """Save the new state, and only once it is on disk make it the state in memory.

        A value that cannot be written (NaN, a lone surrogate) raises ValueError and changes
        nothing. A file that cannot be written (a read-only folder, a full disk) keeps the new
        state in memory for this session, with save_problem saying so: the app goes on.
        """
        document: dict[str, object] = {
            "version": PROFILES_FILE_VERSION,
            "active": active,
            "profiles": [profile_to_json(p) for p in profiles],
        }
        try:
            write_json_document(self.path, document)
        except OSError as exc:
            problem = f"Profiles are not saved: {self.path} cannot be written ({exc.strerror})."
            if problem != self.save_problem:
                logger.warning("profiles: %s", problem)
            self.save_problem = problem
        else:
            self.save_problem = None
        self._profiles, self._active_name = profiles, active
