"""Full-text search (schema 4) against real SQLite files: what is found, in which order, the
snippet and its highlights, the index kept in step by every kind of write, and any text typed
is safe."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from deltadesk.core import store_search
from deltadesk.core.migrations import INDEXED_CHARS
from deltadesk.core.search_hits import (
    MAX_WORDS,
    SNIPPET_CHARS,
    Markers,
    match_query,
    plain_snippet,
    query_words,
)
from deltadesk.core.store import SearchHit, Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


def found(store: Store, query: str) -> list[int | None]:
    return [hit.message_id for hit in store.search_hits(query)]


def highlighted(hit: SearchHit) -> list[str]:
    return [hit.snippet[start:end] for start, end in hit.highlights]


def index_is_sound(db_path: Path) -> None:
    """FTS5's own check of both indexes against the text they index."""
    conn = sqlite3.connect(db_path)
    try:
        for table in ("messages_fts", "titles_fts"):
            conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def test_every_word_must_be_there_and_the_last_may_be_a_prefix(store: Store) -> None:
    chat = store.create_conversation("Chat")
    fox = store.add_message(chat.id, "user", "The quick brown fox jumps")
    dog = store.add_message(chat.id, "assistant", "A lazy brown dog sleeps")
    assert found(store, "brown") == [fox.id, dog.id] or found(store, "brown") == [dog.id, fox.id]
    assert found(store, "quick BROWN") == [fox.id]
    assert found(store, "brown qu") == [fox.id]  # the last word as typed so far
    assert found(store, "qu brown") == []  # ... but only the last one
    assert found(store, "brown cat") == []
    (hit,) = store.search_hits("lazy sle")
    assert highlighted(hit) == ["lazy", "sleeps"]
    assert (hit.conversation_id, hit.role, hit.title) == (chat.id, "assistant", "Chat")
    assert hit.updated_at == dog.updated_at


def test_case_and_diacritics_do_not_matter(store: Store) -> None:
    chat = store.create_conversation()
    cafe = store.add_message(chat.id, "user", "Un café à Zürich, NAÏVE question")
    assert found(store, "cafe zurich") == [cafe.id]
    assert found(store, "CAFÉ naive") == [cafe.id]
    (hit,) = store.search_hits("zuri")
    assert highlighted(hit) == ["Zürich"]


def test_every_branch_is_searched_and_titles_too(store: Store) -> None:
    chat = store.create_conversation("Holiday in Lisbon")
    prompt = store.add_message(chat.id, "user", "Where to eat?")
    old = store.add_message(chat.id, "assistant", "Try the pastéis")
    new = store.add_message(chat.id, "assistant", "Try the bacalhau", parent_id=prompt.id)
    assert store.active_path(chat.id)[-1] == new  # the old answer is off the path shown
    assert found(store, "pasteis") == [old.id]
    assert found(store, "bacalhau") == [new.id]
    (title_hit,) = store.search_hits("lisbon")
    assert title_hit.message_id is None and title_hit.role is None
    assert title_hit.snippet == "Holiday in Lisbon" and highlighted(title_hit) == ["Lisbon"]
    assert title_hit.updated_at == store.get_conversation(chat.id).updated_at  # type: ignore[union-attr]


def test_the_best_hit_comes_first_and_the_limit_holds(store: Store) -> None:
    chat = store.create_conversation()
    filler = " ".join(["words"] * 60)
    weak = store.add_message(chat.id, "user", f"kiwi {filler}")
    strong = store.add_message(chat.id, "user", "kiwi kiwi kiwi")
    assert found(store, "kiwi") == [strong.id, weak.id]
    for index in range(12):
        store.add_message(chat.id, "user", f"needle number {index}")
    assert len(store.search_hits("needle", limit=5)) == 5
    assert store.search_hits("needle", limit=0) == []


def test_a_common_word_is_ranked_among_its_newest_matches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_search, "RANK_WINDOW", 3)
    chat = store.create_conversation()
    best_but_old = store.add_message(chat.id, "user", "plum plum pudding plum")
    newer = [store.add_message(chat.id, "user", f"plum and {n} more words here") for n in range(3)]
    assert set(found(store, "plum")) == {m.id for m in newer}
    assert found(store, "plum pudding") == [best_but_old.id]  # more words find it
    monkeypatch.setattr(store_search, "RANK_WINDOW", 5000)
    assert found(store, "plum")[0] == best_but_old.id


def test_the_index_follows_every_write(store: Store, db_path: Path) -> None:
    chat = store.create_conversation("First title")
    message = store.add_message(chat.id, "user", "apricot")
    store.update_message(message.id, content="blueberry")
    assert found(store, "apricot") == [] and found(store, "blueberry") == [message.id]
    store.rename_conversation(chat.id, "Second title")
    assert found(store, "first") == [] and found(store, "second") == [None]
    store.delete_message(message.id)
    assert found(store, "blueberry") == []
    other = store.add_message(chat.id, "user", "cherry")
    keep = store.create_conversation("Kept")
    kept = store.add_message(keep.id, "user", "cherry too")
    store.delete_conversation(chat.id)  # its messages go by the cascade, and their index
    assert found(store, "cherry") == [kept.id]
    assert other.id not in found(store, "cherry") and found(store, "second") == []
    index_is_sound(db_path)


def test_a_streamed_answer_is_found_as_folded_when_it_ends(store: Store, db_path: Path) -> None:
    chat = store.create_conversation()
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.append_partial(answer.id, "The durian ", "")
    store.append_partial(answer.id, "is ripe", "thinking about fruit")
    # Still streaming: the parts are not in the message yet, so not in the index.
    assert found(store, "durian") == []
    store.finish_answer(answer.id, content="The durian is ripe", reasoning="", status="done")
    assert found(store, "durian ripe") == [answer.id]
    assert found(store, "thinking") == []  # reasoning is not searched
    # An answer cut off by a crash is folded by recovery: found too.
    cut = store.add_message(chat.id, "assistant", "Elder", status="streaming")
    store.append_partial(cut.id, "flower cordial", "")
    assert store.recover_interrupted() == 1
    assert found(store, "elderflower") == [cut.id]
    index_is_sound(db_path)


def test_an_import_in_one_transaction_is_indexed(store: Store, db_path: Path) -> None:
    with store.transaction():
        chat = store.create_conversation("Imported", source="chatgpt", source_id="x1")
        message = store.add_message(chat.id, "user", "quince jelly", created_at=1.0)
    assert found(store, "quince") == [message.id]
    index_is_sound(db_path)


def test_the_snippet_is_plain_text_around_the_hit(store: Store) -> None:
    chat = store.create_conversation()
    text = (
        "start " + "filler " * 80 + "the <b>mango</b>\x1b]52;c;aGk=\x07 is\n\n\there "
        + "tail " * 80
    )  # fmt: skip
    store.add_message(chat.id, "assistant", text)
    (hit,) = store.search_hits("mango")
    assert len(hit.snippet) <= SNIPPET_CHARS
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert highlighted(hit) == ["mango"]
    assert "<b>mango</b> is here" in hit.snippet  # markup is text; white space one space
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in hit.snippet)
    assert "\ue000" not in hit.snippet and "\ue002" not in hit.snippet


def test_marker_characters_in_the_text_confuse_nothing(store: Store) -> None:
    chat = store.create_conversation()
    # The private-use characters the markers are made of, even a marker of another search.
    old = Markers.fresh()
    tricky = f"\ue000 \ue001 \ue002 \ue003 {old.open}x{old.close} papaya \ue000\ue001"
    store.add_message(chat.id, "user", tricky)
    (hit,) = store.search_hits("papaya")
    assert highlighted(hit) == ["papaya"]
    assert old.open in hit.snippet  # the text's own characters are kept as they are


def test_long_words_and_long_titles_are_cut(store: Store) -> None:
    chat = store.create_conversation("word " * 100 + "guava")
    store.add_message(chat.id, "user", "x" * 5000 + " guava")
    hits = store.search_hits("guava")
    assert {hit.message_id is None for hit in hits} == {True, False}
    for hit in hits:
        assert len(hit.snippet) <= SNIPPET_CHARS
        assert highlighted(hit) == ["guava"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "\t\n",
        '"',
        '""',
        "'",
        "(",
        ")",
        "*",
        "^",
        ":",
        "-",
        "+",
        "AND",
        "OR",
        "NOT",
        "NEAR",
        "NEAR(a b, 3)",
        "a AND",
        "OR b",
        "content:apple",
        "{content title}: apple",
        "messages_fts:apple",
        "apple*",
        "^apple",
        '"apple',
        "apple NOT pear",
        "\x00apple",
        "\ud800",
        "🍎",
        "日本語",
        "\u0301\u0301",
        "a" * 5000,
    ],
)
def test_any_text_is_safe(store: Store, query: str) -> None:
    chat = store.create_conversation()
    store.add_message(chat.id, "user", "apple and pear, AND OR NOT NEAR content")
    hits = store.search_hits(query)
    assert all(hit.conversation_id == chat.id for hit in hits)


def test_operators_are_words_and_punctuation_is_no_word(store: Store) -> None:
    chat = store.create_conversation()
    both = store.add_message(chat.id, "user", "apple and pear")
    store.add_message(chat.id, "user", "apple alone")
    assert found(store, "apple OR nothing") == []  # "or" is a word to find, not there
    assert found(store, "apple AND pear") == [both.id]  # "and" is a word, and it is there
    store.add_message(chat.id, "user", "this or that")
    assert found(store, "this OR that") != []
    assert found(store, '"apple" (pear)') == [both.id]
    assert found(store, "  ") == [] and found(store, "*^:()") == []


def test_query_words_and_the_match_expression() -> None:
    assert query_words("  Hello, wörld!  it's 2 o'clock ") == [
        "Hello", "wörld", "it", "s", "2", "o", "clock",
    ]  # fmt: skip
    assert match_query("near  ") == '"near" *'
    assert match_query("a b") == '"a" "b"'  # a one-letter last word is no prefix
    assert match_query("x AND y*") == '"x" "AND" "y"'
    assert match_query("()*") is None
    assert match_query("\u0301") is None  # a mark alone is no word
    assert len(query_words(" ".join(["w"] * 100))) == MAX_WORDS


def test_plain_snippet_offsets() -> None:
    m = Markers.fresh()
    marked = f"  one {m.open}two{m.close}\n\n{m.open}three{m.close}  four\x07 "
    text, highlights = plain_snippet(marked, m)
    assert text == "one two three four"
    assert [text[a:b] for a, b in highlights] == ["two", "three"]
    adjacent = f"{m.open}ab{m.close}{m.open}cd{m.close}"
    assert plain_snippet(adjacent, m) == ("abcd", ((0, 4),))


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One small history for every example (a file per example would be slow)."""
    with Store(tmp_path_factory.mktemp("search") / "history.sqlite3") as store:
        chat = store.create_conversation('Näive (title) AND "quoted" 日本')
        for text in ["apple and pear", "NEAR OR NOT *", "café ümlaut 日本語", "\ue000x\ue001"]:
            store.add_message(chat.id, "user", text)
        yield store


@given(query=st.text(max_size=60))
@example(query='" OR "')
@example(query="NEAR(x y)")
@example(query="\x00")
@example(query="\ue000\ue001")
@example(query="apple pe")
def test_no_query_raises(shared_store: Store, query: str) -> None:
    hits = shared_store.search_hits(query)
    for hit in hits:
        assert len(hit.snippet) <= SNIPPET_CHARS
        for start, end in hit.highlights:
            assert 0 <= start < end <= len(hit.snippet)


def test_a_long_message_is_searched_in_its_first_part_only(store: Store) -> None:
    chat = store.create_conversation()
    head = "the lychee " + "and the words " * (INDEXED_CHARS // 14)
    long = store.add_message(chat.id, "assistant", head + " rambutan")
    assert len(long.content) > INDEXED_CHARS
    assert found(store, "lychee") == [long.id]
    assert found(store, "rambutan") == []  # past the indexed part
    (hit,) = store.search_hits("the")  # a word hit thousands of times: one short snippet
    assert len(hit.snippet) <= SNIPPET_CHARS and highlighted(hit)[0] == "the"
    store.update_message(long.id, content="short now, rambutan")
    assert found(store, "rambutan") == [long.id] and found(store, "lychee") == []


def test_the_snippet_shows_where_most_query_words_meet(store: Store) -> None:
    chat = store.create_conversation()
    text = "fig " + "filler " * 60 + "fig and date together " + "filler " * 60 + "date"
    store.add_message(chat.id, "user", text)
    (hit,) = store.search_hits("fig date")
    assert highlighted(hit) == ["fig", "date"]
    assert "fig and date together" in hit.snippet


PIECES = st.lists(
    st.tuples(st.booleans(), st.text(max_size=300) | st.sampled_from(["word", " ", "\n\x1b[1m"])),
    max_size=40,
)


@given(PIECES)
def test_any_highlighted_text_gives_a_bounded_snippet_with_true_offsets(
    pieces: list[tuple[bool, str]],
) -> None:
    m = Markers.fresh()
    marked = "".join(f"{m.open}{text}{m.close}" if hit else text for hit, text in pieces)
    snippet, highlights = plain_snippet(marked, m)
    assert len(snippet) <= SNIPPET_CHARS
    assert m.open not in snippet and m.close not in snippet
    assert not any(ord(c) < 32 for c in snippet)
    hit_texts = "".join(text for hit, text in pieces if hit)
    for start, end in highlights:
        assert 0 <= start < end <= len(snippet)
        # What is highlighted came from a hit (cleaned: white space may have become one space).
        assert all(c in hit_texts or c == " " for c in snippet[start:end])


VOCABULARY = ["apple", "apricot", "Banana", "band", "café", "CAFE", "cherry", "chéri", "x", "42"]


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _expected(messages: list[list[str]], query: list[str]) -> set[int]:
    """Which messages an oracle says match: every word there, the last one as a prefix when
    it has two letters or more."""
    wanted = [_fold(word) for word in query]
    *whole, last = wanted
    matching = set()
    for index, words in enumerate(messages):
        folded = {_fold(word) for word in words}
        prefix_ok = any(w.startswith(last) for w in folded) if len(last) >= 2 else last in folded
        if all(word in folded for word in whole) and prefix_ok:
            matching.add(index)
    return matching


@given(
    messages=st.lists(st.lists(st.sampled_from(VOCABULARY), max_size=6), min_size=1, max_size=8),
    query=st.lists(
        st.sampled_from([*VOCABULARY, "ap", "ch", "ban", "caf", "b", "zz"]), min_size=1, max_size=3
    ),
)
def test_what_is_found_is_exactly_what_holds_the_words(
    messages: list[list[str]], query: list[str]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "h.sqlite3") as store:
        chat = store.create_conversation("untitled")
        ids = [store.add_message(chat.id, "user", ", ".join(words)).id for words in messages]
        hits = store.search_hits("  ".join(query), limit=1000)
        assert {hit.message_id for hit in hits} == {ids[i] for i in _expected(messages, query)}
        for hit in hits:  # every highlight is one of the query's words (or starts with the last)
            for start, end in hit.highlights:
                assert any(_fold(hit.snippet[start:end]).startswith(_fold(q)) for q in query)
