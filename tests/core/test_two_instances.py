"""Two Deltadesk processes writing one history at the same time: nothing lost, nothing damaged.

Each process streams answers the way the app does (a prompt, an empty answer, parts appended
about once a second, then the final text) as fast as it can, while the other does the same.
WAL lets them read while the other writes; the busy timeout makes a writer wait its turn.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from deltadesk.core.store import Store

ANSWERS_PER_PROCESS = 60
PARTS_PER_ANSWER = 5


def stream_answers(path: str, name: str, meet: multiprocessing.synchronize.Barrier) -> None:
    """One instance's work, run in a child process.

    The two meet at the start and halfway, so however the processes are scheduled, each
    writes while the other is mid-way through its answers (the test's premise holds).
    """
    with Store(Path(path)) as store:
        for i in range(ANSWERS_PER_PROCESS):
            if i in (0, ANSWERS_PER_PROCESS // 2):
                meet.wait(timeout=60)
            chat = store.create_conversation(f"{name} {i}")
            store.add_message(chat.id, "user", f"question {i} from {name}")
            answer = store.add_message(chat.id, "assistant", status="streaming")
            parts = [f"{name}-{i}-{p} " * 50 for p in range(PARTS_PER_ANSWER)]
            for part in parts:
                store.append_partial(answer.id, part, f"r{name}{i}")
                store.list_conversations()  # the other window reads its list meanwhile
            store.finish_answer(answer.id, content="".join(parts), reasoning="", status="done")


def expected_answer(name: str, i: int) -> str:
    return "".join(f"{name}-{i}-{p} " * 50 for p in range(PARTS_PER_ANSWER))


def test_two_processes_write_at_once_and_nothing_is_lost(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    Store(db).close()  # both open an existing history, as two windows on one data folder do
    context = multiprocessing.get_context("spawn")
    meet = context.Barrier(2)
    workers = [context.Process(target=stream_answers, args=(str(db), name, meet)) for name in "AB"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]

    with Store(db) as store:
        conversations = store.list_conversations()
        assert len(conversations) == 2 * ANSWERS_PER_PROCESS
        for conversation in conversations:
            name, number = conversation.title.split()
            prompt, answer = store.messages(conversation.id)
            assert prompt.content == f"question {number} from {name}"
            assert answer.content == expected_answer(name, int(number))
            assert answer.status == "done"
        assert store.recover_interrupted() == 0
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM message_parts").fetchone() == (0,)
        # The two really overlapped: their conversations interleave in the id order.
        titles = [row[0] for row in conn.execute("SELECT title FROM conversations ORDER BY id")]
    finally:
        conn.close()
    half = ANSWERS_PER_PROCESS // 2
    # Both wrote their first halves before either began its second: they ran at once.
    firsts = [titles.index(f"{name} {half - 1}") for name in "AB"]
    seconds = [titles.index(f"{name} {half}") for name in "AB"]
    assert max(firsts) < min(seconds)
