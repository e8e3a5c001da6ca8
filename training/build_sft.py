"""`build-sft`: curated records in, chat-format train/eval JSONL and a stats report out.

Steps, in order: validate every record (any invalid one stops the build, nothing is written);
drop empty, oversize and low-quality records, and any record the strict secret scan flags in any
field (secrets never reach an artifact); drop exact and near duplicates (the higher-quality copy
stays); split by group (`split.py`); write train, eval and stats atomically.
Every output record carries `meta.group`, the group it was split by, so the audit can check that
no group straddles the split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from .dedupe import NEAR_THRESHOLD, Fingerprint, deduplicate, fingerprints
from .jsonl import file_digest, read_lines, write_json, write_jsonl
from .parallel import map_chunks
from .progress import stage
from .records import (
    RecordError,
    SftRecord,
    approx_tokens,
    conversation_text,
    empty_reason,
    parse_record,
)
from .secret_scan import value_secrets
from .split import GROUP_BY, split_records
from .stats import stats_document

DEFAULT_MAX_TOKENS = 4096
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class BuildOptions:
    eval_fraction: float = 0.1
    seed: int = 13
    group_by: str = "file"
    max_tokens: int = DEFAULT_MAX_TOKENS
    min_quality: float = 0.0
    near_threshold: float = NEAR_THRESHOLD

    def __post_init__(self) -> None:
        if not 0 <= self.eval_fraction < 1:
            raise UserError(f"--eval-fraction {self.eval_fraction}: expected a number in [0, 1)")
        if self.group_by not in GROUP_BY:
            raise UserError(f"--group-by {self.group_by}: expected one of {', '.join(GROUP_BY)}")
        if self.max_tokens < 16:
            raise UserError(f"--max-tokens {self.max_tokens}: expected at least 16")
        if not 0 <= self.min_quality <= 1:
            raise UserError(f"--min-quality {self.min_quality}: expected a number from 0 to 1")
        if not 50 <= self.near_threshold <= 100:
            raise UserError(f"--near-threshold {self.near_threshold}: expected 50 to 100")


@dataclass
class Prepared:
    """Records after filtering, deduplication and the split."""

    train: list[SftRecord]
    eval: list[SftRecord]
    dropped: dict[str, int] = field(default_factory=dict)
    split: dict = field(default_factory=dict)


def inspect_chunk(values: list[dict]) -> list[tuple[bool, Fingerprint]]:
    """Whether each chat record holds a secret, and its dedupe fingerprint (a unit of work for
    `parallel.map_chunks`)."""
    secrets = [bool(value_secrets(v)) for v in values]
    prints = fingerprints([conversation_text(v["messages"]) for v in values])
    return list(zip(secrets, prints, strict=True))


def load_records(paths: Sequence[str | Path]) -> tuple[list[SftRecord], list[dict]]:
    """Every record of every file, validated; a UserError names the first bad one (file:line)."""
    records: list[SftRecord] = []
    inputs: list[dict] = []
    for path in paths:
        count = 0
        first: str | None = None
        bad = 0
        for line in read_lines(path):
            try:
                if line.error is not None:
                    raise RecordError("<line>", line.error)
                records.append(parse_record(line.value))
                count += 1
            except RecordError as exc:
                bad += 1
                first = first or f"{path}:{line.number}: {exc}"
        if first is not None:
            more = f" (and {bad - 1} more invalid records)" if bad > 1 else ""
            raise UserError(first + more)
        inputs.append({"path": str(path), "records": count, "sha256": file_digest(path)})
    if not records:
        raise UserError(f"{', '.join(map(str, paths))}: no records")
    return records, inputs


def prepare(
    records: Sequence[SftRecord], options: BuildOptions, progress: Progress | None = None
) -> Prepared:
    """Filter, deduplicate and split; nothing is written."""
    dropped: dict[str, int] = {}
    sized: list[SftRecord] = []
    for record in records:
        if empty_reason(record):
            reason = "empty"
        elif approx_tokens(record.chars()) > options.max_tokens:
            reason = "oversize"
        elif record.quality < options.min_quality:
            reason = "low-quality"
        else:
            sized.append(record)
            continue
        dropped[reason] = dropped.get(reason, 0) + 1
    inspected = map_chunks(
        inspect_chunk, [r.to_dict() for r in sized], stage(progress, "secret scan")
    )
    kept = [r for r, (secret, _) in zip(sized, inspected, strict=True) if not secret]
    prints = [fingerprint for secret, fingerprint in inspected if not secret]
    if len(kept) < len(sized):
        dropped["holds a secret"] = len(sized) - len(kept)
    verdicts = deduplicate(
        prints,
        priority=[r.quality for r in kept],
        threshold=options.near_threshold,
        progress=stage(progress, "deduplicating"),
    )
    unique: list[SftRecord] = []
    for record, verdict in zip(kept, verdicts, strict=True):
        if verdict.kept:
            unique.append(record)
        else:
            dropped[verdict.reason] = dropped.get(verdict.reason, 0) + 1
    if not unique:
        raise UserError(
            "no records left after dropping empty, oversize, secret and duplicate records"
        )
    split = split_records(
        [(r.paths, r.commit, r.id) for r in unique],
        options.eval_fraction,
        options.seed,
        options.group_by,
    )
    if options.eval_fraction > 0 and not split.eval and len(unique) > 1:
        raise UserError(
            f"no eval records: the {len(unique)} records form {split.group_count} group(s) by "
            f"{options.group_by} and none fits --eval-fraction {options.eval_fraction}; "
            "use --group-by commit or more data"
        )
    grouped = [
        SftRecord(r.messages, {**r.meta, "group": name})
        for r, name in zip(unique, split.groups, strict=True)
    ]
    return Prepared(
        train=[grouped[i] for i in split.train],
        eval=[grouped[i] for i in split.eval],
        dropped=dropped,
        split={
            **split.to_dict(),
            "group_by": options.group_by,
            "eval_fraction": options.eval_fraction,
            "seed": options.seed,
            "achieved_eval_fraction": round(len(split.eval) / len(unique), 4),
        },
    )


@dataclass(frozen=True)
class BuildResult:
    train_path: Path
    eval_path: Path
    stats_path: Path
    stats: dict

    def summary(self) -> str:
        dropped = ", ".join(f"{n} {why}" for why, n in self.stats["dropped"].items()) or "none"
        return (
            f"{self.stats['train']['records']} train + {self.stats['eval']['records']} eval "
            f"records in {self.stats['split']['groups']} groups by {self.stats['split']['group_by']}"
            f" (dropped: {dropped}) -> {self.train_path}, {self.eval_path}, {self.stats_path}"
        )


def default_stats_path(train_path: str | Path) -> Path:
    train = Path(train_path)
    return train.with_name(train.stem + ".stats.json")


def build_sft(
    inputs: Sequence[str | Path],
    train_path: str | Path,
    eval_path: str | Path,
    options: BuildOptions,
    stats_path: str | Path | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Read, prepare and write a dataset; see the module docstring."""
    if Path(train_path).resolve() == Path(eval_path).resolve():
        raise UserError(f"--train and --eval are the same file ({train_path})")
    records, sources = load_records(inputs)
    prepared = prepare(records, options, progress)
    return write_dataset(prepared, sources, train_path, eval_path, stats_path)


def write_dataset(
    prepared: Prepared,
    sources: Sequence[dict],
    train_path: str | Path,
    eval_path: str | Path,
    stats_path: str | Path | None = None,
) -> BuildResult:
    train = write_jsonl(train_path, (r.to_dict() for r in prepared.train))
    evaluation = write_jsonl(eval_path, (r.to_dict() for r in prepared.eval))
    outputs = {
        "train": {"path": str(train), "sha256": file_digest(train)},
        "eval": {"path": str(evaluation), "sha256": file_digest(evaluation)},
    }
    document = stats_document(
        sources, prepared.train, prepared.eval, prepared.dropped, prepared.split, outputs
    )
    target = write_json(stats_path or default_stats_path(train), document)
    return BuildResult(train, evaluation, target, document)
