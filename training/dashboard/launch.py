"""The training command for a chosen config on this machine, and what a config asks for.

The recommended command for the machine is `environment.recommendation` (the doctor's); this
module gives the command for any config the Training tab picks, in the same form: one process
with zero or one GPU, `accelerate launch` with one process per GPU on several. Configs are read
and validated by `train_config.load_config`, so the page reports the errors `train` would.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from ..environment import TRAIN_MODULE
from ..train_config import TrainConfig


def gpu_count() -> int:
    """CUDA devices torch can see (0 without torch or CUDA). Imports torch: call lazily."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return 0
    from ..environment import cuda_devices

    return len(cuda_devices())


def find_configs(root: str | Path) -> list[str]:
    """Training configs (`configs/train*.yaml`) under `root`, relative to it."""
    base = Path(root) / "configs"
    if not base.is_dir():
        return []
    found = [*base.glob("train*.yaml"), *base.glob("train*.yml")]
    return sorted(str(p.relative_to(root)) for p in found if p.is_file())


def runnable_command(command: list[str]) -> list[str]:
    """The same command through this interpreter (works without the scripts on PATH)."""
    if command[0] == "code-assistant-train":
        return [sys.executable, "-m", TRAIN_MODULE, *command[1:]]
    if command[:2] == ["accelerate", "launch"]:
        return [sys.executable, "-m", "accelerate.commands.launch", *command[2:]]
    return command


def shell_line(command: list[str]) -> str:
    return shlex.join(command)


def needs_gpu(config: TrainConfig) -> bool:
    """Whether a config asks for CUDA: an nf4 (QLoRA) base or `device: cuda`."""
    return config.model.quantization != "none" or config.model.device == "cuda"


def run_folder(config: TrainConfig, root: str | Path) -> Path:
    """Where the run writes its log and adapter, resolved against `root` (its working folder)."""
    return config.output_dir if config.output_dir.is_absolute() else Path(root) / config.output_dir
