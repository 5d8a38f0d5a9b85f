"""SecretStore against a real Secret Service (gnome-keyring on a private D-Bus session).

Runs only when DELTADESK_SECRET_SERVICE=1, which the test runner sets after starting
dbus-run-session and an unlocked gnome-keyring-daemon. With the variable set, an unusable
Secret Service is a failure, not a skip: the runner promised one.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import keyring.backends.SecretService
import pytest

from deltadesk.core.secrets import SERVICE, SecretStore

pytestmark = [
    pytest.mark.real_keyring,
    pytest.mark.skipif(
        os.environ.get("DELTADESK_SECRET_SERVICE") != "1",
        reason="needs a running Secret Service; set DELTADESK_SECRET_SERVICE=1 "
        "(scripts/with-secret-service.sh does)",
    ),
]


def test_set_get_delete_through_the_secret_service() -> None:
    backend = keyring.backends.SecretService.Keyring()
    store = SecretStore(backend)
    assert store.available, f"Secret Service not usable: {store.problem}"
    profile = f"deltadesk-test-{uuid.uuid4().hex}"
    secret = f"sk-real-{uuid.uuid4().hex}"
    try:
        store.set(profile, secret)
        assert not store.is_session_only(profile)
        # Read back through a fresh store and straight from the backend: it is really stored.
        assert SecretStore(keyring.backends.SecretService.Keyring()).get(profile) == secret
        assert backend.get_password(SERVICE, profile) == secret
        renamed = profile + "-renamed"
        store.rename(profile, renamed)
        assert backend.get_password(SERVICE, profile) is None
        assert store.get(renamed) == secret
        store.delete(renamed)
        assert backend.get_password(SERVICE, renamed) is None
        store.delete(renamed)  # deleting a missing key is fine
    finally:
        # Best-effort cleanup; when the keyring is broken its error would hide the real one.
        with contextlib.suppress(Exception):
            for name in (profile, profile + "-renamed"):
                if backend.get_password(SERVICE, name) is not None:
                    backend.delete_password(SERVICE, name)
