"""ProfileStore against a real JSON file in tmp_path; app_paths with real directories."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path

import pytest

from deltadesk.core.profiles import (
    DEMO_PROFILE_NAME,
    PRESETS,
    Profile,
    ProfileStore,
    demo_profile,
    looks_like_secret,
)
from tests.core.modes import run_python_obeying_modes

GROQ = Profile("Groq", "https://api.groq.com/openai/v1", "llama-3.1-8b-instant", max_attempts=1)
OLLAMA = Profile("Ollama", "http://localhost:11434/v1", "llama3.2", thinking=True)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "profiles.json"


def read_json(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write_json(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")


def test_missing_file_starts_with_demo_and_saves(path: Path) -> None:
    store = ProfileStore(path)
    assert store.profiles() == [demo_profile()]
    assert store.active_name == DEMO_PROFILE_NAME
    assert store.active == demo_profile()
    saved = read_json(path)
    assert saved["version"] == 2 and saved["active"] == DEMO_PROFILE_NAME
    assert saved["profiles"] == [dataclasses.asdict(demo_profile())]


def test_round_trip_through_the_file(path: Path) -> None:
    store = ProfileStore(path)
    store.upsert(GROQ)
    store.upsert(OLLAMA)
    store.set_active("Ollama")
    reloaded = ProfileStore(path)
    assert reloaded.profiles() == [demo_profile(), GROQ, OLLAMA]
    assert reloaded.active == OLLAMA
    assert reloaded.get("Groq") == GROQ
    assert reloaded.get("nope") is None


def test_upsert_replaces_same_name_in_place(path: Path) -> None:
    store = ProfileStore(path)
    store.upsert(GROQ)
    faster = dataclasses.replace(GROQ, model="llama-3.3-70b")
    store.upsert(faster)
    assert ProfileStore(path).profiles() == [demo_profile(), faster]


def test_rename_keeps_position_and_active(path: Path) -> None:
    store = ProfileStore(path)
    store.upsert(GROQ)
    store.upsert(OLLAMA)
    store.set_active("Groq")
    store.upsert(dataclasses.replace(GROQ, name="Groq fast"), old_name="Groq")
    reloaded = ProfileStore(path)
    assert [p.name for p in reloaded.profiles()] == [DEMO_PROFILE_NAME, "Groq fast", "Ollama"]
    assert reloaded.active_name == "Groq fast"
    assert reloaded.get("Groq") is None


def test_rename_onto_an_existing_name_is_refused(path: Path) -> None:
    store = ProfileStore(path)
    store.upsert(GROQ)
    store.upsert(OLLAMA)
    with pytest.raises(ValueError, match="already exists"):
        store.upsert(dataclasses.replace(GROQ, name="Ollama"), old_name="Groq")
    with pytest.raises(ValueError, match="no profile named"):
        store.upsert(GROQ, old_name="ghost")
    assert ProfileStore(path).profiles() == [demo_profile(), GROQ, OLLAMA]


@pytest.mark.parametrize("bad_name", ["", "   "])
def test_empty_names_are_refused(path: Path, bad_name: str) -> None:
    store = ProfileStore(path)
    with pytest.raises(ValueError, match="needs a name"):
        store.upsert(dataclasses.replace(GROQ, name=bad_name))
    assert store.profiles() == [demo_profile()]


def test_remove_active_falls_back_to_first(path: Path) -> None:
    store = ProfileStore(path)
    store.upsert(GROQ)
    store.upsert(OLLAMA)
    store.set_active("Ollama")
    store.remove("Ollama")
    assert store.active_name == DEMO_PROFILE_NAME
    store.remove(DEMO_PROFILE_NAME)  # the demo may go too
    reloaded = ProfileStore(path)
    assert reloaded.profiles() == [GROQ]
    assert reloaded.active == GROQ
    store.remove("not there")  # nothing to do
    with pytest.raises(ValueError, match="at least one"):
        store.remove("Groq")


def test_set_active_unknown_is_refused(path: Path) -> None:
    store = ProfileStore(path)
    with pytest.raises(ValueError, match="no profile named"):
        store.set_active("ghost")
    assert read_json(path)["active"] == DEMO_PROFILE_NAME


def test_saves_leave_no_temp_files(path: Path) -> None:
    store = ProfileStore(path)
    for i in range(5):
        store.upsert(dataclasses.replace(GROQ, name=f"p{i}"))
        store.set_active(f"p{i}")
    assert sorted(p.name for p in path.parent.iterdir()) == ["profiles.json"]


@pytest.mark.parametrize(
    "broken",
    [
        dataclasses.replace(GROQ, first_chunk_timeout=float("nan")),  # refused before writing
        dataclasses.replace(GROQ, name="bad \ud800 name"),  # fails while writing the temp file
    ],
)
def test_failed_save_changes_nothing(path: Path, broken: Profile) -> None:
    store = ProfileStore(path)
    store.upsert(OLLAMA)
    before = path.read_bytes()
    with pytest.raises(ValueError):  # UnicodeEncodeError is a ValueError too
        store.upsert(broken)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["profiles.json"]
    assert store.profiles() == [demo_profile(), OLLAMA]


def test_unknown_fields_ignored_and_missing_take_defaults(path: Path) -> None:
    write_json(
        path,
        {
            "version": 1,
            "active": "Mini",
            "profiles": [
                {"name": "Mini", "base_url": "http://127.0.0.1:9/v1", "model": "m", "color": "red"},
                {"name": "Typo", "base_url": "u", "model": "m", "idle_timeout": "soon"},
                {"name": "Ints", "base_url": "u", "model": "m", "idle_timeout": 30},
                {"base_url": "no name", "model": "m"},
                {"name": "Mini", "base_url": "duplicate", "model": "m"},
                "not an object",
            ],
        },
    )
    store = ProfileStore(path)
    assert store.profiles() == [
        Profile("Mini", "http://127.0.0.1:9/v1", "m"),
        Profile("Typo", "u", "m"),
        Profile("Ints", "u", "m", idle_timeout=30.0),
    ]
    assert store.active_name == "Mini"


def test_unknown_active_falls_back_to_first(path: Path) -> None:
    write_json(path, {"version": 1, "active": "gone", "profiles": [dataclasses.asdict(GROQ)]})
    assert ProfileStore(path).active == GROQ


def test_secret_fields_are_dropped_and_never_written(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    planted = {
        **dataclasses.asdict(GROQ),
        "api_key": "sk-planted-secret-1",
        "token": "tok-planted-secret-2",
        "password": "pw-planted-secret-3",
        "key": "k-planted-secret-4",
    }
    write_json(path, {"version": 1, "active": "Groq", "profiles": [planted]})
    with caplog.at_level(logging.WARNING, logger="deltadesk.core.profiles"):
        store = ProfileStore(path)
    assert store.profiles() == [GROQ]
    # Loading alone rewrote the file: the planted keys are off the disk already.
    assert store.save_problem is None
    on_disk = path.read_text(encoding="utf-8")
    assert "planted-secret" not in on_disk
    assert "api_key" not in on_disk and "password" not in on_disk
    store.upsert(OLLAMA)
    assert "planted-secret" not in path.read_text(encoding="utf-8")
    assert "planted-secret" not in caplog.text
    assert "api_key" in caplog.text  # the user is told which field went, not its value


@pytest.mark.parametrize("name", ["api_key", "apiKey", "key", "token", "access_token", "password"])
def test_looks_like_secret(name: str) -> None:
    assert looks_like_secret(name)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Profile)] + ["monkey"])
def test_no_profile_field_looks_like_a_secret(name: str) -> None:
    assert not looks_like_secret(name)


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'{"version": 1, "profiles": "nope"}',
        b'{"version": 1, "profiles": []}',
        b"\xff\xfe garbage",
    ],
)
def test_corrupt_file_is_moved_aside(
    path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="deltadesk.core.profiles"):
        store = ProfileStore(path)
    assert store.profiles() == [demo_profile()]
    [corrupt] = path.parent.glob("profiles.json.corrupt-*")
    assert corrupt.read_bytes() == content
    assert read_json(path)["active"] == DEMO_PROFILE_NAME
    assert "unreadable" in caplog.text


def test_first_token_limit_is_automatic_by_default() -> None:
    hosted = Profile("Hosted", "https://api.example.com/v1", "m")
    loopback = Profile("Loop", "http://127.0.0.1:8080/v1", "m")
    lan_server = Profile("LAN vLLM", "http://gpu-box:8000/v1", "m", local_server=True)
    assert hosted.first_chunk_timeout == 0.0
    assert hosted.first_token_limit == 120.0 and not hosted.slow_start
    assert loopback.first_token_limit == 300.0 and loopback.slow_start
    assert lan_server.first_token_limit == 300.0 and lan_server.slow_start
    assert dataclasses.replace(hosted, first_chunk_timeout=45.0).first_token_limit == 45.0
    assert hosted.max_answer_chars == 10_000_000


def test_self_hosted_presets_are_marked_local_servers() -> None:
    by_label = {preset.label.split(" ")[0]: preset for preset in PRESETS}
    for label in ("Ollama", "LM", "vLLM", "llama.cpp"):
        assert by_label[label].local_server, label
    assert by_label["llama.cpp"].base_url == "http://localhost:8080/v1"
    assert not by_label["OpenAI"].local_server and not by_label["Groq"].local_server


# -- the file: version 2, the migration from version 1, corrupt files -----------------------------

DATA = Path(__file__).parent / "data"


def test_a_version_1_file_is_migrated_once_and_backed_up(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # profiles-v1.json was written by the version-1 ProfileStore (the code before issue 7).
    original = (DATA / "profiles-v1.json").read_bytes()
    path.parent.mkdir(parents=True)
    path.write_bytes(original)
    with caplog.at_level(logging.INFO, logger="deltadesk.core.profiles"):
        store = ProfileStore(path)
    by_name = {p.name: p for p in store.profiles()}
    # The old default 5.0 was never chosen by anyone: it becomes "automatic".
    assert by_name["Demo (offline)"].first_chunk_timeout == 0.0
    assert by_name["Groq"].first_chunk_timeout == 0.0
    assert by_name["Groq"].first_token_limit == 120.0
    # What the user set is kept, 5.5 included.
    assert by_name["Ollama"].first_chunk_timeout == 45.0
    assert by_name["Slow"].first_chunk_timeout == 5.5
    assert by_name["Slow"].idle_timeout == 30.0 and by_name["Slow"].max_attempts == 1
    # include_usage was switched off for a whole profile after one refusal: it asks again.
    assert by_name["Groq"].include_usage is True
    assert by_name["Ollama"].thinking is True
    assert store.active_name == "Ollama"
    assert "upgrading" in caplog.text
    # The file is rewritten as version 2 at once, the old one kept beside it.
    assert read_json(path)["version"] == 2
    assert path.with_name("profiles.json.bak-v1").read_bytes() == original
    # A version-2 file is not migrated again: an explicit 5.0 set after the upgrade stays.
    store.upsert(dataclasses.replace(by_name["Groq"], first_chunk_timeout=5.0))
    assert ProfileStore(path).get("Groq") == dataclasses.replace(
        by_name["Groq"], first_chunk_timeout=5.0
    )


def test_a_file_without_a_version_is_read_as_version_1(path: Path) -> None:
    entry = {"name": "Old", "base_url": "u", "model": "m", "first_chunk_timeout": 5}
    write_json(path, {"active": "Old", "profiles": [entry]})
    assert ProfileStore(path).active.first_chunk_timeout == 0.0


def test_a_newer_file_is_read_as_far_as_understood_and_left_alone(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entry = {"name": "New", "base_url": "u", "model": "m", "first_chunk_timeout": 5.0, "x": 1}
    write_json(path, {"version": 99, "active": "New", "profiles": [entry]})
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="deltadesk.core.profiles"):
        store = ProfileStore(path)
    assert store.active == Profile("New", "u", "m", first_chunk_timeout=5.0)
    assert path.read_bytes() == before
    assert "newer Deltadesk" in caplog.text


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("first_chunk_timeout", "NaN"),
        ("first_chunk_timeout", "-Infinity"),
        ("first_chunk_timeout", "-1"),
        ("idle_timeout", "Infinity"),
        ("idle_timeout", "0"),
        ("idle_timeout", "1e999"),
        ("connect_timeout", "-0.5"),
        ("max_attempts", "0"),
        ("max_answer_chars", "-10"),
        ("idle_timeout", "1e300"),  # finite, but no socket takes it
        ("max_attempts", "1000000"),
        ("max_answer_chars", "100000000000"),
    ],
)
def test_impossible_numbers_fall_back_to_defaults(
    path: Path, field: str, raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Python's json reads NaN and Infinity literals (and 1e999 as inf), so such a file parses.
    path.parent.mkdir(parents=True)
    path.write_text(
        '{"version": 2, "active": "P", "profiles": [{"name": "P", "base_url": "u", '
        f'"model": "m", "{field}": {raw}, "thinking": true}}]}}',
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="deltadesk.core.profiles"):
        store = ProfileStore(path)
    assert store.active == Profile("P", "u", "m", thinking=True)
    assert field in caplog.text and "using the default" in caplog.text


@pytest.mark.parametrize(
    "changes",
    [
        {"first_chunk_timeout": float("inf")},
        {"first_chunk_timeout": -2.0},
        {"idle_timeout": 0.0},
        {"connect_timeout": float("nan")},
        {"max_attempts": 0},
        {"max_answer_chars": 0},
        {"connect_timeout": 1e9},
    ],
)
def test_impossible_numbers_are_refused_when_saving(path: Path, changes: dict[str, object]) -> None:
    store = ProfileStore(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="must be"):
        store.upsert(dataclasses.replace(GROQ, **changes))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be"):
        store.replace_all([dataclasses.replace(GROQ, **changes)], "Groq")  # type: ignore[arg-type]
    assert path.read_bytes() == before


def test_zero_first_chunk_timeout_is_automatic_not_invalid(path: Path) -> None:
    store = ProfileStore(path)
    store.upsert(dataclasses.replace(GROQ, first_chunk_timeout=0.0))
    assert ProfileStore(path).get("Groq") == dataclasses.replace(GROQ, first_chunk_timeout=0.0)


def nested(depth: int) -> str:
    return '{"version": 2, "profiles": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("content", [nested(100_000), "[" * 1_000_000, '{"a":' * 200_000])
def test_deeply_nested_json_is_moved_aside(
    path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="deltadesk.core.settings_file"):
        store = ProfileStore(path)
    assert store.profiles() == [demo_profile()]
    [aside] = path.parent.glob("profiles.json.corrupt-*")
    assert aside.read_text(encoding="utf-8") == content
    assert "nested too deeply" in caplog.text or "recursion" in caplog.text.lower()


def test_a_folder_named_profiles_json_is_moved_aside_with_its_contents(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "keep-me.txt").write_text("mine", encoding="utf-8")
    store = ProfileStore(path)
    assert store.profiles() == [demo_profile()]
    assert path.is_file() and read_json(path)["version"] == 2
    [aside] = path.parent.glob("profiles.json.corrupt-*")
    assert (aside / "keep-me.txt").read_text(encoding="utf-8") == "mine"


def test_a_second_corruption_keeps_the_first_copy(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{first corruption")
    ProfileStore(path)
    path.write_bytes(b"{second corruption")  # within the same second, too
    ProfileStore(path)
    copies = sorted(p.read_bytes() for p in path.parent.glob("profiles.json.corrupt-*"))
    assert copies == [b"{first corruption", b"{second corruption"]


def test_a_huge_file_is_not_read_whole(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b" " * (5 * 1024 * 1024) + b"{}")
    assert ProfileStore(path).profiles() == [demo_profile()]
    assert len(list(path.parent.glob("profiles.json.corrupt-*"))) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_profiles_file_and_its_folder_are_private(path: Path) -> None:
    store = ProfileStore(path)
    store.upsert(GROQ)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    path.write_bytes((DATA / "profiles-v1.json").read_bytes())
    path.chmod(0o644)  # as the old version left it
    ProfileStore(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.with_name("profiles.json.bak-v1").stat().st_mode & 0o777 == 0o600


READ_ONLY_SETTINGS_PROBE = """
import json, sys
from pathlib import Path
from deltadesk.core.preferences import PreferenceStore
from deltadesk.core.profiles import ProfileStore
folder = Path(sys.argv[1])
profiles = ProfileStore(folder / "profiles.json")
preferences = PreferenceStore(folder / "preferences.json")
preferences.refuse_usage("http://h/v1", "m")  # kept for the session, not saved
result = {
    "profiles": [p.name for p in profiles.profiles()],
    "timeouts": [p.first_chunk_timeout for p in profiles.profiles()],
    "refused": preferences.usage_refused("http://h/v1", "m"),
}
result["problem_at_start"] = profiles.save_problem
profiles.set_active(profiles.profiles()[-1].name)  # the choice holds for the session
result["active"] = profiles.active_name
result["problem"] = profiles.save_problem
print(json.dumps(result))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("with_v1_file", [False, True])
def test_a_read_only_config_folder_starts_without_a_traceback(
    tmp_path: Path, with_v1_file: bool
) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    if with_v1_file:  # an upgrade that cannot be saved: it holds in memory
        (folder / "profiles.json").write_bytes((DATA / "profiles-v1.json").read_bytes())
        (folder / "profiles.json").chmod(0o444)
    before = sorted(p.name for p in folder.iterdir())
    folder.chmod(0o555)
    try:
        result = run_python_obeying_modes(READ_ONLY_SETTINGS_PROBE, str(folder))
    finally:
        folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    outcome = json.loads(result.stdout)
    if with_v1_file:
        assert outcome["profiles"] == ["Demo (offline)", "Groq", "Ollama", "Slow"]
        assert outcome["timeouts"] == [0.0, 0.0, 45.0, 5.5]
        assert outcome["active"] == "Slow"
    else:
        assert outcome["profiles"] == [DEMO_PROFILE_NAME]
    assert outcome["refused"] is True
    assert "Profiles are not saved" in outcome["problem_at_start"]
    assert "cannot be written" in outcome["problem"]
    assert sorted(p.name for p in folder.iterdir()) == before
