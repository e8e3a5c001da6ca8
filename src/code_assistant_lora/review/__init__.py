"""Deterministic review: rule packs routed by path, run by the engine over a change set."""

from .engine import RuleSelection, review_files
from .rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack

__all__ = [
    "FileUnderReview",
    "Hit",
    "ReviewContext",
    "Rule",
    "RulePack",
    "RuleSelection",
    "review_files",
]
