"""Rendering a streaming answer into the chat document: frozen blocks and the open tail,
and the pace of its live figures line.

Each flush of text is one markdown append: blocks that just became final are inserted once,
the open tail replaces the previous tail, nothing before it is touched. A tail render that is
slow (one huge open paragraph or code block) defers the next render by a few times its
duration, so the window stays responsive and the total work stays linear; the text catches
up from a timer.

Several views may stream at once (compare columns; the chat and a comparison). Their renders
in one pass of the event loop add up, and the window would not answer in between. So a view
whose render would come right after other views' renders that already took
SHARED_RENDER_SECONDS waits a couple of milliseconds: input, painting and the other timers get
their turn between the views. While several views in sight stream, each renders about 10
times a second (less when its renders are slow) instead of at every frame, and in two halves:
the markdown at once, the document edit (and the paint after it) at the next turn of the
event loop, so that neither half holds the window more than a few milliseconds; one view
alone is never held back, nor split. A view out of sight (a page behind another in a shown
window) renders once a second (not never: its last render would then be the whole answer at
once), in slices of HIDDEN_SLICE_CHARS a few milliseconds apart (a second of four answers at
full speed is ~5,000 characters: ~20 ms in one render, the window would not answer
meanwhile), and all at once when it is shown or asked for its text.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from PySide6.QtCore import QObject, QTimer

from deltadesk.core.markdown import RenderUpdate
from deltadesk.ui.chat_document import ChatDocument, MessageEntry

# A tail render slower than this defers the next one by RENDER_BACKOFF times its duration.
SLOW_RENDER_SECONDS = 0.012
RENDER_BACKOFF = 3.0
SHARED_RENDER_SECONDS = 0.006
STRETCH_GAP_SECONDS = 0.001  # renders closer than this ran back to back
SHARED_RETRY_MS = 2
HIDDEN_RENDER_SECONDS = 1.0
HIDDEN_SLICE_CHARS = 1500  # at most this much of a hidden view's text in one render (~7 ms)
# While other views stream too, a view renders at most this often (10 Hz): a render and the
# paint after it cost ~7 ms whatever the size of the text (the tail's parse, its insert, the
# layout, painting the viewport), and with several answers at full speed the renders of all
# views would fill the GUI thread (two at 30 Hz: ~40 % of a core).
SHARED_RENDER_INTERVAL_SECONDS = 0.1
# ... and, when its renders take longer (a busy machine, a big tail), at most this share of
# the time: the next one waits this many times as long as the last one took. With the paint
# that follows (about half a render again), each view then keeps the GUI thread ~7 % of the
# time: a render of 5 ms or less keeps the 10 Hz, a 7 ms one (two columns of answers at
# full speed on a slow machine) makes it ~7 Hz.
SHARED_RENDER_FACTOR = 20.0
OTHERS_STREAMING_SECONDS = 0.25  # another view that rendered this recently is still streaming


class _Stretch:
    """The renders of all views that ran back to back, with no gap for the event loop."""

    def __init__(self) -> None:
        self.ended_at = 0.0
        self.spent: dict[int, float] = {}  # seconds, by renderer

    def others(self, renderer: int, now: float) -> float:
        """Seconds the other views rendered in the stretch that `now` would continue."""
        if now - self.ended_at > STRETCH_GAP_SECONDS:
            self.spent.clear()
        return sum(seconds for key, seconds in self.spent.items() if key != renderer)

    def add(self, renderer: int, started: float, ended: float) -> None:
        self.spent[renderer] = self.spent.get(renderer, 0.0) + ended - started
        self.ended_at = ended


_STRETCH = _Stretch()
# The renderers of every view (weakly: a view that is gone streams nothing).
_RENDERERS: weakref.WeakSet[TailRenderer] = weakref.WeakSet()


def _others_streaming(renderer: TailRenderer, now: float) -> bool:
    """Whether another view in sight streams an answer too (it rendered one a moment ago)."""
    recent = now - OTHERS_STREAMING_SECONDS
    return any(
        other is not renderer and other.streaming_ids and other.seen_render_at > recent
        for other in _RENDERERS
    )


class TailRenderer(QObject):
    """Renders the streaming answers of one chat document; `rendered()` runs after each
    render (the view keeps following the text)."""

    def __init__(
        self,
        chat: ChatDocument,
        rendered: Callable[[], None],
        out_of_sight: Callable[[], bool],
        parent: QObject,
        repainting: Callable[[int], AbstractContextManager[None]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._chat = chat
        # Around each render's edit, from its first position on (tail_repaint.py: only what
        # changed is painted again).
        self._repainting = repainting or (lambda _position: nullcontext())
        self._rendered = rendered
        self._out_of_sight = out_of_sight
        self._deferred_ids: set[int] = set()  # messages with text waiting for a render
        self._unseen_ids: set[int] = set()  # the same, waiting for the view to be shown
        self.streaming_ids: set[int] = set()  # answers given text and not frozen yet
        self.seen_render_at = 0.0  # the last render while in sight
        self._render_seconds: dict[int, float] = {}  # how long each answer's last render took
        _RENDERERS.add(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._render_deferred)
        # Renders parsed and not yet in the document (see render_pending's `split`): message
        # id → (its entry, the update, the seconds its markdown took).
        self._held: dict[int, tuple[MessageEntry, RenderUpdate, float]] = {}
        self._held_timer = QTimer(self)
        self._held_timer.setSingleShot(True)
        self._held_timer.timeout.connect(self._apply_held)

    def clear(self) -> None:
        self._held.clear()
        self._deferred_ids.clear()
        self._unseen_ids.clear()
        self.streaming_ids.clear()
        self._render_seconds.clear()

    def shown(self) -> None:
        """The view is on screen again: what came while it was hidden is rendered."""
        for message_id in list(self._unseen_ids):
            self.catch_up(message_id)

    def catch_up(self, message_id: int) -> None:
        """Renders a message's text held back while the view was hidden (it is asked for)."""
        self.apply_held(message_id)
        if message_id not in self._unseen_ids:
            return
        self._unseen_ids.discard(message_id)
        entry = self._chat.entries.get(message_id)
        if entry is not None and entry.markdown is not None and entry.pending:
            self.render_pending(entry)

    def add(self, entry: MessageEntry, text: str) -> None:
        """Queues text for the answer and renders it now, or later after a slow render."""
        entry.pending.append(text)
        self.streaming_ids.add(entry.message_id)
        now = time.monotonic()
        wait = entry.render_not_before - now
        shared = False  # other views in sight stream too
        if self._out_of_sight():
            wait = max(wait, entry.rendered_at + HIDDEN_RENDER_SECONDS - now)
            if wait > 0:
                self._unseen_ids.add(entry.message_id)
        else:
            shared = _others_streaming(self, now)
            if shared:
                took = self._render_seconds.get(entry.message_id, 0.0)
                interval = max(SHARED_RENDER_INTERVAL_SECONDS, took * SHARED_RENDER_FACTOR)
                wait = max(wait, entry.rendered_at + interval - now)
            if wait <= 0 and self._others_took_the_time(now):
                wait = SHARED_RETRY_MS / 1000
        if wait > 0:
            self._defer(entry.message_id, wait)
            return
        self.render_pending(entry, split=shared)

    def _others_took_the_time(self, now: float) -> bool:
        return _STRETCH.others(id(self), now) > SHARED_RENDER_SECONDS

    def _defer(self, message_id: int, wait: float) -> None:
        self._deferred_ids.add(message_id)
        if not self._timer.isActive():
            self._timer.start(max(1, int(wait * 1000)))

    def render_pending(
        self, entry: MessageEntry, most: int | None = None, *, split: bool = False
    ) -> None:
        """Renders the text that arrived since the last render (one markdown append), or
        its first pieces up to about `most` characters (at least one piece). `split`: the
        markdown now, the document edit (and the paint after it) at the next turn of the
        event loop, so that input and timers get theirs between the two halves (several
        views streaming at once: a render of a second of text took 10-15 ms in one go)."""
        assert entry.markdown is not None
        started = time.monotonic()
        update = entry.markdown.append(_take_pending(entry, most))
        if split:
            self._hold(entry, update, time.monotonic() - started)
            return
        self._apply(entry, update, started)

    def _hold(self, entry: MessageEntry, update: RenderUpdate, seconds: float) -> None:
        held = self._held.get(entry.message_id)
        if held is not None:  # parsed twice before its edit: one edit does both
            frozen = held[1].frozen_html + update.frozen_html
            update, seconds = RenderUpdate(frozen, update.tail_html), held[2] + seconds
        self._held[entry.message_id] = (entry, update, seconds)
        now = time.monotonic()
        _STRETCH.add(id(self), now - seconds, now)
        entry.rendered_at = self.seen_render_at = now  # for the pace: it has rendered
        if not self._held_timer.isActive():
            self._held_timer.start(0)

    def apply_held(self, message_id: int) -> None:
        """Puts a parsed render of this message into the document now (it is asked for)."""
        held = self._held.pop(message_id, None)
        if held is not None and self._chat.entries.get(message_id) is held[0]:
            entry, update, seconds = held
            self._apply(entry, update, time.monotonic(), seconds)

    def _apply_held(self) -> None:
        for message_id in list(self._held):
            self.apply_held(message_id)

    def _apply(
        self, entry: MessageEntry, update: RenderUpdate, started: float, parsed_s: float = 0.0
    ) -> None:
        """The document edit of a render (`parsed_s`: what its markdown took before)."""
        assert entry.markdown is not None
        with self._repainting(self._tail_start(entry)):
            self._chat.apply_render(entry, update, final=False)
        entry.tail_html = update.tail_html
        entry.code_blocks = entry.markdown.code_blocks
        self._rendered()
        ended = time.monotonic()
        entry.rendered_at = ended
        self._unseen_ids.discard(entry.message_id)
        _STRETCH.add(id(self), started, ended)
        if not self._out_of_sight():  # one out of sight renders once a second only
            self.seen_render_at = ended
        elapsed = ended - started + parsed_s
        self._render_seconds[entry.message_id] = elapsed
        if elapsed > SLOW_RENDER_SECONDS:
            entry.render_not_before = ended + elapsed * RENDER_BACKOFF

    def freeze(self, entry: MessageEntry) -> None:
        """The last render of a stream: everything becomes frozen HTML."""
        assert entry.markdown is not None
        self.apply_held(entry.message_id)
        self.streaming_ids.discard(entry.message_id)
        self._render_seconds.pop(entry.message_id, None)
        frozen = ""
        if entry.pending:
            frozen = entry.markdown.append("".join(entry.pending)).frozen_html
            entry.pending.clear()
            entry.tail_html = None
        final = entry.markdown.finish()
        if not frozen and final.frozen_html and final.frozen_html == entry.tail_html:
            # The tail on screen is already exactly the final HTML: laying a long tail out
            # again would cost as much as the first time, for nothing.
            self._chat.freeze_tail(entry)
            return
        with self._repainting(self._tail_start(entry)):
            self._chat.apply_render(entry, RenderUpdate(frozen + final.frozen_html, ""), final=True)

    def _tail_start(self, entry: MessageEntry) -> int:
        return entry.answer.firstPosition() + entry.tail_offset

    def _render_deferred(self) -> None:
        if self._others_took_the_time(time.monotonic()):
            self._timer.start(SHARED_RETRY_MS)  # another view just rendered: after it
            return
        most = HIDDEN_SLICE_CHARS if self._out_of_sight() else None
        split = most is None and _others_streaming(self, time.monotonic())
        for message_id in list(self._deferred_ids):
            entry = self._chat.entries.get(message_id)
            if entry is not None and entry.markdown is not None and entry.pending:
                self.render_pending(entry, most, split=split)
            if entry is None or entry.markdown is None or not entry.pending:
                self._deferred_ids.discard(message_id)
        if self._deferred_ids:  # slices of a hidden view's text still to come
            self._timer.start(SHARED_RETRY_MS)


def _take_pending(entry: MessageEntry, most: int | None) -> str:
    """The pending text to render now, removed from entry.pending: all of it, or whole
    pieces from the start up to about `most` characters (a piece is a frame's text)."""
    pending = entry.pending
    if most is None or sum(map(len, pending)) <= most:
        text = "".join(pending)
        pending.clear()
        return text
    count, size = 0, 0
    while count < len(pending) and (count == 0 or size + len(pending[count]) <= most):
        size += len(pending[count])
        count += 1
    text = "".join(pending[:count])
    del pending[:count]
    return text


# While an answer streams its figures change every frame; a few updates a second can be read
# (a number changing 30 times a second cannot) and cost less.
FIGURES_INTERVAL_SECONDS = 0.25


class FiguresPacer(QObject):
    """Shows the figures lines of streaming answers at most every FIGURES_INTERVAL_SECONDS;
    the latest text always shows in the end (the last update is kept, never dropped)."""

    def __init__(self, chat: ChatDocument, rendered: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._chat = chat
        self._rendered = rendered
        self._due: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._show_due)

    def show(self, entry: MessageEntry) -> None:
        """Shows entry.figures now, or soon when the line changed a moment ago."""
        wait = entry.figures_shown_at + FIGURES_INTERVAL_SECONDS - time.monotonic()
        if entry.markdown is None or wait <= 0:
            self._render(entry)
            return
        self._due.add(entry.message_id)
        if not self._timer.isActive():
            self._timer.start(max(1, int(wait * 1000)))

    def clear(self) -> None:
        self._due.clear()

    def _render(self, entry: MessageEntry) -> None:
        entry.figures_shown_at = time.monotonic()
        self._chat.render_footer(entry)
        self._rendered()

    def _show_due(self) -> None:
        due, self._due = self._due, set()
        for message_id in due:
            entry = self._chat.entries.get(message_id)
            if entry is not None:
                self._render(entry)
