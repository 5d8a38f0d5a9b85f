"""Provider profiles: where to send a chat and how. Never holds a key (see secrets.py)."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from deltadesk.core.profile_file import (
    PROFILES_FILE_VERSION,
    ProfileFileError,
    backup_before_migration,
    document_version,
    looks_like_secret,
    migrate,
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
    "PRESETS",
    "PROFILES_FILE_VERSION",
    "Preset",
    "Profile",
    "ProfileFileError",
    "ProfileStore",
    "atomic_write_text",
    "demo_profile",
    "looks_like_secret",
    "profile_from_json",
    "profile_to_json",
]

logger = logging.getLogger(__name__)

# The embedded demo provider gets a fresh port each run, so its profile names it by this
# placeholder and the app puts the running server's URL in its place.
DEMO_BASE_URL = "demo:"
DEMO_PROFILE_NAME = "Demo (offline)"
DEMO_MODEL = "deltadesk-demo"

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})

# The automatic first-token limits (first_chunk_timeout = 0). A self-hosted server sends
# nothing while it loads a model (10-60 s for a large one) and Ollama aborts the load when the
# client gives up, so its limit is long; a hosted reasoning model can also think for a minute.
FIRST_TOKEN_LIMIT_LOCAL_S = 300.0
FIRST_TOKEN_LIMIT_HOSTED_S = 120.0
MAX_ANSWER_CHARS = 10_000_000


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    base_url: str
    model: str
    # Hard limit in seconds from the request to the first token (not the first chunk);
    # 0 = automatic, see first_token_limit.
    first_chunk_timeout: float = 0.0
    idle_timeout: float = 60.0  # longest silence between chunks once streaming
    connect_timeout: float = 10.0
    max_attempts: int = 3  # tries before the first token (1 = no retry)
    # Send stream_options.include_usage. A model that refuses it is remembered per endpoint
    # and model in the preferences (PreferenceStore.refuse_usage), not by turning this off.
    include_usage: bool = True
    thinking: bool = False  # ask reasoning models to think: extra_body={"thinking": {...}}
    local_server: bool = False  # a self-hosted model server: Ollama, LM Studio, vLLM, llama.cpp
    max_answer_chars: int = MAX_ANSWER_CHARS  # an answer is stopped once text+reasoning pass it

    @property
    def is_demo(self) -> bool:
        return self.base_url == DEMO_BASE_URL

    @property
    def is_local(self) -> bool:
        if self.is_demo:
            return True
        host = urlsplit(self.base_url).hostname or ""
        return host in LOCAL_HOSTS or host.startswith("127.")

    @property
    def slow_start(self) -> bool:
        """The first token may take minutes: a server on this machine or a self-hosted one."""
        return self.is_local or self.local_server

    @property
    def first_token_limit(self) -> float:
        """Seconds to wait for the first token before giving up (never retried)."""
        if self.first_chunk_timeout > 0:
            return self.first_chunk_timeout
        return FIRST_TOKEN_LIMIT_LOCAL_S if self.slow_start else FIRST_TOKEN_LIMIT_HOSTED_S

    @property
    def needs_key(self) -> bool:
        """Endpoints on this machine (Ollama, LM Studio, the demo) work without a key."""
        return not self.is_local


@dataclass(frozen=True, slots=True)
class Preset:
    label: str
    base_url: str
    model: str
    local_server: bool = False


PRESETS: tuple[Preset, ...] = (
    Preset("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini"),
    Preset("OpenRouter", "https://openrouter.ai/api/v1", "openai/gpt-4o-mini"),
    Preset("DeepSeek", "https://api.deepseek.com/v1", "deepseek-chat"),
    Preset("Groq", "https://api.groq.com/openai/v1", "llama-3.1-8b-instant"),
    Preset("Ollama (local)", "http://localhost:11434/v1", "llama3.2", local_server=True),
    Preset("LM Studio (local)", "http://localhost:1234/v1", "local-model", local_server=True),
    Preset("vLLM (local)", "http://localhost:8000/v1", "default", local_server=True),
    Preset("llama.cpp (local)", "http://localhost:8080/v1", "default", local_server=True),
)


def demo_profile() -> Profile:
    return Profile(name=DEMO_PROFILE_NAME, base_url=DEMO_BASE_URL, model=DEMO_MODEL)


# -- a profile as JSON --------------------------------------------------------------------------

# The JSON type each Profile field must have (extend the map when a field of a new type is added).
_PROFILE_FIELD_TYPES: dict[str, type] = {
    name: {"str": str, "float": float, "int": int, "bool": bool}[hint]
    for name, hint in Profile.__annotations__.items()
}
_PROFILE_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Profile) if f.default is not dataclasses.MISSING
}
# The smallest value each number field may take, and whether that value itself is allowed:
# a timeout of 0 s would fail every request, but first_chunk_timeout 0 means "automatic".
_NUMBER_FLOORS: dict[str, tuple[float, bool]] = {
    "first_chunk_timeout": (0.0, True),
    "idle_timeout": (0.0, False),
    "connect_timeout": (0.0, False),
    "max_attempts": (1, True),
    "max_answer_chars": (1, True),
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
    """Why ``value`` cannot be Profile field ``name`` (NaN, infinite, too small), or None."""
    if name not in _NUMBER_FLOORS or not isinstance(value, int | float):
        return None
    floor, floor_allowed = _NUMBER_FLOORS[name]
    if not math.isfinite(value):
        return f"{name} must be a finite number, not {value}"
    if value < floor or (value == floor and not floor_allowed):
        relation = "at least" if floor_allowed else "more than"
        return f"{name} must be {relation} {floor:g}, not {value:g}"
    return None


def check_profile(profile: Profile) -> None:
    """Raise ValueError when a profile cannot be used or saved as it is."""
    if not profile.name.strip():
        raise ValueError("A profile needs a name.")
    for name in _NUMBER_FLOORS:
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
        problem = number_problem(name, value)
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
