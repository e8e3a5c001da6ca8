"""Optional real linters, run on the new content of changed files only (fed on stdin, so staged and
range reviews lint what is committed, not what is on disk), their findings kept on changed lines and
merged as `source: linter:<name>`. A linter that is not installed is skipped with a note."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import LINTERS
from ..errors import UserError
from ..findings import Finding, Severity, fingerprint
from .rule import FileUnderReview

LINTER_TIMEOUT = 60


@dataclass(frozen=True)
class Issue:
    code: str
    line: int
    end_line: int
    message: str
    severity: Severity
    fix: str


@dataclass(frozen=True)
class Linter:
    name: str
    claims: Callable[[str], bool]
    command: Callable[[str, str], list[str]]  # (executable, path) -> argv reading stdin
    parse: Callable[[str], list[Issue]]


def _ruff_severity(code: str) -> Severity:
    if code.startswith("E9") or code in ("F821", "F822", "F823", "F811"):
        return Severity.HIGH
    if code.startswith("S"):
        return Severity.MEDIUM
    return Severity.LOW


def _parse_ruff(out: str) -> list[Issue]:
    issues = []
    for item in json.loads(out or "[]"):
        code = item.get("code") or "syntax-error"
        fix = (item.get("fix") or {}).get("message") or f"See {item.get('url') or 'the ruff docs'}."
        issues.append(
            Issue(
                code,
                item["location"]["row"],
                item["end_location"]["row"],
                item["message"],
                _ruff_severity(code),
                fix,
            )
        )
    return issues


_LEVELS = {
    "error": Severity.MEDIUM,
    "warning": Severity.LOW,
    "info": Severity.INFO,
    "style": Severity.INFO,
}


def _parse_shellcheck(out: str) -> list[Issue]:
    return [
        Issue(
            f"SC{item['code']}",
            item["line"],
            item.get("endLine", item["line"]),
            item["message"],
            _LEVELS.get(item.get("level"), Severity.LOW),
            f"See https://www.shellcheck.net/wiki/SC{item['code']}.",
        )
        for item in json.loads(out or "[]")
    ]


def _parse_hadolint(out: str) -> list[Issue]:
    return [
        Issue(
            item["code"],
            item["line"],
            item["line"],
            item["message"],
            _LEVELS.get(item.get("level"), Severity.LOW),
            f"See https://github.com/hadolint/hadolint/wiki/{item['code']}.",
        )
        for item in json.loads(out or "[]")
    ]


def _parse_sqlfluff(out: str) -> list[Issue]:
    issues = []
    for entry in json.loads(out or "[]"):
        for item in entry.get("violations", []):
            line = item.get("start_line_no") or item.get("line_no") or 1
            issues.append(
                Issue(
                    item["code"],
                    line,
                    item.get("end_line_no", line),
                    item["description"],
                    Severity.LOW,
                    "Apply `sqlfluff fix` or follow the rule's description.",
                )
            )
    return issues


def _parse_actionlint(out: str) -> list[Issue]:
    return [
        Issue(
            item.get("kind", "actionlint"),
            item["line"],
            item["line"],
            item["message"],
            Severity.MEDIUM,
            "See https://github.com/rhysd/actionlint/blob/main/docs/checks.md.",
        )
        for item in json.loads(out or "[]")
    ]


def _is_workflow(path: str) -> bool:
    return path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml"))


def _is_dockerfile(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (
        name in ("Dockerfile", "Containerfile")
        or name.startswith("Dockerfile.")
        or name.endswith(".Dockerfile")
    )


CATALOGUE: dict[str, Linter] = {
    "ruff": Linter(
        "ruff",
        lambda p: p.endswith((".py", ".pyi")),
        lambda exe, p: [
            exe,
            "check",
            "--output-format",
            "json",
            "--no-cache",
            "--exit-zero",
            "--stdin-filename",
            p,
            "-",
        ],
        _parse_ruff,
    ),
    "shellcheck": Linter(
        "shellcheck",
        lambda p: p.endswith((".sh", ".bash")),
        lambda exe, p: [exe, "-f", "json", "-"],
        _parse_shellcheck,
    ),
    "hadolint": Linter(
        "hadolint",
        _is_dockerfile,
        lambda exe, p: [exe, "-f", "json", "--no-fail", "-"],
        _parse_hadolint,
    ),
    "sqlfluff": Linter(
        "sqlfluff",
        lambda p: p.endswith(".sql"),
        lambda exe, p: [exe, "lint", "-", "--format", "json", "--dialect", "postgres", "--nofail"],
        _parse_sqlfluff,
    ),
    "actionlint": Linter(
        "actionlint",
        _is_workflow,
        lambda exe, p: [exe, "-format", "{{json .}}", "-stdin-filename", p, "-"],
        _parse_actionlint,
    ),
}


def find_executable(name: str) -> str | None:
    """On PATH, or beside the running interpreter (a venv that is not activated)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def resolve(names: Sequence[str]) -> list[str]:
    chosen: list[str] = []
    for name in names:
        if name == "auto":
            chosen.extend(n for n in LINTERS if n not in chosen)
        elif name in CATALOGUE:
            if name not in chosen:
                chosen.append(name)
        else:
            raise UserError(
                f"--linters: unknown linter {name!r} (expected auto or: {', '.join(LINTERS)})"
            )
    return chosen


def _lint_file(linter: Linter, exe: str, file: FileUnderReview, cwd: Path | None) -> list[Issue]:
    completed = subprocess.run(
        linter.command(exe, file.path),
        input=file.text,
        capture_output=True,
        text=True,
        timeout=LINTER_TIMEOUT,
        cwd=cwd,
        check=False,
    )
    return linter.parse(completed.stdout)


def run_linters(
    names: Sequence[str], files: Iterable[FileUnderReview], cwd: Path | None = None
) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    notes: list[str] = []
    files = [f for f in files if f.text is not None]
    for name in resolve(names):
        linter = CATALOGUE[name]
        claimed = [f for f in files if linter.claims(f.path)]
        if not claimed:
            continue
        exe = find_executable(name)
        if exe is None:
            notes.append(f"linter {name} is not installed; skipped")
            continue
        for file in claimed:
            try:
                issues = _lint_file(linter, exe, file, cwd)
            except subprocess.TimeoutExpired:
                notes.append(
                    f"linter {name} timed out on {file.path} after {LINTER_TIMEOUT}s; skipped"
                )
                continue
            except (OSError, ValueError, KeyError, TypeError) as exc:
                notes.append(f"linter {name} failed on {file.path} ({type(exc).__name__}); skipped")
                continue
            for issue in issues:
                if not file.is_changed(issue.line):
                    continue
                rule = f"{name}.{issue.code}"
                findings.append(
                    Finding(
                        rule=rule,
                        category=f"lint-{name}",
                        severity=issue.severity,
                        file=file.path,
                        line=issue.line,
                        end_line=max(issue.line, issue.end_line),
                        rationale=issue.message,
                        suggested_fix=issue.fix,
                        source=f"linter:{name}",
                        fingerprint=fingerprint(rule, file.path, file.line(issue.line)),
                    )
                )
    return findings, notes
