"""The small lines around a message in the chat document: header, note and figures.

- The header line: the role ("You", "Assistant"), then, when the message has siblings
  (regenerated answers, edited prompts, compared answers), a "◀ 2/3 ▶" switcher whose arrows
  are links (plain, dim text at either end), the time it was written, and Edit on a prompt.
- The note under an answer that did not end well (stopped, interrupted, failed): the error
  beside the text, never in it, with Continue or Retry.
- The figures line under an answer: one dim plain-text line ("model · first token 812 ms ·
  41 tok/s · 230 tokens · done"), followed by Copy answer and Regenerate once the answer has
  ended.

Every size of these lines is multiplied by the view's zoom (`look.zoom`, see
document_zoom.py). (While the conversation streams, the view draws Edit, Regenerate, Continue
and Retry dim and refuses them: busy_links.py.)

The header and the figures line are rewritten where they are, so an update (the figures
change about once a second while an answer streams) adds no frame once the line exists: each
added or removed frame makes QTextDocument rescan every frame of the conversation. (A note
changes only when the status does.) Outside text (a model name in the
figures) goes in with insertText: it is never read as HTML.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from PySide6.QtGui import (
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrame,
)

from deltadesk.core.markdown import sanitize
from deltadesk.ui import theme
from deltadesk.ui.document_regions import remove_frame, shrink_block_at
from deltadesk.ui.document_zoom import zoomed
from deltadesk.ui.plain_text import one_line

if TYPE_CHECKING:
    from deltadesk.ui.chat_document import MessageEntry

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}
# Answers that may be answered again as a new sibling. A failed one offers Retry in its note
# instead (the same request), so it gets no second link here.
REGENERATE_STATUSES = frozenset({"done", "stopped", "interrupted"})
STATUSES_WITH_NOTES = frozenset({"failed", "interrupted", "stopped"})
# A failed answer is tried again (Retry); a cut-off one goes on where it ended (Continue), and
# is answered anew with Regenerate on its figures line.
NOTE_ACTIONS = {"failed": ["Retry"], "interrupted": ["Continue"], "stopped": ["Continue"]}
MAX_FIGURES_CHARS = 300
GAP = "    "


class Look(Protocol):
    """How the document shows its parts (ChatDocument is one)."""

    show_actions: bool  # Edit, Regenerate, ...: off in a compare column
    zoom: float  # 1.0: normal sizes


def action_link(look: Look, action: str, message_id: int, *, small: bool = True) -> QTextCharFormat:
    """The format of an action link (at the zoom)."""
    href = f"{action}:{message_id}"
    link = theme.small_link_char_format(href) if small else theme.link_char_format(href)
    return zoomed(link, look.zoom)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.capitalize())


def render_header(document: QTextDocument, entry: MessageEntry, look: Look) -> None:
    """Rewrites the message's header line (its first block) in place."""
    actions, zoom = look.show_actions, look.zoom
    block = document.findBlock(entry.frame.firstPosition())
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    cursor.setPosition(block.position())
    cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    cursor.insertText(role_label(entry.role), zoomed(theme.header_char_format(entry.role), zoom))
    detail = zoomed(theme.header_detail_char_format(), zoom)
    if actions and entry.sibling_count > 1:
        cursor.insertText(GAP, detail)
        _insert_switcher(cursor, entry, look)
    if entry.created_at:
        cursor.insertText(GAP + _time_text(entry.created_at), detail)
    if actions and entry.role == "user":
        cursor.insertText(GAP, detail)
        cursor.insertText("Edit", action_link(look, "edit", entry.message_id))
    cursor.endEditBlock()


def _insert_switcher(cursor: QTextCursor, entry: MessageEntry, look: Look) -> None:
    """◀ index/count ▶; an arrow that leads nowhere is dim text, not a link."""
    detail = zoomed(theme.header_detail_char_format(), look.zoom)
    index, count, message_id = entry.sibling_index, entry.sibling_count, entry.message_id
    if index > 1:
        cursor.insertText("◀", action_link(look, "branch-prev", message_id))
    else:
        cursor.insertText("◀", detail)
    cursor.insertText(f" {index}/{count} ", detail)
    if index < count:
        cursor.insertText("▶", action_link(look, "branch-next", message_id))
    else:
        cursor.insertText("▶", detail)


def _time_text(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def full_time_text(timestamp: float) -> str:
    """The local date and time a message was written, for its header's tooltip."""
    return datetime.fromtimestamp(timestamp).strftime("%A %d %B %Y, %H:%M:%S")


def footer_actions(entry: MessageEntry, *, actions: bool) -> list[tuple[str, str]]:
    """The links after an answer's figures: (action, label)."""
    if not actions or entry.role != "assistant" or entry.markdown is not None:
        return []
    links = [("copy-answer", "Copy answer")] if entry.paging.total else []
    if entry.status in REGENERATE_STATUSES:
        links.append(("regenerate", "Regenerate"))
    return links


def render_footer(document: QTextDocument, entry: MessageEntry, look: Look) -> None:
    """Shows, rewrites or removes the figures line under an answer (the last part of the
    message box, below any note)."""
    figures = one_line(entry.figures, MAX_FIGURES_CHARS).strip()
    links = footer_actions(entry, actions=look.show_actions)
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    try:
        if not figures and not links:
            if entry.footer is not None:
                remove_frame(document, entry.footer)
                entry.footer = None
            return
        if entry.footer is None:
            cursor.setPosition(entry.frame.lastPosition())  # the gap at the end of the box
            entry.footer = cursor.insertFrame(theme.waiting_frame_format())
            shrink_block_at(document, entry.footer.lastPosition() + 1)
        cursor.setPosition(entry.footer.firstPosition())
        cursor.setPosition(entry.footer.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())
        text_format = zoomed(theme.figures_char_format(), look.zoom)
        cursor.insertText(figures, text_format)
        for number, (action, label) in enumerate(links):
            cursor.insertText(GAP if figures or number else "", text_format)
            cursor.insertText(label, action_link(look, action, entry.message_id))
    finally:
        cursor.endEditBlock()


def create_note(
    document: QTextDocument,
    entry: MessageEntry,
    error: tuple[str | None, str | None],
    look: Look,
) -> QTextFrame:
    """The note frame under the answer for entry.status; error is (kind, message)."""
    status = entry.status
    error_kind, error_message = error
    cursor = QTextCursor(document)
    # The gap block below the answer, or below the "Showing … of …" line.
    below = entry.more if entry.more is not None else entry.answer
    cursor.setPosition(below.lastPosition() + 1)
    frame = cursor.insertFrame(theme.note_frame_format(status))
    shrink_block_at(document, frame.lastPosition() + 1)
    cursor.setBlockFormat(QTextBlockFormat())
    text_format = zoomed(theme.note_char_format(status), look.zoom)
    cursor.insertText(_note_text(status, error_kind, error_message), text_format)
    for action in NOTE_ACTIONS.get(status, []) if look.show_actions else []:
        cursor.insertText("    ", text_format)
        cursor.insertText(action, action_link(look, action.lower(), entry.message_id, small=False))
    return frame


def _note_text(status: str, error_kind: str | None, error_message: str | None) -> str:
    detail = sanitize(error_message or "").strip()
    if status == "stopped":
        # A stop by the user says only that; one by a limit says which ("Stopped: the
        # answer passed the 10 MB limit.").
        return detail or "Stopped"
    if status == "interrupted":
        return "⚠  The answer was cut off" + (f": {detail}" if detail else ".")
    kind = f" ({error_kind.replace('_', ' ')})" if error_kind else ""
    return "⚠  " + (detail or f"The request failed{kind}.")


def header_tooltip(chat: ChatParts, block: QTextBlock) -> str | None:
    """The local date and time a message was written, when `block` is its header line."""
    for entry in chat.entries.values():
        if entry.frame.firstPosition() == block.position():
            return full_time_text(entry.created_at) if entry.created_at else None
    return None


class ChatParts(Protocol):
    @property
    def entries(self) -> dict[int, MessageEntry]: ...
