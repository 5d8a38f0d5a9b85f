"""Provider profiles: where to send a chat and how. Never holds a key (see secrets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# The embedded demo provider gets a fresh port each run, so its profile names it by this
# placeholder and the app puts the running server's URL in its place.
DEMO_BASE_URL = "demo:"
DEMO_PROFILE_NAME = "Demo (offline)"
DEMO_MODEL = "deltadesk-demo"

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    base_url: str
    model: str
    first_chunk_timeout: float = 5.0  # seconds from request to first chunk
    idle_timeout: float = 60.0  # longest silence between chunks once streaming
    connect_timeout: float = 10.0
    max_attempts: int = 3  # tries before the first token (1 = no retry)
    include_usage: bool = True  # send stream_options.include_usage; off once a provider rejects it
    thinking: bool = False  # ask reasoning models to think: extra_body={"thinking": {...}}

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
    def needs_key(self) -> bool:
        """Endpoints on this machine (Ollama, LM Studio, the demo) work without a key."""
        return not self.is_local


@dataclass(frozen=True, slots=True)
class Preset:
    label: str
    base_url: str
    model: str


PRESETS: tuple[Preset, ...] = (
    Preset("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini"),
    Preset("OpenRouter", "https://openrouter.ai/api/v1", "openai/gpt-4o-mini"),
    Preset("DeepSeek", "https://api.deepseek.com/v1", "deepseek-chat"),
    Preset("Groq", "https://api.groq.com/openai/v1", "llama-3.1-8b-instant"),
    Preset("Ollama (local)", "http://localhost:11434/v1", "llama3.2"),
    Preset("LM Studio (local)", "http://localhost:1234/v1", "local-model"),
    Preset("vLLM (local)", "http://localhost:8000/v1", "default"),
)


def demo_profile() -> Profile:
    return Profile(name=DEMO_PROFILE_NAME, base_url=DEMO_BASE_URL, model=DEMO_MODEL)
