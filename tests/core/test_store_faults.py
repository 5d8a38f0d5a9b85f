"""Storage faults on real SQLite files: a full disk, a lock held by another process, damaged
pages, and a history the user may read but not write.

How each fault is made real:
- disk full: `PRAGMA max_page_count` on the store's own connection caps the file, and SQLite
  then fails exactly as on a full disk (SQLITE_FULL, "database or disk is full");
- locked: a second connection, or a second process, holds the write lock (BEGIN IMMEDIATE);
- damaged: bytes of a b-tree page overwritten behind an intact header;
- read-only: files and folders get modes 0444/0555 and a child process opens them. Root
  ignores permission bits, so when the tests run as root the child runs without the two
  capabilities that let it (see tests/core/modes.py); a test checks that premise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deltadesk.core import store as store_module
from deltadesk.core.store import Store, StoreError, StoreWriteError
from tests.core.modes import run_python_obeying_modes

DESKTOP_DIR = Path(store_module.__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and users")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(DESKTOP_DIR)}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- a full disk ----------------------------------------------------------------------------------


def fill_up(store: Store) -> None:
    """Cap the database at the pages it has now: the next growth finds the "disk" full."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_is_reported_as_full_and_loses_nothing(db_path: Path) -> None:
    with Store(db_path) as store:
        chat = store.create_conversation("kept")
        answer = store.add_message(chat.id, "assistant", status="streaming")
        store.append_partial(answer.id, "first part. ", "")
        fill_up(store)
        big = "x" * 200_000
        with pytest.raises(StoreWriteError) as caught:
            store.append_partial(answer.id, big, "")
        assert caught.value.reason == "full"
        assert "disk is full" in str(caught.value)
        assert "rollback" not in str(caught.value).lower()
        # The final save fails the same way, with the real reason, not "cannot rollback".
        with pytest.raises(StoreWriteError) as final:
            store.finish_answer(
                answer.id, content="first part. " + big, reasoning="", status="done"
            )
        assert final.value.reason == "full"
        # What was stored before is all there, and the store still works for reading.
        shown = store.get_message(answer.id)
        assert shown is not None and (shown.content, shown.status) == ("first part. ", "streaming")
        # Space comes back: the same save now works.
        store._conn.execute("PRAGMA max_page_count = 1073741823")
        store.finish_answer(answer.id, content="first part. " + big, reasoning="", status="done")
    with Store(db_path) as reopened:
        assert reopened.get_message(answer.id).content == "first part. " + big  # type: ignore[union-attr]


FULL_DISK_PROBE = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from deltadesk.core.store import Store, StoreWriteError
    disk = Path(sys.argv[1])
    store = Store(disk / "history.sqlite3")
    chat = store.create_conversation("kept")
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.append_partial(answer.id, "before. ", "")
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as file:  # take every byte that is left
        try:
            while True:
                file.write(bytes(4096))
        except OSError:
            pass
    result = {}
    try:
        store.finish_answer(answer.id, content="before. " + "x" * 300_000, reasoning="",
                            status="done")
        result["final"] = "written"
    except StoreWriteError as exc:
        result["final"] = [exc.reason, str(exc)]
    result["kept"] = store.get_message(answer.id).content
    filler.unlink()  # space comes back
    store.finish_answer(answer.id, content="before. " + "x" * 300_000, reasoning="",
                        status="done")
    result["after"] = len(store.get_message(answer.id).content)
    store.close()
    print(json.dumps(result))
    """
)


def test_a_real_full_disk_on_a_tiny_tmpfs(tmp_path: Path) -> None:
    """The same as above on a real file system that runs out of space, where one can be
    mounted: a private mount namespace (unshare) with a 1 MB tmpfs; skipped elsewhere."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        pytest.skip("needs root and unshare to mount a tiny tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (
        f'mount -t tmpfs -o size=1m tmpfs "$1" || exit 77; exec "{sys.executable}" -c "$2" "$1"'
    )
    result = subprocess.run(
        [unshare, "--mount", "sh", "-c", script, "sh", str(disk), FULL_DISK_PROBE],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 77 or "unshare failed" in result.stderr:
        pytest.skip(f"no tmpfs can be mounted here: {result.stderr.strip()[-200:]}")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["final"][0] == "full", outcome
    assert "disk is full" in outcome["final"][1]
    assert outcome["kept"] == "before. "
    assert outcome["after"] == len("before. ") + 300_000


def test_failed_writes_leave_no_transaction_open(db_path: Path) -> None:
    with Store(db_path) as store:
        chat = store.create_conversation()
        fill_up(store)
        for _ in range(3):
            with pytest.raises(StoreWriteError):
                store.add_message(chat.id, "user", "y" * 100_000)
            assert not store._conn.in_transaction
        assert store.messages(chat.id) == []


# -- a lock held by someone else ------------------------------------------------------------------


def test_a_write_lock_held_elsewhere_is_busy_after_the_timeout(db_path: Path) -> None:
    with Store(db_path, busy_timeout_ms=100) as store:
        chat = store.create_conversation()
        answer = store.add_message(chat.id, "assistant", status="streaming")
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            with pytest.raises(StoreWriteError) as caught:
                store.append_partial(answer.id, "held up", "")
            waited = time.monotonic() - started
            assert caught.value.reason == "busy"
            assert "locked by another program" in str(caught.value)
            assert waited < 3.0  # about the 100 ms asked for; nowhere near the 5 s default
            # Reading goes on while another connection writes (WAL).
            assert store.get_message(answer.id) is not None
            other.execute("ROLLBACK")
        finally:
            other.close()
        store.append_partial(answer.id, "held up", "")
        assert store.get_message(answer.id).content == "held up"  # type: ignore[union-attr]


def test_a_lock_held_by_another_process(db_path: Path) -> None:
    with Store(db_path, busy_timeout_ms=100) as store:
        chat = store.create_conversation()
        with subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(
                    """
                    import sqlite3, sys
                    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("INSERT INTO conversations (title, created_at, updated_at)"
                                 " VALUES ('other process', 0, 0)")
                    print("locked", flush=True)
                    sys.stdin.readline()
                    conn.execute("COMMIT")
                    """
                ),
                str(db_path),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as holder:  # closes its pipes and waits for it
            try:
                assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
                with pytest.raises(StoreWriteError) as caught:
                    store.add_message(chat.id, "user", "waiting")
                assert caught.value.reason == "busy"
                assert holder.stdin is not None
                holder.stdin.write("\n")
                holder.stdin.flush()
                assert holder.wait(timeout=30) == 0
            finally:
                if holder.poll() is None:
                    holder.kill()
        store.add_message(chat.id, "user", "after")
        assert {c.title for c in store.list_conversations()} == {"New chat", "other process"}


def test_opening_while_another_instance_writes(db_path: Path) -> None:
    Store(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Store(db_path, busy_timeout_ms=50) as store:  # opens although the lock is held
            assert not store.read_only
            assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 50
            assert store.list_conversations() == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_upgrade_waits_for_a_short_lock(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    shutil.copyfile(Path(__file__).parent / "data" / "history-v1.sqlite3", db)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, holder.execute, args=("ROLLBACK",))
    release.start()
    try:
        with Store(db, busy_timeout_ms=50) as store:  # the upgrade waits up to 5 s to begin
            assert len(store.list_conversations()) == 3
    finally:
        release.join()
        holder.close()


# -- damaged pages behind a valid header ----------------------------------------------------------


def make_damaged_history(path: Path) -> None:
    with Store(path) as store:
        for i in range(40):
            chat = store.create_conversation(f"chat {i}")
            store.add_message(chat.id, "user", f"question {i} " * 200)
    conn = sqlite3.connect(path)  # the store is closed: the WAL is folded into the file
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'messages'"
        ).fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()
    assert pages > root + 3 and not path.with_name(path.name + "-wal").exists()
    with open(path, "r+b") as file:  # the header (page 1) stays intact
        for page in (root, root + 2):
            file.seek((page - 1) * page_size + 8)
            file.write(bytes(range(256)) * 8)


def test_damaged_pages_are_found_on_open(db_path: Path) -> None:
    make_damaged_history(db_path)
    conn = sqlite3.connect(db_path)
    try:  # the header still reads fine: only a check of the pages finds the damage
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store_module.MIGRATIONS)
    finally:
        conn.close()
    before = digest(db_path)
    with pytest.raises(StoreError) as caught:
        Store(db_path)
    message = str(caught.value)
    assert "is damaged" in message and "has not changed it" in message
    assert not isinstance(caught.value, StoreWriteError)
    assert digest(db_path) == before


def test_a_truncated_history_is_reported_as_damaged(db_path: Path) -> None:
    with Store(db_path) as store:
        for i in range(50):
            store.add_message(store.create_conversation(f"c{i}").id, "user", "x" * 3000)
    with open(db_path, "r+b") as file:  # a copy cut short, or a disk that lost the tail
        file.truncate(db_path.stat().st_size // 2)
    before = digest(db_path)
    with pytest.raises(StoreError, match="is damaged"):
        Store(db_path)
    assert digest(db_path) == before


# -- private files --------------------------------------------------------------------------------


@posix_only
def test_history_and_its_wal_files_are_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "history.sqlite3"
        with Store(path) as store:
            chat = store.create_conversation()
            store.add_message(chat.id, "user", "private")
            names = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
        assert names == {
            "history.sqlite3": 0o600,
            "history.sqlite3-wal": 0o600,
            "history.sqlite3-shm": 0o600,
        }
    finally:
        os.umask(old_umask)


@posix_only
def test_an_older_wider_history_is_made_private_and_its_backup_too(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copyfile(Path(__file__).parent / "data" / "history-v1.sqlite3", path)
    path.chmod(0o644)
    Store(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.with_name("history.sqlite3.bak-v1").stat().st_mode & 0o777 == 0o600


# -- a history that can be read but not written ---------------------------------------------------

READ_ONLY_PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from deltadesk.core.store import Store, StoreError, StoreWriteError
    try:
        store = Store(Path(sys.argv[1]), busy_timeout_ms=100)
    except StoreError as exc:
        print(json.dumps({"open_error": str(exc)}))
        raise SystemExit(0)
    result = {
        "read_only": store.read_only,
        "in_memory": store.in_memory,
        "titles": [c.title for c in store.list_conversations()],
        "contents": [m.content for c in store.list_conversations() for m in store.messages(c.id)],
        "recovered": store.recover_interrupted(),
        "path": [m.content for c in store.list_conversations() for m in store.active_path(c.id)],
        "writes": [],
    }
    def in_a_transaction():
        with store.transaction():
            pass
    writes = [
        lambda: store.create_conversation("new"),
        lambda: store.append_partial(1, "more", ""),
        lambda: store.finish_answer(1, content="x", reasoning="", status="done"),
        lambda: store.add_message(1, "user", "root", parent_id=None),
        lambda: store.switch_branch(1),
        lambda: store.set_active_leaf(1, 1),
        in_a_transaction,
    ]
    for write in writes:
        try:
            write()
            result["writes"].append("written")
        except StoreWriteError as exc:
            result["writes"].append([exc.reason, str(exc)])
    store.close()
    print(json.dumps(result))
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A data folder whose modes the test may narrow; they are widened again afterwards."""
    data = tmp_path / "data"
    data.mkdir()
    yield data
    for path in [data, *data.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def probe(db: Path) -> dict[str, object]:
    result = run_python_obeying_modes(READ_ONLY_PROBE, str(db))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_the_child_really_cannot_write_a_read_only_file(folder: Path) -> None:
    """The probe's premise: for the child, mode 0444 and 0555 hold (root included)."""
    target = folder / "f"
    target.write_text("x", encoding="utf-8")
    target.chmod(0o444)
    folder.chmod(0o555)
    code = textwrap.dedent(
        """
        import sys
        for path, mode in ((sys.argv[1] + "/f", "a"), (sys.argv[1] + "/new", "w")):
            try:
                open(path, mode).close()
                print("written", path)
            except PermissionError:
                print("refused")
        """
    )
    result = run_python_obeying_modes(code, str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["refused", "refused"]


def make_history(folder: Path) -> Path:
    db = folder / "history.sqlite3"
    with Store(db) as store:
        chat = store.create_conversation("readable")
        store.add_message(chat.id, "user", "question")
        answer = store.add_message(chat.id, "assistant", status="streaming")
        store.append_partial(answer.id, "half an ", "")
        store.append_partial(answer.id, "answer", "")
    return db


def assert_read_only_and_intact(result: dict[str, object]) -> None:
    assert result.get("open_error") is None, result
    assert result["read_only"] is True and result["in_memory"] is False
    assert result["titles"] == ["readable"]
    assert result["contents"] == ["question", "half an answer"]  # parts joined, read-only
    assert result["recovered"] == 0
    assert result["path"] == ["question", "half an answer"]  # the tree reads read-only too
    writes = result["writes"]
    assert isinstance(writes, list) and len(writes) == 7
    for reason, message in writes:
        assert reason == "readonly" and "read-only" in message


@posix_only
def test_a_read_only_history_file_opens_read_only(folder: Path) -> None:
    db = make_history(folder)
    db.chmod(0o444)  # the folder stays writable: SQLite may make its -shm file there
    before = digest(db)
    assert_read_only_and_intact(probe(db))
    assert digest(db) == before


@posix_only
def test_a_read_only_folder_opens_its_history_read_only(folder: Path) -> None:
    db = make_history(folder)
    assert not db.with_name(db.name + "-wal").exists()  # closed cleanly: all in the file
    db.chmod(0o444)
    folder.chmod(0o555)
    files_before = sorted(p.name for p in folder.iterdir())
    before = digest(db)
    assert_read_only_and_intact(probe(db))
    assert digest(db) == before
    assert sorted(p.name for p in folder.iterdir()) == files_before


OLDER_SCHEMA_PROBE = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path
    from deltadesk.core.store import Store, StoreWriteError
    from deltadesk.history_stand_in import writable_stand_in
    store = Store(Path(sys.argv[1]), busy_timeout_ms=100)
    result = {
        "read_only": store.read_only,
        "in_memory": store.in_memory,
        "titles": [c.title for c in store.list_conversations()],
        "found": [h.title for h in store.search_hits("Lisbon")],
    }
    try:
        store.create_conversation("new")
        result["write"] = "written"
    except StoreWriteError as exc:
        result["write"] = exc.reason
    stand_in = writable_stand_in(store)  # what the window runs on: a private copy
    result["stand_in_titles"] = [c.title for c in stand_in.store.list_conversations()]
    stand_in.store.create_conversation("kept for the session")
    stand_in.remove()
    store.close()
    print(json.dumps(result))
    """
)


@posix_only
def test_a_read_only_history_of_an_older_schema_is_read_upgraded_in_memory(
    folder: Path,
) -> None:
    """It cannot take its upgrade (nor a backup beside it): it is read from a copy upgraded
    in memory, searchable, writes refused, the file and the folder left exactly as they were;
    the window's writable stand-in starts from that copy."""
    db = folder / "history.sqlite3"
    shutil.copyfile(Path(__file__).parent / "data" / "history-v3.sqlite3", db)
    db.chmod(0o444)
    folder.chmod(0o555)
    files_before = sorted(p.name for p in folder.iterdir())
    before = digest(db)
    result = run_python_obeying_modes(OLDER_SCHEMA_PROBE, str(db))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    titles = ["Crashed mid-answer", "Trip to Lisbon 🚋", "Empty", "Café notes"]
    assert data["read_only"] is True and data["in_memory"] is True
    assert sorted(data["titles"]) == sorted(titles)
    assert data["found"] == ["Trip to Lisbon 🚋"]  # schema 4's search, on the copy
    assert data["write"] == "readonly"
    assert sorted(data["stand_in_titles"]) == sorted(titles)
    assert digest(db) == before
    assert sorted(p.name for p in folder.iterdir()) == files_before  # no backup, no -wal


@posix_only
def test_a_read_only_folder_without_history_runs_on_an_empty_one(folder: Path) -> None:
    folder.chmod(0o555)
    result = probe(folder / "history.sqlite3")
    assert result["read_only"] is True and result["in_memory"] is True
    assert result["titles"] == [] and result["writes"][0][0] == "readonly"  # type: ignore[index]
    assert list(folder.iterdir()) == []


@posix_only
def test_unread_changes_in_a_read_only_folder_are_refused_clearly(folder: Path) -> None:
    source = folder / "live.sqlite3"
    with Store(source) as store:
        store.create_conversation("in the wal only")
        # Copy while the store is open: the last commit is in the -wal file, not the file.
        shutil.copyfile(source, folder / "history.sqlite3")
        shutil.copyfile(source.with_name("live.sqlite3-wal"), folder / "history.sqlite3-wal")
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    result = probe(folder / "history.sqlite3")
    message = result.get("open_error")
    assert isinstance(message, str), result
    assert "history.sqlite3-wal" in message and "writable" in message


@posix_only
def test_a_read_only_file_system(folder: Path) -> None:
    """Root cannot write a file system mounted read-only, whatever its capabilities: the
    folder is bind-mounted read-only in a private mount namespace; skipped where that is not
    allowed."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        pytest.skip("needs root and unshare to mount a folder read-only")
    db = make_history(folder)
    before = digest(db)
    script = (
        'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" || exit 77; '
        f'exec "{sys.executable}" -c "$2" "$1/history.sqlite3"'
    )
    result = subprocess.run(
        [unshare, "--mount", "sh", "-c", script, "sh", str(folder), READ_ONLY_PROBE],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 77 or "unshare failed" in result.stderr:
        pytest.skip(f"no read-only mount here: {result.stderr.strip()[-200:]}")
    assert result.returncode == 0, result.stderr
    assert_read_only_and_intact(json.loads(result.stdout))
    assert digest(db) == before
