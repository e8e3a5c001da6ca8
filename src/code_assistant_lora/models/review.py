"""The model-backed part of a review: ask the routed specialists, validate, merge with the rules.

The deterministic findings stay the source of truth. Each routed and configured specialist is asked
once (in parallel threads, at most `[models] concurrency` at a time), on its slice only; a role
that is down, slow or answers garbage is reported as skipped with the reason and changes nothing
else. A model finding on the same file and lines as a rule finding of a similar category is merged
into the rule finding (noted, not duplicated).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import ModelsConfig
from ..findings import Finding
from ..review.rule import FileUnderReview
from .router import SPECIALISTS, Route, route


@dataclass
class RoleOutcome:
    """What happened to one specialist in this review (one entry of review.json's `models`)."""

    role: str
    status: str  # ok | cached | skipped
    model: str | None = None
    reason: str = ""
    findings: int = 0
    merged: int = 0
    ms: int = 0
    priority: int = 0
    files: list[str] = field(default_factory=list)
    unreachable: bool = False  # the server could not be reached or did not answer in time

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["unreachable"]
        return data


@dataclass
class ModelReview:
    findings: list[Finding]  # rule and model findings, merged and sorted
    notes: list[str]
    roles: list[RoleOutcome]
    cache: bool = True

    @property
    def unreachable(self) -> list[RoleOutcome]:
        return [r for r in self.roles if r.unreachable]

    def section(self) -> dict:
        """review.json's `models` section."""
        return {"cache": self.cache, "roles": [r.to_dict() for r in self.roles]}


_GENERIC_WORDS = frozenset(
    {"in", "of", "on", "the", "a", "to", "missing", "unsafe", "use", "used", "hardcoded", "code"}
)


def _words(category: str) -> set[str]:
    return {w for w in re.split(r"[-_.]", category.lower()) if w and w not in _GENERIC_WORDS}


def similar_category(a: str, b: str) -> bool:
    """Same category, or categories that share a meaningful word (`sql-injection` and
    `sql-injection-risk`, `hardcoded-secret` and `secret-in-dockerfile`)."""
    return a == b or bool(_words(a) & _words(b))


def merge_with_rules(
    rule_findings: Sequence[Finding], model_findings: Sequence[Finding]
) -> tuple[list[Finding], list[str], dict[str, int]]:
    """Model findings that restate a rule finding are folded into it; the rest are kept. Returns
    the kept model findings, a note per merge, and merges per source."""
    kept: list[Finding] = []
    notes: list[str] = []
    merged: dict[str, int] = {}
    for finding in model_findings:
        twin = next(
            (
                rule
                for rule in rule_findings
                if rule.file == finding.file
                and rule.line <= finding.end_line
                and finding.line <= max(rule.end_line, rule.line)
                and similar_category(rule.category, finding.category)
            ),
            None,
        )
        if twin is None:
            kept.append(finding)
            continue
        merged[finding.source] = merged.get(finding.source, 0) + 1
        notes.append(
            f"{finding.source} agrees with {twin.rule} at {twin.file}:{twin.line}; "
            "merged into the rule finding"
        )
    return kept, notes, merged


def _ask(
    plan: Route,
    settings,
    rule_findings: Sequence[Finding],
    cache_root: Path | None,
) -> tuple[list[Finding], list[str], RoleOutcome]:
    from .client import ModelError
    from .roles import open_client
    from .specialist import is_findings_json, parse_findings, specialist_messages

    outcome = RoleOutcome(
        role=plan.role,
        status="ok",
        model=settings.model,
        priority=plan.priority,
        files=list(plan.paths),
    )
    paths = set(plan.paths)
    messages, masked = specialist_messages(
        plan.files,
        role=plan.role,
        rule_findings=[f for f in rule_findings if f.file in paths],
        risky=plan.risky,
    )
    notes = [f"model:{plan.role}: {masked} secret(s) masked in the prompt"] if masked else []
    started = time.perf_counter()
    try:
        with open_client(settings, cache_root) as client:
            answer = client.request(
                settings.model,
                messages,
                max_tokens=settings.max_tokens,
                temperature=settings.temperature,
                keep=is_findings_json,
            )
    except ModelError as exc:
        outcome.status, outcome.reason, outcome.unreachable = "skipped", str(exc), True
        return [], notes, outcome
    finally:
        outcome.ms = round((time.perf_counter() - started) * 1000)
    found, parse_notes = parse_findings(answer.text, plan.files, f"model:{plan.role}")
    if not is_findings_json(answer.text):
        outcome.status, outcome.reason = "skipped", "answer was not findings JSON"
    elif answer.cached:
        outcome.status, outcome.reason = "cached", "same request answered before"
    return found, [*notes, *parse_notes], outcome


def review_with_models(
    files: Sequence[FileUnderReview],
    rule_findings: Sequence[Finding],
    models: ModelsConfig,
    repo_root: str | Path | None = None,
    use_cache: bool = True,
) -> ModelReview:
    """Rule findings plus what the routed specialists add; never raises for a model's failure."""
    from ..review.engine import dedupe
    from .roles import resolve_role

    cache = use_cache and models.cache and repo_root is not None
    configured = {role: resolve_role(models, role) for role in SPECIALISTS}
    configured = {role: settings for role, settings in configured.items() if settings}
    if not configured:
        note = "models: no specialist role has a model in [models]; reviewed with the rules only"
        return ModelReview(list(rule_findings), [note], [], cache=cache)
    plans = {plan.role: plan for plan in route(files, rule_findings)}
    asked = [plans[role] for role in plans if role in configured]  # already most urgent first
    results: dict[str, tuple[list[Finding], list[str], RoleOutcome]] = {}
    if asked:
        cache_root = Path(repo_root) if cache else None
        with ThreadPoolExecutor(max_workers=min(models.concurrency, len(asked))) as pool:
            futures = {
                plan.role: pool.submit(_ask, plan, configured[plan.role], rule_findings, cache_root)
                for plan in asked
            }
            results = {role: future.result() for role, future in futures.items()}
    roles: list[RoleOutcome] = []
    notes: list[str] = []
    model_findings: list[Finding] = []
    for role in SPECIALISTS:
        if role in results:
            found, said, outcome = results[role]
            model_findings.extend(found)
            notes.extend(said)
            outcome.findings = len(found)
            if outcome.status == "skipped":
                notes.append(f"model:{role} skipped: {outcome.reason}")
        elif role in plans:
            outcome = RoleOutcome(
                role=role,
                status="skipped",
                reason="no model configured for this role",
                priority=plans[role].priority,
                files=list(plans[role].paths),
            )
        elif role in configured:
            outcome = RoleOutcome(
                role=role,
                status="skipped",
                model=configured[role].model,
                reason="nothing in its slice changed",
            )
        else:
            continue
        roles.append(outcome)
    kept, merge_notes, merged = merge_with_rules(rule_findings, model_findings)
    for outcome in roles:
        outcome.merged = merged.get(f"model:{outcome.role}", 0)
    return ModelReview(
        findings=dedupe([*rule_findings, *kept]),
        notes=[*notes, *merge_notes],
        roles=roles,
        cache=cache,
    )
