"""Inline suppressions: `code-assistant: ignore[rule-id, ...]` on the flagged line or the line above.

A bare `code-assistant: ignore` (no brackets) is deliberately not supported: a suppression must name
what it silences so reviewers can see it.
"""

from __future__ import annotations

import re

from .rule import FileUnderReview

_MARKER = re.compile(r"code-assistant:\s*ignore\[([^\]]*)\]")


def suppressed_rules(text: str) -> set[str]:
    rules: set[str] = set()
    for match in _MARKER.finditer(text):
        rules.update(part.strip() for part in match.group(1).split(",") if part.strip())
    return rules


def is_suppressed(file: FileUnderReview, line: int, rule_id: str) -> bool:
    for number in (line, line - 1):
        if number >= 1:
            ids = suppressed_rules(file.line(number))
            if rule_id in ids or rule_id.split(".", 1)[0] + ".*" in ids:
                return True
    return False
