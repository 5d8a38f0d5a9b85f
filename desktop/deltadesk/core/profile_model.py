"""One provider profile: where to send a chat and how. Never holds a key (see secrets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

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
# The name under which an answer's token limit is sent: "max_tokens" (most servers) or
# "max_completion_tokens" (OpenAI's reasoning models refuse max_tokens).
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")


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
    max_tokens_field: str = "max_tokens"  # one of MAX_TOKENS_FIELDS
    # The endpoint takes `reasoning_effort` (low/medium/high): a chat may set it.
    accepts_reasoning_effort: bool = False

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
