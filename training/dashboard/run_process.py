"""One training run started from the dashboard, as a subprocess the page polls, never waits on.

The process gets its own session (process group), so stopping it also stops the workers that
`accelerate launch` starts; its output goes to a log file the Training tab tails.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from ...errors import UserError
from ...select.runner import stop_process_group
from .masking import mask_text


@dataclass(frozen=True)
class ProcessState:
    running: bool
    pid: int | None
    returncode: int | None
    command: list[str]
    output: str  # where stdout/stderr go


class TrainingProcess:
    """At most one run at a time per dashboard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._popen: subprocess.Popen | None = None
        self._command: list[str] = []
        self._output = ""

    def start(self, command: list[str], cwd: str | Path, output: str | Path) -> ProcessState:
        with self._lock:
            if self._popen is not None and self._popen.poll() is None:
                raise UserError(
                    f"a training run is already in progress (pid {self._popen.pid}): stop it first"
                )
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            with open(output, "wb") as sink:
                try:
                    self._popen = subprocess.Popen(
                        command,
                        cwd=cwd,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                except OSError as exc:
                    raise UserError(
                        f"could not start {command[0]}: {exc.strerror or exc}"
                    ) from None
            self._command = list(command)
            self._output = str(output)
        return self.state()

    def state(self) -> ProcessState:
        popen = self._popen
        code = popen.poll() if popen is not None else None
        return ProcessState(
            running=popen is not None and code is None,
            pid=popen.pid if popen is not None else None,
            returncode=code,
            command=self._command,
            output=self._output,
        )

    def stop(self, timeout: float = 10.0) -> ProcessState:
        """SIGTERM to the run's process group (the trainer saves and logs an `interrupted` end),
        SIGKILL after `timeout` seconds."""
        popen = self._popen
        if popen is None or popen.poll() is not None:
            return self.state()
        stop_process_group(popen, grace=timeout)
        return self.state()

    def output_tail(self, lines: int = 15) -> str:
        """The last lines the run printed, secrets masked."""
        if not self._output:
            return ""
        try:
            with open(self._output, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 16384))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return ""
        # progress bars redraw with carriage returns: keep the last state of each line
        shown = [line.rsplit("\r", 1)[-1] for line in text.splitlines()[-lines:]]
        return mask_text("\n".join(shown))
