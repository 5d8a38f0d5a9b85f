"""Each answer keeps its own figures (model, first token, tokens/s, tokens, status): stored on
the message when it ends, and sent with its id while it streams. Real server, real SQLite."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from deltadesk.figures import live_figures, message_figures
from tests.sse_script import answer_chunks, streaming, usage_chunk
from tests.test_controller import shell, stored, use_server

__all__ = ["shell"]

WORDS = [f"w{i} " for i in range(20)]


def record_figures(shell: Any) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    shell.controller.figures_changed.connect(
        lambda mid, stats: seen.append((mid, live_figures(stats)))
    )
    return seen


def test_an_answer_with_usage_stores_its_figures(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming([*answer_chunks(WORDS), usage_chunk(7, 23)], delay=0.01))
    use_server(shell, server, model="model-a")
    seen = record_figures(shell)
    assert qt_loop.run_until_complete(shell.controller.send(None, "count")) == "done"
    answer = stored(shell)[-1]
    assert (answer.prompt_tokens, answer.completion_tokens) == (7, 23)
    assert answer.estimated_tokens is None  # the provider counted
    assert answer.ttft_ms is not None and answer.tokens_per_second is not None
    assert answer.tokens_per_second > 0
    line = message_figures(answer)
    assert line.startswith("model-a · first token ")
    assert line.endswith(" tok/s · 23 tokens · done")
    assert seen and {mid for mid, _line in seen} == {answer.id}  # sent with its message id
    assert seen[0][1].endswith(" · streaming")
    assert seen[-1][1] == line  # the last one sent is the one stored
    assert [text for _mid, text in seen].count(line) == 1  # the end is said once


def test_an_answer_without_usage_stores_the_deltas_counted(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(WORDS), delay=0.01))
    use_server(shell, server, include_usage=False)
    assert qt_loop.run_until_complete(shell.controller.send(None, "count")) == "done"
    answer = stored(shell)[-1]
    assert answer.completion_tokens is None
    assert answer.estimated_tokens == len(WORDS)
    assert message_figures(answer).endswith(f" tok/s · ~{len(WORDS)} tokens · done")


def test_the_figures_line_is_one_clean_line(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["hi"])))
    use_server(shell, server, model="evil\x1b[31m\nmodel")
    assert qt_loop.run_until_complete(shell.controller.send(None, "hi")) == "done"
    answer = stored(shell)[-1]
    line = message_figures(answer)
    assert "\x1b" not in line and "\n" not in line
    assert message_figures(stored(shell)[0]) == ""  # a prompt has none
    assert message_figures(replace(answer, status="stopped")).endswith(" · stopped")


def test_an_answer_sent_in_big_deltas_is_estimated_by_its_length(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    """A server that sends its text in batches (here 2 deltas of 400 characters) is not
    counted as 2 tokens: a delta longer than any token counts about four characters each."""
    batches = ["word " * 80, "more " * 80]
    server = serve(streaming(answer_chunks(batches)))
    use_server(shell, server, include_usage=False)
    assert qt_loop.run_until_complete(shell.controller.send(None, "count")) == "done"
    answer = stored(shell)[-1]
    assert answer.estimated_tokens == 200  # 800 characters / 4
    assert message_figures(answer).endswith(" tok/s · ~200 tokens · done")
