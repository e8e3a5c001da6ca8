"""Trainer callbacks: the JSONL step log, a rich progress bar, and a clean stop on Ctrl-C.

Imports transformers at the top: only `train.py` imports this module, inside the command.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from transformers import TrainerCallback

from .train_log import TrainLog


class StepLogCallback(TrainerCallback):
    """Writes `start`, `step` and `eval` events (the `end` event is the caller's: it knows how the
    run ended). Only the main process writes."""

    def __init__(self, log: TrainLog, config: dict, resume_from: str | None) -> None:
        self.log = log
        self.config = config
        self.resume_from = resume_from
        self.tokens_seen = 0  # input tokens of this run, as TRL counts them

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.log.start(self.config, state.max_steps, self.resume_from)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if "num_tokens" in logs:
            self.tokens_seen = int(logs["num_tokens"])
        if "loss" in logs:
            self.log.step(
                state.global_step,
                round(float(logs.get("epoch", state.epoch or 0.0)), 4),
                float(logs["loss"]),
                float(logs.get("learning_rate", 0.0)),
            )
        if "eval_loss" in logs:
            self.log.eval(state.global_step, float(logs["eval_loss"]))


class ProgressCallback(TrainerCallback):
    """A rich progress bar (step, loss, learning rate) on a terminal; one line per logged step
    otherwise, so CI logs show progress too."""

    def __init__(self, console=None, live: bool | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.live = sys.stderr.isatty() if live is None else live
        self.bar = None
        self.task = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero or not self.live:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.bar.start()
        self.task = self.bar.add_task(
            "train", total=state.max_steps, completed=state.global_step, status=""
        )

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(self.task, completed=state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        parts = []
        if "loss" in logs:
            parts.append(f"loss {float(logs['loss']):.4f}")
        if "learning_rate" in logs:
            parts.append(f"lr {float(logs['learning_rate']):.2e}")
        if "eval_loss" in logs:
            parts.append(f"eval_loss {float(logs['eval_loss']):.4f}")
        if not parts:
            return
        status = "  ".join(parts)
        if self.bar is not None:
            self.bar.update(self.task, status=status)
        else:
            self.console.print(f"step {state.global_step}/{state.max_steps}  {status}")

    def on_train_end(self, args, state, control, **kwargs):
        self.stop()

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


class StopCallback(TrainerCallback):
    """Stops training at the next step boundary once `requested` is set, saving a checkpoint."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.stopped_at: int | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested.is_set():
            control.should_training_stop = True
            control.should_save = True
            self.stopped_at = state.global_step
        return control


@contextmanager
def stop_on_sigint(stop: StopCallback, notify) -> Iterator[None]:
    """While training: the first Ctrl-C asks `stop` to end at the step boundary (a checkpoint is
    saved); a second one interrupts at once. Outside the main thread signals cannot be caught,
    so Ctrl-C keeps its default meaning there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, frame):
        if stop.requested.is_set():
            raise KeyboardInterrupt
        stop.requested.set()
        notify(
            "interrupt: stopping at the end of this step and saving a checkpoint (Ctrl-C again to abort)"
        )

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
