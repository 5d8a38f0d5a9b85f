"""How history-v2.sqlite3 was made: by the schema-2 Store (commit fe5c67e, the last before
schema 3).

Run from a checkout of that commit (`git worktree add /tmp/v2 fe5c67e`), with its desktop/
folder on PYTHONPATH: `python tests/core/data/make_history_v2.py OUT.sqlite3`. The Store of
later schemas writes a newer file, so running it from a later checkout makes no v2 file.

What it holds, for the strict checks of the upgrade to schema 3: four conversations whose
message ids interleave (a parent must be the previous message of the *same* conversation),
every status, an answer left 'streaming' by a crash with appended parts never folded, the
scrambled order an old Retry left (user, user, assistant, assistant), reasoning, usage and
figures, an error kind, and a conversation with no messages.
"""

from __future__ import annotations

import sys
from pathlib import Path

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Usage
from deltadesk.core.store import Store


def make(path: Path) -> None:
    with Store(path) as store:
        trip = store.create_conversation("Trip to Lisbon 🚋")
        retry = store.create_conversation("Old retry order")
        crash = store.create_conversation("Crashed mid-answer")
        store.create_conversation("Empty")

        store.add_message(trip.id, "system", "Be brief.")
        store.add_message(retry.id, "user", "First question")
        store.add_message(trip.id, "user", "Three sights?")
        store.add_message(retry.id, "user", "Second question")
        answer = store.add_message(trip.id, "assistant", status="streaming", profile="Groq")
        store.finish_answer(
            answer.id,
            content="Belém, Alfama, LX Factory.",
            reasoning="short list",
            status="done",
            usage=Usage(prompt_tokens=21, completion_tokens=9, reasoning_tokens=3),
            ttft_ms=412.5,
        )
        store.update_message(answer.id, model="llama-3.3-70b")
        stopped = store.add_message(retry.id, "assistant", "Half of the fir", status="streaming")
        store.finish_answer(stopped.id, content="Half of the fir", reasoning="", status="stopped")
        store.add_message(crash.id, "user", "Tell me a story")
        failed = store.add_message(retry.id, "assistant", status="streaming")
        store.finish_answer(
            failed.id,
            content="",
            reasoning="",
            status="failed",
            error=ChatError(ErrorKind.RATE_LIMIT, "Slow down"),
        )
        store.add_message(trip.id, "user", "And food?")
        store.add_message(trip.id, "assistant", "Pastéis", status="interrupted")
        # Left streaming by a crash: content in the row plus parts never folded.
        cut = store.add_message(crash.id, "assistant", "Once", status="streaming", model="m")
        store.append_partial(cut.id, " upon a", "plot")
        store.append_partial(cut.id, " time", " twist")


if __name__ == "__main__":
    make(Path(sys.argv[1]))
