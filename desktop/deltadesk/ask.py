"""`deltadesk ask`: stream one answer to standard output, and keep it in the history (a new
conversation, or with --continue ID the next turn of one: see ask_request.py).

No Qt here: this path must start fast and run where there is no display.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from deltadesk.answer_saving import AnswerSaver, FinalAnswer
from deltadesk.ask_output import AnswerPrinter, SafeStream, never_fail_to_encode
from deltadesk.ask_request import (
    Continuation,
    ContinueError,
    add_request_arguments,
    continuation,
    request_options,
)
from deltadesk.core.client import FIRST_TOKEN_SIGNAL_S
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import ReasoningDelta, TextDelta
from deltadesk.core.profiles import Profile
from deltadesk.core.store import StoreError

if TYPE_CHECKING:
    from deltadesk.services import Services

EXIT_DONE = 0
EXIT_PROBLEM = 1  # the history could not be read
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
# ask waits for a busy history (another process writing) only briefly per save, so the
# answer keeps streaming; the final save tries again for a while before giving up.
BUSY_TIMEOUT_MS = 200
FINAL_SAVE_TRIES = 10
FINAL_SAVE_PAUSE_S = 0.5
UNDECODABLE_NOTE = (
    "deltadesk ask: the prompt is not valid UTF-8: bytes that are not were sent as U+FFFD (\ufffd)"
)


class UsageError(Exception):
    pass


def seconds_value(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


def add_ask_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="profile name (default: the active one)")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint, instead of a profile")
    parser.add_argument("--model", help="model name (needed with --base-url)")
    parser.add_argument(
        "--api-key-env", metavar="VAR", help="read the key from this environment variable"
    )
    parser.add_argument("--no-save", action="store_true", help="do not keep it in the history")
    parser.add_argument(
        "--first-chunk-timeout",
        metavar="SECONDS",
        type=seconds_value,
        help="give up if no first token arrives within SECONDS (default: the profile's limit)",
    )
    add_request_arguments(parser)
    parser.add_argument(
        "--raw",
        action="store_true",
        help="write the answer as sent, control characters included (they are stripped "
        "when the output is a terminal)",
    )
    parser.add_argument("prompt", nargs="+", help="the question ('-' reads standard input)")


def resolve_profile(args: argparse.Namespace, services: Services) -> Profile:
    if args.base_url:
        if not args.model:
            raise UsageError("--base-url needs --model")
        profile = Profile(name="(command line)", base_url=args.base_url, model=args.model)
    elif args.profile:
        found = services.profiles.get(args.profile)
        if found is None:
            names = ", ".join(p.name for p in services.profiles.profiles())
            raise UsageError(f"no profile named “{args.profile}” (have: {names})")
        profile = found
    else:
        profile = services.profiles.active
    if args.model:
        profile = replace(profile, model=args.model)
    if args.first_chunk_timeout:
        profile = replace(profile, first_chunk_timeout=args.first_chunk_timeout)
    return profile


def read_prompt(args: argparse.Namespace, stdin: TextIO | None) -> tuple[str, bool]:
    """The prompt, and whether it had bytes that are not UTF-8 (replaced, not fatal).

    Arguments reach Python decoded with surrogateescape, stdin as bytes: both are taken back
    to bytes and decoded once, with replacement."""
    if args.prompt == ["-"]:
        if stdin is None:
            raise UsageError("'-' reads the prompt from standard input, and there is none")
        data = stdin.buffer.read()
    else:
        data = b" ".join(os.fsencode(part) for part in args.prompt)
    try:
        prompt, replaced = data.decode("utf-8"), False
    except UnicodeDecodeError:
        prompt, replaced = data.decode("utf-8", "replace"), True
    if not prompt.strip():
        raise UsageError("the prompt is empty")
    return prompt.strip(), replaced


def run_ask(args: argparse.Namespace, services: Services) -> int:
    never_fail_to_encode(sys.stdout)
    never_fail_to_encode(sys.stderr)
    errors = SafeStream(sys.stderr)
    try:
        profile = resolve_profile(args, services)
        prompt, replaced = read_prompt(args, sys.stdin)
        if args.api_key_env and not services.api_key(profile, args.api_key_env):
            raise UsageError(f"the environment variable {args.api_key_env} is empty or unset")
        before = continuation(services.store, args.continue_id)
    except (UsageError, ContinueError) as exc:
        errors.note(f"deltadesk ask: {exc}")
        return EXIT_USAGE
    except StoreError as exc:  # the history cannot be read to continue it
        errors.note(f"deltadesk ask: {exc}")
        return EXIT_PROBLEM
    if replaced:
        errors.note(UNDECODABLE_NOTE)
    try:
        return asyncio.run(_ask(services, profile, prompt, args, before))
    except KeyboardInterrupt:
        errors.note("[stopped]")
        return EXIT_STOPPED
    except BrokenPipeError:  # `deltadesk ask … | head`: the reader has had enough
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (so the exit flush cannot fail again)
        return EXIT_STOPPED


async def _ask(
    services: Services,
    profile: Profile,
    prompt: str,
    args: argparse.Namespace,
    before: Continuation,
) -> int:
    try:
        return await _stream_answer(services, profile, prompt, args, before)
    finally:
        await services.aclose()


async def _stream_answer(
    services: Services,
    profile: Profile,
    prompt: str,
    args: argparse.Namespace,
    before: Continuation,
) -> int:
    printer = AnswerPrinter(sys.stdout, sys.stderr, raw=args.raw)
    record = None if args.no_save else _Record.open(services, profile, prompt, printer, before)
    waiting = asyncio.ensure_future(_signal_waiting(printer))
    try:
        client = services.client_for(profile, args.api_key_env)
        messages = [*before.history, {"role": "user", "content": prompt}]
        events = client.stream(messages, request_options(args))
        try:
            async for event in events:
                printer.take(event)
                if record is not None:
                    record.take(event)
        finally:
            await events.aclose()
    except (asyncio.CancelledError, BrokenPipeError):
        # Ctrl+C (asyncio.run cancels us, then raises KeyboardInterrupt), or stdout closed.
        if record is not None:
            await record.end(printer, "stopped")
        raise
    except ChatError as error:
        printer.fail(f"deltadesk: {error.message}")
        if record is not None:
            await record.end(printer, _status_after(error, printer), error)
        if printer.text:
            return EXIT_INTERRUPTED
        return EXIT_BY_KIND.get(error.kind, EXIT_API)
    finally:
        waiting.cancel()
    printer.end_line()
    if record is not None:
        await record.end(printer, "done")
    return EXIT_DONE


def _status_after(error: ChatError, printer: AnswerPrinter) -> str:
    if error.kind is ErrorKind.TOO_LONG:
        return "stopped"  # stopped by the size cap, with its text kept
    return "interrupted" if printer.text else "failed"


async def _signal_waiting(printer: AnswerPrinter) -> None:
    """Past the signal mark with no token, say once that we are waiting (not stuck)."""
    await asyncio.sleep(FIRST_TOKEN_SIGNAL_S)
    printer.say_waiting()


class _Record:
    """The prompt and answer in the history, saved as it streams like the window does.

    The history failing (read-only, busy, the disk full) never stops the answer: it is
    said on stderr, and the answer is printed all the same."""

    def __init__(self, saver: AnswerSaver, printer: AnswerPrinter) -> None:
        self.saver = saver
        self.printer = printer
        self.last_saved = time.monotonic()

    @classmethod
    def open(
        cls,
        services: Services,
        profile: Profile,
        prompt: str,
        printer: AnswerPrinter,
        before: Continuation,
    ) -> _Record | None:
        store = services.store
        if store.read_only:
            printer.note("deltadesk: the history is read-only; this answer is not saved.")
            return None
        try:
            conversation_id = before.conversation_id
            if conversation_id is None:
                conversation_id = store.create_conversation(" ".join(prompt.split())[:60]).id
            # Under the leaf whose path was sent, even if the window moved it meanwhile.
            question = store.add_message(conversation_id, "user", prompt, parent_id=before.leaf_id)
            message = store.add_message(
                conversation_id,
                "assistant",
                parent_id=question.id,
                status="streaming",
                profile=profile.name,
                model=profile.model,
            )
        except StoreError as exc:  # cannot write, or the conversation went meanwhile
            printer.note(f"deltadesk: {exc} This answer is not saved.")
            return None
        saver = AnswerSaver(
            store,
            message.id,
            on_problem=lambda exc: printer.note(f"deltadesk: {exc} (Still answering.)"),
        )
        return cls(saver, printer)

    def take(self, event: object) -> None:
        if isinstance(event, TextDelta):
            self.saver.add(text=event.text)
        elif isinstance(event, ReasoningDelta):
            self.saver.add(reasoning=event.text)
        now = time.monotonic()
        if now - self.last_saved >= SAVE_INTERVAL_S:
            self.last_saved = now
            self.saver.save_partial()

    async def end(
        self, printer: AnswerPrinter, status: str, error: ChatError | None = None
    ) -> None:
        final = FinalAnswer(
            content="".join(printer.text),
            reasoning="".join(printer.reasoning),
            status=status,
            error=error,
            usage=printer.usage,
            ttft_ms=printer.ttft_ms,
        )
        saved = self.saver.save_final(final)
        for _ in range(FINAL_SAVE_TRIES):
            problem = self.saver.problem
            if saved or problem is None or problem.reason != "busy":
                break
            await asyncio.sleep(FINAL_SAVE_PAUSE_S)
            saved = self.saver.save_final()
        if not saved:
            reason = self.saver.problem or "It could not be written."
            printer.note(f"deltadesk: the answer above is not in the history. {reason}")
