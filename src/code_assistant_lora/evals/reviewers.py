"""The reviewers an eval can score: the deterministic rules, a model role behind an
OpenAI-compatible endpoint, or both merged the way `code-assistant review --models` merges them.

Contract: `review(case) -> (findings, notes)`. A reviewer never raises for a model that is down or
answers garbage: it returns no findings and a note saying why, and the case scores as missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..findings import Finding
from .case import EvalCase
from .patch import apply_case

REVIEWER_KINDS = ("rules", "model", "both")


class Reviewer(Protocol):
    name: str

    def review(self, case: EvalCase) -> tuple[list[Finding], list[str]]:
        """The findings for the case's change, and notes (skipped roles, dropped output)."""


@dataclass
class RulesReviewer:
    name: str = "rules"

    def review(self, case: EvalCase) -> tuple[list[Finding], list[str]]:
        from ..review.engine import review_files

        return review_files(apply_case(case)), []


@dataclass
class ModelReviewer:
    """One model (a specialist role or an adapter's model name) asked to review each case."""

    endpoint: str
    model: str
    timeout: float = 60.0
    name: str = "model"

    def review(self, case: EvalCase) -> tuple[list[Finding], list[str]]:
        from ..models.client import ChatClient, ModelError
        from ..models.roles import specialist_for_suite
        from ..models.specialist import ask_for_findings

        files = apply_case(case)
        client = ChatClient(self.endpoint, timeout=self.timeout)
        try:
            return ask_for_findings(client, self.model, files, specialist_for_suite(case.suite))
        except ModelError as exc:
            return [], [f"model {self.model} skipped: {exc}"]
        finally:
            client.close()


@dataclass
class CombinedReviewer:
    parts: Sequence[Reviewer]
    name: str = "both"

    def review(self, case: EvalCase) -> tuple[list[Finding], list[str]]:
        from ..review.engine import dedupe

        findings: list[Finding] = []
        notes: list[str] = []
        for part in self.parts:
            found, said = part.review(case)
            findings.extend(found)
            notes.extend(said)
        return dedupe(findings), notes


def make_reviewer(
    kind: str, endpoint: str | None = None, model: str | None = None, timeout: float = 60.0
) -> Reviewer:
    """The reviewer for `--assistant-reviewer`; model kinds need an endpoint and a model name."""
    from ..errors import UserError

    if kind not in REVIEWER_KINDS:
        raise UserError(f"unknown reviewer {kind!r} (expected one of: {', '.join(REVIEWER_KINDS)})")
    if kind == "rules":
        return RulesReviewer()
    if not endpoint or not model:
        raise UserError(f"reviewer {kind!r} needs a model endpoint and a model name")
    model_reviewer = ModelReviewer(endpoint=endpoint, model=model, timeout=timeout)
    if kind == "model":
        return model_reviewer
    return CombinedReviewer(parts=(RulesReviewer(), model_reviewer))
