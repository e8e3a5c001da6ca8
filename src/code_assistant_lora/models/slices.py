"""A specialist's slice of the change as prompt text, with secrets masked before anything travels.

Each file shows its added lines (`+`) with a few lines of context, numbered as lines of the new
file, so the model can answer with line numbers the review can check. Every line that the secrets
pack would flag (keywords, entropy, private-key blocks) is replaced by a marker, then any token
detect-secrets recognises by format is masked too: a credential in the diff never reaches the
server, whatever the server is.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..review.rule import FileUnderReview

CONTEXT_LINES = 3
MAX_LINES_PER_FILE = 400


def _shown_lines(file: FileUnderReview) -> list[int]:
    total = len(file.lines)
    if file.is_new:
        return list(range(1, min(total, MAX_LINES_PER_FILE) + 1))
    shown: set[int] = set()
    for number in file.added_lines:
        shown.update(range(max(1, number - CONTEXT_LINES), min(total, number + CONTEXT_LINES) + 1))
    return sorted(shown)[:MAX_LINES_PER_FILE]


def _masked(lines: list[str], path: str) -> tuple[list[str], int]:
    from ..scan import redact_secrets
    from ..select.redact import redact

    text, flagged = redact_secrets("\n".join(lines), path)
    text, tokens = redact(text)
    masked = text.split("\n")
    return (masked if len(masked) == len(lines) else ["[redacted]"] * len(lines)), flagged + tokens


def render_slice(files: Sequence[FileUnderReview]) -> tuple[str, int]:
    """The prompt text for FILES and the number of secrets masked in it."""
    parts: list[str] = []
    masked_total = 0
    for file in files:
        numbers = _shown_lines(file)
        header = f"--- {file.path} ({file.status}"
        if file.removed_text:
            header += f", {len(file.removed_text)} line(s) removed"
        parts.append(header + "; numbers are new-file lines, + marks added lines)")
        texts, masked = _masked([file.line(n) for n in numbers], file.path)
        masked_total += masked
        previous = 0
        for number, text in zip(numbers, texts, strict=True):
            if previous and number != previous + 1:
                parts.append("     ...")
            mark = "+" if file.is_changed(number) else " "
            parts.append(f"{number:>5} {mark} {text}")
            previous = number
    return "\n".join(parts) + "\n", masked_total
