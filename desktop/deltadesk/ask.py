"""`deltadesk ask`: stream one answer to standard output, and keep it in the history.

No Qt here: this path must start fast and run where there is no display.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import ReasoningDelta, Retrying, TextDelta, Usage
from deltadesk.core.profiles import Profile

if TYPE_CHECKING:
    from deltadesk.services import Services

EXIT_DONE = 0
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_RATE_LIMITED = 4
EXIT_CONNECTION = 5
EXIT_API = 6
EXIT_INTERRUPTED = 7
EXIT_STOPPED = 130

EXIT_BY_KIND = {
    ErrorKind.AUTH: EXIT_AUTH,
    ErrorKind.NO_KEY: EXIT_AUTH,
    ErrorKind.RATE_LIMIT: EXIT_RATE_LIMITED,
    ErrorKind.CONNECTION: EXIT_CONNECTION,
    ErrorKind.TIMEOUT: EXIT_CONNECTION,
}
SAVE_INTERVAL_S = 1.0


class UsageError(Exception):
    pass


def add_ask_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="profile name (default: the active one)")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint, instead of a profile")
    parser.add_argument("--model", help="model name (needed with --base-url)")
    parser.add_argument(
        "--api-key-env", metavar="VAR", help="read the key from this environment variable"
    )
    parser.add_argument("--no-save", action="store_true", help="do not keep it in the history")
    parser.add_argument("prompt", nargs="+", help="the question ('-' reads standard input)")


def resolve_profile(args: argparse.Namespace, services: Services) -> Profile:
    if args.base_url:
        if not args.model:
            raise UsageError("--base-url needs --model")
        return Profile(name="(command line)", base_url=args.base_url, model=args.model)
    if args.profile:
        profile = services.profiles.get(args.profile)
        if profile is None:
            names = ", ".join(p.name for p in services.profiles.profiles())
            raise UsageError(f"no profile named “{args.profile}” (have: {names})")
    else:
        profile = services.profiles.active
    return profile if not args.model else _with_model(profile, args.model)


def _with_model(profile: Profile, model: str) -> Profile:
    from dataclasses import replace

    return replace(profile, model=model)


def read_prompt(args: argparse.Namespace) -> str:
    prompt = sys.stdin.read() if args.prompt == ["-"] else " ".join(args.prompt)
    if not prompt.strip():
        raise UsageError("the prompt is empty")
    return prompt.strip()


def run_ask(args: argparse.Namespace, services: Services) -> int:
    try:
        profile = resolve_profile(args, services)
        prompt = read_prompt(args)
        if args.api_key_env and not services.api_key(profile, args.api_key_env):
            raise UsageError(f"the environment variable {args.api_key_env} is empty or unset")
    except UsageError as exc:
        print(f"deltadesk ask: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_ask(services, profile, prompt, args))
    except KeyboardInterrupt:
        print("\n[stopped]", file=sys.stderr)
        return EXIT_STOPPED
    except BrokenPipeError:  # `deltadesk ask … | head`: the reader has had enough
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (so the exit flush cannot fail again)
        return EXIT_STOPPED


async def _ask(services: Services, profile: Profile, prompt: str, args: argparse.Namespace) -> int:
    try:
        return await _stream_answer(services, profile, prompt, args)
    finally:
        await services.aclose()


async def _stream_answer(
    services: Services, profile: Profile, prompt: str, args: argparse.Namespace
) -> int:
    record = None if args.no_save else _Record(services, profile, prompt)
    answer = _Answer(sys.stdout, sys.stderr)
    try:
        client = services.client_for(profile, args.api_key_env)
        events = client.stream([{"role": "user", "content": prompt}])
        try:
            async for event in events:
                answer.take(event)
                if record is not None:
                    record.maybe_save(answer)
        finally:
            await events.aclose()
    except (asyncio.CancelledError, BrokenPipeError):
        # Ctrl+C (asyncio.run cancels us, then raises KeyboardInterrupt), or stdout closed.
        if record is not None:
            record.end(answer, "stopped")
        raise
    except ChatError as error:
        answer.end_line()
        print(f"deltadesk: {error.message}", file=sys.stderr)
        if record is not None:
            record.end(answer, "interrupted" if answer.text else "failed", error)
        if answer.text:
            return EXIT_INTERRUPTED
        return EXIT_BY_KIND.get(error.kind, EXIT_API)
    answer.end_line()
    if record is not None:
        record.end(answer, "done")
    return EXIT_DONE


class _Answer:
    """Writes the answer as it arrives: text to stdout, reasoning and notes to stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.usage: Usage | None = None
        self.started = time.monotonic()
        self.ttft_ms: float | None = None

    def take(self, event: object) -> None:
        if isinstance(event, TextDelta | ReasoningDelta) and self.ttft_ms is None:
            self.ttft_ms = (time.monotonic() - self.started) * 1000
        if isinstance(event, TextDelta):
            self.text.append(event.text)
            self.out.write(event.text)
            self.out.flush()
        elif isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)
            self.err.write(event.text)
            self.err.flush()
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Retrying):
            self.err.write(f"[{event.reason} — retrying in {event.delay:.1f} s]\n")

    def end_line(self) -> None:
        if self.text and not self.text[-1].endswith("\n"):
            self.out.write("\n")
        self.out.flush()


class _Record:
    """The prompt and answer in the history, saved as it streams like the window does."""

    def __init__(self, services: Services, profile: Profile, prompt: str) -> None:
        store = self.store = services.store
        conversation = store.create_conversation(" ".join(prompt.split())[:60])
        store.add_message(conversation.id, "user", prompt)
        self.message_id = store.add_message(
            conversation.id,
            "assistant",
            status="streaming",
            profile=profile.name,
            model=profile.model,
        ).id
        self.last_saved = time.monotonic()

    def maybe_save(self, answer: _Answer) -> None:
        now = time.monotonic()
        if now - self.last_saved >= SAVE_INTERVAL_S:
            self.last_saved = now
            self.store.update_message(self.message_id, content="".join(answer.text))

    def end(self, answer: _Answer, status: str, error: ChatError | None = None) -> None:
        self.store.finish_answer(
            self.message_id,
            content="".join(answer.text),
            reasoning="".join(answer.reasoning),
            status=status,
            error=error,
            usage=answer.usage,
            ttft_ms=answer.ttft_ms,
        )
