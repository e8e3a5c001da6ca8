"""Run the real review engine over a file's before/after text, as a diff would present it."""

from __future__ import annotations

import difflib

from code_assistant_lora.findings import Finding
from code_assistant_lora.review.engine import RuleSelection, review_files
from code_assistant_lora.review.rule import FileUnderReview


def file_change(
    path: str, new: str | None, old: str | None = None, status: str | None = None
) -> FileUnderReview:
    """A FileUnderReview for `path` going from `old` to `new` (None = absent)."""
    if status is None:
        status = "added" if old is None else "deleted" if new is None else "modified"
    added: set[int] = set()
    removed: list[str] = []
    old_lines = (old or "").splitlines()
    new_lines = (new or "").splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            added.update(range(j1 + 1, j2 + 1))
        if tag in ("replace", "delete"):
            removed.extend(old_lines[i1:i2])
    return FileUnderReview(
        path=path,
        status=status,
        text=new,
        added_lines=frozenset(added),
        removed_text=tuple(removed),
    )


def review(*files: FileUnderReview, only: str | None = None) -> list[Finding]:
    selection = RuleSelection(only=frozenset({only})) if only else RuleSelection()
    return review_files(list(files), selection=selection)


def review_text(
    path: str, new: str | None, old: str | None = None, *, only: str | None = None
) -> list[Finding]:
    return review(file_change(path, new, old), only=only)


def rule_ids(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]
