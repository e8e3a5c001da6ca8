"""The review engine: route files to rule packs, run checks, keep findings on changed lines,
apply suppressions, de-duplicate and sort. Pure: no I/O, no git."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..findings import Finding, Severity, fingerprint
from .rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .suppress import is_suppressed


@dataclass(frozen=True)
class RuleSelection:
    """Which rules run: `only` (ids or pack prefixes like `python.*`/`python`) and `skip`."""

    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()

    def allows(self, rule: Rule) -> bool:
        return self.allows_id(rule.id)

    def allows_id(self, rule_id: str) -> bool:
        pack = rule_id.split(".", 1)[0]
        names = {rule_id, pack, pack + ".*"}
        if self.only and not names & self.only:
            return False
        return not names & self.skip


EVERY_RULE = RuleSelection()


def route(path: str, packs: Sequence[RulePack]) -> list[RulePack]:
    return [pack for pack in packs if pack.matches(path)]


def _finding(rule: Rule, hit: Hit, file: FileUnderReview) -> Finding:
    end = hit.end_line if hit.end_line and hit.end_line >= hit.line else hit.line
    return Finding(
        rule=rule.id,
        category=rule.category,
        severity=hit.severity or rule.severity,
        file=file.path,
        line=hit.line,
        end_line=end,
        rationale=hit.rationale or rule.rationale,
        suggested_fix=hit.suggested_fix or rule.suggested_fix,
        source="rule",
        fingerprint=fingerprint(rule.id, file.path, file.line(hit.line)),
    )


def check_file(
    file: FileUnderReview,
    context: ReviewContext,
    packs: Sequence[RulePack],
    selection: RuleSelection = EVERY_RULE,
) -> list[Finding]:
    found: list[Finding] = []
    for pack in route(file.path, packs):
        for rule, check in pack.checks:
            if not selection.allows(rule):
                continue
            for hit in check(file, context):
                if not (hit.anywhere or file.is_changed(hit.line)):
                    continue
                if file.text is not None and is_suppressed(file, hit.line, rule.id):
                    continue
                found.append(_finding(rule, hit, file))
    return found


# The secrets pack scans every file; when a specialist reports the same secret on the same line
# with a more specific category (`secret-in-dockerfile`, `secret-in-client-bundle`, ...), the
# generic finding yields to it and lends it its severity when that is higher.
GENERIC_SECRET = "hardcoded-secret"


def _merge_generic_secrets(findings: list[Finding]) -> list[Finding]:
    specific: dict[tuple[str, int], int] = {}
    for index, finding in enumerate(findings):
        if finding.category != GENERIC_SECRET and "secret" in finding.category:
            specific.setdefault((finding.file, finding.line), index)
    if not specific:
        return findings
    merged = list(findings)
    dropped: set[int] = set()
    for index, finding in enumerate(findings):
        target = specific.get((finding.file, finding.line))
        if finding.category == GENERIC_SECRET and target is not None:
            dropped.add(index)
            kept = merged[target]
            if finding.severity.rank > kept.severity.rank:
                merged[target] = replace(kept, severity=finding.severity)
    return [f for i, f in enumerate(merged) if i not in dropped]


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (file, line, category): the most severe wins, rules before linters; a
    generic secret finding yields to a specialist's finding on the same line."""
    best: dict[tuple[str, int, str], Finding] = {}
    for finding in findings:
        key = (finding.file, finding.line, finding.category)
        kept = best.get(key)
        if kept is None or finding.severity.rank > kept.severity.rank:
            best[key] = finding
    return sorted(_merge_generic_secrets(list(best.values())), key=Finding.sort_key)


def review_files(
    files: Sequence[FileUnderReview],
    packs: Sequence[RulePack] | None = None,
    selection: RuleSelection = EVERY_RULE,
) -> list[Finding]:
    if packs is None:
        from .rules import packs_for

        packs = packs_for(f.path for f in files)
    context = ReviewContext(files=tuple(files))
    findings: list[Finding] = []
    for file in files:
        findings.extend(check_file(file, context, packs, selection))
    return dedupe(findings)


def at_or_above(findings: Iterable[Finding], threshold: Severity) -> list[Finding]:
    return [f for f in findings if f.severity.at_least(threshold)]
