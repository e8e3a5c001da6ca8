"""Two training processes (data parallel over gloo on the CPU, launched by torch's own launcher as
`accelerate launch` does on GPUs): every rank trains, only rank 0 writes the log and metadata."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from code_assistant_lora.training.metadata import load_metadata
from code_assistant_lora.training.train_log import read_events
from train_data_factory import tiny_config, write_config, write_dataset

pytest.importorskip("trl")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_one_adapter(tiny_model, tmp_path):
    train, evaluation = write_dataset(tmp_path / "data")
    output = tmp_path / "adapter"
    config = write_config(
        tmp_path / "c.yaml", tiny_config(tiny_model, train, evaluation, output, max_steps=6)
    )
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command += ["--master_addr", "127.0.0.1", "--master_port", str(_free_port())]
    command += ["-m", "code_assistant_lora.training.cli", "train", "--config", str(config)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metadata = load_metadata(output)
    assert metadata.hardware["world_size"] == 2
    assert metadata.hyperparameters["effective_batch_size"] == 8  # 4 per process x 2
    events = read_events(output / "train_log.jsonl")
    assert [e["event"] for e in events].count("start") == 1  # one writer
    assert [e["step"] for e in events if e["event"] == "step"] == [1, 2, 3, 4, 5, 6]
    assert [e["step"] for e in events if e["event"] == "eval"] == [5, 6]  # the last one by us
    assert events[-1]["status"] == "completed"
