"""`code-assistant-train doctor`: what the training commands can use on this machine, and the
exact training command that fits it.

Nothing that is not installed is imported. The 4-bit check quantizes a small weight to nf4 with
bitsandbytes on the device training would use and compares a matmul against fp32, so "bitsandbytes
is installed" and "QLoRA works here" are not confused (a CUDA build mismatch shows up here, not
twenty minutes into a run).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shlex
from pathlib import Path

LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes", "datasets")
INSTALL_HINT = "pip install 'code-assistant-lora[train]'"
CPU_CONFIG = "configs/train.cpu-lora.yaml"
GPU_CONFIG = "configs/train.qlora.yaml"
TRAIN_MODULE = "code_assistant_lora.training.cli"
NF4_TOLERANCE = 0.2  # relative mean error of an nf4 matmul; a working kernel gives about 0.1


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _gib(value: int) -> float:
    return round(value / 2**30, 1)


def cuda_devices() -> list[dict]:
    """One entry per visible CUDA device: name, compute capability, memory total and free."""
    import torch

    if not torch.cuda.is_available():
        return []
    devices = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        try:
            free, total = torch.cuda.mem_get_info(index)
        except RuntimeError:  # some drivers (and unified-memory boxes) do not report free memory
            free, total = None, props.total_memory
        devices.append(
            {
                "index": index,
                "name": props.name,
                "capability": f"{props.major}.{props.minor}",
                "memory_total_gib": _gib(total),
                "memory_free_gib": None if free is None else _gib(free),
                "bf16": bool(torch.cuda.is_bf16_supported()) if index == 0 else None,
            }
        )
    return devices


def nf4_check(device: str) -> dict:
    """Quantize a 64x128 weight to nf4 on `device` and compare a matmul against fp32."""
    try:
        import bitsandbytes as bnb
        import torch

        generator = torch.Generator().manual_seed(0)
        weight = torch.randn(64, 128, generator=generator)
        inputs = torch.randn(4, 128, generator=generator)
        exact = inputs @ weight.T
        layer = bnb.nn.Linear4bit(
            128, 64, bias=False, quant_type="nf4", compute_dtype=torch.float32
        )
        layer.weight = bnb.nn.Params4bit(weight.clone(), requires_grad=False, quant_type="nf4")
        layer = layer.to(device).eval()
        with torch.no_grad():
            approx = layer(inputs.to(device)).float().cpu()
        error = float((approx - exact).abs().mean() / exact.abs().mean())
    except Exception as exc:  # any failure means "no QLoRA here"; the detail says why
        return {"device": device, "works": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    works = error < NF4_TOLERANCE
    detail = f"nf4 matmul relative error {error:.3f}" + ("" if works else " (too large)")
    return {"device": device, "works": works, "detail": detail}


def accelerate_config(root: str | Path = ".") -> str | None:
    """The accelerate config for several GPUs: one under configs/accelerate/ whose name says
    multi (else the first, by name), relative to `root`; None when there is none."""
    base = Path(root) / "configs" / "accelerate"
    if not base.is_dir():
        return None
    found = sorted(p for p in [*base.glob("*.yaml"), *base.glob("*.yml")] if p.is_file())
    if not found:
        return None
    preferred = [p for p in found if "multi" in p.name] or found
    return str(preferred[0].relative_to(root))


def training_command(config: str, gpus: int, accelerate: str | None = None) -> list[str]:
    """The command a person runs (from the project root) to train with CONFIG on GPUS devices:
    one process with zero or one GPU, `accelerate launch` with one process per GPU on several."""
    train = ["train", "--config", config]
    if gpus <= 1:
        return ["code-assistant-train", *train]
    launch = ["accelerate", "launch"]
    launch += ["--config_file", accelerate] if accelerate else ["--multi_gpu"]
    return [*launch, "--num_processes", str(gpus), "--module", TRAIN_MODULE, *train]


def recommendation(gpus: int, nf4_works: bool, root: str | Path = ".") -> dict:
    """The training command for this machine: plain LoRA on the CPU with no GPU, QLoRA in one
    process on one GPU, QLoRA under `accelerate launch` (one process per GPU) on several."""
    if gpus == 0:
        command = ["code-assistant-train", "train", "--config", CPU_CONFIG]
        return {
            "mode": "cpu-lora",
            "why": "no CUDA device: plain LoRA in fp32 on the CPU (slow; small models and smoke runs)",
            "command": shlex.join(command),
        }
    if gpus == 1:
        command = training_command(GPU_CONFIG, gpus)
        mode, why = "qlora", "one CUDA device: QLoRA (nf4 base, bf16 compute) in one process"
    else:
        command = training_command(GPU_CONFIG, gpus, accelerate_config(root))
        mode, why = "qlora-multi-gpu", f"{gpus} CUDA devices: one process per GPU"
    advice = {"mode": mode, "why": why, "command": shlex.join(command)}
    if not nf4_works:
        advice["warning"] = (
            "bitsandbytes cannot run nf4 on this GPU: QLoRA will fail; reinstall bitsandbytes "
            "built for this CUDA (pip install -U 'bitsandbytes>=0.45') or train with "
            f"{CPU_CONFIG} settings (plain LoRA)"
        )
    return advice


def describe_environment(root: str | Path = ".", check_nf4: bool = True) -> dict:
    """The doctor report (JSON-safe): Python and platform, library versions, torch and its CUDA
    build, each CUDA device, whether nf4 works, and the recommended training command."""
    report: dict = {"python": platform.python_version(), "platform": platform.platform()}
    report["libraries"] = {dist: _version(dist) for dist in LIBRARIES}
    missing = [dist for dist, version in report["libraries"].items() if version is None]
    if missing:
        report["missing"] = f"{', '.join(missing)}: {INSTALL_HINT}"
    if importlib.util.find_spec("torch") is None:
        report["torch"] = {"installed": False}
        report["recommendation"] = {
            "mode": "none",
            "why": "torch is not installed",
            "command": INSTALL_HINT,
        }
        return report
    import torch

    devices = cuda_devices()
    report["torch"] = {
        "version": torch.__version__,
        "cuda_build": torch.version.cuda,
        "cuda_available": bool(devices),
        "device_count": len(devices),
    }
    report["cuda"] = devices
    nf4 = {"works": False, "detail": "bitsandbytes is not installed"}
    if report["libraries"]["bitsandbytes"] and check_nf4:
        nf4 = nf4_check("cuda" if devices else "cpu")
    report["bitsandbytes"] = {"version": report["libraries"]["bitsandbytes"], "nf4": nf4}
    report["recommendation"] = recommendation(len(devices), nf4["works"], root)
    return report


def render_text(report: dict) -> str:
    """The report for people: a rich table, then the recommended command on its own line."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("python", f"{report['python']} ({report['platform']})")
    for dist, version in report["libraries"].items():
        table.add_row(dist, version or "not installed")
    torch_info = report.get("torch", {})
    if torch_info.get("version"):
        build = torch_info.get("cuda_build") or "CPU-only build"
        table.add_row("torch build", f"CUDA {build}" if torch_info.get("cuda_build") else build)
    for device in report.get("cuda", []):
        free = device["memory_free_gib"]
        memory = f"{device['memory_total_gib']} GiB" + (f", {free} GiB free" if free else "")
        table.add_row(
            f"cuda:{device['index']}", f"{device['name']} (sm {device['capability']}, {memory})"
        )
    if torch_info.get("version") and not report.get("cuda"):
        table.add_row("cuda", "no CUDA device")
    nf4 = report.get("bitsandbytes", {}).get("nf4")
    if nf4:
        verdict = "works" if nf4["works"] else "does not work"
        where = f" on {nf4['device']}" if nf4.get("device") else ""
        table.add_row("4-bit (nf4)", f"{verdict}{where}: {nf4['detail']}")
    if report.get("missing"):
        table.add_row("missing", report["missing"])
    advice = report["recommendation"]
    table.add_row("mode", f"{advice['mode']}: {advice['why']}")
    out = StringIO()
    console = Console(file=out, width=120, no_color=True, highlight=False)
    console.print(table)
    if advice.get("warning"):
        console.print(f"warning: {advice['warning']}")
    console.print("train with:")
    console.print(f"  {advice['command']}", soft_wrap=True)
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())
