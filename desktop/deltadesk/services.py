"""The app's long-lived parts that are not widgets, shared by the window, the self-test and
`deltadesk ask`: history, profiles, preferences, keys, the demo provider and chat clients."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import TYPE_CHECKING

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.paths import AppPaths
from deltadesk.core.preferences import PreferenceStore
from deltadesk.core.profiles import Profile, ProfileStore
from deltadesk.core.secrets import SecretStore, SecretStoreError
from deltadesk.core.store import Store

if TYPE_CHECKING:
    from deltadesk.core.client import ChatClient
    from deltadesk.core.sse_server import SSEServer

log = logging.getLogger("deltadesk")


class Services:
    """The app's long-lived parts that are not widgets: history, profiles, keys, clients."""

    def __init__(self, paths: AppPaths, *, demo_tokens_per_second: float | None = None) -> None:
        self.paths = paths
        self.store = Store(paths.db)
        recovered = self.store.recover_interrupted()
        if recovered:
            log.info("%d answer(s) cut off by a crash are marked interrupted", recovered)
        self.profiles = ProfileStore(paths.profiles)
        self.preferences = PreferenceStore(paths.preferences)
        self.secrets = SecretStore()
        self._demo_tps = demo_tokens_per_second
        self._demo: SSEServer | None = None
        self._clients: dict[str, ChatClient] = {}
        self._retired: list[ChatClient] = []

    def demo_url(self) -> str:
        if self._demo is None:
            from deltadesk.core.demo import start_demo_server

            self._demo = start_demo_server(self._demo_tps)
        return self._demo.base_url

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
        cached = self._clients.get(profile.name)
        if cached is not None and cached.profile == profile and cached.api_key == key:
            return cached
        if cached is not None:
            self._retired.append(cached)  # may still stream an answer: closed at exit
        base_url = self.demo_url() if profile.is_demo else profile.base_url
        client = ChatClient(
            profile,
            key,
            base_url=base_url,
            on_usage_rejected=lambda: self._remember_no_usage(profile.name),
        )
        self._clients[profile.name] = client
        return client

    def _remember_no_usage(self, name: str) -> None:
        profile = self.profiles.get(name)
        if profile is not None and profile.include_usage:
            self.profiles.upsert(replace(profile, include_usage=False), old_name=name)

    async def fetch_models(self, profile: Profile, typed_key: str | None) -> list[str]:
        from deltadesk.core.client import ChatClient

        key = typed_key or self.api_key(profile)
        base_url = self.demo_url() if profile.is_demo else profile.base_url
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
        self.store.close()
