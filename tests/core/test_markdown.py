"""Markdown rendering: safety rules, code blocks, and the incremental freezing property."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deltadesk.core.markdown import (
    IncrementalMarkdown,
    render_document,
    render_markdown,
    sanitize,
)

# --- safety --------------------------------------------------------------------------------


def test_only_http_https_mailto_become_links() -> None:
    out = render_markdown(
        "[a](https://a.example/x) [b](http://b.example) [c](mailto:c@example.org) "
        "[d](javascript:alert(1)) [e](file:///etc/passwd) [f](data:text/html,hi) [g](/rel)"
    )
    assert out.count("<a ") == 3
    assert 'href="https://a.example/x"' in out
    assert 'href="http://b.example"' in out
    assert 'href="mailto:c@example.org"' in out
    for shown_as_text in ("[d](javascript:alert(1))", "[e](file:///etc/passwd)", "[g](/rel)"):
        assert shown_as_text in out


def test_images_become_plain_links_never_img() -> None:
    out = render_markdown("![a cat](https://img.example/cat.png) ![x](file:///tmp/x.png)")
    assert "<img" not in out
    assert '<a href="https://img.example/cat.png">[image: a cat]</a>' in out
    assert "![x](file:///tmp/x.png)" in out


def test_raw_html_is_escaped() -> None:
    out = render_markdown('<script>alert(1)</script>\n\n<img src="http://x/y.png">')
    assert "<script" not in out
    assert "<img" not in out
    assert "&lt;script&gt;" in out


def test_reference_definitions_are_not_applied() -> None:
    # They would make a later line change an earlier, already frozen, block.
    out = render_markdown("see [docs]\n\n[docs]: https://example.org")
    assert "<a " not in out


def test_control_characters_are_stripped() -> None:
    assert sanitize("a\x00b\x07c\x1b[31md\r\ne\tf\x7f\x85g\ud800h") == "abc[31md\ne\tfgh"
    assert sanitize("x\u2028y\u2029z") == "x\ny\nz"
    out = render_markdown("he\x00llo\x08 wor\x1bld")
    assert "<p>hello world</p>" in out


# --- code blocks -----------------------------------------------------------------------------


def _code_body(html_text: str) -> str:
    """The inside of the first <pre>…</pre>."""
    return html_text.split("<pre", 1)[1].split(">", 1)[1].split("</pre>")[0]


def test_fenced_code_is_highlighted_with_inline_styles_and_a_copy_link() -> None:
    doc = render_document("```python\ndef f(x):\n    return x < 1\n```\n")
    assert 'class="code-lang">python<' in doc.html
    assert 'href="copy:0"' in doc.html
    assert '<pre class="code">' in doc.html
    assert '<span style="color:' in doc.html
    assert "&lt;" in doc.html
    assert "class=" not in _code_body(doc.html)
    assert doc.code_blocks == ["def f(x):\n    return x < 1"]
    assert "\n</pre>" not in doc.html  # no extra empty last line


def test_unknown_language_and_indented_code_are_plain_text() -> None:
    doc = render_document("```nosuchlang\n<b> & c\n```\n\ntext\n\n    indented  code\n")
    assert "<span" not in _code_body(doc.html)
    assert "&lt;b&gt; &amp; c" in doc.html
    assert 'href="copy:0"' in doc.html and 'href="copy:1"' in doc.html
    assert doc.code_blocks == ["<b> & c", "indented  code"]


def test_code_is_kept_exactly_including_blank_edge_lines() -> None:
    code = "\n  x = 1\n\n"
    doc = render_document(f"```py\n{code}```\n")
    assert doc.code_blocks == [code[:-1]]


def test_code_indices_continue_across_frozen_blocks_while_streaming() -> None:
    md = IncrementalMarkdown()
    md.append("```\na\n```\n\n")
    md.append("para\n\n```js\nb")
    assert md.code_blocks == ["a", "b"]
    md.append("c\n```\n")
    assert md.code_blocks == ["a", "bc"]
    assert 'href="copy:1"' in md.finish().frozen_html


# --- math ------------------------------------------------------------------------------------


def test_math_is_shown_as_monospaced_source() -> None:
    out = render_markdown(r"Euler: $e^{i\pi}+1=0$ and \(a*b*c\) and $$\sum_i x_i$$")
    assert '<code class="math">e^{i\\pi}+1=0</code>' in out
    assert '<code class="math">a*b*c</code>' in out
    assert '<code class="math display">\\sum_i x_i</code>' in out


def test_prices_are_not_math() -> None:
    out = render_markdown("It costs $5 and $10, or $ 3 $.")
    assert "<code" not in out


# --- robustness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "x" * 300_000,
        "$a " * 60_000,
        "[" * 50_000 + "]" * 50_000,
        "*a " * 60_000,
        "`" * 30_000 + "a",
        "\\(" * 50_000,
        "| a " * 30_000 + "\n" + "|-" * 30_000,
    ],
    ids=["plain", "dollars", "brackets", "emphasis", "backticks", "math-openers", "table"],
)
def test_very_long_lines_render_quickly(line: str) -> None:
    started = time.perf_counter()
    out = render_markdown(line)
    assert time.perf_counter() - started < 3.0
    assert out


# --- incremental rendering -------------------------------------------------------------------


def test_finished_blocks_are_frozen_and_the_tail_holds_only_the_open_block() -> None:
    md = IncrementalMarkdown()
    frozen: list[str] = []
    for number in range(200):
        update = md.append(f"Paragraph number {number} with some words.\n\n")
        frozen.append(update.frozen_html)
        # Only the newest paragraph is re-rendered: the cost is bounded by the tail.
        assert update.tail_html == f"<p>Paragraph number {number} with some words.</p>\n"
    assert frozen[0] == ""
    assert frozen[1] == "<p>Paragraph number 0 with some words.</p>\n"
    assert "".join(frozen) + md.finish().frozen_html == render_markdown(md.text)


def test_a_partial_line_can_still_continue_the_block_before_it() -> None:
    md = IncrementalMarkdown()
    first = md.append("intro\n```x")
    assert first.frozen_html == ""  # "```x" may not be a fence: it is not frozen yet
    second = md.append("`\n")
    assert second.frozen_html == ""
    assert second.tail_html == "<p>intro\n```x`</p>\n"  # one paragraph, no code block
    assert render_markdown("intro\n```x`\n") == second.tail_html


def test_a_table_that_stops_being_one_does_not_split_the_paragraph_above() -> None:
    # Found by the property test: with "|-" under it, "2)  |" heads a table that ends the
    # paragraph "x"; "|-|-" has a column too many, so it is all one paragraph after all.
    md = IncrementalMarkdown()
    frozen = "".join(md.append(chunk).frozen_html for chunk in ["x\n2)  |\n", "|-", "|-"])
    assert frozen == ""
    assert frozen + md.finish().frozen_html == render_markdown("x\n2)  |\n|-|-")
    assert render_markdown("x\n2)  |\n|-|-").startswith("<p>x\n2)")


def test_finish_freezes_everything_including_an_unclosed_fence() -> None:
    md = IncrementalMarkdown()
    md.append("# Title\n\n```python\nprint(1)\n")
    update = md.finish()
    assert update.tail_html == ""
    assert "print" in update.frozen_html
    with pytest.raises(RuntimeError):
        md.append("more")


def test_text_property_is_the_sanitised_stream() -> None:
    md = IncrementalMarkdown()
    for chunk in ["# a\n", "\nb\x00c", "\n\n- d\n"]:
        md.append(chunk)
    assert md.text == "# a\n\nbc\n\n- d\n"


# --- the freezing property -------------------------------------------------------------------

_WORDS = st.sampled_from(
    ["alpha", "beta", "gamma", "x", "42", "foo_bar", "a*b", "|", "<b>", "&amp;", "\\*", "café"]
)
_INLINE = st.one_of(
    _WORDS,
    _WORDS.map(lambda w: f"`{w}`"),
    _WORDS.map(lambda w: f"*{w}*"),
    _WORDS.map(lambda w: f"**{w}**"),
    _WORDS.map(lambda w: f"~~{w}~~"),
    _WORDS.map(lambda w: f"[{w}](https://example.org/{w})"),
    _WORDS.map(lambda w: f"![{w}](http://img.example/{w}.png)"),
    _WORDS.map(lambda w: f"${w}$"),
    st.just("<https://auto.example>"),
    st.just("[bad](javascript:alert(1))"),
    st.just("trailing  "),
    st.just("\\"),
)
_LINE = st.lists(_INLINE, min_size=1, max_size=5).map(" ".join)


def _lines(min_size: int = 1, max_size: int = 3) -> st.SearchStrategy[list[str]]:
    return st.lists(_LINE, min_size=min_size, max_size=max_size)


_PARAGRAPH = _lines().map("\n".join)
_HEADING = st.tuples(st.integers(1, 6), _LINE).map(lambda h: "#" * h[0] + " " + h[1])
_SETEXT = st.tuples(_lines(1, 2), st.sampled_from(["===", "---", "-", "= ="])).map(
    lambda s: "\n".join(s[0]) + "\n" + s[1]
)
_HR = st.sampled_from(["---", "***", "___", "* * *", " - - -"])
_FENCE = st.tuples(
    st.sampled_from(["```", "~~~", "````"]),
    st.sampled_from(["", "python", "js", "nosuchlang", "py extra words"]),
    st.lists(st.sampled_from(["x = 1", "", "  indented", "```", "# not heading", "<tag>"])),
    st.sampled_from(["close", "open", "other"]),
).map(
    lambda f: (
        f[0]
        + f[1]
        + "\n"
        + "".join(line + "\n" for line in f[2])
        + {"close": f[0], "open": "", "other": "~~~" if f[0] != "~~~" else "```"}[f[3]]
    )
)
_INDENTED = _lines().map(lambda ls: "\n".join("    " + line for line in ls))
_TABLE = st.tuples(st.integers(1, 3), st.lists(_WORDS, min_size=0, max_size=6)).map(
    lambda t: (
        "| "
        + " | ".join(f"h{i}" for i in range(t[0]))
        + " |\n|"
        + "|".join([":--", "--:", "---"][i % 3] for i in range(t[0]))
        + "|\n"
        + "".join(f"| {w} |\n" for w in t[1])
    )
)
_LEAF = st.one_of(_PARAGRAPH, _HEADING, _SETEXT, _HR, _FENCE, _INDENTED, _TABLE)


def _list_of(item: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    marker = st.sampled_from(["-", "*", "+", "1.", "2)", "10."])
    return st.tuples(marker, st.lists(item, min_size=1, max_size=3), st.booleans()).map(
        lambda spec: _format_list(*spec)
    )


def _format_list(marker: str, items: list[str], loose: bool) -> str:
    indent = " " * (len(marker) + 1)
    rendered = []
    for item in items:
        lines = item.split("\n")
        rendered.append(marker + " " + "\n".join([lines[0]] + [indent + ln for ln in lines[1:]]))
    return ("\n\n" if loose else "\n").join(rendered)


def _quote_of(item: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return item.map(lambda text: "\n".join("> " + line for line in text.split("\n")))


_BLOCK = st.recursive(
    _LEAF,
    lambda inner: st.one_of(_list_of(inner), _quote_of(inner)),
    max_leaves=6,
)
_SEPARATOR = st.sampled_from(["\n", "\n\n", "\n\n", "\n\n\n", "\n \n"])


# Line starts whose meaning can flip as the line grows ("#" is a heading, "#x" is not; "***"
# is a rule, "***x" is text; "```x" is a fence, "```x`" is not), or that interrupt or continue
# the block above. Lines made from them, joined by single newlines, probe block boundaries.
_LINE_STARTS = st.sampled_from(
    [
        "",
        "#",
        "# ",
        "## ",
        "-",
        "- ",
        "*",
        "* ",
        "+ ",
        "1.",
        "1. ",
        "2) ",
        ">",
        "> ",
        "    ",
        "  ",
        "\t",
        "```",
        "```py",
        "~~~",
        "***",
        "---",
        "===",
        "___",
        "|",
        "| a | b |",
        "|-|-|",
        "|:--|--:|",
        "  - ",
        "   > ",
        "1. - ",
        "> - ",
        "- > ",
        "<",
        "\\",
    ]
)
_LINE_ENDS = st.sampled_from(["", "x", "a b", "`", "*", " |", "`c`", "-", "#", "  ", "]", "$"])
_TRICKY_LINE = st.tuples(_LINE_STARTS, _LINE_ENDS).map("".join)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        # Raw noise from markdown's special characters finds what the grammar misses.
        return draw(st.text(alphabet="#-*_`~>|=+1. \n\tab[]()!$\\<", max_size=120))
    if kind <= 2:
        return "\n".join(draw(st.lists(_TRICKY_LINE, min_size=1, max_size=14)))
    blocks = draw(st.lists(_BLOCK, min_size=1, max_size=6))
    text = ""
    for block in blocks:
        text += block + draw(_SEPARATOR)
    return text if draw(st.booleans()) else text.rstrip("\n")


@st.composite
def _chunked(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = draw(_documents())
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=len(text) // 2 + 2)))
    if draw(st.integers(0, 7)) == 0:
        cuts = list(range(len(text) + 1))  # one character at a time
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds)]


# 300 documents, each re-rendered after every chunk: about 25 s on an idle 2-core machine,
# so it gets more than the suite's 60 s when the machine is busy.
@pytest.mark.timeout(240)
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_chunked())
@example(("x\n2)  |\n|-|-|", ["x\n2)  |\n", "|-", "|-", "|"]))
@example(("intro\n```x`\n", ["intro\n```x", "`\n"]))
def test_streamed_frozen_html_equals_the_one_shot_render(case: tuple[str, list[str]]) -> None:
    text, chunks = case
    md = IncrementalMarkdown()
    frozen = ""
    so_far = ""
    for chunk in chunks:
        update = md.append(chunk)
        so_far += chunk
        frozen += update.frozen_html
        assert frozen + update.tail_html == render_markdown(so_far)
    final = md.finish()
    assert final.tail_html == ""
    assert frozen + final.frozen_html == render_markdown(text)
    assert md.code_blocks == render_document(text).code_blocks
    assert md.text == sanitize(text)


def test_long_code_is_highlighted_in_segments_that_join_seamlessly() -> None:
    from deltadesk.core.markdown_code import HIGHLIGHT_SEGMENT_LINES

    lines = [f"value_{i} = {i}" for i in range(HIGHLIGHT_SEGMENT_LINES + 5)]
    html_out = render_markdown("```python\n" + "\n".join(lines) + "\n```\n")
    body = html_out[html_out.index("<pre") : html_out.index("</pre>")]
    assert body.count("\n") == len(lines) - 1  # one line each, no line lost or doubled
    for i in (0, HIGHLIGHT_SEGMENT_LINES - 1, HIGHLIGHT_SEGMENT_LINES, len(lines) - 1):
        assert f"value_{i}" in body
    # Streamed line by line, the open block renders exactly like the finished one, and the
    # finished segments come from the cache rather than being highlighted again each time.
    from deltadesk.core.markdown_code import _highlighted_segment

    hits_before = _highlighted_segment.cache_info().hits
    streamed = IncrementalMarkdown()
    pieces = ["```python\n", *(line + "\n" for line in lines), "```\n"]
    frozen = [streamed.append(piece).frozen_html for piece in pieces]
    assert "".join(frozen) + streamed.finish().frozen_html == html_out
    assert _highlighted_segment.cache_info().hits - hits_before >= 5


def test_a_long_code_block_freezes_its_finished_cards_while_it_streams() -> None:
    from deltadesk.core.markdown_code import CODE_CARD_LINES

    lines = [f"line_{i} = {i}" for i in range(CODE_CARD_LINES * 2 + 10)]
    text = "Intro\n\n```python\n" + "\n".join(lines) + "\n```\nAfter.\n"
    one_shot = render_document(text)
    assert one_shot.html.count('<pre class="code">') == 3  # cards of CODE_CARD_LINES lines
    assert one_shot.html.count("(continued)") == 2
    assert one_shot.html.count("copy:0") == 3  # every card copies the whole block
    streamed = IncrementalMarkdown()
    frozen_parts: list[str] = []
    tail_sizes: list[int] = []
    for line in text.splitlines(keepends=True):
        update = streamed.append(line)
        frozen_parts.append(update.frozen_html)
        tail_sizes.append(len(update.tail_html))
        done = "".join(frozen_parts)
        # Always: what is frozen plus the open tail is the one-shot render of the text so far.
        assert done + update.tail_html == render_markdown(streamed.text)
    # While the block was open, finished cards were frozen: the tail never held more than
    # about one card, not the whole block.
    assert max(tail_sizes) < len(one_shot.html) / 2
    assert "".join(frozen_parts) + streamed.finish().frozen_html == one_shot.html
    assert streamed.code_blocks == one_shot.code_blocks == ["\n".join(lines)]


@pytest.mark.parametrize("seed", range(12))
def test_long_code_blocks_stream_to_the_one_shot_render_for_any_chunking(seed: int) -> None:
    import random

    from deltadesk.core.markdown_code import CODE_CARD_LINES

    rng = random.Random(seed)
    code = "\n".join(f"x{i} = '''{i}'''" for i in range(rng.randint(100, 3 * CODE_CARD_LINES)))
    closing = rng.choice(["```\n\nAfter it.\n", "```", "", "```\n- a list\n"])
    text = f"# Code\n\n```{rng.choice(['python', 'rust', ''])}\n{code}\n{closing}"
    streamed = IncrementalMarkdown()
    frozen: list[str] = []
    position = 0
    while position < len(text):
        step = rng.randint(1, 400)
        update = streamed.append(text[position : position + step])
        position += step
        frozen.append(update.frozen_html)
        assert "".join(frozen) + update.tail_html == render_markdown(streamed.text)
    frozen.append(streamed.finish().frozen_html)
    assert "".join(frozen) == render_markdown(text)
