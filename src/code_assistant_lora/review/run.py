"""The review workflow: a change set in, a `ReviewResult` out (no printing, no exit codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..changes import MAX_FILE_BYTES, ChangeSet, FileChange, decode_text, looks_binary
from ..errors import UserError
from ..findings import Finding
from .engine import EVERY_RULE, RuleSelection, dedupe, review_files
from .rule import FileUnderReview


@dataclass
class ReviewResult:
    changeset: ChangeSet
    findings: list[Finding]
    files_reviewed: int
    notes: list[str] = field(default_factory=list)
    suppressed_by_baseline: int = 0
    files: list[FileUnderReview] = field(
        default_factory=list
    )  # what the rules saw (models reuse it)


def files_under_review(changeset: ChangeSet) -> tuple[list[FileUnderReview], list[str]]:
    """Load each changed file's new content; skip (with a note) what cannot be reviewed as text."""
    files: list[FileUnderReview] = []
    notes: list[str] = []
    for change in changeset.files:
        text = _load_text(changeset, change, notes)
        status = change.status
        if text is None and status not in ("deleted", "binary", "mode-changed"):
            status = "binary" if status != "renamed" or change.added_lines else status
        files.append(
            FileUnderReview(
                path=change.path,
                status=status,
                text=text,
                added_lines=change.added_lines if text is not None else frozenset(),
                old_path=change.old_path,
                removed_text=change.removed_text,
            )
        )
    return files, notes


def _load_text(changeset: ChangeSet, change: FileChange, notes: list[str]) -> str | None:
    if change.status in ("deleted", "binary"):
        return None
    if change.new_mode in ("120000", "160000"):
        return None  # symlink target or submodule pointer: nothing to review as text
    content = changeset.read_new(change)
    if content is None:
        return None
    if len(content) > MAX_FILE_BYTES:
        notes.append(
            f"skipped {change.path}: {len(content) // 1000} kB is over the {MAX_FILE_BYTES // 1_000_000} MB review limit"
        )
        return None
    if looks_binary(content):
        return None
    text, valid = decode_text(content)
    if not valid:
        notes.append(f"{change.path} is not valid UTF-8; reviewed with undecodable bytes replaced")
    return text


def load_baseline(path: str | Path) -> frozenset[str]:
    """Fingerprints to ignore: a previous review.json, or a JSON list of fingerprints."""
    from ..json_input import read_json

    data = read_json(path, f"--baseline {path}")
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        prints = [f.get("fingerprint") for f in data["findings"] if isinstance(f, dict)]
    elif isinstance(data, dict) and isinstance(data.get("fingerprints"), list):
        prints = data["fingerprints"]
    elif isinstance(data, list):
        prints = data
    else:
        raise UserError(f"--baseline {path}: expected a review.json or a list of fingerprints")
    if not all(isinstance(p, str) and p for p in prints):
        raise UserError(f"--baseline {path}: every fingerprint must be a non-empty string")
    return frozenset(prints)


def review_changeset(
    changeset: ChangeSet,
    selection: RuleSelection = EVERY_RULE,
    baseline: frozenset[str] = frozenset(),
    linters: tuple[str, ...] = (),
) -> ReviewResult:
    files, notes = files_under_review(changeset)
    findings = review_files(files, selection=selection)
    if linters:
        from .linters import run_linters

        linted, linter_notes = run_linters(linters, files, cwd=changeset.repo_root)
        notes.extend(linter_notes)
        findings = dedupe([*findings, *(f for f in linted if selection.allows_id(f.rule))])
    kept = [f for f in findings if f.fingerprint not in baseline]
    return ReviewResult(
        changeset=changeset,
        findings=kept,
        files_reviewed=sum(1 for f in files if f.text is not None or f.is_deleted),
        notes=[*changeset.notes, *notes],
        suppressed_by_baseline=len(findings) - len(kept),
        files=files,
    )
