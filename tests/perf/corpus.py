"""Deterministic, realistic markdown for the benchmark: what a long model answer looks like.

Headings, paragraphs with inline code, emphasis and links, bullet and numbered lists, tables,
fenced Python, block quotes: the block kinds a chat view must render while they stream. The
same arguments always give the same text, so every process (server, clients) can rebuild it.
"""

from __future__ import annotations

import random

from deltadesk.core.demo import split_tokens

SEED = 20_240_601

_WORD_LIST = (
    "stream token buffer render frame block parser latency request server client queue "
    "thread signal widget window layout cursor document markdown table heading paragraph "
    "python function value result error retry timeout socket answer model provider profile "
    "history message status reason cache index batch chunk delta flush paint event loop "
    "memory budget scroll viewport schema column record session handler route header body"
)
_WORDS = tuple(_WORD_LIST.split())
_TOPICS = (
    "Streaming answers",
    "Rendering markdown",
    "Timeouts and retries",
    "Storing history",
    "Measuring latency",
    "Stopping a stream",
    "Profiles and keys",
    "Scrolling long chats",
)
_IDENTIFIERS = ("buffer", "chunks", "events", "frames", "items", "rows", "tokens", "parts")
_LANGUAGES = ("Python", "Rust", "Go", "TypeScript", "Kotlin")


class _Writer:
    """One seeded generator of sentences and blocks."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def words(self, count: int) -> list[str]:
        return [self._random.choice(_WORDS) for _ in range(count)]

    def sentence(self) -> str:
        words = self.words(self._random.randint(7, 16))
        decorate = self._random.random()
        position = self._random.randrange(1, len(words) - 1)
        if decorate < 0.2:
            words[position] = f"`{words[position]}()`"
        elif decorate < 0.35:
            words[position] = f"**{words[position]}**"
        elif decorate < 0.45:
            words[position] = f"*{words[position]}*"
        elif decorate < 0.55:
            target = words[position]
            words[position] = f"[{target} guide](https://example.com/docs/{target})"
        return " ".join(words).capitalize() + self._random.choice((".", ".", ".", "?", "!"))

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self._random.randint(2, 5)))

    def heading(self, number: int) -> str:
        level = "#" * self._random.choice((2, 2, 3))
        return f"{level} {number}. {self._random.choice(_TOPICS)}"

    def bullets(self) -> str:
        lines = [f"- {self.sentence()}" for _ in range(self._random.randint(3, 6))]
        if self._random.random() < 0.5:
            lines.insert(2, f"  - nested: `{self._random.choice(_WORDS)}` {self.sentence()}")
        return "\n".join(lines)

    def numbered(self) -> str:
        count = self._random.randint(3, 6)
        return "\n".join(f"{index}. {self.sentence()}" for index in range(1, count + 1))

    def table(self) -> str:
        header = "| Option | Latency (ms) | Memory | Notes |"
        rule = "|---|---:|:---:|---|"
        rows = [
            f"| {language} | {self._random.randint(2, 400)} | "
            f"{self._random.choice(('low', 'medium', 'high'))} | "
            f"{' '.join(self.words(self._random.randint(2, 6)))} |"
            for language in self._random.sample(_LANGUAGES, self._random.randint(3, 5))
        ]
        return "\n".join([header, rule, *rows])

    def code(self) -> str:
        name = self._random.choice(_IDENTIFIERS)
        limit = self._random.randint(2, 64)
        word = self._random.choice(_WORDS)
        return "\n".join(
            [
                "```python",
                f"def flush_{word}({name}: list[str], limit: int = {limit}) -> str:",
                f'    """Join at most `limit` {name}; keep the rest for the next frame."""',
                f"    head, rest = {name}[:limit], {name}[limit:]",
                f"    {name}[:] = rest",
                "    if not head:",
                f'        return ""  # nothing new for the {word}',
                '    return "".join(head)',
                "",
                "",
                f"for frame in range({self._random.randint(3, 9)}):",
                f'    print(frame, flush_{word}(["a", "b", "c"] * frame))',
                "```",
            ]
        )

    def quote(self) -> str:
        return f"> **Note:** {self.sentence()}\n> {self.sentence()}"

    def section(self, number: int) -> str:
        blocks = [self.heading(number), self.paragraph()]
        extras = [self.bullets, self.numbered, self.table, self.code, self.quote, self.paragraph]
        for make in self._random.sample(extras, self._random.randint(3, 5)):
            blocks.append(make())
        return "\n\n".join(blocks)


def markdown_tokens(count: int, seed: int = SEED) -> list[str]:
    """Exactly `count` tokens (as demo.split_tokens cuts them) of a long markdown answer.

    Whole sections are added until the text is nearly long enough; then closing paragraphs
    longer than what is missing, cut at the exact token count, so the answer never ends
    inside a table or a code fence.
    """
    writer = _Writer(seed)
    parts = ["Here is a long, structured answer."]
    estimate = len(split_tokens(parts[0]))
    number = 1
    while estimate < count - 150:
        section = "\n\n" + writer.section(number)
        parts.append(section)
        estimate += len(split_tokens(section))
        number += 1
    parts.append("\n\n" + " ".join(writer.sentence() for _ in range(40)))
    tokens: list[str] = split_tokens("".join(parts))
    while len(tokens) < count:
        tokens.extend(split_tokens(" " + writer.sentence()))
    return tokens[:count]


def markdown_text(count: int, seed: int = SEED) -> str:
    """The answer of `count` tokens as one string."""
    return "".join(markdown_tokens(count, seed))


def markdown_of_length(chars: int, seed: int) -> str:
    """About `chars` characters of the same kind of markdown (whole sections)."""
    writer = _Writer(seed)
    parts: list[str] = []
    length = 0
    number = 1
    while length < chars:
        section = writer.section(number)
        parts.append(section)
        length += len(section) + 2
        number += 1
    return "\n\n".join(parts)


def question(seed: int) -> str:
    """A short question, as a person types it (plain text, no markdown)."""
    writer = _Writer(seed)
    return " ".join(writer.sentence() for _ in range(2)).rstrip(".!") + "?"
