"""Ask a model for review findings on a diff, and keep only what holds up.

Model output is untrusted text: the JSON is parsed (fences and prose around it tolerated), each
finding validated (a changed file, a changed line, a known severity, a category), and anything else
dropped with a note. Findings carry `source: model:<name>` and a `model.<category>` rule id.

`specialist_messages(files, role)` is the prompt: the slice of the change a role owns under that
role's narrow question; review adds the deterministic findings already reported on the slice.
`build-reviewer-sft` trains on the same prompt and the model evals send it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ..findings import Finding, Severity, fingerprint
from ..review.rule import FileUnderReview
from .client import ChatClient

SYSTEM_PROMPT = """You are a meticulous code reviewer. Review only the lines the diff adds.
Report real problems (security, reliability, correctness, test hygiene), not style.
Answer with JSON only: {"findings": [{"file": "<path>", "line": <new-file line>,
"category": "<kebab-case category>", "severity": "critical|high|medium|low",
"rationale": "<why it matters>", "suggested_fix": "<concrete fix>"}]}.
Answer {"findings": []} when the change is fine."""

# One narrow question per specialist: what only that reviewer is asked to look for.
ROLE_QUESTIONS = {
    "python": (
        "You review Python. Look for injection (SQL, shell, eval), unsafe deserialization, "
        "swallowed exceptions, resource leaks, mutable defaults, races and wrong error handling."
    ),
    "typescript": (
        "You review TypeScript/JavaScript (React, Vue, Node). Look for XSS sinks, unchecked "
        "`any` at trust boundaries, unhandled promises, secrets shipped to the client and "
        "broken effect dependencies."
    ),
    "sql": (
        "You review SQL and migrations. Look for destructive or locking migrations, missing "
        "indexes on new foreign keys, non-reversible changes, injection-prone dynamic SQL and "
        "data loss."
    ),
    "docker_ci": (
        "You review Dockerfiles, CI workflows, shell scripts and deployment manifests. Look for "
        "secrets in images or logs, unpinned images and actions, over-broad permissions, "
        "untrusted input in scripts and containers running as root."
    ),
    "tests": (
        "You review tests. Look for tests that cannot fail, skipped or deleted tests, sleeps and "
        "network use that make tests flaky, and behaviour changes that lack a test."
    ),
}
RISK_NOTE = "This change touches security-relevant code: weigh authentication, authorization, "
RISK_NOTE += "secrets and input validation first."

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_CATEGORY = re.compile(r"[a-z0-9][a-z0-9-]{1,60}")
MAX_DIFF_CHARS = 24_000
MAX_RULE_FINDINGS = 30


def build_messages(
    diff: str,
    role: str | None = None,
    rule_findings: Sequence[Finding] = (),
    risky: bool = False,
) -> list[dict]:
    """The chat messages for a review: the generic prompt, narrowed to ROLE when given, with the
    deterministic findings already reported on the slice (so the model adds, not repeats)."""
    system = SYSTEM_PROMPT
    if role in ROLE_QUESTIONS:
        system += "\n" + ROLE_QUESTIONS[role]
    if risky:
        system += "\n" + RISK_NOTE
    user = "Review this change:\n\n" + diff[:MAX_DIFF_CHARS]
    if rule_findings:
        listed = "\n".join(
            f"- {f.file}:{f.line} {f.rule} ({f.severity.value})"
            for f in rule_findings[:MAX_RULE_FINDINGS]
        )
        user += "\n\nThe deterministic rules already report these; do not repeat them:\n" + listed
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _json_payload(text: str):
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(candidate[start:])[0]
    except ValueError:
        return None


def _findings_list(text: str) -> list | None:
    payload = _json_payload(text)
    if isinstance(payload, dict):
        payload = payload.get("findings")
    return payload if isinstance(payload, list) else None


def is_findings_json(text: str) -> bool:
    """Whether an answer is findings JSON at all (worth caching)."""
    return _findings_list(text) is not None


def parse_findings(
    text: str, files: Sequence[FileUnderReview], source: str
) -> tuple[list[Finding], list[str]]:
    """Valid findings from a model's answer, and a note for everything dropped."""
    payload = _findings_list(text)
    if payload is None:
        return [], [f"{source}: answer was not findings JSON; ignored"]
    by_path = {f.path: f for f in files}
    kept: list[Finding] = []
    invalid = outside = 0
    for item in payload:
        if not isinstance(item, dict):
            invalid += 1
            continue
        file = by_path.get(str(item.get("file", "")))
        line = item.get("line")
        category = item.get("category")
        try:
            severity = Severity(str(item.get("severity", "")).lower())
        except ValueError:
            severity = None
        if (
            not isinstance(line, int)
            or isinstance(line, bool)
            or not isinstance(category, str)
            or not _CATEGORY.fullmatch(category)
            or severity is None
        ):
            invalid += 1
            continue
        if file is None or not file.is_changed(line):
            outside += 1
            continue
        kept.append(
            Finding(
                rule=f"model.{category}",
                category=category,
                severity=severity,
                file=file.path,
                line=line,
                end_line=line,
                rationale=str(item.get("rationale") or "flagged by the model")[:1000],
                suggested_fix=str(item.get("suggested_fix") or "")[:1000],
                source=source,
                fingerprint=fingerprint(f"model.{category}", file.path, file.line(line)),
            )
        )
    notes = []
    if invalid:
        notes.append(f"{source}: dropped {invalid} invalid finding(s)")
    if outside:
        notes.append(f"{source}: dropped {outside} finding(s) outside the diff")
    return kept, notes


def specialist_messages(
    files: Sequence[FileUnderReview],
    role: str | None = None,
    rule_findings: Sequence[Finding] = (),
    risky: bool = False,
) -> tuple[list[dict], int]:
    """What a specialist is sent: its slice of the change (numbered new-file lines, secrets
    masked) under its narrow question, and how many secrets were masked. Review, the model evals
    and `build-reviewer-sft` all use it, so an adapter is evaluated on the prompt it learned."""
    from .slices import render_slice

    diff, masked = render_slice(files)
    return build_messages(diff, role=role, rule_findings=rule_findings, risky=risky), masked


def ask_for_findings(
    client: ChatClient, model: str, files: Sequence[FileUnderReview], role: str | None = None
) -> tuple[list[Finding], list[str]]:
    messages, _ = specialist_messages(files, role=role)
    text = client.complete(model, messages)
    return parse_findings(text, files, f"model:{model}")
