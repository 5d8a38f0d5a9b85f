"""API keys in the operating system's keyring: the ONLY module that imports keyring.

One entry per profile under the service "deltadesk". When no usable keyring exists, keys are
held in memory for this session only; they are never written to a file, a log or an error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keyring is imported, and its backend chosen, only when a key is needed:
    # finding the backend takes ~150 ms (D-Bus included), too long to spend at start-up.
    import keyring.backend

SERVICE = "deltadesk"
NO_KEYRING_PROBLEM = (
    "No system keyring found (install and unlock GNOME Keyring, KWallet or another Secret "
    "Service). Keys will be kept for this session only."
)
SESSION_ONLY_SUFFIX = " Keys will be kept for this session only."

logger = logging.getLogger(__name__)


class SecretStoreError(Exception):
    """The keyring refused an operation. The message never contains the secret."""


def _unusable_reason(backend: keyring.backend.KeyringBackend) -> str | None:
    """None when ``backend`` can keep keys; otherwise a plain sentence saying why not."""
    import keyring.backends.chainer
    import keyring.backends.fail

    if isinstance(backend, keyring.backends.fail.Keyring):
        return NO_KEYRING_PROBLEM
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        # A chainer's own priority depends on how many backends it holds; what matters is
        # whether any of them can keep a key.
        members = list(backend.backends)
        if not any(_unusable_reason(member) is None for member in members):
            return NO_KEYRING_PROBLEM
        return None
    try:
        priority = float(backend.priority)
    except Exception as exc:  # backends say "cannot work here" by raising from priority
        return f"The system keyring is not usable ({exc}).{SESSION_ONLY_SUFFIX}"
    if priority < 1:
        return (
            f"The keyring backend {backend.name} is not a safe place for keys.{SESSION_ONLY_SUFFIX}"
        )
    return None


def _describe_failure(action: str, profile_name: str, exc: Exception, secret: str | None) -> str:
    detail = str(exc)
    if secret:
        detail = detail.replace(secret, "***")
    return (
        f"Could not {action} the key of profile {profile_name!r} in the system keyring: "
        f"{type(exc).__name__}: {detail}"
    )


class SecretStore:
    """Per-profile API keys: the system keyring, or memory when there is none (or asked)."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._given_backend = backend
        self._chosen: tuple[keyring.backend.KeyringBackend, str | None] | None = None
        self._session: dict[str, str] = {}

    def _choose(self) -> tuple[keyring.backend.KeyringBackend, str | None]:
        """The backend and, if it cannot keep keys, why not; decided on first use."""
        if self._chosen is None:
            import keyring

            backend = self._given_backend
            if backend is None:
                backend = keyring.get_keyring()
            problem = _unusable_reason(backend)
            self._chosen = (backend, problem)
            if problem:
                logger.warning("secrets: %s (backend %s)", problem, self.backend_name)
        return self._chosen

    @property
    def _backend(self) -> keyring.backend.KeyringBackend:
        return self._choose()[0]

    @property
    def _problem(self) -> str | None:
        return self._choose()[1]

    @property
    def available(self) -> bool:
        return self._problem is None

    @property
    def backend_name(self) -> str:
        return str(getattr(self._backend, "name", type(self._backend).__name__))

    @property
    def problem(self) -> str | None:
        """Why keys cannot be saved, in words for the user; None when the keyring works."""
        return self._problem

    def get(self, profile_name: str) -> str | None:
        # A key given this session wins: it is the one the user typed most recently, and a
        # session-only key is never also in the keyring (set() removes it there).
        if profile_name in self._session:
            return self._session[profile_name]
        if not self.available:
            return None
        try:
            secret = self._backend.get_password(SERVICE, profile_name)
        except Exception as exc:
            raise SecretStoreError(_describe_failure("read", profile_name, exc, None)) from None
        return None if secret is None else str(secret)

    def set(self, profile_name: str, secret: str, *, session_only: bool = False) -> None:
        """Keep ``secret`` for the profile; an empty secret deletes the key."""
        if not secret:
            self.delete(profile_name)
        elif session_only or not self.available:
            self._set_session_only(profile_name, secret)
        else:
            self._set_in_keyring(profile_name, secret)

    def _set_in_keyring(self, profile_name: str, secret: str) -> None:
        try:
            self._backend.set_password(SERVICE, profile_name, secret)
        except Exception as exc:
            # `from None`: the original exception is not chained, so its text (and anything
            # it might quote) never reaches a traceback or a log.
            message = _describe_failure("save", profile_name, exc, secret)
            raise SecretStoreError(message) from None
        self._session.pop(profile_name, None)

    def _set_session_only(self, profile_name: str, secret: str) -> None:
        self._session[profile_name] = secret
        if not self.available:
            return
        # "Do not remember" also forgets a key remembered earlier. If the keyring will not
        # let go, the session key still wins in get(), so only warn.
        try:
            self._delete_from_keyring(profile_name)
        except SecretStoreError as exc:
            logger.warning("secrets: %s", exc)

    def delete(self, profile_name: str) -> None:
        """Forget the profile's key everywhere; a missing key is fine."""
        self._session.pop(profile_name, None)
        if self.available:
            self._delete_from_keyring(profile_name)

    def _delete_from_keyring(self, profile_name: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE, profile_name)
        except PasswordDeleteError:
            return  # nothing stored: already the wanted state
        except Exception as exc:
            raise SecretStoreError(_describe_failure("delete", profile_name, exc, None)) from None

    def rename(self, old: str, new: str) -> None:
        """Move the key of profile ``old`` to ``new`` (after the profile itself was renamed)."""
        if old == new:
            return
        if old in self._session:
            self._session[new] = self._session.pop(old)
            return
        if not self.available:
            return
        secret = self.get(old)
        if secret is None:
            return
        self._set_in_keyring(new, secret)  # copy first: a failure here leaves the old entry
        self._delete_from_keyring(old)

    def is_session_only(self, profile_name: str) -> bool:
        return profile_name in self._session
