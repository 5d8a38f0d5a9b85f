"""How history-v3.sqlite3 was made: by the schema-3 Store (commit a804f4c, the last before
schema 4).

Run from a checkout of that commit (`git worktree add /tmp/v3 a804f4c`), with its desktop/
folder on PYTHONPATH: `python tests/core/data/make_history_v3.py OUT.sqlite3`. The Store of
later schemas writes a newer file, so running it from a later checkout makes no v3 file.

What it holds, for the strict checks of the upgrade to schema 4 (settings, pins, reasoning
time and the full-text index): branches (a regenerated answer and an edited prompt, the
active path on the newer ones), an imported conversation with its source, every status, an
answer left 'streaming' by a crash with appended parts never folded, figures, an error kind,
text with diacritics, markup and words only in other branches, and an empty conversation.
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
        imported = store.create_conversation(
            "Café notes", source="chatgpt", source_id="abc-123", created_at=1_600_000_000.0
        )
        crash = store.create_conversation("Crashed mid-answer")
        store.create_conversation("Empty")

        store.add_message(trip.id, "system", "Be brief.")
        prompt = store.add_message(trip.id, "user", "Three sights?")
        first = store.add_message(trip.id, "assistant", status="streaming", profile="Groq")
        store.finish_answer(
            first.id,
            content="Belém, Alfama, LX Factory.",
            reasoning="short list",
            status="done",
            usage=Usage(prompt_tokens=21, completion_tokens=9, reasoning_tokens=3),
            ttft_ms=412.5,
            tokens_per_second=88.5,
        )
        # Regenerated: a sibling of the first answer, now the active one.
        again = store.add_message(
            trip.id, "assistant", status="streaming", parent_id=prompt.id, model="m2"
        )
        store.append_partial(again.id, "Sintra <b>palace</b>", "")
        store.finish_answer(
            again.id,
            content="Sintra <b>palace</b>, Jerónimos monastery",
            reasoning="",
            status="done",
            estimated_tokens=7,
        )
        failed = store.add_message(trip.id, "user", "And food?")
        answer = store.add_message(trip.id, "assistant", status="streaming")
        store.finish_answer(
            answer.id,
            content="",
            reasoning="",
            status="failed",
            error=ChatError(ErrorKind.RATE_LIMIT, "Slow down"),
        )
        # An edited prompt beside the one that failed.
        store.add_message(trip.id, "user", "And food, cheaply?", parent_id=failed.parent_id)
        store.add_message(trip.id, "assistant", "Pastéis de nata", status="stopped")

        store.add_message(imported.id, "user", "Naïve question", created_at=1_600_000_001.0)
        store.add_message(imported.id, "assistant", "Crème brûlée", created_at=1_600_000_002.0)

        store.add_message(crash.id, "user", "Tell me a story")
        store.add_message(crash.id, "assistant", "Older", status="interrupted")
        # Left streaming by a crash: content in the row plus parts never folded.
        cut = store.add_message(crash.id, "assistant", "Once", status="streaming", model="m")
        store.append_partial(cut.id, " upon a", "plot")
        store.append_partial(cut.id, " time", " twist")


if __name__ == "__main__":
    make(Path(sys.argv[1]))
