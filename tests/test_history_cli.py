"""`deltadesk history …` run as a user runs it: real processes over real history files."""

from __future__ import annotations

import json
import os
import pty
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deltadesk.core.store import Store
from tests.sse_script import status
from tests.test_ask import deltadesk, process_env

FIXTURE = Path(__file__).parent / "core" / "data" / "chatgpt-conversations.json"
HOSTILE_TITLE = "Evil\x1b]52;c;aGk=\x07\tTitle\nnext \x9b2J line"


def run(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "deltadesk", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env=process_env(data_dir),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def history(data_dir: Path) -> Store:
    return Store(data_dir / "history.sqlite3")


def fill(data_dir: Path) -> tuple[int, int]:
    """A branched chat with a hostile title, and a plain one made after it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with history(data_dir) as store:
        trip = store.create_conversation(HOSTILE_TITLE)
        prompt = store.add_message(trip.id, "user", "Plan a trip.")
        store.add_message(trip.id, "assistant", "Rome.", model="m1")
        newer = store.add_message(trip.id, "assistant", "", parent_id=prompt.id)
        store.finish_answer(
            newer.id, content="Lisbon \x1b[31mred\x1b[0m.", reasoning="Warm.", status="done"
        )
        plain = store.create_conversation("Plain")
        store.add_message(plain.id, "user", "Hello there")
    return trip.id, plain.id


def test_list_is_one_clean_tab_separated_line_per_conversation(tmp_path: Path) -> None:
    trip, plain = fill(tmp_path)
    result = run("history", "list", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(plain), str(trip)]  # newest first
    fields = lines[1].split("\t")
    assert len(fields) == 4
    assert datetime.fromisoformat(fields[1]).tzinfo is not None  # ISO 8601, with its zone
    assert fields[2] == "3"  # every message of every branch
    assert fields[3] == "Evil Title next line"


def test_list_json(tmp_path: Path) -> None:
    trip, plain = fill(tmp_path)
    with history(tmp_path) as store:
        store.set_pinned(plain, True)
    result = run("history", "list", "--json", data_dir=tmp_path)
    listed = {item["id"]: item for item in json.loads(result.stdout)}
    assert listed[trip]["title"] == HOSTILE_TITLE  # data, JSON-escaped
    assert listed[trip]["messages"] == 3
    assert (listed[trip]["pinned"], listed[plain]["pinned"]) == (False, True)
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout


@pytest.mark.parametrize(
    "placing",
    [
        ("--data-dir", "{dir}", "history", "list"),
        ("history", "--data-dir", "{dir}", "list"),
        ("history", "list", "--data-dir", "{dir}"),
        ("--verbose", "history", "list", "--data-dir", "{dir}"),
    ],
)
def test_data_dir_before_or_after_the_subcommand(tmp_path: Path, placing: tuple[str, ...]) -> None:
    mine = tmp_path / "mine"
    fill(mine)
    args = [part.format(dir=mine) for part in placing]
    result = run(*args, data_dir=tmp_path / "elsewhere")  # DELTADESK_HOME: must not win
    assert result.returncode == 0, result.stderr
    assert "Plain" in result.stdout


def test_show_prints_the_active_path_with_branch_notes(tmp_path: Path) -> None:
    trip, _ = fill(tmp_path)
    result = run("history", "show", str(trip), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Rome." not in result.stdout
    assert "## Assistant (answer 2 of 2)" in result.stdout
    assert "<details><summary>Thinking</summary>\n\nWarm.\n\n</details>" in result.stdout


def test_export_import_export_gives_the_same_markdown(tmp_path: Path) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    fill(source)
    file = tmp_path / "all.json"
    exported = run(
        "history", "export", "--all", "--format", "json", "-o", str(file), data_dir=source
    )
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # the whole history: its owner's only
    first_md = run("history", "export", "--all", "--format", "md", data_dir=source).stdout

    imported = run("history", "import", str(file), data_dir=target)
    assert imported.returncode == 0, imported.stderr
    assert "Imported 2 conversation(s), 4 message(s)" in imported.stdout
    assert run("history", "export", "--all", "--format", "md", data_dir=target).stdout == first_md

    again = run("history", "import", str(file), data_dir=target)
    assert "Imported 0 conversation(s)" in again.stdout and "2 already" in again.stdout


def test_export_one_conversation_and_the_format_from_the_suffix(tmp_path: Path) -> None:
    trip, _ = fill(tmp_path)
    out = tmp_path / "trip.md"
    assert run("history", "export", str(trip), "-o", str(out), data_dir=tmp_path).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Evil Title next line\n") and "Plain" not in text
    as_json = run("history", "export", str(trip), data_dir=tmp_path)
    (conversation,) = json.loads(as_json.stdout)["conversations"]
    assert conversation["id"] == trip
    assert len(conversation["messages"]) == 3


def test_import_chatgpt_from_standard_input(tmp_path: Path) -> None:
    data = FIXTURE.read_text(encoding="utf-8")
    result = run("history", "import", "-", data_dir=tmp_path, stdin=data)
    assert result.returncode == 0, result.stderr
    assert "Imported 2 conversation(s), 11 message(s)" in result.stdout
    titles = [
        line.split("\t")[3]
        for line in run("history", "list", data_dir=tmp_path).stdout.splitlines()
    ]
    assert sorted(titles) == ["Lisbon trip", "Reverse a list (edited)"]


def test_search(tmp_path: Path) -> None:
    trip, plain = fill(tmp_path)
    result = run("history", "search", "Rome", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    conversation_id, message_id, when, title, snippet = line.split("\t")
    with history(tmp_path) as store:
        rome = next(m for m in store.messages(trip) if m.content == "Rome.")
    assert (int(conversation_id), int(message_id), snippet) == (trip, rome.id, "Rome.")
    assert datetime.fromisoformat(when).tzinfo is not None  # ISO 8601, with its zone
    # The hostile title arrives inert: no escape, tab or newline of its own.
    assert title == "Evil Title next line"
    found = json.loads(run("history", "search", "hel", "--json", data_dir=tmp_path).stdout)
    assert [(f["conversation_id"], f["role"], f["snippet"]) for f in found] == [
        (plain, "user", "Hello there")
    ]
    assert found[0]["highlights"] == [[0, 5]]  # "hel" as a prefix: the whole word is the hit


def test_search_prints_title_hits_and_other_branches_and_strips_controls(
    tmp_path: Path,
) -> None:
    _, plain = fill(tmp_path)
    lines = run("history", "search", "plain", data_dir=tmp_path).stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [[str(plain), "-"]]  # a title hit
    # "Lisbon" is in the newer branch, its colour codes stripped for the terminal.
    (line,) = run("history", "search", "lisbon", data_dir=tmp_path).stdout.splitlines()
    assert line.split("\t")[4] == "Lisbon red."
    assert "\x1b" not in line
    assert run("history", "search", "Paris", data_dir=tmp_path).stdout == ""


@pytest.mark.parametrize("query", ['"', "NEAR(", "AND", "*", "title:x", "^zq", "()", " "])
def test_search_takes_any_text(tmp_path: Path, query: str) -> None:
    fill(tmp_path)
    result = run("history", "search", query, data_dir=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_malformed_import_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    fill(tmp_path)
    before = run("history", "export", "--all", data_dir=tmp_path).stdout
    bad = tmp_path / "bad.json"
    document = json.loads(before)
    document["conversations"][1]["messages"][0]["parent_id"] = 999
    document["conversations"][0]["source"], document["conversations"][0]["source_id"] = "x", "1"
    bad.write_text(json.dumps(document), encoding="utf-8")
    result = run("history", "import", str(bad), data_dir=tmp_path)
    assert result.returncode == 1
    assert "was not imported" in result.stderr and "parent 999" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert run("history", "export", "--all", data_dir=tmp_path).stdout == before


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("history", "show", "42"), "there is no conversation 42"),
        (("history", "export", "42"), "there is no conversation 42"),
        (("history", "import", "missing.json"), "cannot read missing.json"),
        (("history", "import", "."), "cannot read ."),
        (("history", "export", "--all", "-o", "no/such/dir/x.json"), "cannot write"),
    ],
)
def test_file_and_data_problems_exit_1(tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    result = run(*args, data_dir=tmp_path)
    assert result.returncode == 1
    assert said in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("history",),
        ("history", "show"),
        ("history", "show", "abc"),
        ("history", "export"),
        ("history", "export", "1", "--all"),
        ("history", "export", "1", "--format", "html"),
        ("history", "import"),
        ("history", "search"),
        ("history", "frobnicate"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run(*args, data_dir=tmp_path)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_a_history_from_a_newer_deltadesk_is_refused_plainly(tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        db.execute("PRAGMA user_version = 999")
    result = run("history", "list", data_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("deltadesk history list: ")


def test_the_export_holds_no_key(tmp_path: Path, serve: Any) -> None:
    secret = "sk-test-" + "K" * 32
    server = serve(status(401, f"Incorrect API key provided: {secret}"))
    asked = deltadesk(
        "ask",
        "--base-url",
        server.base_url,
        "--model",
        "m",
        "--api-key-env",
        "TEST_KEY",
        "hi",
        data_dir=tmp_path,
        env={"TEST_KEY": secret},
    )
    assert asked.returncode == 3
    assert server.requests[0].headers["authorization"] == f"Bearer {secret}"  # it was used
    exported = run("history", "export", "--all", data_dir=tmp_path).stdout
    assert json.loads(exported)["conversations"][0]["messages"][1]["status"] == "failed"
    assert secret not in exported and "K" * 16 not in exported


def on_a_terminal(*args: str, data_dir: Path) -> bytes:
    """What a terminal on stdout receives from `deltadesk …`."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "deltadesk", *args],
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=process_env(data_dir),
    )
    os.close(terminal)
    received = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not data:
            break
        received += data
    os.close(controller)
    process.communicate(timeout=30)
    assert process.returncode == 0
    return bytes(received)


def test_a_terminal_never_receives_control_characters(tmp_path: Path) -> None:
    trip, _ = fill(tmp_path)
    shown = on_a_terminal("history", "show", str(trip), data_dir=tmp_path)
    assert b"Lisbon red." in shown
    markdown = on_a_terminal("history", "export", str(trip), "--format", "md", data_dir=tmp_path)
    for output in (shown, markdown, on_a_terminal("history", "list", data_dir=tmp_path)):
        assert b"\x1b" not in output and b"\x07" not in output and b"\xc2\x9b" not in output


def test_markdown_to_a_pipe_is_the_text_as_stored(tmp_path: Path) -> None:
    trip, _ = fill(tmp_path)
    result = run("history", "export", str(trip), "--format", "md", data_dir=tmp_path)
    assert "Lisbon \x1b[31mred\x1b[0m." in result.stdout  # a file is data, not a terminal


def test_a_file_over_200_mb_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as file:
        file.truncate(200 * 1024 * 1024 + 1)  # sparse: nothing is written to the disk
    result = run("history", "import", str(huge), data_dir=tmp_path)
    assert result.returncode == 1
    assert "over the 200 MB import limit" in result.stderr


def test_a_slow_upgrade_says_how_it_goes_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from deltadesk.cli import build_parser
    from deltadesk.core import migrations
    from deltadesk.core.paths import app_paths
    from deltadesk.history_cli import run_history

    paths = app_paths(tmp_path / "home")
    shutil.copyfile(Path(__file__).parent / "core" / "data" / "history-v3.sqlite3", paths.db)
    monkeypatch.setattr(migrations, "SLOW_UPGRADE_SECONDS", 0.0)  # every upgrade is "slow"
    monkeypatch.setattr(migrations, "_PROGRESS_STEPS", 50)
    args = build_parser().parse_args(["history", "search", "naive"])
    assert run_history(args, paths) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].endswith("\tNaïve question")
    assert err.startswith("deltadesk: Upgrading the history and building its search index")
