"""Turn a case's `files_before` and unified diff into the files a reviewer sees.

Hunks are applied strictly: every context and removed line must match `files_before` where the hunk
says it is, so a case whose diff drifted from its files fails at collection. A modified file with no
`files_before` entry is reviewed as far as the diff shows it (known lines in place, blanks
elsewhere), which is also what `code-assistant review --diff-file` does without a work tree.
"""

from __future__ import annotations

from ..changes import FileChange, _sparse_content, parse_diff
from ..errors import UserError
from ..review.rule import FileUnderReview
from .case import CaseError, EvalCase


def _new_text(case: EvalCase, change: FileChange, before: str, hunks) -> str:
    old = before.splitlines()
    out: list[str] = []
    cursor = 0  # index into old
    for hunk in hunks:
        start = max(hunk.source_start - 1, 0) if hunk.source_length else hunk.source_start
        if start < cursor or start > len(old):
            raise CaseError(
                case.path,
                "diff",
                f"hunk {hunk.source_start},{hunk.source_length} of {change.path} does not fit files_before",
            )
        out.extend(old[cursor:start])
        cursor = start
        for line in hunk:
            value = line.value.rstrip("\r\n")
            if line.is_added:
                out.append(value)
                continue
            if cursor >= len(old) or old[cursor] != value:
                raise CaseError(
                    case.path,
                    "diff",
                    f"{change.path}: line {cursor + 1} of files_before does not match the diff ({value!r})",
                )
            if line.is_context:
                out.append(value)
            cursor += 1
    out.extend(old[cursor:])
    return "\n".join(out) + ("\n" if out else "")


def apply_case(case: EvalCase) -> list[FileUnderReview]:
    """The changed files, new content included, as the review engine takes them."""
    from unidiff import PatchSet

    try:
        changes = parse_diff(case.diff.encode("utf-8"), "diff")
    except UserError as exc:
        raise CaseError(case.path, "diff", exc.message.removeprefix("diff: ")) from None
    files: list[FileUnderReview] = []
    # parse_diff keeps the patch set's order, so each change lines up with its hunks
    for change, hunks in zip(changes, PatchSet(case.diff.splitlines(keepends=True)), strict=True):
        before = case.files_before.get(change.old_path or change.path)
        text: str | None
        if change.status in ("deleted", "binary"):
            text = None
        elif change.status == "added":
            text = _new_text(case, change, "", hunks)
        elif before is not None:
            text = _new_text(case, change, before, hunks)
        else:
            sparse = _sparse_content(change)
            text = sparse.decode("utf-8") if sparse is not None else None
        files.append(
            FileUnderReview(
                path=change.path,
                status=change.status,
                text=text,
                added_lines=change.added_lines if text is not None else frozenset(),
                old_path=change.old_path,
                removed_text=change.removed_text,
            )
        )
    return files
