"""The dataset build description (`code-assistant/dataset-config@1`, JSON), validated into
frozen dataclasses. Every key is optional except `sources`; unknown keys are errors naming the key.

```json
{
  "schema": "code-assistant/dataset-config@1",
  "name": "my-repo",
  "root": "..",                      // relative paths resolve against the config file's folder + root
  "out_dir": "data/sft",             // train.jsonl, eval.jsonl, stats.json, audit.json, candidates.jsonl
  "sources": [
    {"kind": "curated", "path": "data/curated/examples.jsonl"},
    {"kind": "git", "repo": ".", "since": "2024-01-01", "max_commits": 500,
     "max_files": 12, "max_changed_lines": 400},
    {"kind": "reviewer_cases", "path": "evals/reviewer_regression", "specialist": "python"}
  ],
  "filters": {"min_quality": 0.5, "max_tokens": 4096, "tasks": null, "exclude_tasks": ["chore"],
              "languages": null},
  "split": {"eval_fraction": 0.1, "seed": 13, "group_by": "file"},
  "dedupe": {"near_threshold": 90},
  "limits": {"max_records": 50000, "max_per_task": 20000}
}
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from .build_sft import DEFAULT_MAX_TOKENS
from .dedupe import NEAR_THRESHOLD
from .reviewer_sft import SPECIALISTS
from .split import GROUP_BY

CONFIG_SCHEMA = "code-assistant/dataset-config@1"
SOURCE_KINDS = ("curated", "git", "reviewer_cases")


@dataclass(frozen=True)
class Source:
    kind: str
    path: Path  # the curated file, the repository, or the cases folder/file
    since: str | None = None
    max_commits: int | None = None
    max_files: int = 12
    max_changed_lines: int = 400
    specialist: str | None = None


@dataclass(frozen=True)
class Filters:
    min_quality: float = 0.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    tasks: tuple[str, ...] | None = None
    exclude_tasks: tuple[str, ...] = ()
    languages: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DatasetConfig:
    path: Path
    name: str
    out_dir: Path
    sources: tuple[Source, ...]
    filters: Filters = field(default_factory=Filters)
    eval_fraction: float = 0.1
    seed: int = 13
    group_by: str = "file"
    near_threshold: float = NEAR_THRESHOLD
    max_records: int | None = None
    max_per_task: int | None = None


class _Reader:
    """Typed access to one JSON table, naming the key path in every error."""

    def __init__(self, config: Path, table: Any, where: str, keys: set[str]) -> None:
        self.config, self.where = config, where
        if not isinstance(table, dict):
            self.fail(where or "<document>", f"expected an object, got {type(table).__name__}")
        unknown = sorted(set(table) - keys)
        if unknown:
            self.fail(self.key(unknown[0]), f"unknown key (expected: {', '.join(sorted(keys))})")
        self.table = table

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, where: str, message: str):
        raise UserError(f"{self.config}: {where}: {message}")

    def get(self, name: str, kind, default=None, check=None, what: str = ""):
        value = self.table.get(name, default)
        if value is None:
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            self.fail(self.key(name), f"expected {what or kind.__name__}, got {value!r}")
        if check is not None and not check(value):
            self.fail(self.key(name), f"expected {what}, got {value!r}")
        return value

    def names(self, name: str, choices: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        value = self.table.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(self.key(name), f"expected a list of names, got {value!r}")
        for item in value:
            if choices is not None and item not in choices:
                self.fail(self.key(name), f"{item!r} is not one of {', '.join(choices)}")
        return tuple(value)


def _positive(value: int) -> bool:
    return value > 0


def load_config(path: str | Path) -> DatasetConfig:
    """Read and validate a dataset config; a UserError names the file and the key."""
    source = Path(path)
    if not source.is_file():
        raise UserError(f"--config {path}: no such file")
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except ValueError as exc:
        raise UserError(f"{path}: invalid JSON ({exc})") from None
    top = _Reader(
        source,
        data,
        "",
        {"schema", "name", "root", "out_dir", "sources", "filters", "split", "dedupe", "limits"},
    )
    schema = top.get("schema", str, CONFIG_SCHEMA)
    if schema != CONFIG_SCHEMA:
        top.fail("schema", f"expected {CONFIG_SCHEMA!r}, got {schema!r}")
    base = (source.parent / top.get("root", str, ".")).resolve()
    if not base.is_dir():
        top.fail("root", f"{base} is not a folder")
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        top.fail("sources", "expected a non-empty list of sources")
    filters = _Reader(
        source,
        data.get("filters") or {},
        "filters",
        {"min_quality", "max_tokens", "tasks", "exclude_tasks", "languages"},
    )
    split = _Reader(source, data.get("split") or {}, "split", {"eval_fraction", "seed", "group_by"})
    dedupe = _Reader(source, data.get("dedupe") or {}, "dedupe", {"near_threshold"})
    limits = _Reader(source, data.get("limits") or {}, "limits", {"max_records", "max_per_task"})
    group_by = split.get("group_by", str, "file", lambda v: v in GROUP_BY, " or ".join(GROUP_BY))
    return DatasetConfig(
        path=source,
        name=top.get("name", str, source.stem),
        out_dir=base / top.get("out_dir", str, "data/sft"),
        sources=tuple(_source(source, base, item, i) for i, item in enumerate(sources)),
        filters=Filters(
            min_quality=filters.get(
                "min_quality", float, 0.0, lambda v: 0 <= v <= 1, "a number from 0 to 1"
            ),
            max_tokens=filters.get(
                "max_tokens", int, DEFAULT_MAX_TOKENS, lambda v: v >= 16, "an integer >= 16"
            ),
            tasks=filters.names("tasks"),
            exclude_tasks=filters.names("exclude_tasks") or (),
            languages=filters.names("languages"),
        ),
        eval_fraction=split.get(
            "eval_fraction", float, 0.1, lambda v: 0 <= v < 1, "a number in [0, 1)"
        ),
        seed=split.get("seed", int, 13),
        group_by=group_by,
        near_threshold=dedupe.get(
            "near_threshold", float, NEAR_THRESHOLD, lambda v: 50 <= v <= 100, "50 to 100"
        ),
        max_records=limits.get("max_records", int, None, _positive, "a positive integer"),
        max_per_task=limits.get("max_per_task", int, None, _positive, "a positive integer"),
    )


def _source(config: Path, base: Path, item: Any, index: int) -> Source:
    where = f"sources[{index}]"
    kind = item.get("kind") if isinstance(item, dict) else None
    keys = {
        "curated": {"kind", "path"},
        "git": {"kind", "repo", "since", "max_commits", "max_files", "max_changed_lines"},
        "reviewer_cases": {"kind", "path", "specialist"},
    }
    if kind not in keys:
        raise UserError(f"{config}: {where}.kind: expected one of {', '.join(SOURCE_KINDS)}")
    table = _Reader(config, item, where, keys[kind])
    location = table.get("repo" if kind == "git" else "path", str, None)
    if location is None:
        table.fail(table.key("repo" if kind == "git" else "path"), "missing")
    path = base / location
    if not path.exists():
        table.fail(table.key("repo" if kind == "git" else "path"), f"{path} does not exist")
    if kind == "git":
        return Source(
            kind,
            path,
            since=table.get("since", str, None),
            max_commits=table.get("max_commits", int, None, _positive, "a positive integer"),
            max_files=table.get("max_files", int, 12, _positive, "a positive integer"),
            max_changed_lines=table.get(
                "max_changed_lines", int, 400, _positive, "a positive integer"
            ),
        )
    if kind == "reviewer_cases":
        specialist = table.get(
            "specialist", str, None, lambda v: v in SPECIALISTS, " or ".join(SPECIALISTS)
        )
        return Source(kind, path, specialist=specialist)
    return Source(kind, path)
