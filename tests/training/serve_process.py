"""`code-assistant serve` as a real subprocess for tests: start it, wait until /health answers,
stop it with Ctrl-C (as a person does) or kill it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SERVE = [sys.executable, "-m", "code_assistant_lora.cli", "serve"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "CODE_ASSISTANT_API_KEY": ""}
LISTENING = re.compile(r"serving .* on (http://127\.0\.0\.1:\d+/v1)")


class ServeProcess:
    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._handle = open(log, "w", encoding="utf-8")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [*SERVE, *args], stdout=self._handle, stderr=subprocess.STDOUT, env=ENV
        )

    def wait_ready(self, timeout: float = 120.0) -> str:
        """The base URL once /health answers; fails with the log when the server exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited {self.process.returncode}:\n{self.log.read_text()}")
            match = LISTENING.search(self.log.read_text())
            if match:
                try:
                    health = httpx.get(match.group(1).removesuffix("/v1") + "/health", timeout=5)
                    if health.status_code == 200:
                        return match.group(1)
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        pytest.fail(f"serve not ready in {timeout:g} s:\n{self.log.read_text()}")

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C, as a person stops it; the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._handle.close()
