"""One client per profile and model: chats of one profile that pick their own models share
the profile's clients instead of making (and keeping until exit) a new one per switch."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from deltadesk.core.paths import app_paths
from deltadesk.core.profile_model import Profile
from deltadesk.services import Services


def test_switching_models_back_and_forth_reuses_each_models_client(tmp_path: Path) -> None:
    services = Services(app_paths(tmp_path / "home"), demo_tokens_per_second=0)
    try:
        local = Profile(name="Local", base_url="http://127.0.0.1:9/v1", model="small")
        bigger = replace(local, model="big")
        first = services.client_for(local)
        second = services.client_for(bigger)
        assert first is not second
        for _ in range(5):
            assert services.client_for(local) is first
            assert services.client_for(bigger) is second
        assert services._retired == []
    finally:
        asyncio.run(services.aclose())
