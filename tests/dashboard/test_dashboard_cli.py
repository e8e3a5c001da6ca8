"""`code-assistant-train dashboard` and scripts/start_dashboard.sh: a real server process on
127.0.0.1, reached over HTTP, then stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from code_assistant_lora.training.cli import cli

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "scripts" / "start_dashboard.sh"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_help_names_every_option():
    result = CliRunner().invoke(cli, ["dashboard", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--root", "[default: 7860", "[default: 127.0.0.1]"):
        assert option in result.output


def test_start_script_serves_the_dashboard_on_localhost(tmp_path):
    port = _free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    server = subprocess.Popen(
        ["bash", str(SCRIPT), "--port", str(port), "--root", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert page is not None, "the dashboard did not answer within 60 s"
        assert page.status_code == 200
        assert "code-assistant-lora dashboard" in page.text
        config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=5).json()
        assert str(tmp_path) in str(config)  # the page is about --root
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert f"on http://127.0.0.1:{port}" in output
    assert "gradio.live" not in output  # no share link


def test_a_taken_port_is_a_one_line_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "code_assistant_lora.training.cli",
                "dashboard",
                "--port",
                str(port),
                "--root",
                str(tmp_path),
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
