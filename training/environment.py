"""What the training commands can use on this machine, without importing anything not installed."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe_environment() -> dict[str, str]:
    report = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes"):
        report[dist] = _version(dist) or "not installed (pip install 'code-assistant-lora[train]')"
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            devices = [
                f"{torch.cuda.get_device_name(i)} ({torch.cuda.get_device_properties(i).total_memory / 2**30:.0f} GiB)"
                for i in range(torch.cuda.device_count())
            ]
            report["cuda"] = "; ".join(devices)
        else:
            report["cuda"] = "no CUDA device: training runs plain LoRA on the CPU"
    else:
        report["cuda"] = "unknown (torch not installed)"
    return report
