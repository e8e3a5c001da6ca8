"""The review.json document (schema `code-assistant/review@1`), the source for every rendering."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..findings import Severity

if TYPE_CHECKING:
    from ..review.run import ReviewResult

REVIEW_SCHEMA = "code-assistant/review@1"


def review_document(
    result: ReviewResult, fail_on: Severity | None = None, models: dict | None = None
) -> dict:
    """The document; `models` (each specialist asked or skipped, and why) is added only when the
    model roles were on, so rule-only documents are unchanged."""
    counts = Counter(f.severity for f in result.findings)
    by_severity = {s.value: counts[s] for s in Severity if counts[s]}
    source = result.changeset.source.to_dict()
    document = {
        "schema": REVIEW_SCHEMA,
        "source": source,
        "summary": {
            "files": result.files_reviewed,
            "findings": len(result.findings),
            "by_severity": by_severity,
            "baseline_suppressed": result.suppressed_by_baseline,
        },
        "findings": [f.to_dict() for f in result.findings],
        "notes": list(result.notes),
    }
    if models is not None:
        document["models"] = models
    if fail_on is not None:
        failing = sum(1 for f in result.findings if f.severity.at_least(fail_on))
        document["summary"]["fail_on"] = fail_on.value
        document["summary"]["failing"] = failing
    return document
