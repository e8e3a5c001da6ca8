"""Findings: what a reviewer (rule, linter or model) says about a line of a change."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import asdict, dataclass


class Severity(enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: info=0 ... critical=4."""
        return _RANKS[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            from .errors import UserError

            raise UserError(f"unknown severity {value!r}: expected one of {names}") from None


_RANKS = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


def fingerprint(rule: str, file: str, line_text: str) -> str:
    """Stable across line shifts: the rule, the file and the stripped text of the flagged line."""
    payload = "\x1f".join((rule, file, " ".join(line_text.split())))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Finding:
    rule: str
    category: str
    severity: Severity
    file: str
    line: int
    end_line: int
    rationale: str
    suggested_fix: str
    source: str = "rule"
    fingerprint: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        return cls(**{**data, "severity": Severity.parse(data["severity"])})

    def sort_key(self) -> tuple:
        return (self.file, self.line, -self.severity.rank, self.rule)
