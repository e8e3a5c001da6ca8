"""A tiny chat dataset and training config for the `train` tests: two answers to learn (a SQL
injection finding, or no findings) over prompts that differ enough to pass the audit."""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

SYSTEM = "You review Python code and answer with findings JSON."
SQLI = '{"findings": [{"rule": "sql-injection", "severity": "high"}]}'
NONE = '{"findings": []}'
WORDS = ["ledger", "invoice", "report", "account", "balance", "payment", "customer", "order"]


def _record(prompt: str, answer: str) -> dict:
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": answer},
        ],
        "meta": {"task": "review", "language": "python"},
    }


def write_dataset(folder: Path, records: int = 24) -> tuple[Path, Path]:
    rng = random.Random(0)
    train = []
    for i in range(records):
        a, b = rng.sample(WORDS, 2)
        if i % 2:
            query = f'f"SELECT * FROM {a} WHERE id = {{{b}}}"'
            train.append(
                _record(f"def load_{a}_{i}(db, {b}):\n    return db.execute({query})", SQLI)
            )
        else:
            train.append(
                _record(f"def total_{a}_{i}(items):\n    return sum(x.{b} for x in items)", NONE)
            )
    evaluation = [
        _record("class Cache:\n    def get(self, key):\n        return self.store.get(key)", NONE),
        _record("cursor.execute('DELETE FROM sessions WHERE user = ' + user_name)", SQLI),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "train.jsonl", folder / "eval.jsonl"
    for path, rows in zip(paths, (train, evaluation), strict=True):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return paths


def tiny_config(model: Path, train: Path, evaluation: Path | None, output_dir: Path, **train_keys):
    """A config mapping for the tiny model: plain LoRA in fp32 on the CPU, 15 steps."""
    return {
        "name": "tiny-reviewer",
        "output_dir": str(output_dir),
        "model": {
            "base": str(model),
            "quantization": "none",
            "compute_dtype": "fp32",
            "device": "cpu",
        },
        "adapter": {"role": "specialist", "specialist": "python"},
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"},
        "data": {
            "train": str(train),
            "eval": str(evaluation) if evaluation else None,
            "max_seq_length": 256,
        },
        "train": {
            "max_steps": 15,
            "batch_size": 4,
            "grad_accumulation": 1,
            "learning_rate": 2e-2,
            "lr_scheduler": "linear",
            "warmup_ratio": 0.0,
            "seed": 0,
            "logging_steps": 1,
            "eval_steps": 5,
            "save_steps": 5,
            "save_total_limit": 2,
            **train_keys,
        },
    }


def write_config(path: Path, mapping: dict) -> Path:
    path.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return path
