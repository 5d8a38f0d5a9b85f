"""`ask --continue ID`: the active path is sent as history, and the new prompt and its answer
hang under the active leaf. Run as processes against a real SSE server on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deltadesk.core.store import Store
from tests.sse_script import answer_chunks, streaming
from tests.test_ask import deltadesk


def ask(data_dir: Path, url: str, *args: str) -> Any:
    result = deltadesk("ask", "--base-url", url, "--model", "m", *args, data_dir=data_dir)
    assert "Traceback" not in result.stderr
    return result


def test_continue_sends_the_path_and_hangs_the_turn_under_the_leaf(
    tmp_path: Path, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["Paris."])))
    assert ask(tmp_path, server.base_url, "Capital of France?").returncode == 0
    with Store(tmp_path / "history.sqlite3") as store:
        (conversation,) = store.list_conversations()
        first_answer = store.active_path(conversation.id)[-1]

    result = ask(tmp_path, server.base_url, "--continue", str(conversation.id), "And of Italy?")

    assert result.returncode == 0, result.stderr
    assert server.requests[1].json()["messages"] == [
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Italy?"},
    ]
    with Store(tmp_path / "history.sqlite3") as store:
        assert len(store.list_conversations()) == 1  # no new conversation
        path = store.active_path(conversation.id)
        assert [m.content for m in path] == [
            "Capital of France?",
            "Paris.",
            "And of Italy?",
            "Paris.",
        ]
        assert path[2].parent_id == first_answer.id
        assert path[3].parent_id == path[2].id
        assert store.get_conversation(conversation.id).active_leaf_id == path[3].id  # type: ignore[union-attr]


def test_continue_follows_the_active_branch_and_skips_empty_answers(
    tmp_path: Path, serve: Any
) -> None:
    with Store(tmp_path / "history.sqlite3") as store:
        conversation = store.create_conversation("Colours")
        store.add_message(conversation.id, "user", "Name a colour.")
        store.add_message(conversation.id, "assistant", "", status="failed")  # no text came
        again = store.add_message(conversation.id, "user", "Please, a colour.")
        chosen = store.add_message(conversation.id, "assistant", "Blue.")
        store.add_message(conversation.id, "assistant", "Red.", parent_id=again.id)  # newer
        store.set_active_leaf(conversation.id, chosen.id)
    server = serve(streaming(answer_chunks(["Green."])))

    result = ask(tmp_path, server.base_url, "--continue", str(conversation.id), "Another?")

    assert result.returncode == 0, result.stderr
    assert server.requests[0].json()["messages"] == [
        {"role": "user", "content": "Name a colour."},
        {"role": "user", "content": "Please, a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another?"},
    ]
    with Store(tmp_path / "history.sqlite3") as store:
        path = store.active_path(conversation.id)
        assert [m.content for m in path[-3:]] == ["Blue.", "Another?", "Green."]
        assert path[-2].parent_id == chosen.id
        assert [m.content for m in store.children(again.id)] == ["Blue.", "Red."]  # kept


def test_continue_with_no_save_sends_the_history_and_writes_nothing(
    tmp_path: Path, serve: Any
) -> None:
    with Store(tmp_path / "history.sqlite3") as store:
        conversation = store.create_conversation("Kept")
        store.add_message(conversation.id, "user", "One")
        store.add_message(conversation.id, "assistant", "Two")
    server = serve(streaming(answer_chunks(["Three"])))

    result = ask(tmp_path, server.base_url, "--no-save", "--continue", str(conversation.id), "Go")

    assert result.returncode == 0, result.stderr
    assert [m["content"] for m in server.requests[0].json()["messages"]] == ["One", "Two", "Go"]
    with Store(tmp_path / "history.sqlite3") as store:
        assert [m.content for m in store.messages(conversation.id)] == ["One", "Two"]


def test_continue_with_a_system_message_sends_it_first(tmp_path: Path, serve: Any) -> None:
    with Store(tmp_path / "history.sqlite3") as store:
        conversation = store.create_conversation("Kept")
        store.add_message(conversation.id, "user", "One")
        store.add_message(conversation.id, "assistant", "Two")
    server = serve(streaming(answer_chunks(["Three"])))

    args = ("--system", "Short answers.", "--continue", str(conversation.id), "Go")
    assert ask(tmp_path, server.base_url, *args).returncode == 0
    roles = [m["role"] for m in server.requests[0].json()["messages"]]
    assert roles == ["system", "user", "assistant", "user"]


def test_continue_an_unknown_conversation_is_a_usage_error(tmp_path: Path, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["never"])))
    result = ask(tmp_path, server.base_url, "--continue", "42", "Hello?")
    assert result.returncode == 2
    assert "no conversation 42" in result.stderr
    assert server.requests == []
    with Store(tmp_path / "history.sqlite3") as store:
        assert store.list_conversations() == []


def test_continue_given_after_the_prompt_and_data_dir_after_ask(tmp_path: Path, serve: Any) -> None:
    with Store(tmp_path / "history.sqlite3") as store:
        conversation = store.create_conversation("Kept")
        store.add_message(conversation.id, "user", "One")
    server = serve(streaming(answer_chunks(["Two"])))
    other = tmp_path / "elsewhere"  # DELTADESK_HOME: --data-dir must win over it
    result = deltadesk(
        "ask",
        "--base-url",
        server.base_url,
        "--model",
        "m",
        "Again",
        "--continue",
        str(conversation.id),
        "--data-dir",
        str(tmp_path),
        data_dir=other,
    )
    assert result.returncode == 0, result.stderr
    with Store(tmp_path / "history.sqlite3") as store:
        assert [m.content for m in store.active_path(conversation.id)] == ["One", "Again", "Two"]
