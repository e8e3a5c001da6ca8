"""`audit`: the gate a dataset passes before training. Each file given is one split.

Checks, each a failure:
- `invalid-schema`: a line that is not JSON or not a record (`records.parse_record`);
- `secret`: detect-secrets (the strict scan, `secret_scan.py`) finds a secret in any string field,
  the metadata included;
- `banned-path`: the record's paths, or a diff header inside its text, name a dotenv file, a key,
  `node_modules`, a virtualenv or build output (`paths.py`);
- `empty` and `oversize` (estimated tokens above `max_tokens`);
- `duplicate`: the same normalised text twice in one file;
- `cross-split-duplicate`: a record in one file duplicates (exactly or nearly) one in another;
- `group-leak`: records of one split group (`meta.group`) in more than one file.

Problems say where (file, line, field, text line) and what, never the offending value.
`audit.json` has schema `code-assistant/dataset-audit@1`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .build_sft import DEFAULT_MAX_TOKENS
from .dedupe import NEAR_THRESHOLD, Fingerprint, NearDuplicateIndex, fingerprints
from .jsonl import decode, file_digest, raw_lines
from .parallel import map_chunks
from .paths import banned_reason, paths_in_diff
from .progress import stage
from .records import RecordError, approx_tokens, conversation_text, empty_reason, parse_record
from .secret_scan import SecretHit, find_secrets, value_secrets

AUDIT_SCHEMA = "code-assistant/dataset-audit@1"
CHECKS = (
    "invalid-schema",
    "secret",
    "banned-path",
    "empty",
    "oversize",
    "duplicate",
    "cross-split-duplicate",
    "group-leak",
)
MAX_LISTED = 200  # problems listed per check in audit.json (all are counted)


@dataclass(frozen=True)
class Problem:
    check: str
    file: str
    line: int
    detail: str
    field: str | None = None

    def to_dict(self) -> dict:
        out = {"check": self.check, "file": self.file, "line": self.line}
        if self.field is not None:
            out["field"] = self.field
        out["detail"] = self.detail
        return out


def _record_paths(value: Any) -> list[str]:
    meta = value.get("meta") if isinstance(value, dict) else None
    if not isinstance(meta, dict):
        return []
    found: list[str] = []
    for key in ("paths", "path"):
        item = meta.get(key)
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, list):
            found.extend(p for p in item if isinstance(p, str))
    return found


@dataclass(frozen=True)
class Inspected:
    """What the per-record checks found in one decoded line (computed in worker processes)."""

    secrets: tuple[tuple[str, SecretHit], ...] = ()
    invalid: tuple[str, str] | None = None  # (field, message)
    banned: tuple[str, ...] = ()  # "path: reason"
    empty: str | None = None
    tokens: int = 0
    group: str | None = None
    fingerprint: Fingerprint | None = None


def _inspect(value: Any) -> Inspected:
    secrets = tuple(value_secrets(value))
    try:
        record = parse_record(value)
    except RecordError as exc:
        return Inspected(secrets, invalid=(exc.field, exc.message))
    mentioned = set(_record_paths(value))
    for message in record.messages:
        mentioned |= paths_in_diff(message.content)
    banned = tuple(
        f"{path}: {reason}" for path in sorted(mentioned) if (reason := banned_reason(path))
    )
    group = record.meta.get("group")
    return Inspected(
        secrets,
        banned=banned,
        empty=empty_reason(record),
        tokens=approx_tokens(record.chars()),
        group=group if isinstance(group, str) else None,
    )


def inspect_chunk(lines: list[tuple[int, str]]) -> list[Inspected]:
    """The per-record checks of each raw JSONL line, with dedupe fingerprints for the non-empty
    valid ones (a unit of work for `parallel.map_chunks`: decoding happens in the workers too)."""
    decoded = [decode(number, text) for number, text in lines]
    values = [line.value for line in decoded]
    found = [
        _inspect(line.value)
        if line.error is None
        else Inspected(  # not JSON: its raw text is still scanned
            tuple(("<raw line>", hit) for hit in find_secrets(text)), invalid=("<line>", line.error)
        )
        for line, (_, text) in zip(decoded, lines, strict=True)
    ]
    wanted = [i for i, f in enumerate(found) if f.invalid is None and f.empty is None]
    # instruction/input/output records are valid too: fingerprint the conversation they parse to
    chats = [parse_record(values[i]).to_dict()["messages"] for i in wanted]
    prints = fingerprints([conversation_text(chat) for chat in chats])
    for i, fingerprint in zip(wanted, prints, strict=True):
        found[i] = replace(found[i], fingerprint=fingerprint)
    return found


@dataclass
class AuditResult:
    document: dict
    problems: list[Problem]

    @property
    def passed(self) -> bool:
        return self.document["passed"]


def audit(
    paths: Sequence[str | Path],
    max_tokens: int = DEFAULT_MAX_TOKENS,
    near_threshold: float = NEAR_THRESHOLD,
    progress: Callable[[str, int, int], None] | None = None,
) -> AuditResult:
    """Run every check over the files; nothing is written."""
    if not paths:
        raise ValueError("audit needs at least one file")
    problems: list[Problem] = []
    counts = dict.fromkeys(CHECKS, 0)
    index = NearDuplicateIndex(near_threshold)
    exact_seen: dict[str, tuple[int, int]] = {}  # key -> (file position, line)
    owners: list[tuple[int, int]] = []  # index item -> (file position, line)
    groups: dict[str, int] = {}  # meta.group -> file position of first sight
    leaked: set[str] = set()
    files: list[dict] = []
    names = [str(p) for p in paths]

    def report(check: str, file: str, line: int, detail: str, field: str | None = None) -> None:
        counts[check] += 1
        if counts[check] <= MAX_LISTED:
            problems.append(Problem(check, file, line, detail, field))

    for position, path in enumerate(paths):
        name = names[position]
        lines = raw_lines(path)
        records = len(lines)
        inspected = map_chunks(inspect_chunk, lines, stage(progress, f"checking {Path(name).name}"))
        numbers = [number for number, _ in lines]
        del lines
        pending: list[tuple[int, Fingerprint]] = []  # (line, fingerprint) to index
        for number, found in zip(numbers, inspected, strict=True):
            for field, hit in found.secrets:
                report("secret", name, number, hit.kind, f"{field} line {hit.line}")
            if found.invalid is not None:
                field, message = found.invalid
                report(
                    "invalid-schema", name, number, message, None if field == "<line>" else field
                )
                continue
            for detail in found.banned:
                report("banned-path", name, number, detail)
            if found.empty:
                report("empty", name, number, found.empty)
                continue
            if found.tokens > max_tokens:
                report("oversize", name, number, f"~{found.tokens} tokens > {max_tokens}")
            if found.group is not None:
                first = groups.setdefault(found.group, position)
                if first != position and found.group not in leaked:
                    leaked.add(found.group)
                    report("group-leak", name, number, f"group also in {names[first]}")
            fingerprint = found.fingerprint
            seen = exact_seen.get(fingerprint.key)
            if seen is not None:
                check = "duplicate" if seen[0] == position else "cross-split-duplicate"
                report(check, name, number, f"same text as {names[seen[0]]}:{seen[1]}")
                continue
            exact_seen[fingerprint.key] = (position, number)
            pending.append((number, fingerprint))
        del inspected
        if position > 0:  # probe the earlier splits, then join them
            for number, fingerprint in pending:
                match = index.find(fingerprint)
                if match is not None:
                    other_file, other_line = owners[match.item]
                    report(
                        "cross-split-duplicate",
                        name,
                        number,
                        f"{match.score:.0f}% similar to {names[other_file]}:{other_line}",
                    )
        for number, fingerprint in pending:
            index.add(fingerprint)
            owners.append((position, number))
        files.append({"path": name, "records": records, "sha256": file_digest(path)})
    problems.sort(key=lambda p: (names.index(p.file), p.line, CHECKS.index(p.check)))
    document = {
        "schema": AUDIT_SCHEMA,
        "passed": not any(counts.values()),
        "files": files,
        "settings": {"max_tokens": max_tokens, "near_threshold": near_threshold},
        "checks": counts,
        "problems": [p.to_dict() for p in problems],
    }
    return AuditResult(document, problems)


def render_table(document: dict, examples: int = 3) -> str:
    """The audit as a table for people: one row per check, then a few problems under each."""
    width = max(len(c) for c in CHECKS)
    lines = [f"{'check':<{width}}  {'failures':>8}  status"]
    for check in CHECKS:
        failed = document["checks"][check]
        lines.append(f"{check:<{width}}  {failed:>8}  {'FAIL' if failed else 'ok'}")
    listed = document["problems"]
    for check in CHECKS:
        shown = [p for p in listed if p["check"] == check][:examples]
        for problem in shown:
            where = f"{problem['file']}:{problem['line']}"
            field = f" [{problem['field']}]" if problem.get("field") else ""
            lines.append(f"  {check}: {where}{field}: {problem['detail']}")
        more = document["checks"][check] - len(shown)
        if shown and more > 0:
            lines.append(f"  {check}: ... and {more} more")
    return "\n".join(lines) + "\n"


def summary_line(document: dict) -> str:
    records = sum(f["records"] for f in document["files"])
    failed = {c: n for c, n in document["checks"].items() if n}
    if not failed:
        return f"audit passed: {records} records in {len(document['files'])} file(s), no problems"
    listed = ", ".join(f"{n} {c}" for c, n in failed.items())
    return f"audit FAILED: {records} records in {len(document['files'])} file(s): {listed}"
