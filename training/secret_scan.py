"""The strict secret scan every training artifact passes through.

Stricter than the review pack on purpose: a review finding costs a reader a glance, a secret in a
training set is memorised by a model. Every line that could hold a credential is given to
detect-secrets: known token formats and private-key armour count wherever they appear (test code,
docs, lines of any length), with only detect-secrets' own noise heuristics applied; keyword,
entropy, bearer and URL-password hits go through the review pack's filters (placeholders such as
`changeme` or `${DB_PASSWORD}`, environment lookups, reference names), without its test-code
exemption, and are read both with the file type's keyword patterns and with YAML's, which accept
the unquoted `KEY=value` of dotenv and shell files. An unquoted random-looking value under a
secret-sounding name counts too.

Lines are picked by one cheap pass over the text: a denylisted keyword (detect-secrets' keyword
list, private-key armour, `user:pass@` URLs) or a run of 20+ token characters that does not read as
a word or identifier; every token format detect-secrets knows is at least that long. Cheap shape
checks then decide which lines the slower keyword logic sees, each a superset of what it can
report. Hits name the line and the kind of secret, never the value.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..secret_plugins import token_plugins

_WORDS = re.compile(
    r"(?:api|auth|service|account|db|database|priv|private|client)_?key|(?:db|database|key)_?pass"
    r"|password|passwd|pwd|secret|contrase|private key|putty|://[^/\s:@]{1,200}:[^/\s@]{1,200}@"
)
_HINT = re.compile(r"key|pass|pwd|secret|contrase|putty|://")  # literals every _WORDS match holds
# Identifier-shaped runs: words of letters, each capital followed by lowercase (`snake_case_name`,
# `handleSubmitButtonClick`, `kebab-case-slug`). Random tokens break this almost surely. Written
# so that every character has one way to match (no backtracking blow-up on long runs).
_WORDY = re.compile(r"[_\-/]*[A-Za-z][a-z]*(?:[_\-/]+[A-Za-z][a-z]*|[A-Z][a-z]+)*[_\-/]*")
_SLICE = 2000  # very long lines are scanned in overlapping slices (regexes stay linear)
_OVERLAP = 200
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_NEUTRAL_PATH = "record.txt"  # never a test path: the pack's test exemption does not apply


@dataclass(frozen=True)
class SecretHit:
    """A secret on `line` (1-based) of a text; `kind` is detect-secrets' name for it."""

    line: int
    kind: str

    def to_dict(self) -> dict:
        return {"line": self.line, "kind": self.kind}


_DIGIT = re.compile("[0-9]")
_UPPER = re.compile("[A-Z]")


def _token_like(run: str) -> bool:
    if _DIGIT.search(run):
        return True
    return _UPPER.search(run) is not None and _WORDY.fullmatch(run) is None


_KEY_BEFORE = re.compile(
    r"(?:api|auth|service|account|db|database|priv|private|client)_?$|private $"
)
_PASS_BEFORE = re.compile(r"(?:db|database|key)_?$")
_URL_PASSWORD = re.compile(r"://[^/\s:@]{1,200}:[^/\s@]{1,200}@")


def _word_at(lowered: str, offset: int, literal: str) -> bool:
    """Whether the _HINT literal at `offset` starts or ends a _WORDS match (checked by hand: one
    alternation regex over every line costs more than all the hints together)."""
    if literal == "key":
        return bool(
            _KEY_BEFORE.search(lowered, max(0, offset - 9), offset)
            or lowered.startswith(("pass", "_pass"), offset + 3)
        )
    if literal == "pass":
        return lowered.startswith(("password", "passwd"), offset) or bool(
            _PASS_BEFORE.search(lowered, max(0, offset - 9), offset)
        )
    if literal == "://":
        return _URL_PASSWORD.match(lowered, offset) is not None
    return True  # pwd, secret, contrase, putty


# Runs are found by mapping token characters to "a" and ASCII others to " " (str.translate is a
# single C pass), then searching for 20 "a"s: several times faster than a regex over the text.
_RUN_MARK = str.maketrans(
    {i: ("a" if re.fullmatch(r"[A-Za-z0-9+/_=\-]", chr(i)) else " ") for i in range(128)}
)
_RUN_END = re.compile("[^a]")
_TWENTY = "a" * 20


def _runs(text: str) -> Iterator[tuple[int, str]]:
    """(start, run) for each run of 20+ token characters."""
    marked = text.translate(_RUN_MARK)
    start = marked.find(_TWENTY)
    while start >= 0:
        end_match = _RUN_END.search(marked, start + 20)
        end = end_match.start() if end_match else len(marked)
        yield start, text[start:end]
        start = marked.find(_TWENTY, end)


def candidate_lines(text: str) -> dict[int, bool]:
    """1-based numbers of the lines worth giving to detect-secrets, each with whether it holds a
    token-like run (only such lines can hold a token format)."""
    events = [(start, True) for start, run in _runs(text) if _token_like(run)]
    lowered = text.lower()
    events += [
        (m.start(), False)
        for m in _HINT.finditer(lowered)
        if _word_at(lowered, m.start(), m.group())
    ]
    found: dict[int, bool] = {}
    if not events:
        return found
    events.sort()
    line, last = 1, 0
    for offset, is_run in events:
        line += text.count("\n", last, offset)
        last = offset
        if is_run or line not in found:
            found[line] = is_run
    return dict(sorted(found.items()))


class _Plugins:
    """detect-secrets' token-format and private-key plugins, built once."""

    def __init__(self) -> None:
        from detect_secrets.filters import heuristic
        from detect_secrets.plugins.private_key import PrivateKeyDetector

        self.private_key = PrivateKeyDetector()
        self.tokens = token_plugins()
        self.aws = self.tokens[0]
        self.heuristic = heuristic

    def is_noise(self, value: str, line: str) -> bool:
        h = self.heuristic
        return (
            h.is_templated_secret(value)
            or h.is_sequential_string(value)
            or h.is_potential_uuid(value)
            or h.is_likely_id_string(value, line)
        )

    def token_kind(self, line: str) -> str | None:
        """The kind of the first token format or private key on the line, if any."""
        for _ in self.private_key.analyze_string(line):
            return self.private_key.secret_type
        for plugin in self.tokens:
            for value in plugin.analyze_string(line):
                if plugin is self.aws or not self.is_noise(value, line):
                    return plugin.secret_type
        return None


@lru_cache(maxsize=1)
def _plugins() -> _Plugins:
    return _Plugins()


def _slices(line: str):
    if len(line) <= _SLICE:
        yield line
        return
    for start in range(0, len(line), _SLICE - _OVERLAP):
        yield line[start : start + _SLICE]


def find_secrets(text: str, path: str = _NEUTRAL_PATH, first_only: bool = False) -> list[SecretHit]:
    """Every line of `text` that holds a secret, with its kind. `path` only picks detect-secrets'
    keyword patterns for the file type; a test path does not relax anything."""
    numbers = candidate_lines(text)
    if not numbers:
        return []
    hint = _keyword_hint(path)
    lines = text.split("\n")
    hits: list[SecretHit] = []
    for number, has_run in numbers.items():
        kind = _line_kind(lines[number - 1], hint, has_run)
        if kind is not None:
            hits.append(SecretHit(number, kind))
            if first_only:
                break
    return hits


def _keyword_hint(path: str) -> str:
    """The path whose file type picks detect-secrets' keyword patterns (never a test path)."""
    from code_assistant_lora.review.rules.python import is_test_path

    return _NEUTRAL_PATH if is_test_path(path) else path


# Config-style assignments of one unquoted word (`KEY=value`, `key: value`), as dotenv, shell and
# YAML files write them: detect-secrets' YAML keyword patterns read these, its default ones do not.
_BARE_VALUE = re.compile(
    r"^\s*(?:export\s+)?[\"']?([\w.\-]+)[\"']?\s*[:=]\s*[^\s\"'`]+\s*(?:#.*)?$"
)
# Shapes a quoted keyword hit needs (a superset of detect-secrets' quotes-required patterns): a
# denylisted name then an assignment, comparison, call or arrow and a quote; a quoted value
# compared with such a name; a name and a quoted value closed by `;`.
_KEYWORD_SHAPE = re.compile(
    r"(?:key|pass|pwd|secret|contrase)\w*[\]'\"]{0,2}\s*(?:[:=!]=?=?|=>|\(|\.assign\()\s*@?[\"'`]"
    r"|[\"'`]\s*[!=]{2,3}\s*\w*(?:key|pass|pwd|secret|contrase)"
    r"|(?:key|pass|pwd|secret|contrase)\S{0,50}?\s*[\"'`][^\"'`]*[\"'`];"
)
_SHORT_HEX = re.compile(r"[\"'`][0-9a-fA-F]{9,}[\"'`]")  # hex entropy counts from 9 characters


@lru_cache(maxsize=1 << 15)
def _line_kind(line: str, hint: str, has_run: bool) -> str | None:
    """The kind of secret on one line, or None. Cached: the same line recurs across records (a
    file's context, its edit, its diff). Cheap shape checks decide which lines the review pack's
    (slower) keyword and entropy logic sees; each is a superset of what that logic can report."""
    lowered = line.lower()
    if has_run or "private key" in lowered or "putty" in lowered:
        plugins = _plugins()
        for piece in _slices(line):
            kind = plugins.token_kind(piece)
            if kind is not None:
                return kind
    from code_assistant_lora.review.rules.secrets import ENV_LOOKUP  # the pack's own exemption

    if len(line) > _SLICE or ENV_LOOKUP.search(line):
        return None  # the pack reports no keyword hit on such lines (and skips very long ones)
    line = _OTHER_BREAKS.sub(" ", line)  # the pack splits lines with str.splitlines
    quoted = has_run or "://" in line or _KEYWORD_SHAPE.search(lowered) or _SHORT_HEX.search(line)
    if quoted and re.search("[\"'`]|://", line) and _generic_hit(line, hint):
        return "credential (keyword, entropy or URL password)"
    bare = _BARE_VALUE.match(line)
    if bare and _WORDS.search(bare.group(1).lower()) and _generic_hit(line, "record.yaml"):
        return "credential (keyword, entropy or URL password)"
    if has_run and _bare_secret(line):
        return "high-entropy value"
    return None


def _generic_hit(line: str, hint: str) -> bool:
    """Keyword, entropy, bearer and URL-password hits through the review pack's filters
    (placeholders, templates, reference names)."""
    from code_assistant_lora.review.rule import FileUnderReview
    from code_assistant_lora.review.rules.secrets import check_hardcoded_credential

    file = FileUnderReview(path=hint, status="added", text=line, added_lines=frozenset({1}))
    return next(iter(check_hardcoded_credential(file, None)), None) is not None


_BARE_ASSIGNMENT = re.compile(
    r"^[\s\-]*(?:export\s+)?([\w.\-]+)\s*[:=]\s*([A-Za-z0-9+/_=\-]{20,})\s*(?:#.*)?$"
)
_SECRET_NAME = re.compile(
    r"token|secret|passw|pwd|key|credential|auth|signature|salt|cookie|session", re.I
)


def _entropy(value: str) -> float:
    from math import log2

    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    return -sum(c / len(value) * log2(c / len(value)) for c in counts.values())


def _bare_secret(line: str) -> bool:
    """`NAME=value` with a random-looking unquoted value under a secret-sounding name
    (detect-secrets' entropy plugins only read quoted strings)."""
    found = _BARE_ASSIGNMENT.match(line)
    if found is None or not _SECRET_NAME.search(found.group(1)):
        return False
    value = found.group(2)
    hexadecimal = all(c in "0123456789abcdefABCDEF" for c in value)
    return _token_like(value) and _entropy(value) > (3.0 if hexadecimal else 4.2)


def holds_secret(text: str, path: str = _NEUTRAL_PATH) -> bool:
    """Whether `find_secrets` finds anything (stops at the first hit)."""
    return bool(find_secrets(text, path, first_only=True))


# --- every string of a JSON value ----------------------------------------------------------------


def string_fields(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) for every string in a JSON value; long keys count as strings too."""
    if isinstance(value, str):
        yield where or "<value>", value
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and len(key) > 16:
                yield f"{path} (key)", key
            yield from string_fields(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_fields(item, f"{where}[{index}]")


def _strings(value: Any, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and len(key) > 16:
                into.append(key)
            _strings(item, into)
    elif isinstance(value, list):
        for item in value:
            _strings(item, into)


def value_secrets(value: Any) -> list[tuple[str, SecretHit]]:
    """(field, hit) for every secret in any string of `value`. The strings are scanned as one
    text, one field per block of lines; only when something is found are hits mapped back to
    their field and line (the common, clean case never builds field names)."""
    texts: list[str] = []
    _strings(value, texts)
    if not texts or not find_secrets("\n".join(texts), first_only=True):
        return []
    fields = list(string_fields(value))
    firsts = [1]  # the joined text's line number where each field starts
    for _, text in fields[:-1]:
        firsts.append(firsts[-1] + text.count("\n") + 1)
    found = []
    for hit in find_secrets("\n".join(text for _, text in fields)):
        at = bisect_right(firsts, hit.line) - 1
        found.append((fields[at][0], SecretHit(hit.line - firsts[at] + 1, hit.kind)))
    return found


def scan_chunk(values: list) -> list[list[tuple[str, SecretHit]]]:
    """`value_secrets` of each value (a unit of work for `parallel.map_chunks`)."""
    return [value_secrets(v) for v in values]


def scan_values(
    values: Sequence[Any],
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> list[list[tuple[str, SecretHit]]]:
    """`value_secrets` for each value, in order; large inputs in worker processes."""
    from .parallel import map_chunks

    return map_chunks(scan_chunk, values, progress, workers)
