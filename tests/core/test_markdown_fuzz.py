"""A fuzz of the incremental renderer with hostile alphabets: control characters, lone
surrogates, bidi controls, zero-width characters, markup characters, very long runs and deep
nesting markers, streamed in random chunks. The streamed render must equal the one-shot
render after every chunk, and nothing may raise.

The example budget comes from the hypothesis profile (`ci` in `make test`: derandomized, a
fixed number of examples; `fuzz` in `make fuzz`: many more from a random seed).
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deltadesk.core.markdown import IncrementalMarkdown, render_document, render_markdown, sanitize

_HOSTILE_CHARS = (
    [chr(code) for code in range(0x00, 0x20)]  # C0 controls, \t and \n among them
    + ["\x7f", "\x85", "\x9b", "\x9f"]  # DEL and C1 controls (CSI among them)
    + ["\ud800", "\udbff", "\udc00", "\udfff"]  # lone surrogates
    + ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
    + ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u061c"]
    + ["\u2028", "\u2029", "\ufffe", "\uffff", "\ufdd0"]
    + list("<>&;\"'`|*_~#-+=.!$\\[](){}:/ \n\n\n\t")
    + ["a", "z", "0", "é", "日", "😀", "\u0301"]
)
_CHAR = st.sampled_from(_HOSTILE_CHARS)
_RUN = st.tuples(
    st.sampled_from(["a", "&", "<", "`", "|", "-", "\u202e", "x<"]), st.integers(60, 300)
)
_MARKERS = st.tuples(st.sampled_from(["> ", "- ", "1. ", "* > ", "  ", "    "]), st.integers(1, 40))
_SNIPPETS = st.sampled_from(
    [
        "```python\n",
        "```\n",
        "~~~\n",
        "| a | b |\n|---|---|\n",
        "| x |\n",
        "[text](https://example.org)",
        "[example.org](https://evil.example)",
        "[m](mailto:?attach=/etc/passwd)",
        "![i](file:///etc/hostname)",
        '<img src="/dev/zero">',
        "$x$",
        "\n\n",
        "&amp;",
        "&#x202e;",
        # A table wide enough for markdown_safety.narrow_wide_tables to cut its rows.
        "| " + " | ".join(["h"] * 700) + " |\n|" + "---|" * 700 + "\n",
        "|" + "-|" * 1100 + "\n",
    ]
)
_PIECE = st.one_of(
    st.text(_CHAR, min_size=1, max_size=12),
    _RUN.map(lambda run: run[0] * run[1]),
    _MARKERS.map(lambda marker: marker[0] * marker[1]),
    _SNIPPETS,
)


_WIDE_ROW = "| a |\n|---|\n| " + " | ".join(["ccc"] * 60) + " |"


@st.composite
def _hostile_chunks(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = "".join(draw(st.lists(_PIECE, min_size=1, max_size=10)))
    count = draw(st.integers(0, min(30, len(text))))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=count, max_size=count)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds)]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_hostile_chunks())
@example(("> " * 40 + "deep", ["> " * 20, "> " * 20, "deep"]))
@example(("a" * 200 + "&amp;" * 30, ["a" * 65, "a" * 135 + "&am", "p;" + "&amp;" * 29]))
@example(("```\n\u202e" + "x" * 70 + "\n```", ["```\n\u202e", "x" * 70, "\n```"]))
@example((_WIDE_ROW, [_WIDE_ROW[:8], _WIDE_ROW[8:20], _WIDE_ROW[20:]]))
def test_hostile_text_streams_to_the_one_shot_render(case: tuple[str, list[str]]) -> None:
    text, chunks = case
    md = IncrementalMarkdown()
    frozen, so_far = "", ""
    for chunk in chunks:
        update = md.append(chunk)
        so_far += chunk
        frozen += update.frozen_html
        assert frozen + update.tail_html == render_markdown(so_far)
    final = md.finish()
    assert frozen + final.frozen_html == render_markdown(text)
    assert md.code_blocks == render_document(text).code_blocks
    assert md.text == sanitize(text)
    for lone in ("\ud800", "\udfff", "\x00", "\x1b"):
        assert lone not in frozen + final.frozen_html
