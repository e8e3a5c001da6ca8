"""Reviewer regression evals: the case format, applying a case's diff, reviewers and scoring."""

from .case import CaseError, EvalCase, ExpectedFinding, find_cases, load_case
from .score import CaseResult, SuiteScore, score_case, score_suites

__all__ = [
    "CaseError",
    "CaseResult",
    "EvalCase",
    "ExpectedFinding",
    "SuiteScore",
    "find_cases",
    "load_case",
    "score_case",
    "score_suites",
]
