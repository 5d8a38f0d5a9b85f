"""The composition root: parses the command line, builds the services and the window, and
wires them together. Nothing else in the package connects one part to another.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from deltadesk.core.paths import AppPaths, app_paths
from deltadesk.core.profiles import Profile, demo_profile
from deltadesk.core.secrets import SecretStoreError
from deltadesk.core.store import Message
from deltadesk.services import Services

if TYPE_CHECKING:
    from deltadesk.controller import ChatController, StreamStats
    from deltadesk.ui.main_window import MainWindow

log = logging.getLogger("deltadesk")

NO_DISPLAY_HINT = """\
deltadesk: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).
  Run it under a virtual screen:   Xvfb :99 & DISPLAY=:99 deltadesk
  or check the install headless:   deltadesk --self-test"""


# -- the window ------------------------------------------------------------------------------


class Deltadesk:
    """Connects the window's wishes to the controller and services, and their news back."""

    def __init__(self, services: Services, controller: ChatController, window: MainWindow) -> None:
        self.services = services
        self.controller = controller
        self.window = window
        self.view = window.chat_view
        self._tasks: set[asyncio.Future[object]] = set()
        self._connect_window()
        self._connect_controller()
        self.refresh_profiles()
        self.refresh_conversations()
        self._apply_preferences()
        self.new_chat()
        self._show_keyring_notice()

    def _connect_window(self) -> None:
        w = self.window
        w.prompt_submitted.connect(lambda text: self._run(self.controller.send(text)))
        w.stop_requested.connect(self.controller.stop)
        w.new_chat_requested.connect(self.new_chat)
        w.profile_selected.connect(self.select_profile)
        w.settings_requested.connect(self.open_settings)
        w.sidebar.selected.connect(self.open_conversation)
        w.sidebar.delete_requested.connect(self.delete_conversation)
        w.keep_reasoning_toggled.connect(self.keep_reasoning_open)
        self.view.retry_requested.connect(lambda mid: self._run(self.controller.retry(mid)))
        self.view.continue_requested.connect(lambda mid: self._run(self.controller.continue_(mid)))

    def _connect_controller(self) -> None:
        c = self.controller
        c.conversation_changed.connect(self._on_conversation_changed)
        c.message_added.connect(self._on_message_added)
        c.message_removed.connect(lambda _mid: self._show_conversation())
        c.text_appended.connect(self.view.append_text)
        c.reasoning_appended.connect(self.view.append_reasoning)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)
        c.stats_changed.connect(lambda stats: self.window.set_status(format_stats(stats)))
        c.busy_changed.connect(self.window.set_streaming)

    def _run(self, coroutine: object) -> None:
        """Starts a coroutine from a Qt slot and keeps a reference until it ends."""
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _apply_preferences(self) -> None:
        keep_open = self.services.preferences.current.keep_reasoning_open
        self.view.keep_reasoning_open = keep_open
        self.window.keep_reasoning_box.setChecked(keep_open)

    def keep_reasoning_open(self, keep_open: bool) -> None:
        self.view.keep_reasoning_open = keep_open
        if keep_open != self.services.preferences.current.keep_reasoning_open:
            self.services.preferences.update(keep_reasoning_open=keep_open)

    # conversations

    def new_chat(self) -> None:
        self.controller.open_conversation(None)
        self.view.clear_messages()
        self.window.sidebar.select(None)
        self.window.set_title("New chat")
        self.window.composer.focus_input()

    def open_conversation(self, conversation_id: int) -> None:
        conversation = self.services.store.get_conversation(conversation_id)
        if conversation is None:
            self.refresh_conversations()
            return
        self.controller.open_conversation(conversation_id)
        self.window.set_title(conversation.title)
        self._show_conversation()

    def _show_conversation(self) -> None:
        from deltadesk.ui.chat_view import MessageView

        conversation_id = self.controller.conversation_id
        if conversation_id is None:
            self.view.clear_messages()
            return
        streaming_id = self.controller.streaming_message_id
        views = [
            to_message_view(m, MessageView)
            for m in self.services.store.messages(conversation_id)
            if m.id != streaming_id
        ]
        self.view.show_messages(views)
        if streaming_id is not None and self._is_shown(streaming_id):
            # Back on the conversation that is streaming: show what has come so far, live.
            text, reasoning = self.controller.live_text()
            self.view.begin_streaming(streaming_id)
            if reasoning:
                self.view.append_reasoning(streaming_id, reasoning)
            if text:
                self.view.append_text(streaming_id, text)

    def _is_shown(self, message_id: int) -> bool:
        message = self.services.store.get_message(message_id)
        return message is not None and message.conversation_id == self.controller.conversation_id

    def delete_conversation(self, conversation_id: int) -> None:
        streaming_id = self.controller.streaming_message_id
        if streaming_id is not None:
            message = self.services.store.get_message(streaming_id)
            if message is not None and message.conversation_id == conversation_id:
                self.controller.stop()
        self.services.store.delete_conversation(conversation_id)
        if self.controller.conversation_id == conversation_id:
            self.new_chat()
        self.refresh_conversations()

    def refresh_conversations(self) -> None:
        from deltadesk.ui.sidebar import ConversationItem

        items = [
            ConversationItem(c.id, c.title, c.updated_at)
            for c in self.services.store.list_conversations()
        ]
        self.window.sidebar.set_conversations(items)
        self.window.sidebar.select(self.controller.conversation_id)

    def _on_conversation_changed(self, conversation_id: int) -> None:
        self.refresh_conversations()
        conversation = self.services.store.get_conversation(conversation_id)
        if conversation is not None:
            self.window.set_title(conversation.title)

    def _on_message_added(self, message: Message) -> None:
        from deltadesk.ui.chat_view import MessageView

        if message.conversation_id != self.controller.conversation_id:
            return
        if message.status == "streaming":
            self.view.begin_streaming(message.id)
        else:
            self.view.add_message(to_message_view(message, MessageView))

    def _on_finished(self, message_id: int, status: str) -> None:
        self.view.end_streaming(message_id, status)
        self.refresh_conversations()

    def _on_failed(self, message_id: int, status: str, kind: str, message: str) -> None:
        self.view.end_streaming(message_id, status, kind, message)
        self.refresh_conversations()

    # profiles

    def refresh_profiles(self) -> None:
        profiles = self.services.profiles
        self.window.set_profiles([p.name for p in profiles.profiles()], profiles.active_name)
        self._show_profile_status()

    def _show_profile_status(self) -> None:
        profile = self.services.profiles.active
        where = "built-in demo, offline" if profile.is_demo else profile.base_url
        self.window.set_status(f"{profile.model} · {where}")

    def select_profile(self, name: str) -> None:
        self.services.profiles.set_active(name)
        self._show_profile_status()
        self._show_keyring_notice()

    def _show_keyring_notice(self) -> None:
        secrets = self.services.secrets
        active = self.services.profiles.active
        needs = active.needs_key and not secrets.available
        self.window.show_notice(secrets.problem if needs else None)

    def open_settings(self) -> None:
        from deltadesk.ui.settings_dialog import SettingsDialog

        services = self.services
        dialog = SettingsDialog(
            services.profiles.profiles(),
            services.profiles.active_name,
            has_key=services.has_key,
            fetch_models=services.fetch_models,
            keyring_problem=services.secrets.problem,
            parent=self.window,
        )
        dialog.accepted.connect(lambda: self._apply_settings(dialog.edits()))
        dialog.open()  # not exec(): a nested event loop would stall the asyncio tasks

    def _apply_settings(self, edits: object) -> None:
        errors = apply_profile_edits(self.services, edits)
        self.refresh_profiles()
        self._show_keyring_notice()
        if errors:
            self.window.show_notice(" ".join(errors))


def apply_profile_edits(services: Services, edits: object) -> list[str]:
    """Stores what the settings dialog changed; returns messages for what could not be done."""
    from deltadesk.ui.profile_edits import ProfileEdits

    assert isinstance(edits, ProfileEdits)
    secrets = services.secrets
    errors: list[str] = []

    def attempt(action: Callable[..., object], *args: str) -> None:
        try:
            action(*args)
        except SecretStoreError as exc:  # its message never holds the key
            errors.append(str(exc))

    # Read every moving key before touching any: renames may swap two names.
    moving = {new: secrets.get(old) for old, new in edits.renamed.items()}
    for name in [*edits.removed, *edits.renamed, *edits.keys_to_delete]:
        attempt(secrets.delete, name)
    keys = {new: key for new, key in moving.items() if key} | edits.keys_to_set
    for name, key in keys.items():
        attempt(secrets.set, name, key)
    services.profiles.replace_all(edits.profiles, edits.active)
    return errors


def to_message_view(message: Message, view_type: Callable[..., object]) -> object:
    return view_type(
        id=message.id,
        role=message.role,
        content=message.content,
        reasoning=message.reasoning,
        status=message.status,
        error_kind=message.error_kind,
        error_message=message.error_message,
    )


def format_stats(stats: StreamStats) -> str:
    parts = [stats.model]
    if stats.note:
        parts.append(stats.note)
    if stats.ttft_ms is not None:
        parts.append(f"first token {stats.ttft_ms:.0f} ms")
    if stats.tokens_per_second is not None:
        parts.append(f"{stats.tokens_per_second:.0f} tok/s")
    if stats.completion_tokens is not None:
        parts.append(f"{stats.prompt_tokens} in / {stats.completion_tokens} out tokens")
    elif stats.tokens:
        parts.append(f"~{stats.tokens} tokens")
    return " · ".join(parts)


# -- start-up --------------------------------------------------------------------------------


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def setup_logging(paths: AppPaths, verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(paths.log, encoding="utf-8")],
    )
    # The HTTP layers log request details at DEBUG, headers included: keep them quiet.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def restore_plain_import() -> None:
    """Undoes PySide6's import hook (see deltadesk/__init__.py): measured, the SDK's
    per-chunk cost drops by about a third. Qt keeps working; only `__feature__` would not."""
    import builtins

    from deltadesk import PLAIN_IMPORT

    if getattr(PLAIN_IMPORT, "__name__", "") == "__import__":  # not itself a hook
        builtins.__import__ = PLAIN_IMPORT


def make_qt_loop(argv: Sequence[str]) -> tuple[object, asyncio.AbstractEventLoop]:
    import qasync
    from PySide6.QtWidgets import QApplication

    restore_plain_import()

    app = QApplication.instance() or QApplication(list(argv))
    app.setApplicationName("Deltadesk")
    app.setOrganizationName("Deltadesk")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # qasync does not install the async-generator hooks: without them a half-consumed
    # async generator is never finalised (see PITFALLS.md).
    sys.set_asyncgen_hooks(loop._asyncgen_firstiter_hook, loop._asyncgen_finalizer_hook)
    return app, loop


# Languages whose highlighter is compiled ahead: compiling one takes 10-50 ms, a visible
# stall when the first code block in that language streams in.
WARM_LANGUAGES = (
    "python", "javascript", "typescript", "bash", "json", "yaml", "toml", "html", "css",
    "sql", "rust", "go", "c", "cpp", "java", "kotlin", "csharp", "ruby", "php", "swift",
    "diff",
)  # fmt: skip


def warm_up_imports() -> threading.Thread:
    """Loads the SDK (about a second), the markdown renderer and the common highlighters in
    the background once the window is up, so the first answer does not pay for them."""

    def load() -> None:
        import openai  # noqa: F401

        from deltadesk.core.markdown import render_markdown

        for language in WARM_LANGUAGES:
            render_markdown(f"```{language}\nx\n```\n")
        # Everything loaded so far lives as long as the app: keep it out of the cyclic
        # collector's full passes, which otherwise walk it all mid-stream.
        gc.freeze()

    thread = threading.Thread(target=load, name="warm-up", daemon=True)
    thread.start()
    return thread


def build_window(
    services: Services, active_profile: Callable[[], Profile] | None = None
) -> Deltadesk:
    from deltadesk.controller import ChatController
    from deltadesk.ui.main_window import MainWindow

    window = MainWindow()
    controller = ChatController(
        services.store,
        client_for=services.client_for,
        active_profile=active_profile or (lambda: services.profiles.active),
        parent=window,
    )
    return Deltadesk(services, controller, window)


def run_gui(paths: AppPaths, argv: Sequence[str]) -> int:
    if not has_display():
        print(NO_DISPLAY_HINT, file=sys.stderr)
        return 2
    _app, loop = make_qt_loop(argv)
    services = Services(paths)
    shell = build_window(services)
    closed = asyncio.Event()
    shell.window.closing.connect(closed.set)
    shell.window.show()
    shell.window.composer.focus_input()
    warm_up_imports()

    async def until_closed() -> None:
        await closed.wait()
        await shell.controller.shutdown()
        await services.aclose()
        await loop.shutdown_asyncgens()

    with loop:
        loop.run_until_complete(until_closed())
    return 0


def run_self_test(paths: AppPaths, argv: Sequence[str]) -> int:
    from deltadesk.selftest import self_test

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app, loop = make_qt_loop(argv)
    services = Services(paths, demo_tokens_per_second=0)
    shell = build_window(services, active_profile=demo_profile)
    with loop:
        problem = loop.run_until_complete(self_test(shell))
        loop.run_until_complete(services.aclose())
    if problem:
        print(f"self-test FAILED: {problem}", file=sys.stderr)
        return 1
    print("self-test passed: the demo answer streamed, rendered and was stored.")
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    from deltadesk.ask import add_ask_arguments

    parser = argparse.ArgumentParser(
        prog="deltadesk", description="A desktop client for streaming LLM answers."
    )
    parser.add_argument("--data-dir", help="keep history and profiles under DIR")
    parser.add_argument("--self-test", action="store_true", help="stream one demo answer offscreen")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command")
    ask = commands.add_parser("ask", help="stream one answer to standard output")
    ask.add_argument("--data-dir", help="keep history and profiles under DIR")
    add_ask_arguments(ask)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    data_dir = args.data_dir
    if args.self_test and data_dir is None:
        data_dir = tempfile.mkdtemp(prefix="deltadesk-self-test-")
    paths = app_paths(data_dir)
    setup_logging(paths, args.verbose)
    if args.command == "ask":
        from deltadesk.ask import run_ask

        return run_ask(args, Services(paths))
    if args.self_test:
        return run_self_test(paths, sys.argv[:1])
    return run_gui(paths, sys.argv[:1])


if __name__ == "__main__":
    raise SystemExit(main())
