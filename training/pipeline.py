"""`build --config`: the whole chain a dataset config describes.

Collect records from every source (curated files, mined git history, reviewer cases), apply the
config's task/language filters and limits, then build-sft (quality and size filters, dedupe,
grouped split, stats) and audit the result. Writes into `out_dir`: candidates.jsonl (what mining
proposed, for review), train.jsonl, eval.jsonl, stats.json and audit.json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UserError
from .audit import AuditResult, audit
from .build_sft import BuildOptions, BuildResult, load_records, prepare, write_dataset
from .dataset_config import DatasetConfig
from .jsonl import write_json, write_jsonl
from .progress import stage
from .records import SftRecord, parse_record

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PipelineResult:
    build: BuildResult
    audit: AuditResult
    audit_path: str

    def summary(self) -> str:
        verdict = "passed" if self.audit.passed else "FAILED"
        return f"{self.build.summary()}; audit {verdict} -> {self.audit_path}"


def collect(config: DatasetConfig, progress: Progress | None = None):
    """(records, source descriptions, mined candidates) from every source, in config order."""
    from .mine import MineOptions, mine
    from .reviewer_sft import load_cases, reviewer_records

    records: list[SftRecord] = []
    sources: list[dict] = []
    candidates: list[dict] = []
    for source in config.sources:
        if source.kind == "curated":
            found, described = load_records([source.path])
            records.extend(found)
            sources.extend({"kind": "curated", **d} for d in described)
        elif source.kind == "git":
            options = MineOptions(
                since=source.since,
                max_commits=source.max_commits,
                max_files=source.max_files,
                max_changed_lines=source.max_changed_lines,
            )
            mined = mine(source.path, options, stage(progress, f"mining {source.path.name}"))
            candidates.extend(mined.candidates)
            records.extend(parse_record(c) for c in mined.candidates)
            sources.append(
                {
                    "kind": "git",
                    "repo": str(source.path),
                    "commits": mined.commits_read,
                    "records": len(mined.candidates),
                    "skipped": dict(mined.skipped),
                }
            )
        else:
            cases = load_cases([source.path])
            made = reviewer_records(cases, source.specialist, stage(progress, "reviewer cases"))
            records.extend(made.records)
            sources.append(
                {
                    "kind": "reviewer_cases",
                    "path": str(source.path),
                    "specialist": source.specialist,
                    "records": len(made.records),
                    "skipped": dict(made.skipped),
                }
            )
    return records, sources, candidates


def select(config: DatasetConfig, records: list[SftRecord]) -> tuple[list[SftRecord], dict]:
    """The config's task and language filters, then its limits (best quality first)."""
    dropped: dict[str, int] = {}
    filters = config.filters
    kept = []
    for record in records:
        if filters.tasks is not None and record.task not in filters.tasks:
            reason = "task not selected"
        elif record.task in filters.exclude_tasks:
            reason = "task excluded"
        elif filters.languages is not None and record.language not in filters.languages:
            reason = "language not selected"
        else:
            kept.append(record)
            continue
        dropped[reason] = dropped.get(reason, 0) + 1
    ranked = sorted(kept, key=lambda r: (-r.quality, r.id))
    if config.max_per_task is not None:
        per_task: dict[str, int] = {}
        limited = []
        for record in ranked:
            per_task[record.task] = per_task.get(record.task, 0) + 1
            if per_task[record.task] <= config.max_per_task:
                limited.append(record)
        dropped["over max_per_task"] = len(ranked) - len(limited)
        ranked = limited
    if config.max_records is not None and len(ranked) > config.max_records:
        dropped["over max_records"] = len(ranked) - config.max_records
        ranked = ranked[: config.max_records]
    chosen = {id(r) for r in ranked}
    return [r for r in kept if id(r) in chosen], {k: v for k, v in dropped.items() if v}


def run_pipeline(config: DatasetConfig, progress: Progress | None = None) -> PipelineResult:
    records, sources, candidates = collect(config, progress)
    if not records:
        raise UserError(f"{config.path}: the sources gave no records")
    selected, dropped = select(config, records)
    if not selected:
        raise UserError(f"{config.path}: filters and limits left no records")
    options = BuildOptions(
        eval_fraction=config.eval_fraction,
        seed=config.seed,
        group_by=config.group_by,
        max_tokens=config.filters.max_tokens,
        min_quality=config.filters.min_quality,
        near_threshold=config.near_threshold,
    )
    prepared = prepare(selected, options, progress)
    prepared.dropped.update(dropped)
    out = config.out_dir
    if candidates:
        write_jsonl(out / "candidates.jsonl", candidates)
    built = write_dataset(
        prepared, sources, out / "train.jsonl", out / "eval.jsonl", out / "stats.json"
    )
    checked = audit(
        [built.train_path, built.eval_path],
        max_tokens=config.filters.max_tokens,
        near_threshold=config.near_threshold,
        progress=progress,
    )
    target = write_json(out / "audit.json", checked.document)
    return PipelineResult(built, checked, str(target))
