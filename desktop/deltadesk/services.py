"""The app's long-lived parts that are not widgets, shared by the window, the self-test and
`deltadesk ask`: history, profiles, preferences, keys, the demo provider and chat clients."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.migrations import Progress
from deltadesk.core.paths import AppPaths
from deltadesk.core.preferences import PreferenceStore
from deltadesk.core.profiles import Profile, ProfileStore
from deltadesk.core.secrets import SecretStore, SecretStoreError
from deltadesk.core.store import BUSY_TIMEOUT_MS, Store, StoreWriteError
from deltadesk.history_stand_in import READ_ONLY_NOTICE, StandIn, writable_stand_in

if TYPE_CHECKING:
    from deltadesk.core.client import ChatClient
    from deltadesk.core.sse_server import SSEServer

log = logging.getLogger("deltadesk")


class Services:
    """The app's long-lived parts that are not widgets: history, profiles, keys, clients."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        demo_tokens_per_second: float | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        stand_in_if_read_only: bool = False,
        upgrade_progress: Progress | None = None,
    ) -> None:
        self.paths = paths
        # upgrade_progress is told about once a second while a slow upgrade of an older
        # history runs (building the search index of a large one), e.g. for a banner.
        self.store = Store(paths.db, busy_timeout_ms=busy_timeout_ms, progress=upgrade_progress)
        # Set when the history cannot be written: what the window says about it, always.
        self.history_problem: str | None = None
        # Said once when the window opens: an upgrade that took more than a second.
        upgrade = self.store.upgrade
        self.history_notice_at_start = upgrade.note() if upgrade and upgrade.slow else None
        self._stand_in: StandIn | None = None
        if self.store.read_only:
            self._read_only_history(stand_in_if_read_only)
        self._recover_interrupted()
        self.profiles = ProfileStore(paths.profiles)
        self.preferences = PreferenceStore(paths.preferences)
        self.secrets = SecretStore()
        self._demo_tps = demo_tokens_per_second
        self._demo: SSEServer | None = None
        # By profile name and model: chats of one profile may each pick their own model, and
        # switching between them must not make (and keep) a new client every time.
        self._clients: dict[tuple[str, str], ChatClient] = {}
        self._retired: list[ChatClient] = []

    def _read_only_history(self, stand_in: bool) -> None:
        self.history_problem = READ_ONLY_NOTICE.format(path=self.paths.db)
        log.warning("history %s is read-only", self.paths.db)
        copy = writable_stand_in(self.store) if stand_in else None
        if copy is not None:
            self.store.close()
            self.store, self._stand_in = copy.store, copy

    def _recover_interrupted(self) -> None:
        if self.store.read_only:
            return  # the answers a crash cut off stay `streaming`; nothing can be written
        try:
            recovered = self.store.recover_interrupted()
        except StoreWriteError as exc:  # e.g. busy in another instance: next start does it
            log.warning("answers cut off by a crash are not marked yet: %s", exc)
            return
        if recovered:
            log.info("%d answer(s) cut off by a crash are marked interrupted", recovered)

    def _demo_server(self) -> SSEServer:
        if self._demo is None:
            from deltadesk.core.demo import start_demo_server

            self._demo = start_demo_server(self._demo_tps)
        return self._demo

    def demo_url(self) -> str:
        return self._demo_server().base_url

    def _endpoint(self, profile: Profile, key: str | None) -> tuple[str, str | None]:
        """Where the profile's requests go, and with which key. The demo listens on
        loopback, where any local process could reach it: it serves only its own random
        token, which is its key."""
        if profile.is_demo:
            demo = self._demo_server()
            return demo.base_url, demo.token
        return profile.base_url, key

    def api_key(self, profile: Profile, override_env: str | None = None) -> str | None:
        if override_env:
            return os.environ.get(override_env) or None
        try:
            return self.secrets.get(profile.name)
        except SecretStoreError as exc:  # a locked or broken keyring: say so, as any failure
            raise ChatError(ErrorKind.NO_KEY, str(exc)) from None

    def has_key(self, profile_name: str) -> bool:
        try:
            return self.secrets.get(profile_name) is not None
        except SecretStoreError:
            return False

    def client_for(self, profile: Profile, api_key_env: str | None = None) -> ChatClient:
        """A client for the profile as it is now; a changed profile or key gets a new one."""
        from deltadesk.core.client import ChatClient

        key = self.api_key(profile, api_key_env)
        if profile.needs_key and not key:
            raise ChatError(
                ErrorKind.NO_KEY,
                f"No API key for “{profile.name}”. Add one in Settings (Ctrl+,).",
            )
        base_url, key = self._endpoint(profile, key)
        cached = self._clients.get((profile.name, profile.model))
        if cached is not None and cached.profile == profile and cached.api_key == key:
            return cached
        if cached is not None:
            self._retired.append(cached)  # may still stream an answer: closed at exit
        client = ChatClient(
            profile,
            key,
            base_url=base_url,
            include_usage=self.asks_for_usage(profile),
            # A refusal is the model's, on that endpoint: the profile's other models still
            # report usage (it used to switch usage off for the whole profile, silently).
            on_usage_rejected=lambda model: self.preferences.refuse_usage(profile.base_url, model),
        )
        self._clients[(profile.name, profile.model)] = client
        return client

    def asks_for_usage(self, profile: Profile) -> bool:
        """Whether requests carry stream_options.include_usage for the profile's model."""
        refused = self.preferences.usage_refused(profile.base_url, profile.model)
        return profile.include_usage and not refused

    def usage_refusals(self, profile: Profile) -> list[str]:
        """The models of the profile's endpoint that refused to report usage."""
        return self.preferences.usage_refusals(profile.base_url)

    def reset_usage_refusals(self, profile: Profile) -> None:
        """Ask the endpoint's models for usage again (Settings: "Ask for usage again")."""
        cleared = self.preferences.clear_usage_refusals(profile.base_url)
        log.info("usage refusals for %s cleared: %d", profile.base_url, cleared)
        self._retire_clients_of(profile.base_url)

    def _retire_clients_of(self, base_url: str) -> None:
        """Clients made before a change of what to ask for: new ones on the next request."""
        for place, client in list(self._clients.items()):
            if client.profile.base_url == base_url:
                self._retired.append(self._clients.pop(place))

    async def fetch_models(self, profile: Profile, typed_key: str | None) -> list[str]:
        from deltadesk.core.client import ChatClient

        base_url, key = self._endpoint(profile, typed_key or self.api_key(profile))
        client = ChatClient(profile, key, base_url=base_url)
        try:
            return await client.list_models()
        finally:
            await client.aclose()

    async def aclose(self) -> None:
        for client in [*self._clients.values(), *self._retired]:
            await client.aclose()
        self._clients.clear()
        self._retired.clear()
        if self._demo is not None:
            self._demo.stop()
            self._demo = None
        if self._stand_in is not None:
            self._stand_in.remove()
        else:
            self.store.close()
