"""The "search" case: full-text search over 10,000 generated conversations (issue 9).

A history of 10,000 conversations of 20 messages (200,000 messages, about 9.5 million words)
is written the fast way, as an upgrade finds it: a schema-3 file filled with executemany in one
transaction, then opened by the Store, whose migration to schema 4 builds the search index
(timed: that is the wait a user with such a history has once, and the figure behind the
progress note). Then a fixed mix of queries goes through Store.search_hits, as the sidebar and
`history search` call it, and each is timed.

The text is seeded and Zipf-distributed over a vocabulary of common English words and made-up
ones, as real text is: a few words are in almost every message, most are rare. Query words
come from ranks QUERY_RANKS (what people look for: not "the", not a one-off typo); the most
common words are timed apart ("common_word"), so the worst case is shown, not hidden.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SEED = 20_261_201
CONVERSATIONS = 10_000
MESSAGES_PER_CONVERSATION = 20
QUICK_CONVERSATIONS = 2_000
USER_WORDS = (4, 30)
ASSISTANT_WORDS = (20, 150)
TITLE_WORDS = (2, 6)
VOCABULARY = 12_000
ZIPF_EXPONENT = 1.05
QUERY_RANKS = (50, 6_000)
COMMON_RANKS = (0, 30)
QUERIES_PER_KIND = 100
LIMIT = 50
TARGET_P95_MS = 50.0

_COMMON_TEXT = """
the of and to a in is it you that he was for on are with as I his they be at one have this
from or had by hot word but what some we can out other were all there when up use your how
said an each she which do their time if will way about many then them write would like so
these her long make thing see him two has look more day could go come did number sound no
most people my over know water than call first who may down side been now find any new work
part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line
differ turn cause much mean before move right boy old too same tell does set three want air
well also play small end put home read hand port large spell add even land here must big
high such follow act why ask men change went light kind off need house picture try us again
animal point mother world near build self earth father head stand own page should country
found answer school grow study still learn plant cover food sun four between state keep eye
never last let thought city tree cross farm hard start might story saw far sea draw left
late run while press close night real life few north open seem together next white children
begin got walk example ease paper group always music those both mark often letter until mile
river car feet care second book carry took science eat room friend began idea fish mountain
stop once base hear horse cut sure watch color face wood main enough plain girl usual young
ready above ever red list though feel talk bird soon body dog family direct pose leave song
measure door product black short numeral class wind question happen complete ship area half
rock order fire south problem piece told knew pass since top whole king space heard best hour
better true during hundred five remember step early hold west ground interest reach fast verb
sing listen six table travel less morning ten simple several vowel toward war lay against
pattern slow center love person money serve appear road map rain rule govern pull cold notice
voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star
box noun field rest correct able pound done beauty drive stood contain front teach week final
gave green oh quick develop ocean warm free minute strong special mind behind clear tail
produce fact street inch multiply nothing course stay wheel full force blue object decide
surface deep moon island foot system busy test record boat common gold possible plane stead
dry wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring
yes distant fill east paint language among grand ball yet wave drop heart present heavy dance
engine position arm wide sail material size vary settle speak weight general ice matter
circle pair include divide syllable felt perhaps pick sudden count square reason length
represent art subject region energy hunt probable bed brother egg ride cell believe fraction
forest sit race window store summer train sleep prove lone leg exercise wall catch mount wish
sky board joy winter sat written wild instrument kept glass grass cow job edge sign visit past
soft fun bright gas weather month million bear finish happy hope flower clothe strange gone
jump baby eight village meet root buy raise solve metal whether push seven paragraph third
shall held hair describe cook floor either result burn hill safe cat century consider type
law bit coast copy phrase silent tall sand soil roll temperature finger industry value fight
lie beat excite natural view sense ear else quite broke case middle kill son lake moment scale
loud spring observe child straight consonant nation dictionary milk speed method organ pay age
section dress cloud surprise quiet stone tiny climb cool design poor lot experiment bottom key
iron single stick flat twenty skin smile crease hole trade melody trip office receive row
mouth exact symbol die least trouble shout except wrote seed tone join suggest clean break
lady yard rise bad blow oil blood touch grew cent mix team wire cost lost brown wear garden
equal sent choose fell fit flow fair bank collect save control decimal gentle woman captain
practice separate difficult doctor please protect noon whose locate ring character insect
caught period indicate radio spoke atom human history effect electric expect crop modern
element hit student corner party supply bone rail imagine provide agree thus capital chair
danger fruit rich thick soldier process operate guess necessary sharp wing create neighbor
wash bat rather crowd corn compare poem string bell depend meat rub tube famous dollar stream
fear sight thin triangle planet hurry chief colony clock mine tie enter major fresh search
send yellow gun allow print dead spot desert suit current lift rose continue block chart hat
sell success company subtract event particular deal swim term opposite wife shoe shoulder
spread arrange camp invent cotton born determine quart nine truck noise level chance gather
shop stretch throw shine property column molecule select wrong gray repeat require broad
prepare salt nose plural anger claim continent oxygen sugar death pretty skill women season
solution magnet silver thank branch match suffix especially fig afraid huge sister steel
discuss forward similar guide experience score apple bought led pitch coat mass card band rope
slip win dream evening condition feed tool total basic smell valley nor double seat arrive
master track parent shore division sheet substance favor connect post spend chord fat glad
original share station dad bread charge proper bar offer segment slave duck instant market
degree populate chick dear enemy reply drink occur support speech nature range steam motion
path liquid log meant quotient teeth shell neck python rust kernel docker query index cache
"""
_COMMON = _COMMON_TEXT.split()
_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fl gr pl st tr ch sh th"
_VOWELS = "a e i o u ai ea ou é ö"


def vocabulary(size: int = VOCABULARY, seed: int = SEED) -> list[str]:
    """Common English words first (the most frequent ranks), then made-up ones of 2-4
    syllables, some with a diacritic (as names and borrowed words have)."""
    chooser = random.Random(seed)
    words = list(dict.fromkeys(word.lower() for word in _COMMON))
    seen = set(words)
    onsets, vowels = _ONSETS.split(), _VOWELS.split()
    while len(words) < size:
        syllables = chooser.randint(2, 4)
        word = "".join(chooser.choice(onsets) + chooser.choice(vowels) for _ in range(syllables))
        if chooser.random() < 0.3:
            word += chooser.choice("nrstlm")
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class TextMaker:
    """Seeded sentences over a Zipf-distributed vocabulary."""

    def __init__(self, words: list[str], seed: int = SEED) -> None:
        self.words = words
        self.random = random.Random(seed)
        weights = [1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(words))]
        self.cumulative = list(itertools.accumulate(weights))

    def text(self, low: int, high: int) -> str:
        count = self.random.randint(low, high)
        chosen = self.random.choices(self.words, cum_weights=self.cumulative, k=count)
        # Sentences of about 12 words, capitalised, with a full stop; a comma now and then.
        pieces: list[str] = []
        for index, word in enumerate(chosen):
            if index % 12 == 0:
                word = word.capitalize()
            pieces.append(word)
            if index % 12 == 11:
                pieces[-1] += "."
            elif self.random.random() < 0.05:
                pieces[-1] += ","
        return " ".join(pieces) + "."


def build_v3_history(path: Path, conversations: int, seed: int = SEED) -> dict[str, Any]:
    """A schema-3 history (as the last release left it) of ``conversations`` chats, written
    in one transaction; returns the counts and how long it took."""
    from deltadesk.core import migrations

    started = time.monotonic()
    maker = TextMaker(vocabulary(), seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN")
        for script in migrations.MIGRATIONS[:3]:
            for statement in migrations.statements(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 3")
        base = 1_700_000_000.0
        chats = []
        rows = []
        message_id = 0
        for chat in range(1, conversations + 1):
            when = base + chat * 600.0
            chats.append((chat, maker.text(*TITLE_WORDS).rstrip("."), when, when, None))
            parent = None
            for turn in range(MESSAGES_PER_CONVERSATION):
                message_id += 1
                role = "user" if turn % 2 == 0 else "assistant"
                words = USER_WORDS if role == "user" else ASSISTANT_WORDS
                stamp = when + turn
                rows.append(
                    (message_id, chat, parent, role, maker.text(*words), "done", stamp, stamp)
                )
                parent = message_id
            chats[-1] = (*chats[-1][:4], message_id)
        conn.executemany(
            "INSERT INTO conversations (id, title, created_at, updated_at, active_leaf_id)"
            " VALUES (?, ?, ?, ?, ?)",
            chats,
        )
        conn.executemany(
            "INSERT INTO messages (id, conversation_id, parent_id, role, content, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        words = sum(len(str(row[4]).split()) for row in rows)
    finally:
        conn.close()
    return {
        "conversations": conversations,
        "messages": len(rows),
        "words": words,
        "build_s": round(time.monotonic() - started, 2),
    }


def queries(seed: int = SEED) -> dict[str, list[str]]:
    """The timed mix: one word, two words that occur together (two of one generated
    answer, so most find something), a prefix (3-5 letters of a word, as typed so far),
    and the most common words apart."""
    words = vocabulary()
    rank = {word: index for index, word in enumerate(words)}
    chooser = random.Random(seed + 1)
    low, high = QUERY_RANKS

    def pick() -> str:
        return words[chooser.randrange(low, high)]

    maker = TextMaker(words, seed + 2)
    pairs: list[str] = []
    while len(pairs) < QUERIES_PER_KIND:
        found = [w for w in maker.text(*ASSISTANT_WORDS).lower().replace(",", "").split()]
        usable = sorted({w.rstrip(".") for w in found} & {w for w in words[low:high]})
        if len(usable) >= 2:
            first, second = chooser.sample(usable, 2)
            pairs.append(f"{first} {second}")
    prefixes: list[str] = []
    while len(prefixes) < QUERIES_PER_KIND:
        word = pick()
        if len(word) >= 4:
            prefixes.append(word[: chooser.randint(3, min(5, len(word) - 1))])
    assert all(low <= rank[w] < high for pair in pairs for w in pair.split())
    return {
        "one_word": [pick() for _ in range(QUERIES_PER_KIND)],
        "two_words": pairs,
        "prefix": prefixes,
        "common_word": [words[chooser.randrange(*COMMON_RANKS)] for _ in range(20)],
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(times_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times_ms), 2),
        "p95_ms": round(_percentile(times_ms, 0.95), 2),
        "max_ms": round(max(times_ms), 2),
    }


def search_case(quick: bool = False) -> dict[str, Any]:
    """Build, upgrade (index built), then time the query mix; figures as a dict."""
    from deltadesk.core.store import Store

    conversations = QUICK_CONVERSATIONS if quick else CONVERSATIONS
    with tempfile.TemporaryDirectory(prefix="deltadesk-bench-search-") as home:
        path = Path(home) / "history.sqlite3"
        built = build_v3_history(path, conversations)
        opened = time.monotonic()
        store = Store(path)
        upgrade_s = time.monotonic() - opened
        try:
            mix = queries()
            for query in mix["one_word"][:5]:  # warm the page cache, as a second search is
                store.search_hits(query, LIMIT)
            by_kind: dict[str, list[float]] = {}
            hits: dict[str, list[int]] = {}
            for kind, texts in mix.items():
                for text in texts:
                    started = time.perf_counter()
                    found = store.search_hits(text, LIMIT)
                    by_kind.setdefault(kind, []).append((time.perf_counter() - started) * 1e3)
                    hits.setdefault(kind, []).append(len(found))
            size_mb = path.stat().st_size / 1e6
        finally:
            store.close()
    mixed = [t for kind in ("one_word", "two_words", "prefix") for t in by_kind[kind]]
    overall = _summary(mixed)
    return {
        **built,
        **overall,
        "queries": len(mixed),
        "limit": LIMIT,
        "kinds": {
            kind: {
                **_summary(times),
                "queries": len(times),
                "median_hits": statistics.median(hits[kind]),
            }
            for kind, times in by_kind.items()
        },
        "upgrade_with_index_s": round(upgrade_s, 2),
        "history_mb": round(size_mb, 1),
        "target_p95_ms": TARGET_P95_MS,
        "met": overall["p95_ms"] < TARGET_P95_MS,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(search_case(quick="--quick" in sys.argv), indent=2))
