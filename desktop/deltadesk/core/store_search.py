"""The store's full-text search: every message of every branch, and the titles (schema 4).

Part of Store (a mixin, like store_tree.py). The indexes are FTS5 tables kept in step with
messages.content and conversations.title by triggers (migrations.py); what was typed becomes
a query that cannot fail, and FTS5's highlighted text a plain snippet with offsets
(search_hits.py).

Hits are ranked by bm25, best first, message and title hits together. The highlighted text is
made by FTS5 for the rows returned only (ORDER BY rank LIMIT is done inside FTS5), so the cost
is finding and ranking the matches, not reading their text; only a message's first
INDEXED_CHARS characters are indexed (migrations.py), which bounds the cost of one hit.
Ranking costs bm25 for every match, so a word found in a great many messages is ranked among
its RANK_WINDOW newest matches only (older ones are found by more words): p95 stays under
50 ms on 200,000 messages.
"""

from __future__ import annotations

from deltadesk.core.search_hits import (
    Markers,
    SearchHit,
    match_query,
    plain_snippet,
)
from deltadesk.core.store_connection import Database

# The inner queries rank and cut inside FTS5; the joins then read one row each of the hits.
SEARCH_MESSAGES = """
SELECT messages.conversation_id, messages.id, conversations.title, hit.marked,
       messages.role, messages.updated_at, hit.score
FROM (
    SELECT rowid AS id, rank AS score,
           highlight(messages_fts, 0, ?, ?) AS marked
    FROM messages_fts WHERE messages_fts MATCH ? AND rowid >= ? ORDER BY rank LIMIT ?
) AS hit
JOIN messages ON messages.id = hit.id
JOIN conversations ON conversations.id = messages.conversation_id
"""
# Where the RANK_WINDOW newest matches start (nothing: there are fewer). Walking the matches
# by rowid costs little; ranking them costs bm25 for each, which for a word in most of a large
# history (100,000 messages) takes a tenth of a second or more.
RANK_WINDOW = 5000
WINDOW_START = (
    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"
)
SEARCH_TITLES = """
SELECT conversations.id, NULL, conversations.title, hit.marked,
       NULL, conversations.updated_at, hit.score
FROM (
    SELECT rowid AS id, rank AS score, highlight(titles_fts, 0, ?, ?) AS marked
    FROM titles_fts WHERE titles_fts MATCH ? ORDER BY rank LIMIT ?
) AS hit
JOIN conversations ON conversations.id = hit.id
"""


class SearchOperations:
    """Full-text search, as a method of Store (which opens ``_db``)."""

    _db: Database

    def search_hits(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Messages (every branch) and titles matching ``query``, best first.

        Every word must be there; the last one may be the start of a word. Any text is
        safe: operators and punctuation are taken as plain text, and text with no word
        (empty, white space, only punctuation) finds nothing. The snippet is plain text
        around the hit (control characters gone), with the hits' offsets. A streaming
        answer is found once it ends (its text is indexed when folded into the message);
        a message's first INDEXED_CHARS characters are searched; a word in more than
        RANK_WINDOW messages is ranked among its newest RANK_WINDOW matches.
        """
        expression = match_query(query)
        if expression is None or limit <= 0:
            return []
        markers = Markers.fresh()
        start = self._db.read(WINDOW_START, (expression, RANK_WINDOW - 1))
        floor = int(str(start[0][0])) if start else 0
        marks = (markers.open, markers.close, expression)
        rows = [
            *self._db.read(SEARCH_MESSAGES, (*marks, floor, int(limit))),
            *self._db.read(SEARCH_TITLES, (*marks, int(limit))),
        ]
        # bm25: lower is better; between equals, the newer first.
        rows.sort(key=lambda row: (float(str(row[6])), -float(str(row[5]))))
        return [_hit(row, markers) for row in rows[:limit]]


def _hit(row: tuple[object, ...], markers: Markers) -> SearchHit:
    conversation_id, message_id, title, marked, role, updated_at, _ = row
    snippet, highlights = plain_snippet(str(marked or ""), markers)
    return SearchHit(
        conversation_id=int(str(conversation_id)),
        message_id=None if message_id is None else int(str(message_id)),
        title=str(title),
        snippet=snippet,
        highlights=highlights,
        role=None if role is None else str(role),
        updated_at=float(str(updated_at)),
    )
