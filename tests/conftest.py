"""Test-wide isolation: headless Qt, a throwaway data dir, and a keyring that lives in memory.

Nothing here may touch the developer's real config, database or keyring.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import keyring.errors
import pytest
from hypothesis import HealthCheck, settings

from deltadesk.core.sse_server import Handler, SSEServer

# Set before any test module imports PySide6: the platform is chosen when QApplication starts,
# and a test run must never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REAL_KEYRING_MARKER = "real_keyring"

# Property tests. `make test` loads "ci": the same examples on every run (derandomized, no
# example database), so a failure is the code's, never the draw's; nothing depends on the
# machine's speed (no deadline, no too-slow check). `make fuzz` loads "fuzz": many more
# examples from a random seed, each failure printed with a blob to reproduce it; what it
# finds becomes an @example in the test. Unset, hypothesis keeps its own defaults.
_TIMING_CHECKS = [HealthCheck.too_slow]
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_TIMING_CHECKS,
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    max_examples=int(os.environ.get("HYPOTHESIS_FUZZ_EXAMPLES", "5000")),
    deadline=None,
    print_blob=True,
    suppress_health_check=_TIMING_CHECKS,
)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
_session_home_key = pytest.StashKey[Path]()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring held in a dict: real keyring API, no disk, no D-Bus, forgotten per test."""

    priority = 1  # type: ignore[assignment]  # a usable backend, as far as the app can tell

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(f"no password for {username!r}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{REAL_KEYRING_MARKER}: talks to the real Secret Service; runs only under "
        "scripts/with-secret-service.sh (DELTADESK_SECRET_SERVICE=1), as `make test` does",
    )
    # One data dir for the whole session, forced (not setdefault) so a developer's own
    # DELTADESK_HOME can never leak into a test run. Set here, before test modules are imported.
    session_home = tempfile.mkdtemp(prefix="deltadesk-test-home-")
    config.stash[_session_home_key] = Path(session_home)
    os.environ["DELTADESK_HOME"] = session_home


def pytest_unconfigure(config: pytest.Config) -> None:
    session_home = config.stash.get(_session_home_key, None)
    if session_home is not None:
        shutil.rmtree(session_home, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("DELTADESK_SECRET_SERVICE") == "1":
        return
    skip = pytest.mark.skip(reason="needs scripts/with-secret-service.sh (make test runs it)")
    for item in items:
        if item.get_closest_marker(REAL_KEYRING_MARKER):
            item.add_marker(skip)


QT_FIXTURES = frozenset({"qapp", "qtbot", "qt_loop"})


@pytest.fixture(autouse=True)
def qt_objects_freed_between_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Windows and views a test made without qtbot are freed here, between tests, not by a
    garbage collection that happens to run inside a later test's Qt timer event: a QObject
    freed from within its own event crashes the process (SIGSEGV, seen in long runs).
    Only tests with Qt pay for the collection (about 50 ms each)."""
    yield
    if not QT_FIXTURES & set(request.fixturenames):
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is None:
        return
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def memory_keyring(request: pytest.FixtureRequest) -> Iterator[MemoryKeyring | None]:
    """Give every test a fresh in-memory keyring; `real_keyring` tests get the detected one."""
    if request.node.get_closest_marker(REAL_KEYRING_MARKER):
        # Re-detect, so an in-memory keyring left by an earlier test is not mistaken for the
        # real one; MemoryKeyring is registered as a backend class, so rule it out explicitly.
        keyring.core.init_backend(limit=lambda backend: not isinstance(backend, MemoryKeyring))
        yield None
        return
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend


@pytest.fixture
def qt_loop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on the test QApplication, as the app runs (timers fire while it waits)."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(loop._asyncgen_firstiter_hook, loop._asyncgen_finalizer_hook)
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    sys.set_asyncgen_hooks(*hooks)
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], SSEServer]]:
    """A real SSE server on 127.0.0.1 per call, each stopped at teardown."""
    servers: list[SSEServer] = []

    def start(handler: Handler) -> SSEServer:
        server = SSEServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
