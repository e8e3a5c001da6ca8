"""What one write-loop round learns about its patch without a model: the selected tests' result
and the deterministic review findings on the round's diff.

Test commands come only from our framework detection (`select/`), never from a model or a file the
patch added to the command line; they run in the temporary worktree with a timeout."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EXIT_ENVIRONMENT, UserError
from ..findings import Finding

LOG_TAIL_CHARS = 4000
MAX_FAILURES_SHOWN = 20


@dataclass(frozen=True)
class TestEvidence:
    status: str  # passed | failed | timeout | error | none (nothing ran)
    document: dict | None  # the test-report@1 document, when tests were planned
    log_tail: str = ""
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Nothing failed: the tests passed, or no test applies to the change."""
        return self.status in ("passed", "none")

    @property
    def failures(self) -> list[str]:
        runs = (self.document or {}).get("runs", [])
        return [name for run in runs for name in run.get("failures", [])]

    def summary(self) -> dict:
        doc = self.document or {}
        return {
            "status": self.status,
            "counts": doc.get("counts", {}),
            "selected": len(doc.get("selected", [])),
            "failures": self.failures[:MAX_FAILURES_SHOWN],
            "notes": list(self.notes),
        }

    def render(self) -> str:
        """The evidence as text for a prompt."""
        doc = self.document or {}
        lines = [f"status: {self.status}"]
        counts = doc.get("counts")
        if counts:
            lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for run in doc.get("runs", []):
            lines.append(f"command: {' '.join(run.get('command', []))} -> {run.get('status')}")
        if self.failures:
            lines.append("failed: " + ", ".join(self.failures[:MAX_FAILURES_SHOWN]))
        lines += [f"note: {note}" for note in self.notes]
        if self.log_tail and self.status not in ("passed", "none"):
            lines.append(f"output (last lines):\n```\n{self.log_tail}\n```")
        return "\n".join(lines)


def run_selected_tests(
    worktree: Path, scratch: Path, timeout: float, log_copy: Path
) -> TestEvidence:
    """Select and run the tests the worktree's change against HEAD can affect. Outputs go to
    `scratch`; the (already redacted) log is copied to `log_copy`."""
    from ..select.command import TestRequest, run_tests

    try:
        outcome = run_tests(
            TestRequest(repo=str(worktree), base="HEAD", timeout=timeout, out=str(scratch))
        )
    except UserError as exc:
        status = "error" if exc.exit_code == EXIT_ENVIRONMENT else "none"
        return TestEvidence(status, None, notes=(exc.message,))
    document = outcome.document
    statuses = [run.get("status") for run in document.get("runs", [])]
    if "timeout" in statuses:
        status = "timeout"
    elif "failed" in statuses:
        status = "failed"
    elif "error" in statuses:
        status = "error"
    elif "passed" in statuses:
        status = "passed"
    else:
        status = "none"
    tail = ""
    logs = [Path(run["log"]) for run in document.get("runs", []) if run.get("log")]
    for run in document.get("runs", []):
        run["cwd"] = "(temporary worktree)"
        if run.get("results"):
            run["results"] = Path(run["results"]).name
    if logs:
        source = logs[0] if logs[0].is_absolute() else worktree / logs[0]
        if source.is_file():
            log_copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, log_copy)
            tail = source.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
        for run in document.get("runs", []):
            if run.get("log"):
                run["log"] = log_copy.name
        document["logs"] = [log_copy.name]
    notes = tuple(document.get("notes", []))
    if status == "none":
        notes += ("no test ran for this change",)
    return TestEvidence(status, document, tail, notes)


@dataclass(frozen=True)
class RuleEvidence:
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def render(self) -> str:
        if not self.findings:
            return "none"
        return "\n".join(
            f"- {f.file}:{f.line} [{f.severity.value}] {f.rule}: {f.rationale}"
            for f in self.findings
        )


def rule_findings(
    worktree: Path, skip_rules: tuple[str, ...] = (), specialists=None
) -> RuleEvidence:
    """The deterministic rule packs on the worktree's change against HEAD, plus what the routed
    specialist models add when SPECIALISTS (a `[models]` config) gives any a model. A specialist
    that is down or answers garbage is a note, never a failed round."""
    from ..changes import from_worktree
    from ..review.engine import RuleSelection
    from ..review.run import review_changeset

    try:
        changeset = from_worktree(worktree)
    except UserError as exc:
        return RuleEvidence((), (exc.message,))
    result = review_changeset(changeset, RuleSelection(skip=frozenset(skip_rules)))
    findings, notes = list(result.findings), list(result.notes)
    if specialists is not None:
        from .review import review_with_models

        reviewed = review_with_models(result.files, findings, specialists, use_cache=False)
        findings, notes = list(reviewed.findings), [*notes, *reviewed.notes]
    return RuleEvidence(tuple(findings), tuple(notes))
