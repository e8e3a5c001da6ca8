"""The rule-pack extension point.

A rule pack is a specialist: it claims files by path (`RulePack.matches`) and runs its checks over
each claimed file. A check is a plain function `check(file, context) -> Iterable[Hit]` registered
against a `Rule` (its id, category, default severity, rationale and suggested fix). Checks only say
*where*; the engine turns hits into findings, keeps those on changed lines, applies inline
suppressions, baselines, rule selection and the severity threshold. Checks must never raise on odd
input (partial files, syntax errors, non-UTF-8 text decoded with replacement characters): they see
the text as it is and return no hits when they cannot tell.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ..findings import Severity


@dataclass(frozen=True)
class Rule:
    id: str  # "<pack>.<name>", e.g. "python.mutable-default-argument"
    category: str  # a stable category name, e.g. "mutable-default-argument"
    severity: Severity
    rationale: str  # why this matters, one or two sentences
    suggested_fix: str  # a concrete fix


@dataclass(frozen=True)
class Hit:
    """Where a rule fired. `line` is 1-based in the new file; `rationale`/`suggested_fix`
    override the rule's text when the check can be more specific."""

    line: int
    end_line: int | None = None
    rationale: str | None = None
    suggested_fix: str | None = None
    severity: Severity | None = None
    # File-level concerns (a deleted test file, a committed .env) are reported even though no
    # added line carries them.
    anywhere: bool = False


@dataclass(frozen=True)
class FileUnderReview:
    """One changed file as rules see it."""

    path: str
    status: str  # added | modified | deleted | renamed | mode-changed | binary
    text: str | None  # new content; None for deleted and binary files
    added_lines: frozenset[int] = frozenset()
    old_path: str | None = None
    removed_text: tuple[str, ...] = ()  # lines removed by the change, in order

    @property
    def is_new(self) -> bool:
        return self.status == "added"

    @property
    def is_deleted(self) -> bool:
        return self.status == "deleted"

    @cached_property
    def lines(self) -> list[str]:
        """The new content split into lines; index i holds line i+1."""
        return (self.text or "").splitlines()

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def added(self) -> Iterable[tuple[int, str]]:
        """(line number, text) for each added line, in order."""
        lines = self.lines
        for number in sorted(self.added_lines):
            if number <= len(lines):
                yield number, lines[number - 1]

    def is_changed(self, number: int) -> bool:
        return self.is_new or number in self.added_lines

    @cached_property
    def python_ast(self) -> ast.Module | None:
        """The parsed module, or None when the text is not valid Python."""
        if self.text is None:
            return None
        try:
            return ast.parse(self.text)
        except (SyntaxError, ValueError):
            return None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        name = self.name
        return name[name.rfind(".") :].lower() if "." in name else ""


@dataclass(frozen=True)
class ReviewContext:
    """What a check may know about the rest of the change (for cross-file rules)."""

    files: Sequence[FileUnderReview] = ()

    @cached_property
    def paths(self) -> frozenset[str]:
        return frozenset(f.path for f in self.files)

    @cached_property
    def memo(self) -> dict:
        """Per-change results a pack computes once and reuses for every file (keys are namespaced
        by pack: `"tests.live-test-files"`), so cross-file rules stay linear in the change."""
        return {}


Check = Callable[[FileUnderReview, ReviewContext], Iterable[Hit]]


@dataclass(frozen=True)
class RulePack:
    name: str  # "python", "typescript", ...
    matches: Callable[[str], bool]  # claims a path (repo-relative, forward slashes)
    checks: tuple[tuple[Rule, Check], ...] = field(default=())

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule, _ in self.checks)


def line_matches(
    file: FileUnderReview, pattern: re.Pattern[str]
) -> Iterable[tuple[int, re.Match[str]]]:
    """Each added line matching `pattern`, with its number (a common shape for line rules)."""
    for number, text in file.added():
        match = pattern.search(text)
        if match:
            yield number, match
