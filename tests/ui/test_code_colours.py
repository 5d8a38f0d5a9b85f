"""Highlighted code follows the theme: in both palettes every colour of a rendered code block
has a WCAG contrast of at least 4.5 (AA for normal-size text: code is never "large") against
what it is drawn on, measured from the HTML the markdown renders and from the chat document
Qt builds of it; and a theme switch recolours code already on screen (a stored answer, the
frozen code block of an answer still streaming, the columns of a comparison)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from PySide6.QtGui import QPalette, QTextCursor, QTextFormat, QTextTableCell
from PySide6.QtWidgets import QTextEdit

from deltadesk.core.code_colours import readable_colour, readable_style
from deltadesk.core.markdown import render_markdown
from deltadesk.core.markdown_code import code_colours
from deltadesk.ui import theme
from deltadesk.ui.palettes import DARK, LIGHT, Palette
from tests.sse_script import chunk
from tests.test_compare import profiles_for
from tests.test_controller import shell, use_server
from tests.test_sessions import until
from tests.ui.test_theme import contrast

__all__ = ["shell"]

AA = 4.5

# Tokens of many kinds: decorators, strings, escapes, numbers, comments, builtins, operators,
# an error token ($ in Python), diff lines, shell variables, markup.
SAMPLE = """\
```python
@dataclass(frozen=True)
class Point:
    \"\"\"A point.\"\"\"
    x: int = 0x1F  # a comment
    def norm(self) -> float:
        return abs(self.x) ** 0.5 if self.x else print(f"{self!r}\\n") $
```

```javascript
const re = /a+b/g; let s = `t ${1 + 2}`; function f(a) { return null ?? undefined; }
```

```diff
--- a
+++ b
@@ -1 +1 @@
-old
+new
```

```bash
export PATH="$HOME/bin:$PATH"  # comment
for f in *.txt; do echo "$f"; done
```

```html
<!-- note --><div class="x" id='y'>&amp; text</div>
```

```c
#include <stdio.h>
int main(void) { char c = '\\n'; return 0; }
```
"""


class _CodeRuns(HTMLParser):
    """The text runs inside <pre class="code">, each with its nearest colour and background
    from the spans' style attributes (None: not set by a span)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside a code <pre>
        self.stack: list[tuple[str | None, str | None]] = []
        self.runs: list[tuple[str, str | None, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "pre" and values.get("class") == "code":
            self.depth += 1
        elif tag == "span" and self.depth:
            style = values.get("style") or ""
            fore = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", style)
            back = re.search(r"background-color:\s*(#[0-9a-fA-F]{3,6})", style)
            self.stack.append((fore and fore[1], back and back[1]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.depth:
            self.depth -= 1
        elif tag == "span" and self.depth:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.depth and data:
            fore = next((f for f, _ in reversed(self.stack) if f), None)
            back = next((b for _, b in reversed(self.stack) if b), None)
            self.runs.append((data, fore, back))


def _long_hex(colour: str) -> str:
    digits = colour.lstrip("#")
    return "#" + ("".join(d * 2 for d in digits) if len(digits) == 3 else digits).lower()


def unreadable_runs(html: str, palette: Palette) -> list[tuple[str, str, str, float]]:
    """The code's text runs under AA contrast: (text, colour, background, ratio). A run no
    span colours is in the body text colour; one no span puts a background behind is on the
    code card."""
    parser = _CodeRuns()
    parser.feed(html)
    assert parser.runs, "no code in the HTML"
    low = []
    for text, fore, back in parser.runs:
        colour = _long_hex(fore or palette.text)
        behind = _long_hex(back or palette.code_background)
        ratio = contrast(colour, behind)
        if ratio < AA:
            low.append((text, colour, behind, round(ratio, 2)))
    return low


def span_colours(html: str) -> set[str]:
    parser = _CodeRuns()
    parser.feed(html)
    return {_long_hex(fore) for _, fore, _ in parser.runs if fore}


@pytest.fixture
def restore_light() -> Iterator[None]:
    yield
    theme.use(LIGHT)


# --- the HTML -------------------------------------------------------------------------------


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
def test_every_colour_of_highlighted_code_has_aa_contrast(
    palette: Palette, restore_light: None
) -> None:
    theme.use(palette)
    assert code_colours() == (palette.pygments_style, palette.code_background)
    html = render_markdown(SAMPLE)
    assert len(span_colours(html)) >= 6  # highlighted, not plain
    assert unreadable_runs(html, palette) == []


def test_the_check_finds_the_dark_on_dark_code_of_before() -> None:
    """The light style the view used in both themes, on the dark card: names in dark blue."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = "def f(x):\n    return x.name  # comment\n"
    light = highlight(code, PythonLexer(), HtmlFormatter(nowrap=True, noclasses=True))
    low = unreadable_runs(f'<pre class="code">{light}</pre>', DARK)
    assert any(text == "def" for text, *_ in low) and any(text == "f" for text, *_ in low)
    # The dark style alone is not enough either: some of its colours are faint on this card.
    raw = HtmlFormatter(nowrap=True, noclasses=True, style="github-dark")
    dollar = highlight("x = 1 $\n", PythonLexer(), raw)
    assert unreadable_runs(f'<pre class="code">{dollar}</pre>', DARK)


def test_the_two_themes_colour_code_differently(restore_light: None) -> None:
    light = span_colours(render_markdown(SAMPLE))
    theme.use(DARK)
    dark = span_colours(render_markdown(SAMPLE))
    assert light and dark and not light & dark
    theme.use(LIGHT)
    assert span_colours(render_markdown(SAMPLE)) == light  # and back (no stale cache)


def test_a_faint_colour_is_lifted_only_as_far_as_it_must() -> None:
    assert readable_colour("#e6edf3", DARK.code_background) == "#e6edf3"  # fine already
    lifted = readable_colour("#19177c", DARK.code_background)  # dark blue on the dark card
    assert contrast(lifted, DARK.code_background) >= AA
    assert contrast(readable_colour("#bbbbbb", LIGHT.code_background), "#f6f8fa") >= AA
    # The least mix that passes: one step less would not.
    assert contrast(lifted, DARK.code_background) < AA + 1.5
    # A token with its own background is measured on it.
    from pygments.token import Comment

    native = readable_style("native", DARK.code_background)
    special = native.style_for_token(Comment.Special)
    assert special["bgcolor"] == "520000"
    assert contrast(f"#{special['color']}", "#520000") >= AA
    unknown = readable_style("no-such-style", LIGHT.code_background)
    assert unknown.style_for_token(Comment)["italic"]  # the default style's comments


# --- the chat document Qt builds, through the real window -----------------------------------


def code_fragments(browser: QTextEdit) -> list[tuple[str, str, str]]:
    """Every fragment of text in a code card: (text, colour, background) as Qt draws it (a
    fragment no colour was set on is drawn in the view's text colour)."""
    document = browser.document()
    text = browser.palette().color(QPalette.ColorRole.Text).name()
    fragments = []
    block = document.begin()
    while block.isValid():
        table = QTextCursor(block).currentTable()
        brush = QTextFormat.Property.BackgroundBrush
        if (
            table is not None
            and table.cellAt(block.position()).row() == 1
            and "Copy" in _cell_text(table.cellAt(0, 0))  # a code card's header above
            and block.blockFormat().hasProperty(brush)
        ):
            behind = block.blockFormat().background().color().name()
            iterator = block.begin()
            while not iterator.atEnd():
                fragment = iterator.fragment()
                char_format = fragment.charFormat()
                if theme.MONO_FAMILIES[0] in (char_format.fontFamilies() or []):
                    colour = char_format.foreground().color().name()
                    if not char_format.hasProperty(QTextFormat.Property.ForegroundBrush):
                        colour = text
                    back = char_format.background().color().name()
                    on = back if char_format.hasProperty(brush) else behind
                    fragments.append((fragment.text(), colour, on))
                iterator += 1
        block = block.next()
    return fragments


def _cell_text(cell: QTextTableCell) -> str:
    cursor = cell.firstCursorPosition()
    cursor.setPosition(cell.lastCursorPosition().position(), QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText()


def assert_readable(fragments: list[tuple[str, str, str]], palette: Palette) -> set[str]:
    assert len(fragments) >= 10, "no highlighted code shown"
    assert {on for _, _, on in fragments} >= {palette.code_background}
    low = [(t, c, on) for t, c, on in fragments if t.strip() and contrast(c, on) < AA]
    assert low == [], f"{palette.name}: {low[:5]}"
    return {colour for _, colour, _ in fragments}


@pytest.fixture
def themed(shell: Any) -> Iterator[Any]:
    yield shell
    shell.window.set_theme("system")  # offscreen: light, as the next test expects
    theme.use(LIGHT)


def test_a_theme_switch_recolours_code_already_shown(themed: Any, qt_loop: Any) -> None:
    shell = themed
    assert qt_loop.run_until_complete(shell.controller.send(None, "a python script")) == "done"
    light = assert_readable(code_fragments(shell.view), LIGHT)
    shell.window.theme_actions["dark"].trigger()
    assert theme.is_dark()
    dark = assert_readable(code_fragments(shell.view), DARK)
    assert not light & dark
    shell.window.theme_actions["light"].trigger()
    assert assert_readable(code_fragments(shell.view), LIGHT) == light


CODE_THEN_WORDS = "```python\ndef answer(x):\n    return x.name  # the name\n```\n\nand then "


def code_then_words(prefix: str = "") -> Any:
    """Streams a finished code block, then words until the client goes away."""

    async def handle(request: Any, responder: Any) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("", role="assistant"))
        await responder.send_event(chunk(CODE_THEN_WORDS))
        n = 0
        while not responder.client_gone.is_set():
            await responder.send_event(chunk(f"{prefix}w{n} "))
            n += 1
            await asyncio.sleep(0.01)

    return handle


def test_a_frozen_code_block_of_a_streaming_answer_follows_the_theme(
    themed: Any, qt_loop: Any, serve: Any
) -> None:
    shell = themed
    use_server(shell, serve(code_then_words()))
    controller = shell.controller

    async def scenario() -> tuple[set[str], set[str]]:
        task = asyncio.ensure_future(controller.send(None, "code please"))
        await until(lambda: controller.conversation_id is not None)
        shown = lambda: shell.view.document().toPlainText()  # noqa: E731
        await until(lambda: "w3 " in shown())  # the code block is frozen by now
        light = assert_readable(code_fragments(shell.view), LIGHT)
        shell.window.theme_actions["dark"].trigger()
        await until(lambda: len(code_fragments(shell.view)) >= 10)  # drawn again (its render
        dark = assert_readable(code_fragments(shell.view), DARK)  # may wait for the loop)
        words = len(shown())
        await until(lambda: len(shown()) > words + 20)  # it goes on streaming, still dark
        assert assert_readable(code_fragments(shell.view), DARK) == dark
        controller.stop(controller.conversation_id)
        await task
        return light, dark

    light, dark = qt_loop.run_until_complete(scenario())
    assert not light & dark


def test_compare_columns_follow_the_theme(themed: Any, qt_loop: Any, serve: Any) -> None:
    shell = themed
    servers = {name: serve(code_then_words(name)) for name in ("x", "y")}
    controller = shell.controller
    view = shell.window.compare_view

    def columns() -> list[Any]:
        return [view.column(message_id).view for message_id in view.message_ids()]

    async def scenario() -> None:
        task = asyncio.ensure_future(controller.compare(None, "code?", profiles_for(servers)))
        await until(lambda: len(view.message_ids()) == 2)
        await until(lambda: all("w3 " in c.toPlainText() for c in columns()))
        before = [assert_readable(code_fragments(c), LIGHT) for c in columns()]
        shell.window.theme_actions["dark"].trigger()
        assert shell.window.is_comparing()
        # Drawn again; a column's render may wait for the loop while the other renders.
        await until(lambda: all(len(code_fragments(c)) >= 10 for c in columns()))
        for column, light in zip(columns(), before, strict=True):
            dark = assert_readable(code_fragments(column), DARK)
            assert not light & dark
        controller.stop(controller.conversation_id)
        await task

    qt_loop.run_until_complete(scenario())
