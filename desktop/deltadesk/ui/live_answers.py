"""The chat view's streaming answers: begin, text and reasoning as they come, the waiting
line before the first token, the end. A part of ChatView (chat_view.py), kept apart for its
size; it uses the view's document, renderers and scrolling.

Nothing here does more per streamed flush than hand the text on: the tail renderer decides
when it is laid out.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from deltadesk.core.markdown import IncrementalMarkdown, sanitize
from deltadesk.ui.chat_document import ChatDocument, MessageEntry
from deltadesk.ui.reasoning_parts import reasoning_title

if TYPE_CHECKING:
    from deltadesk.ui.older_messages import OlderMessages
    from deltadesk.ui.tail_renderer import TailRenderer

log = logging.getLogger(__name__)


class LiveAnswers:
    """Mixed into ChatView (before its browser base)."""

    keep_reasoning_open: bool
    _chat: ChatDocument
    _older: OlderMessages
    _tail: TailRenderer
    _streaming_id: int | None
    _following: bool
    more_below: bool

    if TYPE_CHECKING:  # what the view provides (defined there: not overridden here)

        def _keep_following(self) -> None: ...  # FollowingBrowser's
        def _update_jump_button(self) -> None: ...
        def _find(self, message_id: int) -> MessageEntry | None: ...  # ChatView's

    def begin_streaming(self, message_id: int) -> None:
        """Appends an empty assistant message that will stream (or restarts a shown one)."""
        self._older.discard(message_id)
        siblings, written = (1, 1), time.time()
        if message_id in self._chat.entries:  # a restart keeps its place among its siblings
            old = self._chat.entries[message_id]
            siblings, written = (old.sibling_index, old.sibling_count), old.created_at
            self._chat.remove_message(message_id)
        entry = self._chat.create_message(message_id, "assistant")
        entry.sibling_index, entry.sibling_count = siblings
        entry.created_at = written  # the time in its header, as a stored answer has
        self._chat.render_header(entry)
        entry.markdown = IncrementalMarkdown()
        self._streaming_id = message_id
        self._update_jump_button()
        self._keep_following()

    def append_text(self, message_id: int, text: str) -> None:
        entry = self._streaming_entry(message_id)
        if entry is None or entry.markdown is None or not text:
            return
        if entry.waiting is not None:
            self._chat.set_waiting(entry, None)
        if not entry.answer_started and text.strip():
            entry.answer_started = True
            self._fold_reasoning_when_answer_starts(entry)
        text = entry.paging.take(text)  # past a page, the text is kept but not laid out
        if entry.paging.cut:
            self._chat.show_more_line(entry)
        if not text:
            return
        self._tail.add(entry, text)

    def append_reasoning(self, message_id: int, text: str) -> None:
        entry = self._streaming_entry(message_id)
        text = sanitize(text)
        if entry is None or not text:
            return
        if entry.waiting is not None:
            self._chat.set_waiting(entry, None)
        if entry.reasoning is None:
            entry.reasoning = self._chat.add_reasoning(entry, is_open=True, streaming=True)
            self._chat.render_reasoning(entry)
        entry.reasoning.add(text)
        if entry.reasoning.is_open:
            self._chat.append_reasoning_text(entry.reasoning, text)
        self._keep_following()

    def end_streaming(
        self,
        message_id: int,
        status: str,
        error_kind: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Freezes the answer; status is done, stopped, failed or interrupted."""
        entry = self._find(message_id)
        if entry is None:
            return
        if entry.waiting is not None:
            self._chat.set_waiting(entry, None)
        if entry.markdown is not None:
            self._tail.freeze(entry)
            entry.code_blocks = entry.markdown.code_blocks
            entry.markdown = None
            self._chat.shrink_if_empty(entry)
            self._chat.show_more_line(entry)
        if entry.reasoning is not None and entry.reasoning.streaming:
            entry.reasoning.streaming = False
            entry.reasoning.is_open = self.keep_reasoning_open
            self._chat.render_reasoning(entry)
        self._chat.set_note(entry, status, error_kind, error_message)
        if self._streaming_id == message_id:
            self._streaming_id = None
        if not self._following:
            self.more_below = True  # "Jump to latest" stays, and says the answer ended
        self._update_jump_button()
        self._keep_following()

    def is_streaming(self) -> bool:
        return self._streaming_id is not None

    def set_waiting_note(self, message_id: int, note: str | None) -> None:
        """A dim plain-text line in the answer's place while it has no text yet, e.g.
        "waiting for the first token · 12 s". None removes it; so do the first text or
        reasoning and end_streaming. A message that already shows text gets no line."""
        entry = self._chat.entries.get(message_id)
        if entry is None:
            return
        if note is not None and (entry.answer_started or entry.reasoning is not None):
            note = None
        self._chat.set_waiting(entry, note)
        self._keep_following()

    def set_thought_for(self, message_id: int, ms: float) -> None:
        """How long the model thought before this answer ("Thought for 3.2 s")."""
        entry = self._chat.entries.get(message_id)
        if entry is None or entry.reasoning is None:
            return
        before = reasoning_title(entry.reasoning)
        entry.reasoning.ms = ms
        if reasoning_title(entry.reasoning) != before:
            self._chat.render_reasoning_title(entry)

    def _streaming_entry(self, message_id: int) -> MessageEntry | None:
        entry = self._chat.entries.get(message_id)
        if entry is None:
            log.debug("text for message %s, which is not shown", message_id)
        return entry

    def _fold_reasoning_when_answer_starts(self, entry: MessageEntry) -> None:
        reasoning = entry.reasoning
        if reasoning is None or not reasoning.is_open or self.keep_reasoning_open:
            return
        reasoning.is_open = False
        reasoning.streaming = False  # the thinking phase is over: "Thought for 3.2 s"
        self._chat.render_reasoning(entry)
