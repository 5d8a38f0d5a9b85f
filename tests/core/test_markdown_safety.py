"""Hostile shapes in markdown: long words, invisible characters, mail links, deep nesting,
wide tables, huge code lines. Each also streams to the same HTML as the one-shot render."""

from __future__ import annotations

import html
import re
import sys

import pytest

from deltadesk.core.markdown import IncrementalMarkdown, render_document, render_markdown
from deltadesk.core.markdown_code import MAX_HIGHLIGHT_LINE_CHARS
from deltadesk.core.markdown_safety import (
    FLATTEN_LEVEL,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS,
    WORD_BREAK_CHARS,
    ZERO_WIDTH_SPACE,
    break_long_plain_words,
    break_long_words,
    is_plain_mailto,
    remove_breaks,
    strip_invisible,
)


def _streamed(text: str, size: int = 7) -> str:
    md = IncrementalMarkdown()
    parts = [md.append(text[i : i + size]) for i in range(0, len(text), size)]
    html_out = "".join(part.frozen_html for part in parts)
    return html_out + md.finish().frozen_html


def _text_of(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


# --- long words ------------------------------------------------------------------------------


def test_a_long_word_gets_break_points_that_leave_the_text_unchanged() -> None:
    word = "abc" * 1000
    out = render_markdown(word)
    runs = _text_of(out).strip().split(ZERO_WIDTH_SPACE)
    assert len(runs) > 1 and all(len(run) <= WORD_BREAK_CHARS for run in runs)
    assert remove_breaks(_text_of(out)).strip() == word


def test_short_words_are_untouched() -> None:
    text = "a normal sentence with words of ordinary length " * 50
    assert ZERO_WIDTH_SPACE not in render_markdown(text)


def test_breaks_never_split_an_entity_or_a_tag() -> None:
    word = "&<>\"'" * 200 + "x" * 300
    out = render_markdown(f"**{word}** `{word}`")
    assert remove_breaks(_text_of(out)).count(word) == 2
    for entity in re.findall(r"&[^;\s]*;?", out):
        assert ZERO_WIDTH_SPACE not in entity and entity.endswith(";"), entity
    assert ZERO_WIDTH_SPACE not in "".join(re.findall(r"<[^>]*>", out))


def test_break_functions_on_their_own() -> None:
    assert break_long_words("<p>" + "a" * WORD_BREAK_CHARS + "</p>").count(ZERO_WIDTH_SPACE) == 0
    assert (
        break_long_words("<p>" + "a" * (WORD_BREAK_CHARS + 1) + "</p>").count(ZERO_WIDTH_SPACE) == 1
    )
    assert break_long_plain_words("x" * 200 + " y").count(ZERO_WIDTH_SPACE) == 3
    assert remove_breaks(break_long_plain_words("x" * 200 + " y")) == "x" * 200 + " y"


def test_long_words_in_code_break_in_the_view_but_not_in_the_copy() -> None:
    line = "0123456789" * 500
    doc = render_document(f"```\n{line}\n```\n")
    assert doc.code_blocks == [line]
    assert ZERO_WIDTH_SPACE in doc.html


@pytest.mark.parametrize("language", ["python", "json", "text"])
def test_a_huge_code_line_is_shown_without_highlighting(language: str) -> None:
    line = "x = [" + "1, " * MAX_HIGHLIGHT_LINE_CHARS + "]"
    doc = render_document(f"```{language}\nshort = 1\n{line}\n```\n")
    assert "<span" not in doc.html.split('class="code">', 1)[1]
    assert doc.code_blocks == [f"short = 1\n{line}"]
    normal = render_document("```python\nshort = 1\n```\n").html
    assert "<span" in normal.split('class="code">', 1)[1]


# --- invisible characters ----------------------------------------------------------------------


TROJAN = 'access = "user\u202e \u2066// admin only\u2069 \u2066"\u200b'


def test_invisible_characters_are_marked_in_code() -> None:
    doc = render_document(f"```python\n{TROJAN}\n```\n\nand `a\u202eb`")
    for code_point in ("U+202E", "U+2066", "U+2069", "U+200B"):
        assert f"⟨{code_point}⟩" in doc.html
    assert "\u202e" not in doc.html and "\u2066" not in doc.html
    assert doc.code_blocks == [TROJAN]  # kept as it is; the view strips it on copy


def test_strip_invisible() -> None:
    assert strip_invisible(TROJAN) == 'access = "user // admin only "'
    assert strip_invisible("plain") == "plain"


# --- mail links ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "allowed"),
    [
        ("mailto:someone@example.org", True),
        ("MAILTO:first.last+tag@mail.example.co.uk", True),
        ("mailto:?attach=/etc/passwd", False),
        ("mailto:someone@example.org?attach=/etc/passwd", False),
        ("mailto:someone@example.org?subject=hi&body=there", False),
        ("mailto:a@example.org,b@example.org", False),
        ("mailto:a@example.org#x", False),
        ("mailto:nobody", False),
        ("mailto:", False),
    ],
)
def test_mailto_only_with_an_address(link: str, allowed: bool) -> None:
    assert is_plain_mailto(link) is allowed
    out = render_markdown(f"[mail]({link})")
    assert ("<a href=" in out) is allowed


# --- deep nesting ------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [5, 20, 30, 200])
@pytest.mark.parametrize("marker", ["> ", "- ", "1. ", "> - "])
def test_deep_nesting_still_shows_the_text(depth: int, marker: str) -> None:
    out = render_markdown(marker * depth + "deep text\n\nafter")
    assert "deep text" in out and "after" in out
    assert out.count("<blockquote>") + out.count("<li>") <= FLATTEN_LEVEL * 2


def test_deep_nesting_by_indentation_keeps_every_item() -> None:
    text = "\n".join("  " * level + f"- item{level}" for level in range(60))
    out = render_markdown(text)
    assert all(f"item{level}<" in out or f"item{level}\n" in out for level in range(60))


def test_ten_thousand_levels_do_not_hit_the_recursion_limit() -> None:
    assert sys.getrecursionlimit() < 10_000 * 4  # the test means something
    for marker in ("> ", "- ", "1. ", "* > "):
        text = marker * 10_000 + "bottom"
        assert "bottom" in render_markdown(text)
        assert _streamed(text, 4001) == render_markdown(text)
    lines = "\n".join("> " * level + f"q{level}" for level in range(1, 300))
    assert "q299" in render_markdown(lines)


# --- tables --------------------------------------------------------------------------------


def _table(columns: int, rows: int) -> str:
    head = "| " + " | ".join(f"h{c}" for c in range(columns)) + " |"
    rule = "|" + "---|" * columns
    body = ["| " + " | ".join(f"r{r}c{c}" for c in range(columns)) + " |" for r in range(rows)]
    return "\n".join([head, rule, *body]) + "\n"


def test_a_wide_table_shows_its_first_columns_and_says_so() -> None:
    out = render_markdown(_table(MAX_TABLE_COLUMNS + 60, 3))
    assert out.count("<th>") == MAX_TABLE_COLUMNS
    assert out.count("<td") == 3 * MAX_TABLE_COLUMNS
    assert f"h{MAX_TABLE_COLUMNS - 1}<" in out and f"h{MAX_TABLE_COLUMNS}<" not in out
    assert "(Table cut: 60 more columns not shown.)" in out


def test_a_long_table_shows_its_first_rows_and_says_so() -> None:
    out = render_markdown(_table(2, MAX_TABLE_ROWS + 7))
    assert out.count("<tr>") == MAX_TABLE_ROWS + 1  # with the header row
    assert "7 more rows not shown" in out


def test_a_table_within_the_caps_is_untouched() -> None:
    out = render_markdown(_table(3, 3))
    assert "Table cut" not in out and out.count("<td") == 9


@pytest.mark.parametrize(
    "text",
    [
        _table(MAX_TABLE_COLUMNS + 5, 4) + "\nafter\n",
        "intro\n\n" + _table(3, MAX_TABLE_ROWS + 2),
        "w" * 5000 + "\n\n" + "&amp;" * 300 + "\n",
        "```python\n" + TROJAN + "\n" + "y" * 3000 + "\n```\n",
        "> " * 50 + "deep\n" + "- " * 40 + "list\n",
    ],
)
def test_hostile_shapes_stream_to_the_one_shot_render(text: str) -> None:
    # An open table is one block, re-parsed on every append: big chunks keep this quick.
    expected = render_markdown(text)
    for size in (499, 4096):
        assert _streamed(text, size) == expected


def test_a_very_wide_table_is_read_only_up_to_its_shown_columns() -> None:
    import time

    wide = _table(20_000, 3)
    started = time.perf_counter()
    out = render_markdown(wide)
    assert time.perf_counter() - started < 2.0  # generous: was seconds before any cut
    assert out.count("<th>") == MAX_TABLE_COLUMNS and out.count("<td>") == 3 * MAX_TABLE_COLUMNS
    assert f"(Table cut: {20_000 - MAX_TABLE_COLUMNS} more columns not shown.)" in out
    assert _streamed(wide, 4096) == out


def test_a_wide_delimiter_row_that_is_no_table_stays_text() -> None:
    text = "plain words\n" + "-" * 5000 + " x\n"
    out = render_markdown(text)
    assert "<table" not in out and "plain words" in out
