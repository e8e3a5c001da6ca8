"""Code-aware tokens: identifiers are kept whole *and* split into their words, so a task that says
"retry budget" meets `RetryBudget`, `retry_budget` and `retryBudget` alike.

The same function tokenizes documents and queries; both sides share one light suffix stemmer
(`caching`, `cached`, `caches` -> `cach`) so inflections meet without a stemming library."""

from __future__ import annotations

import re
from functools import lru_cache

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# English function words and keywords every program is full of: they carry no signal.
STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could did do does doing done for from had has have how i
    if in into is it its it's let may me might more most must my no nor not of on once only or other
    our out over own same shall she should so some such than that the their them then there these
    they this those through to too under until up very was we were what when where which while who
    why will with would you your also any all each few both just now new via per eg ie etc
    def self cls return import none true false null nil undefined const var function elif else
    pass lambda yield async await try except finally raise with while break continue class
    public private protected static void int str bool float string number boolean func fn
    package impl pub mut use mod let this super end begin then fi done esac
    make makes made get gets set sets add adds added use uses used using
    """.split()
)


# Type names are noise in code bodies (every file says `int`), but a definition named after one
# (`class Float`, `FloatField`, `parse_int`) is exactly what a task saying "float" means. They are
# kept in definition names and in the task, not in bodies.
TYPE_WORDS = frozenset("int str bool float".split())  # not "string", "number": prose says them


def symbol_tokens(symbol: str) -> list[str]:
    """Tokens of a definition's name: as `tokenize`, plus the type words among its parts."""
    name = symbol.rsplit(".", 1)[-1]
    parts = [p.lower() for piece in name.split("_") for p in _CAMEL.findall(piece)]
    return tokenize(symbol) + [p for p in dict.fromkeys(parts) if p in TYPE_WORDS]


def type_words(text: str) -> list[str]:
    """The type words a task uses as words (`float`, `Int`), for `symbol_tokens` to meet."""
    return list(
        dict.fromkeys(w.lower() for w in re.findall(r"[A-Za-z]+", text) if w.lower() in TYPE_WORDS)
    )


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A deliberately small suffix stripper (plural, -ing, -ed, trailing e)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


@lru_cache(maxsize=200_000)
def identifier_tokens(identifier: str) -> tuple[str, ...]:
    """`parseHTTPResponse_v2` -> ('parsehttpresponsev2', 'pars', 'http', 'respons', 'v2')."""
    parts = [p.lower() for piece in identifier.split("_") for p in _CAMEL.findall(piece)]
    words = [stem(p) for p in parts if len(p) > 1 and p not in STOPWORDS]
    whole = identifier.lower().replace("_", "")
    if len(parts) > 1 and whole and whole not in STOPWORDS:
        words.insert(0, whole)
    elif not words and len(whole) > 1 and whole not in STOPWORDS and not parts:
        words = [whole]
    return tuple(words)


def tokenize(text: str) -> list[str]:
    """Every identifier and word in `text`, code-aware, stemmed, stopwords dropped."""
    out: list[str] = []
    for match in _IDENT.finditer(text):
        token = match.group()
        if token.isdigit():
            if len(token) > 1:
                out.append(token)
            continue
        out.extend(identifier_tokens(token))
    return out


def path_tokens(path: str) -> list[str]:
    """Tokens of a path: every folder and the file's stem, split like identifiers."""
    stem_part = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    return tokenize(stem_part.replace("/", " ").replace("-", "_").replace(".", " "))
