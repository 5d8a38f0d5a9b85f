"""Which links of an answer may be opened, and when to ask first.

Model output is untrusted: a link's visible text may name one site while its target is
another ("[https://bank.example](https://evil.example)"), and `mailto:?attach=/etc/passwd`
asks a mail client to attach a local file. So:

- only http and https links with a host, and mailto links with an address and nothing else
  (no query at all: `attach`, `cc`, `bcc`, even a prefilled `subject`/`body` are the sender's
  words put in the user's mouth; an address is all a chat answer needs) are opened;
- the view shows a link's target while the pointer is on it;
- a link whose text names a host other than its target's asks before it opens.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox, QWidget

from deltadesk.core.markdown_safety import is_plain_mailto, strip_invisible
from deltadesk.ui.plain_text import plain_message_box

WEB_SCHEMES = frozenset({"http", "https"})
# A host named in a link's text: "example.org", "https://www.example.org/x", "a.b.example".
_HOST_IN_TEXT = re.compile(
    r"^\s*(?:[a-z][a-z0-9+.-]*://)?(?:[^\s/@]*@)?(?P<host>[^\s/:?#@]+\.[^\s/:?#@]+)",
    re.IGNORECASE,
)
MAX_SHOWN_URL_CHARS = 300


def may_open(url: QUrl) -> bool:
    """True for the links the view hands to the desktop (browser or mail client)."""
    if not url.isValid():
        return False
    scheme = url.scheme().lower()
    if scheme in WEB_SCHEMES:
        return bool(url.host())
    if scheme == "mailto":
        return is_plain_mailto(url.toString())
    return False


def host_named_in(text: str) -> str | None:
    """The host a link's visible text names, if it looks like an address at all."""
    match = _HOST_IN_TEXT.match(text)
    if match is None:
        return None
    host = match["host"].rstrip(".").lower()
    # "e.g." or "v1.2" are not hosts: a host's last label has a letter.
    last_label = host.rsplit(".", 1)[-1]
    if not any(ch.isalpha() for ch in last_label):
        return None
    return _normal_host(host)


def _normal_host(host: str) -> str:
    """Lower case, ASCII (punycode) form, without a leading "www."."""
    encoded = QUrl.toAce(host).data().decode("ascii", "replace") or host
    encoded = encoded.lower().rstrip(".")
    return encoded[4:] if encoded.startswith("www.") else encoded


def mismatched_host(text: str, url: QUrl) -> str | None:
    """The host the text names when the link goes elsewhere; None when they agree (or the
    text names no host, or the link is not a web link)."""
    if url.scheme().lower() not in WEB_SCHEMES:
        return None
    # "bank\u202e.example" must not hide a host behind direction or zero-width characters.
    named = host_named_in(strip_invisible(text))
    if named is None:
        return None
    target = _normal_host(url.host())
    if named == target or target.endswith("." + named):
        return None
    return named


def shown_url(url: QUrl) -> str:
    """A link's target as the user should read it (decoded, clipped)."""
    text = url.toDisplayString()
    if len(text) > MAX_SHOWN_URL_CHARS:
        text = text[: MAX_SHOWN_URL_CHARS - 1] + "…"
    return text


def ask_before_opening(parent: QWidget | None, named: str, url: QUrl) -> bool:
    """Asks whether to open a link whose text names another host; plain text throughout."""
    box = plain_message_box(
        parent,
        QMessageBox.Icon.Warning,
        "Open a different site?",
        f"The link's text names {named}, but it opens {_normal_host(url.host())}:\n\n"
        f"{shown_url(url)}\n\nOpen it anyway?",
    )
    opening = box.addButton("&Open", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is opening
