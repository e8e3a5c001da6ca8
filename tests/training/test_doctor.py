"""`code-assistant-train doctor`: the real environment of this machine (whatever it has), and the
training command recommended for 0, 1 and several GPUs."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest
from code_assistant_lora.training.environment import CPU_CONFIG, GPU_CONFIG, recommendation

PROJECT = Path(__file__).resolve().parents[2]


def test_doctor_json_describes_this_machine(train_cli):
    run = train_cli("doctor", "--format", "json")
    assert run.code == 0, run.err
    report = json.loads(run.out)
    assert set(report["libraries"]) >= {"torch", "transformers", "peft", "trl", "accelerate"}
    assert set(report["libraries"]) >= {"bitsandbytes"}
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed: the rest needs the train extra")
    import torch

    assert report["torch"]["version"] == torch.__version__
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert len(report["cuda"]) == report["torch"]["device_count"] == gpus
    for device in report["cuda"]:
        assert device["name"] and device["memory_total_gib"] > 0
    nf4 = report["bitsandbytes"]["nf4"]
    if report["libraries"]["bitsandbytes"]:
        # bitsandbytes >= 0.49 runs nf4 on the CPU too: 4-bit must work wherever it is installed
        assert nf4["works"] is True, nf4
        assert nf4["device"] == ("cuda" if gpus else "cpu")
    advice = report["recommendation"]
    command = shlex.split(advice["command"])
    if gpus == 0:
        assert advice["mode"] == "cpu-lora" and command[-1] == CPU_CONFIG
    else:
        assert command[-1] == GPU_CONFIG
    assert (PROJECT / command[-1]).is_file() or not (PROJECT / "configs").is_dir()


def test_doctor_text_ends_with_the_command_to_run(train_cli):
    run = train_cli("doctor")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[-2] == "train with:"
    assert lines[-1].strip().startswith(("code-assistant-train train --config", "accelerate"))
    assert any(line.startswith("torch ") for line in lines)
    if importlib.util.find_spec("bitsandbytes"):
        assert any(line.startswith("4-bit (nf4)") for line in lines)


def test_recommendation_for_zero_one_and_several_gpus(tmp_path):
    assert recommendation(0, False, tmp_path)["command"] == (
        f"code-assistant-train train --config {CPU_CONFIG}"
    )
    single = recommendation(1, True, tmp_path)
    assert single["mode"] == "qlora" and "warning" not in single
    assert single["command"] == f"code-assistant-train train --config {GPU_CONFIG}"
    assert shlex.split(recommendation(4, True, tmp_path)["command"])[:3] == [
        "accelerate",
        "launch",
        "--multi_gpu",
    ]
    configs = tmp_path / "configs" / "accelerate"
    configs.mkdir(parents=True)
    (configs / "deepspeed-zero3.yaml").write_text("distributed_type: DEEPSPEED\n")
    (configs / "fsdp-multi-gpu.yaml").write_text("distributed_type: FSDP\n")
    several = shlex.split(recommendation(4, True, tmp_path)["command"])
    assert several[:4] == [
        "accelerate",
        "launch",
        "--config_file",
        "configs/accelerate/fsdp-multi-gpu.yaml",
    ]
    assert several[several.index("--num_processes") + 1] == "4"
    assert several[-3:] == ["train", "--config", GPU_CONFIG]
    assert "bitsandbytes cannot run nf4" in recommendation(1, False, tmp_path)["warning"]


def test_a_broken_nf4_is_reported_not_raised():
    pytest.importorskip("bitsandbytes")
    from code_assistant_lora.training.environment import nf4_check

    result = nf4_check("no-such-device")
    assert result["works"] is False and result["detail"]


SETUP = PROJECT / "scripts" / "setup_spark_env.sh"


def test_the_spark_setup_script_parses_and_explains_itself():
    import shutil
    import subprocess

    assert subprocess.run(["bash", "-n", str(SETUP)], check=False).returncode == 0
    shown = subprocess.run(["bash", str(SETUP), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0
    assert "TORCH_INDEX_URL" in shown.stdout and "download.pytorch.org/whl/cu130" in shown.stdout
    wrong = subprocess.run(["bash", str(SETUP), "now"], capture_output=True, text=True)
    assert wrong.returncode == 1 and "unexpected argument 'now'" in wrong.stderr
    text = SETUP.read_text()
    assert "set -euo pipefail" in text and "torch.cuda.is_available()" in text
    if shutil.which("shellcheck"):
        checked = subprocess.run(["shellcheck", str(SETUP)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout
