"""The chat view's browser side: what it loads, which links it follows, what a copy gives.

- It loads no resources: no remote images, no local files, whatever the document names
  (markdown never makes an <img>; this holds even if some HTML ever does).
- Links: the view's own actions (copy:, retry:, show-more:…) go to the view; web and plain
  mail links open on the desktop, after a question when the link's text names another host
  (chat_links.py); anything else is ignored. Hovering a link shows where it goes.
- A copied selection is the text itself, without the zero-width break points the renderer
  puts into long words; copied code leaves out invisible and direction-changing characters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QPoint, QUrl, Signal
from PySide6.QtGui import (
    QCursor,
    QDesktopServices,
    QGuiApplication,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QTextDocument,
)
from PySide6.QtWidgets import QTextBrowser, QToolTip, QWidget

from deltadesk.core.markdown_safety import remove_breaks, strip_invisible
from deltadesk.ui import chat_links
from deltadesk.ui.plain_text import plain_tooltip

log = logging.getLogger(__name__)

EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})
MESSAGE_ACTIONS = frozenset(
    {
        "retry",
        "continue",
        "regenerate",
        "edit",
        "branch-prev",
        "branch-next",
        "toggle-reasoning",
        "show-more",
        "open-text",
        "copy-answer",
    }
)
NOT_OPENED_NOTE = "  (not opened: only web links and plain mail addresses are)"


class ChatBrowser(QTextBrowser):
    """A QTextBrowser that is safe to show untrusted rich text in."""

    link_hovered = Signal(str)  # the target of the link under the pointer; "" when it leaves

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        # Replaceable so tests (and embedders) can answer without a dialog: (host named in
        # the link's text, the link) -> open it?
        self.confirm_open: Callable[[str, QUrl], bool] = self._ask_before_opening
        self._click_position: QPoint | None = None
        self.anchorClicked.connect(self._on_anchor_clicked)
        self.highlighted.connect(self._on_link_hovered)

    # --- what the view provides -----------------------------------------------------------

    def message_action(self, action: str, message_id: int) -> None:
        """One of MESSAGE_ACTIONS (retry, continue, regenerate, edit, ...) for one message."""

    def code_block(self, message_id: int, index: int) -> str | None:
        """The raw text of a message's code block `index`, if there is one."""
        return None

    def tooltip_at(self, position: QPoint) -> str | None:
        """Plain text to show over this point of the viewport (a message's time), if any."""
        return None

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), plain_tooltip(text), self.viewport())
                return True
        return super().viewportEvent(event)

    # --- resources ------------------------------------------------------------------------

    def loadResource(self, type: int, name: QUrl | str) -> object:
        """Loads nothing: no remote images, no local files, whatever the document asks for.

        The answer must not be "nothing" (None): then QTextDocument and Qt's image handler
        fall back to reading a local file of that name themselves (`<img src="/dev/zero">`
        exhausts memory). A null image, or empty data for anything else, ends the search.
        """
        if type == QTextDocument.ResourceType.ImageResource.value:
            return QImage()
        return QByteArray()

    # --- links ----------------------------------------------------------------------------

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        target = url.path()
        if scheme == "copy":
            self._copy_code(target)
        elif scheme in MESSAGE_ACTIONS:
            if target.isdigit():
                self.message_action(scheme, int(target))
        elif scheme in EXTERNAL_SCHEMES and chat_links.may_open(url):
            self._open_external(url)
        else:
            log.info("ignored a link with scheme %r", scheme)

    def _open_external(self, url: QUrl) -> None:
        """Opens a web or mail link; asks first when its text names another host."""
        named = chat_links.mismatched_host(self._clicked_anchor_text(url), url)
        if named is not None and not self.confirm_open(named, url):
            return
        QDesktopServices.openUrl(url)

    def _ask_before_opening(self, named: str, url: QUrl) -> bool:
        return chat_links.ask_before_opening(self, named, url)

    def _clicked_anchor_text(self, url: QUrl) -> str:
        """The visible text of the link just activated (by the mouse; or by the keyboard,
        which selects the link it activates)."""
        position = self._click_position
        self._click_position = None
        if position is None:
            return self.textCursor().selectedText()
        cursor = self.cursorForPosition(position)
        href = url.toString()
        texts: list[str] = []
        iterator = cursor.block().begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.charFormat().anchorHref() == href:
                texts.append(fragment.text())
            elif texts and fragment.position() > cursor.position():
                break  # the run of this link ended after the click
            elif texts:
                texts.clear()  # an earlier link with the same target: not the one clicked
            iterator += 1
        return "".join(texts)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._click_position = event.position().toPoint()  # anchorClicked follows from here
        super().mouseReleaseEvent(event)
        self._click_position = None

    def _on_link_hovered(self, url: QUrl) -> None:
        """Shows where a link goes: its visible text may say something else."""
        if url.isEmpty() or url.scheme().lower() not in EXTERNAL_SCHEMES:
            QToolTip.hideText()
            self.link_hovered.emit("")
            return
        target = chat_links.shown_url(url)
        if not chat_links.may_open(url):
            target += NOT_OPENED_NOTE
        QToolTip.showText(QCursor.pos(), plain_tooltip(target), self.viewport())
        self.link_hovered.emit(target)

    # --- copying --------------------------------------------------------------------------

    def createMimeDataFromSelection(self) -> QMimeData:
        """A copied selection is the text itself, without the view's break points."""
        data = super().createMimeDataFromSelection()
        if data.hasText():
            data.setText(remove_breaks(data.text()))
        if data.hasHtml():
            data.setHtml(remove_breaks(data.html()))
        return data

    def _copy_code(self, target: str) -> None:
        message_part, _, index_part = target.partition(".")
        if not (message_part.isdigit() and index_part.isdigit()):
            return
        code = self.code_block(int(message_part), int(index_part))
        if code is None:
            return
        # Bidi controls and zero-width characters could make the pasted code do something
        # other than what it showed: they are marked in the view and left out here.
        QGuiApplication.clipboard().setText(strip_invisible(code))
        QToolTip.showText(QCursor.pos(), "Copied", self)
