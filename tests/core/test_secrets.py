"""SecretStore with an in-memory keyring backend and with keyring's fail backend."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.errors
import pytest

from deltadesk.core.secrets import SERVICE, SecretStore, SecretStoreError

Entries = dict[tuple[str, str], str]


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring in a dict. The required argument keeps keyring's discovery from using it."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, entries: Entries) -> None:
        super().__init__()
        self.entries = entries

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("No such password!")


class LowPriorityKeyring(MemoryKeyring):
    priority = 0.5  # type: ignore[assignment]


class UnreachableKeyring(MemoryKeyring):
    @property  # type: ignore[misc]
    def priority(self) -> float:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable")


class BrokenKeyring(MemoryKeyring):
    """Reachable, but every call fails, quoting what it was given (the worst case)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"cannot store {password!r} for {username}")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


SECRET = "sk-" + "test" * 6  # built at run time: the source never holds a key shape


@pytest.fixture
def entries() -> Entries:
    return {}


@pytest.fixture
def secrets(entries: Entries) -> SecretStore:
    return SecretStore(MemoryKeyring(entries))


@pytest.fixture
def no_keyring() -> SecretStore:
    return SecretStore(keyring.backends.fail.Keyring())


def test_available_backend(secrets: SecretStore) -> None:
    assert secrets.available
    assert secrets.problem is None
    assert "MemoryKeyring" in secrets.backend_name


def test_set_get_delete_in_the_keyring(secrets: SecretStore, entries: Entries) -> None:
    assert secrets.get("OpenAI") is None
    secrets.set("OpenAI", SECRET)
    assert entries == {(SERVICE, "OpenAI"): SECRET}
    assert secrets.get("OpenAI") == SECRET
    assert not secrets.is_session_only("OpenAI")
    secrets.delete("OpenAI")
    assert entries == {}
    assert secrets.get("OpenAI") is None
    secrets.delete("OpenAI")  # missing is fine


def test_a_second_store_reads_what_the_first_saved(entries: Entries) -> None:
    SecretStore(MemoryKeyring(entries)).set("Groq", SECRET)
    assert SecretStore(MemoryKeyring(entries)).get("Groq") == SECRET


def test_empty_secret_deletes(secrets: SecretStore, entries: Entries) -> None:
    secrets.set("OpenAI", SECRET)
    secrets.set("OpenAI", "")
    assert entries == {}


def test_rename_moves_the_keyring_entry(secrets: SecretStore, entries: Entries) -> None:
    secrets.set("Groq", SECRET)
    secrets.rename("Groq", "Groq fast")
    assert entries == {(SERVICE, "Groq fast"): SECRET}
    secrets.rename("nothing here", "still nothing")
    secrets.rename("Groq fast", "Groq fast")
    assert entries == {(SERVICE, "Groq fast"): SECRET}


def test_session_only_stays_out_of_the_keyring(secrets: SecretStore, entries: Entries) -> None:
    secrets.set("OpenAI", "old-remembered-key")
    secrets.set("OpenAI", SECRET, session_only=True)
    assert entries == {}  # "do not remember" forgets the remembered one too
    assert secrets.get("OpenAI") == SECRET
    assert secrets.is_session_only("OpenAI")
    secrets.rename("OpenAI", "Work")
    assert secrets.get("Work") == SECRET and secrets.is_session_only("Work")
    secrets.set("Work", SECRET)  # now remember it
    assert entries == {(SERVICE, "Work"): SECRET}
    assert not secrets.is_session_only("Work")


def test_no_keyring_keeps_keys_for_the_session(no_keyring: SecretStore) -> None:
    # The fail backend raises on every call, so any keyring use would show up as an error.
    assert not no_keyring.available
    assert no_keyring.problem is not None
    assert no_keyring.problem.startswith("No system keyring found")
    assert "this session only" in no_keyring.problem
    assert no_keyring.get("OpenAI") is None
    no_keyring.set("OpenAI", SECRET)
    assert no_keyring.get("OpenAI") == SECRET
    assert no_keyring.is_session_only("OpenAI")
    no_keyring.rename("OpenAI", "Work")
    assert no_keyring.get("OpenAI") is None and no_keyring.get("Work") == SECRET
    no_keyring.delete("Work")
    assert no_keyring.get("Work") is None
    assert SecretStore(keyring.backends.fail.Keyring()).get("Work") is None  # memory only


def test_no_keyring_never_writes_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_keyring: SecretStore
) -> None:
    for variable in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable))
    monkeypatch.chdir(tmp_path)
    no_keyring.set("OpenAI", SECRET)
    no_keyring.rename("OpenAI", "Work")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (LowPriorityKeyring({}), "not a safe place for keys"),
        (UnreachableKeyring({}), "neither running nor activatable"),
    ],
)
def test_unusable_backends(backend: keyring.backend.KeyringBackend, expected: str) -> None:
    store = SecretStore(backend)
    assert not store.available
    assert store.problem is not None and expected in store.problem
    store.set("OpenAI", SECRET)
    assert store.is_session_only("OpenAI")
    assert backend.entries == {}  # type: ignore[attr-defined]


def test_chainer_needs_a_usable_member(monkeypatch: pytest.MonkeyPatch) -> None:
    chainer_class = keyring.backends.chainer.ChainerBackend
    monkeypatch.setattr(chainer_class, "backends", [keyring.backends.fail.Keyring()])
    assert not SecretStore(chainer_class()).available
    monkeypatch.setattr(chainer_class, "backends", [])
    assert not SecretStore(chainer_class()).available
    entries: Entries = {}
    monkeypatch.setattr(chainer_class, "backends", [MemoryKeyring(entries)])
    chained = SecretStore(chainer_class())
    assert chained.available
    chained.set("OpenAI", SECRET)
    assert entries == {(SERVICE, "OpenAI"): SECRET}


def test_default_backend_is_keyrings_choice() -> None:
    entries: Entries = {}
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring(entries))
    try:
        SecretStore().set("OpenAI", SECRET)
    finally:
        keyring.set_keyring(previous)
    assert entries == {(SERVICE, "OpenAI"): SECRET}


def test_keyring_failures_never_reveal_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    store = SecretStore(BrokenKeyring({}))
    assert store.available
    with caplog.at_level(logging.DEBUG), pytest.raises(SecretStoreError) as caught:
        store.set("OpenAI", SECRET)
    error = caught.value
    assert "OpenAI" in str(error) and "PasswordSetError" in str(error)
    assert SECRET not in str(error)
    assert SECRET not in "".join(traceback.format_exception(error))
    assert error.__cause__ is None
    assert SECRET not in caplog.text
    with pytest.raises(SecretStoreError, match="Could not read"):
        store.get("OpenAI")
    with pytest.raises(SecretStoreError, match="Could not delete"):
        store.delete("OpenAI")


def test_session_only_survives_a_keyring_that_will_not_delete(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = SecretStore(BrokenKeyring({}))
    with caplog.at_level(logging.WARNING):
        store.set("OpenAI", SECRET, session_only=True)
    assert store.get("OpenAI") == SECRET
    assert "Could not delete" in caplog.text
    assert SECRET not in caplog.text


@pytest.fixture(autouse=True)
def _never_touch_the_real_keyring() -> Iterator[None]:
    # Every test hands SecretStore its backend; make sure none reaches the user's keyring.
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)
