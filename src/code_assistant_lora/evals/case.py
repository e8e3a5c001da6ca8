"""The reviewer regression case format (`code-assistant/eval-case@1`) and its loader.

One case is one YAML file:

```yaml
description: Export endpoint builds its query with an f-string   # required, non-empty
files_before:                       # optional: repo-relative path -> full text before the change
  app/export.py: |
    ...
diff: |                             # required: a unified diff (git or plain ---/+++ headers)
  --- a/app/export.py
  +++ b/app/export.py
  @@ -10,3 +10,5 @@
  ...
expected:                           # the findings a good reviewer must produce
  - {file: app/export.py, line: 12, category: sql-injection, severity: high}
must_not_flag: false                # true for a clean near-miss: `expected` must be empty
tags: [near-miss]                   # optional labels, usable with pytest -m
```

`severity` is the minimum severity a matching finding must have. Every problem is reported as a
`CaseError` naming the file and the field, so a broken case fails collection instead of being
skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..findings import Severity

CASE_SCHEMA = "code-assistant/eval-case@1"
CASE_KEYS = {"schema", "description", "files_before", "diff", "expected", "must_not_flag", "tags"}
EXPECTED_KEYS = {"file", "line", "category", "severity"}
SUITES = ("python", "typescript", "react", "vue", "sql", "docker_ci", "orchestration", "testing")


class CaseError(Exception):
    """A malformed case: `path` and `field` say exactly where."""

    def __init__(self, path: str | Path, field_name: str, message: str) -> None:
        super().__init__(f"{path}: {field_name}: {message}")
        self.path = str(path)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class ExpectedFinding:
    file: str
    line: int
    category: str
    severity: Severity

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "category": self.category,
            "severity": self.severity.value,
        }


@dataclass(frozen=True)
class EvalCase:
    suite: str
    name: str
    path: str
    description: str
    diff: str
    files_before: dict[str, str] = field(default_factory=dict)
    expected: tuple[ExpectedFinding, ...] = ()
    must_not_flag: bool = False
    tags: tuple[str, ...] = ()

    @property
    def case_id(self) -> str:
        return f"{self.suite}/{self.name}"


def _repo_path(value: Any, path: Path, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CaseError(path, where, f"expected a repo-relative path, got {value!r}")
    pure = PurePosixPath(value)
    if value.startswith("/") or ".." in pure.parts or "\\" in value:
        raise CaseError(path, where, f"path {value!r} escapes the repository")
    return str(pure)


def _expected(items: Any, path: Path) -> tuple[ExpectedFinding, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise CaseError(
            path, "expected", f"expected a list of findings, got {type(items).__name__}"
        )
    found = []
    for index, item in enumerate(items):
        where = f"expected[{index}]"
        if not isinstance(item, dict):
            raise CaseError(path, where, f"expected a mapping, got {item!r}")
        unknown = sorted(set(item) - EXPECTED_KEYS)
        if unknown:
            raise CaseError(path, f"{where}.{unknown[0]}", "unknown field")
        for key in ("file", "line", "category", "severity"):
            if key not in item:
                raise CaseError(path, f"{where}.{key}", "missing")
        line = item["line"]
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            raise CaseError(path, f"{where}.line", f"expected a 1-based line number, got {line!r}")
        category = item["category"]
        if not isinstance(category, str) or not category.strip():
            raise CaseError(
                path, f"{where}.category", f"expected a category name, got {category!r}"
            )
        try:
            severity = Severity(str(item["severity"]).lower())
        except ValueError:
            names = ", ".join(s.value for s in Severity)
            raise CaseError(
                path, f"{where}.severity", f"{item['severity']!r} is not one of {names}"
            ) from None
        found.append(
            ExpectedFinding(
                file=_repo_path(item["file"], path, f"{where}.file"),
                line=line,
                category=category.strip(),
                severity=severity,
            )
        )
    return tuple(found)


def parse_case(data: Any, path: Path, suite: str) -> EvalCase:
    """Validate one case's YAML data."""
    if not isinstance(data, dict):
        raise CaseError(path, "<document>", "a case is a YAML mapping")
    unknown = sorted(set(data) - CASE_KEYS)
    if unknown:
        raise CaseError(
            path, unknown[0], f"unknown field (expected: {', '.join(sorted(CASE_KEYS))})"
        )
    if data.get("schema", CASE_SCHEMA) != CASE_SCHEMA:
        raise CaseError(path, "schema", f"expected {CASE_SCHEMA!r}, got {data['schema']!r}")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise CaseError(path, "description", "missing or empty")
    diff = data.get("diff")
    if not isinstance(diff, str) or not diff.strip():
        raise CaseError(path, "diff", "missing or empty")
    before = data.get("files_before") or {}
    if not isinstance(before, dict):
        raise CaseError(path, "files_before", "expected a mapping of path -> text")
    files_before = {}
    for key, text in before.items():
        where = f"files_before[{key!r}]"
        if not isinstance(text, str):
            raise CaseError(path, where, f"expected the file's text, got {type(text).__name__}")
        files_before[_repo_path(key, path, where)] = text
    must_not_flag = data.get("must_not_flag", False)
    if not isinstance(must_not_flag, bool):
        raise CaseError(path, "must_not_flag", f"expected true or false, got {must_not_flag!r}")
    expected = _expected(data.get("expected"), path)
    if must_not_flag and expected:
        raise CaseError(path, "expected", "a must_not_flag case cannot expect findings")
    if not must_not_flag and not expected:
        raise CaseError(path, "expected", "missing: list the findings, or set must_not_flag: true")
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise CaseError(path, "tags", f"expected a list of names, got {tags!r}")
    return EvalCase(
        suite=suite,
        name=path.stem,
        path=str(path),
        description=description.strip(),
        diff=diff,
        files_before=files_before,
        expected=expected,
        must_not_flag=must_not_flag,
        tags=tuple(tags),
    )


def load_case(path: str | Path, suite: str | None = None) -> EvalCase:
    """Load and validate the case at `path`; the suite defaults to its folder's name."""
    import yaml

    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CaseError(source, "<document>", "not UTF-8 text") from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())[:200]
        raise CaseError(source, "<document>", f"invalid YAML: {detail}") from None
    case = parse_case(data, source, suite or source.parent.name)
    from .patch import apply_case

    apply_case(case)  # a diff that does not apply is a broken case, reported at load time
    return case


def find_cases(root: str | Path) -> list[Path]:
    """Every case file under `root` (a suite folder or the whole regression tree), sorted."""
    base = Path(root)
    if base.is_file():
        return [base]
    return sorted(p for p in base.rglob("*.y*ml") if p.suffix in (".yaml", ".yml"))
