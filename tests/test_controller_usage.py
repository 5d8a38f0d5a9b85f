"""A model that refuses stream_options: remembered for that endpoint and model only, said in
the figures, and reset from Settings. Real server, real preferences file, real window."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from tests.sse_script import answer_chunks, status, streaming, usage_chunk
from tests.test_controller import shell, stored, use_server

__all__ = ["shell"]

REFUSING_MODEL = "no-usage-model"


def refuses_usage_for_one_model() -> Any:
    """Like vLLM or an old proxy for one model: 400 when asked for usage; others report it."""
    answer = streaming(answer_chunks(["counted"]))
    counted = streaming([*answer_chunks(["counted"]), usage_chunk(5, 1)])

    async def handle(request: Any, responder: Any) -> None:
        body = request.json()
        if "stream_options" in body and body["model"] == REFUSING_MODEL:
            await status(400, "Unrecognized request argument supplied: stream_options")(
                request, responder
            )
        elif "stream_options" in body:
            await counted(request, responder)
        else:
            await answer(request, responder)

    return handle


def asked_for_usage(server: Any) -> list[bool]:
    return ["stream_options" in request.json() for request in server.requests]


def test_a_refusal_is_kept_per_model_and_said_in_the_figures(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(refuses_usage_for_one_model())
    profile = use_server(shell, server, model=REFUSING_MODEL)
    assert qt_loop.run_until_complete(shell.controller.send("count me")) == "done"
    assert asked_for_usage(server) == [True, False]  # refused once, sent again without
    assert "usage not reported by this model" in shell.window.status_label.text()
    preferences = shell.services.preferences
    assert preferences.usage_refused(server.base_url, REFUSING_MODEL)
    assert shell.services.profiles.get(profile.name).include_usage  # the profile is untouched
    saved = json.loads(shell.services.paths.preferences.read_text())
    assert REFUSING_MODEL in json.dumps(saved)

    # The same model is no longer asked; another model of the same profile still is.
    assert qt_loop.run_until_complete(shell.controller.send("again")) == "done"
    assert asked_for_usage(server)[2:] == [False]
    other = replace(profile, model="counting-model")
    shell.services.profiles.upsert(other, old_name=profile.name)
    assert qt_loop.run_until_complete(shell.controller.send("and you?")) == "done"
    assert asked_for_usage(server)[3:] == [True]
    assert stored(shell)[-1].completion_tokens == 1
    assert "usage not reported" not in shell.window.status_label.text()


def test_settings_lists_the_refusal_and_asks_for_usage_again(
    shell: Any, qt_loop: Any, serve: Any, qtbot: Any
) -> None:
    from deltadesk.ui.profile_advanced import AdvancedSettings
    from deltadesk.ui.settings_dialog import SettingsDialog

    server = serve(refuses_usage_for_one_model())
    use_server(shell, server, model=REFUSING_MODEL)
    assert qt_loop.run_until_complete(shell.controller.send("count me")) == "done"

    shell.open_settings()
    (dialog,) = shell.window.findChildren(SettingsDialog)
    (advanced,) = dialog.findChildren(AdvancedSettings)
    assert REFUSING_MODEL in advanced.refusals_label.text()
    advanced.ask_again_button.click()
    assert shell.services.preferences.usage_refusals(server.base_url) == []
    assert advanced.refusals_label.text() == ""
    dialog.reject()

    assert qt_loop.run_until_complete(shell.controller.send("try usage again")) == "done"
    assert asked_for_usage(server)[2:] == [True, False]  # asked again (and refused again)
