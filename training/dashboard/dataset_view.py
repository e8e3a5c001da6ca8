"""The Data tab's model of a curated file: its records, the lines that are not records, counts per
task type and language, length histograms and a paged record browser (secrets masked).

Loading is forgiving where build-sft is strict: a malformed line is listed (file:line: field and
reason, never the value) and the valid records are still shown, so a person can see what to fix.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import UserError
from ..jsonl import read_lines
from ..records import RecordError, SftRecord, approx_tokens, parse_record
from ..stats import split_stats
from .masking import mask_text, mask_value

PAGE_SIZE = 20
EXCERPT_CHARS = 100


@dataclass(frozen=True)
class CuratedFile:
    path: str
    records: tuple[tuple[int, SftRecord], ...]  # (line number, record)
    invalid: tuple[tuple[int, str], ...] = field(default=())  # (line number, why)

    @property
    def count(self) -> int:
        return len(self.records)


def load_curated(path: str | Path) -> CuratedFile:
    """Every record of a curated JSONL file (either input shape); a missing or unreadable file is a
    UserError, malformed lines are collected in `invalid`."""
    name = str(path).strip()
    if not name:
        raise UserError("no file given: enter the path of a curated JSONL file")
    if Path(name).is_dir():
        raise UserError(f"{name}: is a folder; pick a JSONL file")
    records: list[tuple[int, SftRecord]] = []
    invalid: list[tuple[int, str]] = []
    for line in read_lines(name):
        if line.error is not None:
            invalid.append((line.number, line.error))
            continue
        try:
            records.append((line.number, parse_record(line.value)))
        except RecordError as exc:
            invalid.append((line.number, str(exc)))
    if not records and not invalid:
        raise UserError(f"{name}: no records (the file is empty)")
    return CuratedFile(name, tuple(records), tuple(invalid))


def summary(curated: CuratedFile) -> dict:
    """`stats.split_stats` of the valid records (the numbers build-sft's stats report uses)."""
    return split_stats([record for _, record in curated.records])


def task_language_rows(records: Sequence[SftRecord]) -> list[list]:
    """A table with one row per task type, one column per language, and totals."""
    languages = sorted({r.language for r in records})
    pairs = Counter((r.task, r.language) for r in records)
    by_language = Counter(r.language for r in records)
    rows = []
    for task in sorted({r.task for r in records}):
        counts = [pairs[(task, language)] for language in languages]
        rows.append([task, *counts, sum(counts)])
    rows.append(["total", *(by_language[language] for language in languages), len(records)])
    return [["task", *languages, "total"], *rows]


def count_rows(records: Sequence[SftRecord], key: str) -> list[dict]:
    """[{key: name, "records": n}] by descending count (name breaks ties)."""
    counts = Counter(getattr(r, key) for r in records)
    return [
        {key: name, "records": n} for name, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]


def _tokens(record: SftRecord, roles: tuple[str, ...]) -> int:
    return approx_tokens(sum(len(m.content) for m in record.messages if m.role in roles))


def lengths(records: Sequence[SftRecord], part: str) -> list[int]:
    """Estimated tokens per record: of the whole conversation, the prompt side or the answers."""
    roles = {
        "record": ("system", "user", "assistant"),
        "prompt": ("system", "user"),
        "answer": ("assistant",),
    }[part]
    return [_tokens(r, roles) for r in records]


def length_histogram(values: Sequence[int], smallest: int = 32) -> list[dict]:
    """Counts in power-of-two bins (`<= 32`, `33-64`, ...) up to the largest value: token lengths
    are skewed, so doubling bins keep both short and long records readable. Empty bins in the
    range are kept, so the bars read as a histogram."""
    if not values:
        return []
    edges = [smallest]
    while edges[-1] < max(values):
        edges.append(edges[-1] * 2)
    counts = [0] * len(edges)
    for value in values:
        counts[next(i for i, edge in enumerate(edges) if value <= edge)] += 1
    rows = []
    for i, (edge, n) in enumerate(zip(edges, counts, strict=True)):
        label = f"<= {edge}" if i == 0 else f"{edges[i - 1] + 1}-{edge}"
        rows.append({"tokens": label, "records": n})
    return rows


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, clamped into range
    pages: int
    rows: list[list]  # [#, line, id, task, language, tokens, prompt excerpt]
    first: int  # 0-based position of the page's first record


PAGE_HEADERS = ["#", "line", "id", "task", "language", "tokens", "prompt"]


def _excerpt(text: str) -> str:
    flat = " ".join(mask_text(text).split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def record_page(curated: CuratedFile, number: int, size: int = PAGE_SIZE) -> Page:
    """One page of the record browser; excerpts are masked."""
    pages = max(1, -(-curated.count // size))
    number = min(max(1, int(number)), pages)
    first = (number - 1) * size
    rows = []
    for position in range(first, min(first + size, curated.count)):
        line, record = curated.records[position]
        prompt = next((m.content for m in record.messages if m.role == "user"), "")
        tokens = approx_tokens(record.chars())
        rows.append(
            [position + 1, line, record.id, record.task, record.language, tokens, _excerpt(prompt)]
        )
    return Page(number, pages, rows, first)


def record_json(curated: CuratedFile, position: int) -> str:
    """Record `position` (1-based) in chat form, pretty JSON, secrets masked."""
    if not curated.records:
        return ""
    position = min(max(1, int(position)), curated.count)
    line, record = curated.records[position - 1]
    shown = {"line": line, **mask_value(record.to_dict())}
    return json.dumps(shown, indent=2, ensure_ascii=False)


def invalid_lines(curated: CuratedFile, limit: int = 50) -> list[str]:
    """`file:line: why` for the first `limit` malformed lines."""
    out = [f"{curated.path}:{number}: {why}" for number, why in curated.invalid[:limit]]
    if len(curated.invalid) > limit:
        out.append(f"... and {len(curated.invalid) - limit} more")
    return out


def find_jsonl(root: str | Path, under: str = "data", limit: int = 200) -> list[str]:
    """JSONL files under `root/under`, sorted, as paths relative to the working directory."""
    base = Path(root) / under
    if not base.is_dir():
        return []
    return sorted(str(p) for p in base.rglob("*.jsonl") if p.is_file())[:limit]
