"""`build-reviewer-sft`: reviewer cases -> SFT records whose answer is the findings JSON.

Sources are the reviewer regression fixtures (`code-assistant/eval-case@1` YAML files, or folders
of them) and mined review data: JSONL files whose lines are the same case mapping as JSON plus a
`suite` key (`{"suite": "python", "description": ..., "diff": ..., "files_before": ...,
"expected": [...]}` or `"must_not_flag": true`). Every case is validated and its diff applied with
the eval loader (`code_assistant_lora.evals`), so a broken case stops the build.

The prompt is exactly what a specialist role is sent at review time
(`models.specialist.specialist_messages`: the role's slice and question), and the answer is the JSON that role must produce:
`{"findings": [{file, line, category, severity, rationale, suggested_fix}]}`, `[]` for clean
near-misses. Rationales and fixes come from the deterministic rule that reports the same finding,
else from the catalogue entry for its category, else from the case description.

Each specialist learns from its suites: python <- python; typescript <- typescript, react, vue;
sql <- sql; docker_ci <- docker_ci, orchestration; tests <- testing. Cases whose diff or files
hold a secret (strict scan) or touch a banned path (`.env`, keys) are skipped and counted: such
text never enters a dataset, whatever it teaches.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import UserError
from ..models.roles import SUITES_BY_SPECIALIST as SPECIALIST_SUITES
from ..models.roles import specialist_for_suite as specialist_of
from .paths import banned_reason
from .records import Message, SftRecord, make_record
from .secret_scan import holds_secret

SPECIALISTS = tuple(SPECIALIST_SUITES)


def load_cases(sources: Sequence[str | Path]) -> list:
    """Every case under `sources` (YAML files, folders of them, or JSONL of mined cases)."""
    from ..evals.case import CaseError, find_cases, load_case

    cases = []
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise UserError(f"{source}: no such file or folder")
        try:
            if path.is_file() and path.suffix == ".jsonl":
                cases.extend(_jsonl_cases(path))
                continue
            found = find_cases(path)
            if not found:
                raise UserError(f"{source}: no case files (*.yaml) found")
            cases.extend(load_case(p) for p in found)
        except CaseError as exc:
            raise UserError(str(exc)) from None
    return cases


def _jsonl_cases(path: Path) -> list:
    from ..evals.case import CaseError, parse_case
    from ..evals.patch import apply_case
    from .jsonl import read_lines

    cases = []
    for line in read_lines(path):
        where = Path(f"{path}:{line.number}")
        if line.error is not None:
            raise CaseError(where, "<line>", line.error)
        data = line.value
        if not isinstance(data, dict) or not isinstance(data.get("suite"), str):
            raise CaseError(where, "suite", "missing: name the suite (python, sql, ...)")
        fields = {k: v for k, v in data.items() if k != "suite"}
        case = replace(parse_case(fields, where, data["suite"]), name=f"{path.stem}:{line.number}")
        apply_case(case)
        cases.append(case)
    return cases


def _explanations(case, files) -> dict[tuple[str, int, str], tuple]:
    """(file, line, category) -> (rationale, suggested fix, severity) from the deterministic
    rules' matching finding."""
    from ..evals.score import score_case
    from ..review.engine import review_files

    result = score_case(case, review_files(files))
    return {
        (e.file, e.line, e.category): (f.rationale, f.suggested_fix, f.severity)
        for e, f in result.matched
    }


def _catalogue() -> dict[str, tuple[str, str]]:
    from ..review.rules import all_rules

    found: dict[str, tuple[str, str]] = {}
    for rule in all_rules():
        found.setdefault(rule.category, (rule.rationale, rule.suggested_fix))
    return found


@dataclass
class ReviewerResult:
    records: list[SftRecord] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    def summary(self, specialist: str | None) -> str:
        who = specialist or "every specialist"
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) or "none"
        flagged = sum(1 for r in self.records if r.meta.get("expected_findings"))
        return (
            f"{len(self.records)} reviewer records for {who} ({flagged} with findings, "
            f"{len(self.records) - flagged} clean); skipped cases: {skipped}"
        )


def reviewer_records(
    cases: Sequence,
    specialist: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReviewerResult:
    """One record per case routed to `specialist` (every routed case when None)."""
    from ..evals.patch import apply_case
    from ..models.specialist import specialist_messages
    from ..scan import language_of

    if specialist is not None and specialist not in SPECIALIST_SUITES:
        raise UserError(f"--specialist {specialist}: expected one of {', '.join(SPECIALISTS)}")
    result = ReviewerResult()
    catalogue: dict[str, tuple[str, str]] | None = None
    for done, case in enumerate(cases, 1):
        if progress is not None:
            progress(done, len(cases))
        owner = specialist_of(case.suite)
        if owner is None:
            result.skipped[f"suite {case.suite} has no specialist"] += 1
            continue
        if specialist is not None and owner != specialist:
            continue
        files = apply_case(case)
        paths = [f.path for f in files]
        if any(banned_reason(p) for p in [*paths, *case.files_before]):
            result.skipped["banned path"] += 1
            continue
        texts = [case.diff, case.description, *case.files_before.values()]
        if any(holds_secret(text) for text in texts):
            result.skipped["holds a secret"] += 1
            continue
        explained = _explanations(case, files) if case.expected else {}
        findings = []
        for expected in case.expected:
            key = (expected.file, expected.line, expected.category)
            if key in explained:
                rationale, fix, severity = explained[key]
            else:
                catalogue = catalogue if catalogue is not None else _catalogue()
                rationale, fix = catalogue.get(expected.category, (case.description, ""))
                severity = expected.severity
            findings.append(
                {
                    "file": expected.file,
                    "line": expected.line,
                    "category": expected.category,
                    "severity": severity.value,
                    "rationale": rationale,
                    "suggested_fix": fix,
                }
            )
        findings.sort(key=lambda f: (f["file"], f["line"], f["category"]))
        prompt, _ = specialist_messages(files, role=owner)
        messages = (
            *(Message(m["role"], m["content"]) for m in prompt),
            Message("assistant", json.dumps({"findings": findings}, ensure_ascii=False)),
        )
        meta = {
            "task": "review",
            "specialist": owner,
            "source": "reviewer-case",
            "case": case.case_id,
            "paths": paths,
            "quality": 1.0,
            "expected_findings": len(findings),
            "language": language_of(paths[0]) if paths else "text",
        }
        result.records.append(make_record(messages, meta))
    return result
