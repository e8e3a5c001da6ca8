"""Where a training run stands, from its `train_log.jsonl` (`train_log.py` writes it and
`train_log.read_events` reads it, skipping a line still being written): status, step of total,
losses, time left, and the loss curve's points. A resumed run appends a new `start`; the last
one gives the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..train_log import LOG_FILE, read_events
from .discovery import folders_with

MAX_POINTS = 2000  # the loss chart is thinned to about this many points per series


@dataclass
class TrainLog:
    start: dict | None = None
    steps: list[dict] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    end: dict | None = None
    skipped: int = 0

    @property
    def status(self) -> str:
        if self.end is not None:
            return str(self.end.get("status", "ended"))
        return "running" if self.start is not None or self.steps else "not started"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def summarize(events: list[dict]) -> TrainLog:
    """The events sorted by kind; events missing their numbers are counted in `skipped`."""
    log = TrainLog()
    for event in events:
        kind = event.get("event")
        if kind == "start":
            log.start = event
        elif kind == "step" and _number(event.get("step")) and _number(event.get("loss")):
            log.steps.append(event)
        elif kind == "eval" and _number(event.get("step")) and _number(event.get("eval_loss")):
            log.evals.append(event)
        elif kind == "end":
            log.end = event
        else:
            log.skipped += 1
    return log


def read_log(run_dir: str | Path) -> TrainLog | None:
    """The run's log, or None while the file does not exist yet."""
    path = Path(run_dir) / LOG_FILE
    if not path.is_file():
        return None
    return summarize(read_events(path))


def _time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def progress(log: TrainLog) -> dict:
    """Where the run stands: status, step of total, fraction, epoch, last losses, learning rate,
    elapsed seconds and a linear estimate of the seconds left (None where unknown)."""
    total = log.start.get("total_steps") if log.start else None
    total = total if _number(total) and total > 0 else None
    last = log.steps[-1] if log.steps else {}
    step = int(last.get("step", 0))
    if log.end is not None and _number(log.end.get("steps")):
        step = int(log.end["steps"])
    started = _time(log.start.get("time")) if log.start else None
    latest = _time((log.end or last or {}).get("time")) if (log.end or last) else None
    elapsed = (latest - started).total_seconds() if started and latest else None
    if log.end is not None and _number(log.end.get("seconds")):
        elapsed = float(log.end["seconds"])
    remaining = None
    if log.end is None and total and step and elapsed is not None and step < total:
        remaining = elapsed / step * (total - step)
    return {
        "status": log.status,
        "step": step,
        "total_steps": total,
        "fraction": min(1.0, step / total) if total else None,
        "epoch": last.get("epoch"),
        "loss": last.get("loss"),
        "learning_rate": last.get("learning_rate"),
        "eval_loss": log.evals[-1]["eval_loss"] if log.evals else None,
        "elapsed_s": elapsed,
        "remaining_s": remaining,
        "final_train_loss": (log.end or {}).get("final_train_loss"),
        "final_eval_loss": (log.end or {}).get("final_eval_loss"),
    }


def _thin(points: list[dict], limit: int) -> list[dict]:
    if len(points) <= limit:
        return points
    stride = -(-len(points) // limit)
    return points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])


def loss_points(log: TrainLog, limit: int = MAX_POINTS) -> list[dict]:
    """Long-form chart rows `{step, loss, series}` for the training and the eval loss."""
    train = [
        {"step": int(e["step"]), "loss": float(e["loss"]), "series": "train"} for e in log.steps
    ]
    evals = [
        {"step": int(e["step"]), "loss": float(e["eval_loss"]), "series": "eval"} for e in log.evals
    ]
    return _thin(train, limit) + _thin(evals, limit)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def progress_markdown(state: dict) -> str:
    """The progress dict as a few markdown lines for the Training tab."""
    if state["total_steps"]:
        where = f"step {state['step']} / {state['total_steps']} ({state['fraction']:.0%})"
    else:
        where = f"step {state['step']}"
    lines = [f"**{state['status']}**: {where}"]
    if state["epoch"] is not None:
        lines.append(f"epoch {state['epoch']:.2f}")
    if state["loss"] is not None:
        lines.append(f"loss {state['loss']:.4f}")
    if state["eval_loss"] is not None:
        lines.append(f"eval loss {state['eval_loss']:.4f}")
    if state["learning_rate"] is not None:
        lines.append(f"lr {state['learning_rate']:.3g}")
    lines.append(f"elapsed {_duration(state['elapsed_s'])}")
    if state["remaining_s"] is not None:
        lines.append(f"about {_duration(state['remaining_s'])} left")
    return " · ".join(lines)


def find_runs(root: str | Path, max_depth: int = 4) -> list[str]:
    """Run folders (holding a train_log.jsonl) under `root`, newest log first."""
    if not Path(root).is_dir():
        return []
    found = folders_with(root, LOG_FILE, max_depth)
    found.sort(key=lambda p: (p / LOG_FILE).stat().st_mtime, reverse=True)
    return [str(p) for p in found]
