"""Checks a training run makes before it loads a model or writes a file: the output directory
(finished adapter, checkpoints to resume), the dataset files, and the audit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .metadata import METADATA_FILE
from .train_config import TrainConfig
from .train_data import load_conversations

CHECKPOINTS = "checkpoints"


@dataclass(frozen=True)
class RunOptions:
    resume: bool = False
    skip_audit: bool = False
    overwrite: bool = False


@dataclass
class Datasets:
    train: list[list[dict]]
    eval: list[list[dict]] | None


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The highest-numbered `checkpoints/checkpoint-N` holding a trainer state."""
    found = []
    for path in (output_dir / CHECKPOINTS).glob("checkpoint-*"):
        number = path.name.removeprefix("checkpoint-")
        if number.isdigit() and (path / "trainer_state.json").is_file():
            found.append((int(number), path))
    return max(found)[1] if found else None


def check_output_dir(config: TrainConfig, options: RunOptions) -> Path | None:
    """The checkpoint to resume from (None: a fresh run); refuses to clobber earlier work."""
    output_dir = config.output_dir
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"output_dir {output_dir}: exists and is not a directory")
    if options.overwrite:
        if options.resume:
            raise UserError("--resume and --overwrite: choose one")
        return None
    checkpoint = latest_checkpoint(output_dir)
    if options.resume:
        if checkpoint is None:
            raise UserError(f"--resume: no checkpoint under {output_dir / CHECKPOINTS}")
        return checkpoint
    if (output_dir / METADATA_FILE).is_file():
        raise UserError(
            f"output_dir {output_dir}: holds a finished adapter; "
            "choose another --output-dir or pass --overwrite"
        )
    if checkpoint is not None:
        raise UserError(
            f"output_dir {output_dir}: has checkpoints; pass --resume to continue "
            "or --overwrite to start over"
        )
    return None


def load_datasets(config: TrainConfig) -> Datasets:
    train = load_conversations(config.data.train)
    evaluation = load_conversations(config.data.eval) if config.data.eval else None
    return Datasets(train, evaluation)


def run_audit(config: TrainConfig) -> dict:
    """The dataset audit over the train (and eval) files; nothing written."""
    from .audit import audit

    paths = [config.data.train] + ([config.data.eval] if config.data.eval else [])
    return audit(paths).document


def audit_summary(document: dict | None, report: Path | None) -> dict:
    """The audit entry of the metadata (document None: the audit was skipped)."""
    if document is None:
        return {"passed": None, "violations": None, "report": None, "skipped": True}
    return {
        "passed": document["passed"],
        "violations": sum(document["checks"].values()),
        "checks": {k: n for k, n in document["checks"].items() if n},
        "report": str(report) if report else None,
        "skipped": False,
    }


def refuse_failed_audit(document: dict) -> None:
    from .audit import summary_line

    first = document["problems"][0] if document["problems"] else None
    where = f" (first: {first['check']} at {first['file']}:{first['line']})" if first else ""
    raise UserError(
        f"{summary_line(document)}{where}; fix the data (code-assistant-train audit shows every "
        "problem) or pass --skip-audit"
    )
