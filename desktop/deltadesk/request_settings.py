"""From a conversation's settings to what its requests carry: which profile answers (with
which model), and the request options (system message, temperature, max tokens, reasoning
effort). Qt-free; the controller calls these for every answer it starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from deltadesk.core.client import RequestOptions
from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.profiles import Profile

ProfileNamed = Callable[[str], Profile | None]


def answering_profile(
    settings: ConversationSettings, active: Profile, named: ProfileNamed | None = None
) -> Profile:
    """The conversation's profile (the active one when it names none, or one that is gone),
    with the conversation's model in place of the profile's own when it sets one."""
    profile = active
    if settings.profile and named is not None:
        profile = named(settings.profile) or active
    return with_model(profile, settings.model)


def with_model(profile: Profile, model: str | None) -> Profile:
    """The profile asking for ``model`` instead of its own (None: its own)."""
    return replace(profile, model=model) if model and model != profile.model else profile


def request_options(settings: ConversationSettings, profile: Profile) -> RequestOptions | None:
    """What the conversation's settings add to a request to ``profile``; None when nothing.
    Reasoning effort goes only to a profile that takes it (others may refuse the request)."""
    effort = settings.reasoning_effort if profile.accepts_reasoning_effort else None
    options = RequestOptions(
        system=settings.system,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        reasoning_effort=effort,
    )
    return None if options == RequestOptions() else options


__all__ = ["answering_profile", "request_options", "with_model"]
