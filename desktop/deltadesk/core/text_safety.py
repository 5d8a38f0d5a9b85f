"""Making text from outside safe to store, show and print.

Model output, reasoning and provider messages arrive as JSON-decoded strings, which may hold
lone UTF-16 surrogates (an emoji escaped as "\\ud83d" and "\\ude00" in two chunks) that
`str.encode("utf-8")` refuses, and control characters that a terminal obeys (OSC 52 writes the
clipboard, cursor moves can fake a prompt).
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"

_HIGH_SURROGATES = range(0xD800, 0xDC00)

# C0 controls, DEL and C1 controls. Tab and newline are kept by strip_control_chars.
_CONTROL_CODES = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_STRIP_CONTROLS = {code: None for code in _CONTROL_CODES if chr(code) not in "\n\t"}
# Whole escape sequences, so that not even their inert rest ("]52;c;…") is printed: CSI
# (cursor moves, colours), OSC (titles, OSC 8 links, OSC 52 clipboard) and the string
# commands DCS/SOS/PM/APC up to their terminator, then any other two-character escape.
# An unterminated one is left to the character pass below. Bounded, so no pathological input
# can make the match slow.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]{0,64}[\x20-\x2f]{0,16}[\x40-\x7e]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]{0,65536}(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x7e]"
)


def replace_lone_surrogates(text: str) -> str:
    """``text`` with surrogate pairs joined and any surrogate left alone replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # UTF-16 with surrogatepass turns a valid pair back into one code point; the decode
        # then replaces each surrogate that had no partner.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


class SurrogateJoiner:
    """Rejoins surrogate pairs split across chunks of one stream.

    A high surrogate at the end of a chunk is held back until the next chunk shows whether
    its partner follows. Everything `feed` and `flush` return encodes as UTF-8.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        if self._held:
            text, self._held = self._held + text, ""
        if text and ord(text[-1]) in _HIGH_SURROGATES:
            text, self._held = text[:-1], text[-1]
        return replace_lone_surrogates(text)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return REPLACEMENT if held else ""


def strip_control_chars(text: str) -> str:
    """``text`` without C0/C1 control characters (escape sequences included), but for
    newline and tab: what a terminal may be shown from an untrusted source.

    Complete escape sequences go whole; in a stream cut into chunks, a sequence split across
    two chunks loses its control characters, which leaves only inert text behind."""
    return _ESCAPE_SEQUENCE.sub("", text).translate(_STRIP_CONTROLS)


def redact(text: str, secret: str | None, placeholder: str = "[redacted]") -> str:
    """``text`` with every occurrence of ``secret`` (say, an API key a provider echoed back)
    replaced; short values are left alone, they would match ordinary words."""
    if not secret or len(secret) < 8:
        return text
    return text.replace(secret, placeholder)
