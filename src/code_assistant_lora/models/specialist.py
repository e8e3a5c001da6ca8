"""Ask a model for review findings on a diff, and keep only what holds up.

Model output is untrusted text: the JSON is parsed (fences and prose around it tolerated), each
finding validated (a changed file, a changed line, a known severity, a category), and anything else
dropped with a note. Findings carry `source: model:<name>` and a `model.<category>` rule id.
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

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
MAX_DIFF_CHARS = 24_000


def build_messages(diff: str) -> list[dict]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "Review this change:\n\n" + diff[:MAX_DIFF_CHARS]},
    ]


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


def parse_findings(
    text: str, files: Sequence[FileUnderReview], source: str
) -> tuple[list[Finding], list[str]]:
    """Valid findings from a model's answer, and a note for everything dropped."""
    payload = _json_payload(text)
    if isinstance(payload, dict):
        payload = payload.get("findings")
    if not isinstance(payload, list):
        return [], [f"{source}: answer was not findings JSON; ignored"]
    by_path = {f.path: f for f in files}
    kept: list[Finding] = []
    dropped = 0
    for item in payload:
        if not isinstance(item, dict):
            dropped += 1
            continue
        file = by_path.get(str(item.get("file", "")))
        line = item.get("line")
        category = item.get("category")
        try:
            severity = Severity(str(item.get("severity", "")).lower())
        except ValueError:
            severity = None
        if (
            file is None
            or not isinstance(line, int)
            or isinstance(line, bool)
            or not file.is_changed(line)
            or not isinstance(category, str)
            or not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,60}", category)
            or severity is None
        ):
            dropped += 1
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
    notes = [f"{source}: dropped {dropped} invalid or out-of-diff finding(s)"] if dropped else []
    return kept, notes


def ask_for_findings(
    client: ChatClient, model: str, diff: str, files: Sequence[FileUnderReview]
) -> tuple[list[Finding], list[str]]:
    text = client.complete(model, build_messages(diff))
    return parse_findings(text, files, f"model:{model}")
