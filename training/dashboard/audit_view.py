"""The Audit tab: the real `audit.audit` over chosen files, its audit.json written as the CLI
writes it, and one row per violation with the file, the line and the record it is about, secrets
masked (the audit itself never repeats a value; the record excerpt is masked here)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import UserError
from ..audit import CHECKS, AuditResult, audit, summary_line
from ..jsonl import raw_lines, write_json
from .masking import mask_text, mask_value

Progress = Callable[[str, int, int], None]
VIOLATION_HEADERS = ["check", "file", "line", "field", "detail", "record (secrets masked)"]
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class AuditView:
    result: AuditResult
    path: Path  # where audit.json was written
    summary: str
    checks: list[list]  # [check, failures, status]
    violations: list[list]  # VIOLATION_HEADERS rows


def parse_paths(text: str) -> list[str]:
    """File paths from a text box: one per line (commas work too), blanks ignored."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


def run_audit(paths: Sequence[str], progress: Progress | None = None) -> AuditView:
    if not paths:
        raise UserError("no files to audit: enter one dataset file per line")
    for path in paths:
        if not Path(path).is_file():
            raise UserError(f"{path}: no such file")
    result = audit(list(paths), progress=progress)
    target = write_json(Path(paths[0]).with_name("audit.json"), result.document)
    return AuditView(
        result,
        target,
        summary_line(result.document),
        check_rows(result.document),
        violation_rows(result.document),
    )


def check_rows(document: dict) -> list[list]:
    return [[check, document["checks"][check], "FAIL" if document["checks"][check] else "ok"]
            for check in CHECKS]  # fmt: skip


_FIELD_LINE = re.compile(r"^(?P<path>.+?) line (?P<line>\d+)$")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _shorten(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def field_text(value: Any, path: str) -> str | None:
    """The string at a field path as the audit names it (`messages[1].content`), or None."""
    for name, index in _STEP.findall(path):
        if index:
            if not isinstance(value, list) or int(index) >= len(value):
                return None
            value = value[int(index)]
        elif isinstance(value, dict) and name in value:
            value = value[name]
        else:
            return None
    return value if isinstance(value, str) else None


def record_excerpt(text: str, field: str | None = None) -> str:
    """What a violation is about, in one masked line: the lines around the problem when the audit
    names a field and a line (`messages[1].content line 5`), else the record's first user turn
    (or instruction), else the start of the raw line. Lines are joined with ⏎."""
    try:
        value = json.loads(text)
    except ValueError:
        return _shorten(" ".join(mask_text(text).split()))
    found = _FIELD_LINE.match(field or "")
    if found is not None:
        content = field_text(value, found["path"])
        if content is not None:
            lines = mask_text(content).split("\n")
            at = int(found["line"]) - 1
            shown = [line.strip() for line in lines[max(0, at - 1) : at + 2]]
            return _shorten(f"{found['path']} line {at + 1}: " + " ⏎ ".join(shown))
    shown = None
    if isinstance(value, dict):
        messages = value.get("messages")
        if isinstance(messages, list):
            shown = next(
                (
                    m["content"]
                    for m in messages
                    if isinstance(m, dict)
                    and m.get("role") == "user"
                    and isinstance(m.get("content"), str)
                ),
                None,
            )
        elif isinstance(value.get("instruction"), str):
            shown = value["instruction"]
    if shown is None:
        shown = json.dumps(mask_value(value), ensure_ascii=False)
    return _shorten(" ".join(mask_text(shown).split()))


def violation_rows(document: dict) -> list[list]:
    """One row per listed problem, with the masked excerpt of the record it names."""
    texts: dict[str, dict[int, str]] = {}
    rows = []
    for problem in document["problems"]:
        name = problem["file"]
        if name not in texts:
            try:
                texts[name] = dict(raw_lines(name))
            except UserError:
                texts[name] = {}
        line_text = texts[name].get(problem["line"], "")
        rows.append(
            [
                problem["check"],
                name,
                problem["line"],
                problem.get("field") or "",
                mask_text(problem["detail"]),
                record_excerpt(line_text, problem.get("field")) if line_text else "",
            ]
        )
    return rows
