"""Keys: one whole scripted session, then the key must be nowhere but the keyring.

The session (issue 7, section 5 "Keys"): a profile with a key is added through the settings
path (shell.apply_profile_edits, into the in-memory keyring conftest installs); the window
streams an answer from a loopback server that checks the Authorization header; the server
then answers 401 and 403 with messages that echo the key, and sends an OpenAI-style error
object mid-stream that echoes it too; `deltadesk ask --verbose` runs as a process with
`--api-key-env` and `--data-dir`, once answered and twice refused; `deltadesk history export
--all` writes the whole history as JSON into the data folder and as Markdown to stdout.
Afterwards every file under the data and config folders (the export included), the log, the
captured log records, the window's texts and the processes' stdout and stderr are searched
for the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deltadesk.core.paths import app_paths
from deltadesk.core.profiles import Profile
from deltadesk.services import Services
from deltadesk.shell import apply_profile_edits, build_window
from deltadesk.ui.profile_edits import ProfileEdits
from tests.sse_script import Request, Responder, answer_chunks, chunk

# Built at run time so the source never holds something shaped like a key (test_repo_hygiene).
KEY = "sk-" + "hygiene-" + "Qx7Wv2Lp9Rt4Zs8Nd6Mb0Jc5Fa3"
# A provider may echo a key clipped; either end of it is as much a leak as the whole.
LEAK_MARKERS = (KEY, KEY[:20], KEY[-20:])
KEY_ENV = "DELTADESK_TEST_HYGIENE_KEY"
PROFILE = "Hosted"
ANSWER = ["The ", "answer ", "streams ", "in ", "words."]
REVOKED_MESSAGE = f"Incorrect API key provided: {KEY}. You can find your API key in your account."
FORBIDDEN_MESSAGE = f"Project access denied for key {KEY}: this model is not enabled."
MIDSTREAM_MESSAGE = f"The server had an error while processing the request with key {KEY}"
# The app's own logging set-up (app.setup_logging) keeps these quiet, --verbose or not.
QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "openai")


class KeyCheckingProvider:
    """Answers by prompt, after checking the Authorization header of every request:
    "revoked …" → 401 echoing the key; "forbidden …" → 403 echoing it; "midstream …" → a
    word, then an error object echoing it; anything else → a short streamed answer."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []

    async def __call__(self, request: Request, responder: Responder) -> None:
        authorization = request.headers.get("authorization", "")
        self.authorizations.append(authorization)
        if authorization != f"Bearer {KEY}":
            await responder.send_json(401, {"error": {"message": "missing or wrong key"}})
            return
        prompt = _last_prompt(request)
        if prompt.startswith("revoked"):
            error = {"message": REVOKED_MESSAGE, "type": "invalid_request_error"}
            await responder.send_json(401, {"error": error | {"code": "invalid_api_key"}})
            return
        if prompt.startswith("forbidden"):
            await responder.send_json(403, {"error": {"message": FORBIDDEN_MESSAGE}})
            return
        await responder.start_sse()
        if prompt.startswith("midstream"):
            await responder.send_event(chunk("Half ", role="assistant"))
            await responder.send_event({"error": {"message": MIDSTREAM_MESSAGE}})
            return
        for event in answer_chunks(ANSWER):
            await responder.send_event(event)
        await responder.send_done()


def _last_prompt(request: Request) -> str:
    messages = request.json().get("messages", [])
    return str(messages[-1].get("content", "")) if messages else ""


@contextlib.contextmanager
def window_session(home: Path, qt_loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """The window as the app builds it, on `home`; closed (history and clients too) after."""
    services = Services(app_paths(home))
    shell = build_window(services)
    shell.window.show()
    try:
        yield shell
    finally:
        qt_loop.run_until_complete(shell.controller.shutdown())
        qt_loop.run_until_complete(services.aclose())
        shell.window.close()


@pytest.fixture
def app_logging(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of the in-process part, at --verbose's level, as the app sets it."""
    for name in QUIET_LOGGERS:
        caplog.set_level(logging.WARNING, logger=name)
    caplog.set_level(logging.DEBUG)  # last: set_level sets the capturing handler's level too
    return caplog


def add_profile_with_key(shell: Any, base_url: str) -> None:
    """What the settings dialog hands back when a profile with a typed key is added."""
    services = shell.services
    profile = Profile(name=PROFILE, base_url=base_url, model="m", max_attempts=1)
    edits = ProfileEdits(
        profiles=[*services.profiles.profiles(), profile],
        renamed={},
        removed=[],
        keys_to_set={PROFILE: KEY},
        keys_to_delete=[],
        active=PROFILE,
    )
    assert apply_profile_edits(services, edits) == []
    shell.refresh_profiles()


def run_deltadesk(elsewhere: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`deltadesk ARGS` as a user runs it, the key in an environment variable."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env[KEY_ENV] = KEY
    env["DELTADESK_HOME"] = str(elsewhere)  # --data-dir must win; searched all the same
    command = [sys.executable, "-m", "deltadesk", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def run_ask(home: Path, elsewhere: Path, prompt: str) -> subprocess.CompletedProcess[str]:
    """`deltadesk ask --verbose`, with the key from --api-key-env."""
    options = ["--verbose", "--data-dir", str(home), "--profile", PROFILE]
    return run_deltadesk(elsewhere, "ask", *options, "--api-key-env", KEY_ENV, prompt)


def export_history(home: Path, elsewhere: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """The whole history as JSON into the data folder, and as Markdown to stdout."""
    exported = home / "export.json"
    command = ["--data-dir", str(home), "--verbose", "history", "export", "--all"]
    runs = {
        "export json": run_deltadesk(elsewhere, *command, "--format", "json", "-o", str(exported)),
        "export md": run_deltadesk(elsewhere, *command, "--format", "md"),
    }
    for name, result in runs.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    # What was exported is the session, so searching it means something.
    assert "".join(ANSWER) in exported.read_text(encoding="utf-8")
    assert "".join(ANSWER) in runs["export md"].stdout
    return runs


def files_under(*folders: Path) -> dict[str, bytes]:
    return {
        str(path): path.read_bytes()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def leaks(places: dict[str, bytes]) -> list[str]:
    """The places that hold the key, or a long piece of it."""
    return [
        place
        for place, content in places.items()
        if any(marker.encode() in content for marker in LEAK_MARKERS)
    ]


def window_texts(shell: Any) -> dict[str, bytes]:
    window = shell.window
    texts = {
        "status line": window.status_label.text(),
        "notice": window.notice_label.text(),
        "conversation": shell.view.toPlainText(),
    }
    return {f"window {name}": text.encode() for name, text in texts.items()}


def stream_in_window(shell: Any, qt_loop: Any, prompt: str) -> Any:
    """Sends `prompt` as the Send button does; the stored answer."""
    status = qt_loop.run_until_complete(shell.controller.send(prompt))
    answer = shell.services.store.messages(shell.controller.conversation_id)[-1]
    assert answer.status == status
    return answer


def session_in_window(shell: Any, qt_loop: Any, provider_url: str) -> dict[str, bytes]:
    """Add the profile and key, stream, hit a 401 and a mid-stream error; what the window shows."""
    add_profile_with_key(shell, provider_url)
    answered = stream_in_window(shell, qt_loop, "hello")
    assert (answered.status, answered.content) == ("done", "".join(ANSWER))

    shell.new_chat()
    revoked = stream_in_window(shell, qt_loop, "revoked key, please")
    assert (revoked.status, revoked.error_kind) == ("failed", "auth")
    assert KEY not in (revoked.error_message or "")

    shell.new_chat()
    forbidden = stream_in_window(shell, qt_loop, "forbidden model")
    assert (forbidden.status, forbidden.error_kind) == ("failed", "auth")
    # The provider's words are kept (the user needs them), with the key taken out.
    assert "Project access denied for key" in (forbidden.error_message or "")
    assert KEY not in (forbidden.error_message or "")

    shell.new_chat()
    cut = stream_in_window(shell, qt_loop, "midstream failure")
    assert (cut.status, cut.content) == ("interrupted", "Half ")
    assert "server had an error" in (cut.error_message or "")
    assert KEY not in (cut.error_message or "")
    return window_texts(shell)


def test_a_whole_session_leaves_the_key_nowhere_but_the_keyring(
    qapp: Any, qt_loop: Any, serve: Any, tmp_path: Path, app_logging: Any, memory_keyring: Any
) -> None:
    provider = KeyCheckingProvider()
    server = serve(provider)
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    with window_session(home, qt_loop) as shell:
        screen = session_in_window(shell, qt_loop, server.base_url)
    assert memory_keyring.passwords == {("deltadesk", PROFILE): KEY}

    asked = run_ask(home, elsewhere, "hello from the command line")
    revoked = run_ask(home, elsewhere, "revoked again")
    forbidden = run_ask(home, elsewhere, "forbidden again")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout == "".join(ANSWER) + "\n"
    assert (revoked.returncode, forbidden.returncode) == (3, 3), revoked.stderr + forbidden.stderr
    assert "Project access denied for key" in forbidden.stderr
    exports = export_history(home, elsewhere)

    # Every request carried the key: the search below is not vacuous.
    assert provider.authorizations == [f"Bearer {KEY}"] * 7
    places = files_under(home, elsewhere)
    assert str(home / "deltadesk.log") in places, "the --verbose runs wrote no log"
    assert str(home / "history.sqlite3") in places
    assert str(home / "export.json") in places
    places |= screen
    assert app_logging.records, "the in-process log records were not captured"
    places["in-process log records"] = app_logging.text.encode()
    runs = {"ask": asked, "ask 401": revoked, "ask 403": forbidden, **exports}
    for name, result in runs.items():
        places[f"{name} stdout"] = result.stdout.encode()
        places[f"{name} stderr"] = result.stderr.encode()
    assert leaks(places) == []
