"""The training run's step log, `<output_dir>/train_log.jsonl`, and its loss curve `loss.png`.

One JSON object per line, flushed as written so a dashboard can tail it, each with an `event`:

    {"event": "start", "time": ISO, "config": {...}, "total_steps": N, "resume_from": PATH|null}
    {"event": "step", "time": ISO, "step": N, "epoch": F, "loss": F, "learning_rate": F}
    {"event": "eval", "time": ISO, "step": N, "eval_loss": F}
    {"event": "end", "time": ISO, "status": "completed"|"interrupted"|"failed", "steps": N,
     "seconds": F, "final_train_loss": F|null, "final_eval_loss": F|null}

A resumed run appends to the same file: a new `start` (with `resume_from`), then its steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

LOG_FILE = "train_log.jsonl"
PLOT_FILE = "loss.png"
END_STATUSES = ("completed", "interrupted", "failed")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class TrainLog:
    """Appends events to the log file; remembers the last losses for the `end` event."""

    path: Path
    final_train_loss: float | None = None
    final_eval_loss: float | None = None
    _handle: TextIO | None = field(default=None, repr=False)

    def _write(self, event: str, **body: Any) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in end())
        self._handle.write(json.dumps({"event": event, "time": _now(), **body}) + "\n")
        self._handle.flush()

    def start(self, config: dict, total_steps: int, resume_from: str | None = None) -> None:
        self._write("start", config=config, total_steps=total_steps, resume_from=resume_from)

    def step(self, step: int, epoch: float, loss: float, learning_rate: float) -> None:
        self.final_train_loss = loss
        self._write("step", step=step, epoch=epoch, loss=loss, learning_rate=learning_rate)

    def eval(self, step: int, eval_loss: float) -> None:
        self.final_eval_loss = eval_loss
        self._write("eval", step=step, eval_loss=eval_loss)

    def end(self, status: str, steps: int, seconds: float) -> None:
        if status not in END_STATUSES:
            raise ValueError(f"unknown end status {status!r}")
        self._write(
            "end",
            status=status,
            steps=steps,
            seconds=round(seconds, 3),
            final_train_loss=self.final_train_loss,
            final_eval_loss=self.final_eval_loss,
        )
        self.close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_events(path: str | Path) -> list[dict]:
    """The events of a log; a line cut short by a crash is skipped."""
    events = []
    source = Path(path)
    if not source.is_file():
        return events
    for line in source.read_text(encoding="utf-8").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "event" in value:
            events.append(value)
    return events


def plot_loss(events: list[dict], target: str | Path) -> Path | None:
    """Train (and eval) loss against the step, as a PNG; None when there is nothing to plot."""
    steps = [(e["step"], e["loss"]) for e in events if e["event"] == "step"]
    evals = [(e["step"], e["eval_loss"]) for e in events if e["event"] == "eval"]
    if not steps and not evals:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.add_subplot()
    if steps:
        axes.plot(*zip(*steps, strict=True), label="train loss", linewidth=1.2)
    if evals:
        axes.plot(*zip(*evals, strict=True), label="eval loss", marker="o", linewidth=1.2)
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    target = Path(target)
    partial = target.with_name(target.name + ".tmp")
    figure.savefig(partial, format="png")
    partial.replace(target)
    return target
