"""Compare against one server (three profiles of one endpoint, as with the demo): stopping
one column leaves the other two streaming to their end. Seen once in a real window: after
one column's Stop the other two stopped receiving text; this checks it on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

from deltadesk.core.profiles import Profile
from tests.test_controller import shell
from tests.test_sessions import Received, until, words

__all__ = ["shell"]

WORDS = 400


def test_stopping_one_column_leaves_the_others_to_finish(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(words("w", count=WORDS, delay=0.002))
    profiles = [
        Profile(name=name, base_url=server.base_url, model="m", max_attempts=1)
        for name in ("A", "B", "C")
    ]
    received = Received(shell)
    controller = shell.controller

    async def compare_stop_one_then_wait() -> list[str | None]:
        task = asyncio.ensure_future(controller.compare(None, "go", profiles))
        await until(lambda: len(received.texts) == 3 and all(received.texts.values()))
        third = sorted(received.texts)[-1]
        controller.stop_message(third)
        return list(await asyncio.wait_for(task, 30))

    statuses = qt_loop.run_until_complete(compare_stop_one_then_wait())
    assert statuses == ["done", "done", "stopped"]
    first, second = sorted(received.texts)[:2]
    expected = "".join(f"w{n} " for n in range(WORDS))
    assert "".join(received.texts[first]) == expected
    assert "".join(received.texts[second]) == expected
