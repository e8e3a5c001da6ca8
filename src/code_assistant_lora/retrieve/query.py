"""A task as the ranker sees it: its tokens, the identifiers it names, and the paths it mentions.

Names written the way code writes them (`flag_value`, `RetryBudget`, `click.Option`, `parse()`,
`--dry-run`, anything in backticks) are the strongest clue a task gives: a file that defines one
is very likely the file to change."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tokenize import STOPWORDS, tokenize

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

    @property
    def normalized_names(self) -> frozenset[str]:
        return frozenset(normalize(n) for n in self.names)


def parse_query(text: str) -> Query:
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
    tokens = tuple(dict.fromkeys(tokenize(text)))
    return Query(
        text=text,
        tokens=tokens,
        names=tuple(names),
        qualified=tuple(qualified),
        paths=tuple(paths),
    )
