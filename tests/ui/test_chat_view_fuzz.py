"""The hostile-alphabet fuzz, through the real view (offscreen): streamed in random chunks,
an answer shows the same text and block structure as the same answer stored, and nothing
raises. The example budget comes from the hypothesis profile (`ci` in `make test`)."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication

from deltadesk.ui.chat_view import ChatView, MessageView
from tests.core.test_markdown_fuzz import _hostile_chunks


def _blocks(document: QTextDocument, start: int, end: int) -> list[str]:
    block, texts = document.findBlock(start), []
    while block.isValid() and block.position() <= end:
        texts.append(block.text())
        block = block.next()
    return texts


@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(_hostile_chunks())
@example(("> " * 40 + "deep\n\n" + "a" * 200, ["> " * 20, "> " * 20 + "deep\n\n", "a" * 200]))
def test_hostile_text_streams_to_what_the_stored_answer_shows(
    qapp: QApplication, case: tuple[str, list[str]]
) -> None:
    text, chunks = case
    view = ChatView()
    try:
        view.resize(600, 400)
        view.add_message(MessageView(1, "assistant", text))
        view.begin_streaming(2)
        for chunk in chunks:
            view.append_text(2, chunk)
        view.end_streaming(2, "done")
        assert view.message_plain_text(2) == view.message_plain_text(1)
        document = view.document()
        assert _blocks(document, *view.answer_span(2)) == _blocks(document, *view.answer_span(1))
    finally:
        view.deleteLater()
