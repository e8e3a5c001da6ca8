"""Scoring a reviewer against a case, and a suite from its cases.

A produced finding matches an expected one when file and category are equal, its severity is at or
above the expected minimum, and the expected line falls in the finding's span widened by
`LINE_SLACK` lines (model reviewers are often one line off; rules are exact). Each expected finding
matches at most one produced finding. A finding on the right line and category but below the
minimum severity is a miss, not a false positive. Findings below the scored severity (default:
`info` is advisory and not scored) are ignored.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..findings import Finding, Severity
from .case import EvalCase, ExpectedFinding

LINE_SLACK = 1


@dataclass(frozen=True)
class CaseResult:
    case: EvalCase
    produced: tuple[Finding, ...]
    matched: tuple[tuple[ExpectedFinding, Finding], ...]
    missed: tuple[ExpectedFinding, ...]
    unexpected: tuple[Finding, ...]
    under_severity: tuple[Finding, ...] = ()
    latency_s: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.missed and not self.unexpected

    def record(self) -> dict:
        """The counts a suite score needs, JSON-safe (it travels from xdist workers)."""
        return {
            "case": self.case.case_id,
            "suite": self.case.suite,
            "clean": self.case.must_not_flag,
            "passed": self.passed,
            "expected": len(self.case.expected),
            "produced": len(self.produced),
            "matched": len(self.matched),
            "missed": len(self.missed),
            "unexpected": len(self.unexpected),
            "latency_s": self.latency_s,
        }


def _lines_agree(expected: ExpectedFinding, finding: Finding) -> bool:
    return (
        finding.line - LINE_SLACK
        <= expected.line
        <= max(finding.end_line, finding.line) + LINE_SLACK
    )


def score_case(
    case: EvalCase,
    findings: Iterable[Finding],
    latency_s: float = 0.0,
    min_severity: Severity = Severity.LOW,
    notes: Sequence[str] = (),
) -> CaseResult:
    produced = tuple(f for f in findings if f.severity.at_least(min_severity))
    free = list(produced)
    matched: list[tuple[ExpectedFinding, Finding]] = []
    missed: list[ExpectedFinding] = []
    under: list[Finding] = []
    for expected in case.expected:
        candidates = [
            f
            for f in free
            if f.file == expected.file
            and f.category == expected.category
            and _lines_agree(expected, f)
        ]
        strong = [f for f in candidates if f.severity.at_least(expected.severity)]
        if strong:
            best = min(strong, key=lambda f: abs(f.line - expected.line))
            matched.append((expected, best))
            free.remove(best)
        else:
            missed.append(expected)
            if candidates:
                under.append(candidates[0])
                free.remove(candidates[0])
    return CaseResult(
        case=case,
        produced=produced,
        matched=tuple(matched),
        missed=tuple(missed),
        unexpected=tuple(free),
        under_severity=tuple(under),
        latency_s=latency_s,
        notes=tuple(notes),
    )


@dataclass
class SuiteScore:
    suite: str
    cases: int = 0
    clean_cases: int = 0
    passed: int = 0
    expected: int = 0
    produced: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    clean_cases_flagged: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        scored = self.true_positives + self.false_positives
        return self.true_positives / scored if scored else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def false_positive_rate(self) -> float:
        """Share of clean cases on which the reviewer said anything."""
        return self.clean_cases_flagged / self.clean_cases if self.clean_cases else 0.0

    def add(self, record: dict) -> None:
        """Count one case, from `CaseResult.record()`."""
        self.cases += 1
        self.passed += bool(record["passed"])
        self.expected += record["expected"]
        self.produced += record["produced"]
        self.true_positives += record["matched"]
        self.false_positives += record["unexpected"]
        self.false_negatives += record["missed"]
        if record["clean"]:
            self.clean_cases += 1
            self.clean_cases_flagged += bool(record["produced"])
        self.latencies.append(record["latency_s"])

    def to_dict(self) -> dict:
        lat = sorted(self.latencies) or [0.0]
        return {
            "suite": self.suite,
            "cases": self.cases,
            "clean_cases": self.clean_cases,
            "passed": self.passed,
            "expected": self.expected,
            "produced": self.produced,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "false_positive_rate": round(self.false_positive_rate, 4),
            "latency_ms": {
                "mean": round(statistics.fmean(lat) * 1000, 2),
                "p50": round(lat[len(lat) // 2] * 1000, 2),
                "max": round(lat[-1] * 1000, 2),
            },
        }


def score_suites(records: Iterable[dict]) -> dict[str, SuiteScore]:
    suites: dict[str, SuiteScore] = {}
    for record in records:
        suites.setdefault(record["suite"], SuiteScore(record["suite"])).add(record)
    return dict(sorted(suites.items()))


def threshold_failures(suites: dict[str, SuiteScore], thresholds_for) -> list[str]:
    """One line per suite and metric below its configured minimum."""
    failures = []
    for name, score in suites.items():
        limits = thresholds_for(name)
        if limits.min_precision is not None and score.precision < limits.min_precision:
            failures.append(f"{name}: precision {score.precision:.2f} < {limits.min_precision:.2f}")
        if limits.min_recall is not None and score.recall < limits.min_recall:
            failures.append(f"{name}: recall {score.recall:.2f} < {limits.min_recall:.2f}")
    return failures


def overall(suites: dict[str, SuiteScore]) -> SuiteScore:
    total = SuiteScore("all")
    for score in suites.values():
        for name in (
            "cases",
            "clean_cases",
            "passed",
            "expected",
            "produced",
            "true_positives",
            "false_positives",
            "false_negatives",
            "clean_cases_flagged",
        ):
            setattr(total, name, getattr(total, name) + getattr(score, name))
        total.latencies.extend(score.latencies)
    return total


def describe_mismatch(result: CaseResult) -> str:
    """Expected vs produced, as a readable diff for a failing test item."""
    lines = [f"{result.case.case_id}: {result.case.description}"]
    for expected, finding in result.matched:
        lines.append(f"  = {expected.file}:{expected.line} {expected.category} ({finding.rule})")
    for expected in result.missed:
        lines.append(
            f"  - missing  {expected.file}:{expected.line} {expected.category} >= {expected.severity.value}"
        )
    for finding in result.under_severity:
        lines.append(
            f"    (found at {finding.severity.value}: {finding.file}:{finding.line} {finding.rule})"
        )
    for finding in result.unexpected:
        lines.append(
            f"  + unexpected {finding.file}:{finding.line} {finding.category} {finding.severity.value} ({finding.rule})"
        )
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines)
