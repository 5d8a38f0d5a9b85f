"""`deltadesk --self-test`: one demo answer through the real window, controller and store."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deltadesk.shell import Deltadesk

SELF_TEST_PROMPT = "Self-test: show me a short code example."
TIME_LIMIT_S = 60.0


async def self_test(shell: Deltadesk) -> str | None:
    """Returns None when all is well, else what went wrong."""
    shell.window.show()
    controller = shell.controller
    try:
        status = await asyncio.wait_for(controller.send(SELF_TEST_PROMPT), TIME_LIMIT_S)
    except TimeoutError:
        return f"the demo answer did not finish within {TIME_LIMIT_S:g} s"
    if status != "done":
        return f"the answer ended as {status!r}"
    conversation_id = controller.conversation_id
    assert conversation_id is not None
    stored = shell.services.store.messages(conversation_id)
    if [m.role for m in stored] != ["user", "assistant"]:
        return f"expected a prompt and an answer in the history, found {len(stored)} messages"
    answer = stored[-1]
    if answer.status != "done" or not answer.content.strip():
        return f"the stored answer is {answer.status!r} with {len(answer.content)} characters"
    if not answer.completion_tokens:
        return "no token usage was recorded"
    rendered = shell.view.message_plain_text(answer.id)
    missing = [word for word in last_words(answer.content) if word not in rendered]
    if missing:
        return f"the rendered answer lacks the end of the text: {missing}"
    return None


def last_words(markdown: str, count: int = 5) -> list[str]:
    """The last few plain words of a markdown text: they must be on screen once it ends."""
    return re.findall(r"[A-Za-z0-9]{3,}", markdown)[-count:]
