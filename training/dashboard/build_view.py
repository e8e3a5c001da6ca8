"""build-sft from the Data tab: the real `build_sft.build_sft` with the split a person picked, and
the files it wrote (path, records, size, SHA-256)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import UserError
from ..build_sft import BuildOptions, BuildResult, build_sft

Progress = Callable[[str, int, int], None]
FILE_HEADERS = ["file", "path", "records", "bytes", "sha256"]


@dataclass(frozen=True)
class BuildView:
    result: BuildResult
    files: list[list]  # FILE_HEADERS rows
    dropped: list[list]  # [reason, records]

    @property
    def paths(self) -> list[str]:
        return [str(self.result.train_path), str(self.result.eval_path)]


def run_build(
    curated: str,
    out_dir: str,
    eval_fraction: float,
    seed: int,
    group_by: str,
    progress: Progress | None = None,
) -> BuildView:
    """Build train.jsonl, eval.jsonl and train.stats.json in `out_dir` (written atomically;
    nothing is written when a record is invalid)."""
    if not str(curated).strip():
        raise UserError("no curated file: load one in the Data tab first")
    if not str(out_dir).strip():
        raise UserError("no output folder given for build-sft")
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise UserError(f"{out_dir}: exists and is not a folder")
    options = BuildOptions(eval_fraction=float(eval_fraction), seed=int(seed), group_by=group_by)
    result = build_sft(
        [curated], target / "train.jsonl", target / "eval.jsonl", options, progress=progress
    )
    return BuildView(result, written_files(result), dropped_rows(result.stats))


def written_files(result: BuildResult) -> list[list]:
    outputs = result.stats["outputs"]
    rows = []
    for split, path in (("train", result.train_path), ("eval", result.eval_path)):
        rows.append(
            [
                split,
                str(path),
                result.stats[split]["records"],
                Path(path).stat().st_size,
                outputs[split]["sha256"][:16],
            ]
        )
    rows.append(["stats", str(result.stats_path), "", Path(result.stats_path).stat().st_size, ""])
    return rows


def dropped_rows(stats: dict) -> list[list]:
    return [[reason, n] for reason, n in stats["dropped"].items()]
