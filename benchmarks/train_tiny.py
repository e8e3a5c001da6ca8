"""CPU training speed and memory: `code-assistant-train train` on locally built Llama models (no
downloads), plain LoRA in fp32 and nf4 QLoRA through bitsandbytes, each run in its own process.

    python benchmarks/train_tiny.py [--steps 30] [--log logs/train_cpu_tiny.json]

Models: `tiny` is the test suite's model (tests/tiny_model.py: 2 layers, hidden 32, a 400-token
BPE trained on this repo); `small` has the same tokenizer with 4 layers, hidden 256, MLP 688
(about 3M parameters) so the numbers are less dominated by per-step overhead. Data: the tests'
chat dataset (24 train records, ~130 tokens each), batch 4, LoRA r 8 on every linear layer.
steps/s, tokens/s and peak RSS (getrusage, the training process) come from each adapter's
adapter.metadata.json; wall seconds include interpreter start, imports, loading and saving.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT / "tests"), str(PROJECT / "tests" / "training")]

from tiny_model import build_tiny_model, save_llama  # noqa: E402
from train_data_factory import tiny_config, write_config, write_dataset  # noqa: E402


def build_small_model(tiny: Path, target: Path) -> Path:
    """The tiny model's tokenizer under a wider, deeper Llama (4 layers, hidden 256, MLP 688)."""
    from transformers import AutoTokenizer

    return save_llama(AutoTokenizer.from_pretrained(tiny), target, 256, 688, 4)


def run(model: Path, data: tuple[Path, Path], work: Path, label: str, steps: int, quant: str):
    output = work / f"adapter-{label}"
    mapping = tiny_config(model, data[0], None, output, max_steps=steps, save_steps=10_000)
    mapping["model"]["quantization"] = quant
    config = write_config(work / f"{label}.yaml", mapping)
    command = [sys.executable, "-m", "code_assistant_lora.training.cli", "train"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{label}: exit {done.returncode}\n{done.stderr[-2000:]}")
    metadata = json.loads((output / "adapter.metadata.json").read_text())
    training = metadata["training"]
    losses = [
        json.loads(line)["loss"]
        for line in (output / "train_log.jsonl").read_text().splitlines()
        if '"event": "step"' in line
    ]
    return {
        "model": label.split("-")[0],
        "quantization": quant,
        "steps": training["steps"],
        "train_seconds": training["seconds"],
        "steps_per_second": training["steps_per_second"],
        "tokens_per_second": training["tokens_per_second"],
        "peak_rss_mib": training["peak_rss_mib"],
        "wall_seconds": round(wall, 2),
        "first_loss": round(losses[0], 4),
        "last_loss": round(losses[-1], 4),
        "loss_first5_mean": round(sum(losses[:5]) / 5, 4),
        "loss_last5_mean": round(sum(losses[-5:]) / 5, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--log", default=str(PROJECT / "logs" / "train_cpu_tiny.json"))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="train-bench-") as tmp:
        work = Path(tmp)
        tiny = build_tiny_model(work / "tiny-model")
        models = {"tiny": tiny, "small": build_small_model(tiny, work / "small-model")}
        data = write_dataset(work / "data")
        for name, model in models.items():
            for quant in ("none", "nf4"):
                label = f"{name}-{quant}"
                results.append(run(model, data, work, label, args.steps, quant))
                print(json.dumps(results[-1]), flush=True)
    import bitsandbytes
    import torch

    document = {
        "benchmark": "train_cpu_tiny",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {len(os.sched_getaffinity(0))} cpus",
        "torch": torch.__version__,
        "bitsandbytes": bitsandbytes.__version__,
        "torch_threads": torch.get_num_threads(),
        "setup": "batch 4, max_seq_length 256, LoRA r 8 all-linear, fp32 compute, AdamW",
        "runs": results,
    }
    Path(args.log).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"-> {args.log}")


if __name__ == "__main__":
    main()
