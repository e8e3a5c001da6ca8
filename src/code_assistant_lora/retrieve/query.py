"""A task as the ranker sees it: its tokens, the identifiers it names, the paths it mentions, and
the separate requests it is made of.

Names written the way code writes them (`flag_value`, `RetryBudget`, `click.Option`, `parse()`,
`--dry-run`, anything in backticks) are the strongest clue a task gives: a file that defines one
is very likely the file to change. A task listing several changes (release notes, an issue with a
bullet list) is split into its entries: each is ranked on its own, so one long entry's words do
not drown the file a short one is about."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .tokenize import STOPWORDS, tokenize, type_words

_BACKTICK = re.compile(r"`+([^`\n]{1,200})`+")
_DOTTED = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\(")
_SNAKE = re.compile(r"\b_*[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b__\w+__\b")
_CAMEL = re.compile(
    r"\b(?:[A-Z][a-z0-9]+){2,}\w*\b|\b[a-z]+(?:[A-Z][a-z0-9]*)+\b|\b[A-Z]{2,}[a-z]\w*\b"
)
_OPTION = re.compile(r"(?<![\w-])--?([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\b")
_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z][\w]{0,5})(?![\w/])")
_CODE_SUFFIX = re.compile(
    r"\.(?:py|pyi|ts|tsx|js|jsx|mjs|cjs|vue|go|rs|java|sql|sh|ya?ml|toml|json|md|rst|cfg|ini|txt)$"
)
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_ENTRY = re.compile(r"^\s{0,6}(?:[-*+\u2022]|\d{1,3}[.)])\s+", re.M)
MAX_PARTS = 12
STRIP_HEADINGS = True


def normalize(name: str) -> str:
    """How identifiers are compared across naming styles: lowercase, no underscores."""
    return name.lower().replace("_", "")


@dataclass(frozen=True)
class Query:
    text: str
    tokens: tuple[str, ...]  # code-aware tokens, first occurrence order, no repeats
    names: tuple[str, ...]  # identifiers the task names, as written (last component of dotted)
    qualified: tuple[str, ...]  # dotted names as written (`click.Option.flag_value`)
    paths: tuple[str, ...]  # file names or paths the task mentions
    parts: tuple[Query, ...] = ()  # the entries of a task listing several changes (2 or more)

    @property
    def normalized_names(self) -> frozenset[str]:
        return frozenset(normalize(n) for n in self.names)


def split_entries(text: str) -> list[str]:
    """The entries of a bulleted or numbered list (text before the first one is dropped when it
    is a heading-like line); [] when the text is not a list of two or more entries."""
    starts = [m.start() for m in _ENTRY.finditer(text)]
    if len(starts) < 2:
        return []
    entries = [text[a:b].strip() for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    return [e for e in entries if len(tokenize(e)) >= 2][:MAX_PARTS]


_HEADING = re.compile(
    r"^(?:#{1,6}\s.*|\*\*[^*\n]+\*\*:?|_{2}[^_\n]+_{2}:?"
    r"|[A-Z][\w/&-]*(?:[ \t]+(?:[A-Z][\w/&-]*|and|or|of|for|to|in|&))*:?)[ \t]*$",
    re.M,
)


def strip_headings(text: str) -> str:
    """The text without section headings (`## Bug Fixes`, `**Dependencies**`, `Features`):
    their words describe the kind of change, not the code it touches. Only Title Case lines of
    at most five words count as plain-text headings, so a commit subject stays."""
    kept = [
        line
        for line in text.split("\n")
        if not (_HEADING.match(line) and len(line.split()) <= 5 and not _ENTRY.match(line))
    ]
    return "\n".join(kept)


def parse_query(text: str) -> Query:
    body = strip_headings(text) if STRIP_HEADINGS else text
    if not tokenize(body):
        body = text  # nothing but headings: keep them rather than nothing
    whole = _parse(body)
    entries = split_entries(body)
    if len(entries) < 2:
        return replace(whole, text=text)
    return Query(
        text,
        whole.tokens,
        whole.names,
        whole.qualified,
        whole.paths,
        parts=tuple(_parse(entry) for entry in entries),
    )


def _parse(text: str) -> Query:
    names: dict[str, None] = {}
    qualified: dict[str, None] = {}
    paths: dict[str, None] = {}

    def add_name(raw: str) -> None:
        raw = raw.strip().strip("()[]{}:;,'\"")
        if not raw:
            return
        if _CODE_SUFFIX.search(raw) and ("/" in raw or raw.count(".") == 1):
            paths[raw.lstrip("./")] = None
            return
        if "." in raw:
            parts = [p for p in raw.split(".") if _IDENT.match(p) and len(p) > 1]
            if len(parts) >= 2:
                qualified[".".join(parts)] = None
                for part in parts:
                    if len(part) > 2 and part.lower() not in STOPWORDS:
                        names[part] = None
            return
        if _IDENT.match(raw) and len(raw) > 2 and raw.lower() not in STOPWORDS:
            names[raw] = None

    for match in _BACKTICK.finditer(text):
        inner = match.group(1)
        for piece in re.split(r"[\s(),=<>:\[\]{}]+", inner):
            if piece.startswith("--"):
                add_name(piece[2:].replace("-", "_"))
            else:
                add_name(piece)
    for match in _PATH.finditer(text):
        if _CODE_SUFFIX.search(match.group(1)):
            paths[match.group(1).lstrip("./")] = None
    for match in _DOTTED.finditer(text):
        if not _CODE_SUFFIX.search(match.group()):
            add_name(match.group())
    for pattern in (_CALL, _SNAKE, _CAMEL):
        for match in pattern.finditer(text):
            add_name(match.group(1) if pattern is _CALL else match.group())
    for match in _OPTION.finditer(text):
        add_name(match.group(1).replace("-", "_"))
    tokens = tuple(dict.fromkeys(tokenize(text) + type_words(text)))
    return Query(
        text=text,
        tokens=tokens,
        names=tuple(names),
        qualified=tuple(qualified),
        paths=tuple(paths),
    )
