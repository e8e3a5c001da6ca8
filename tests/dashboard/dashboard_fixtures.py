"""Fixtures for the dashboard tests: a small curated dataset with a planted canary secret,
training logs, eval summaries and adapter folders as the other commands write them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from code_assistant_lora.training.metadata import AdapterMetadata, DatasetFile, save_metadata

# Assembled from pieces so no secret is committed (and no scanner flags this file).
CANARY = "AKIA" + "J6YT" + "NB2W" + "QX8R" + "PL4M"
TASKS = (("bugfix", "python", "py"), ("feature", "typescript", "ts"), ("tests", "python", "py"))


@dataclass(frozen=True)
class Curated:
    path: Path
    records: int  # valid records, the canary one included
    canary_line: int


TOPICS = (
    ("parse_csv_header", "the CSV header parser drops the last column"),
    ("retry_upload", "uploads are not retried after a timeout"),
    ("format_invoice_total", "invoice totals are rounded before tax"),
    ("validate_email", "email validation accepts a trailing dot"),
    ("paginate_orders", "the orders page skips one row per page"),
    ("merge_user_settings", "user settings overwrite team defaults"),
    ("cache_lookup", "the cache never expires stale entries"),
    ("schedule_report", "weekly reports run twice on Mondays"),
    ("resize_thumbnail", "thumbnails lose their aspect ratio"),
    ("export_audit_log", "the audit log export misses the timezone"),
    ("compute_discount", "discounts stack beyond the maximum"),
    ("normalize_phone", "phone numbers keep their spaces"),
)


def curated_records() -> list[dict]:
    """Twelve clean, distinct records over three task types and two languages, one file each."""
    records = []
    for i, (name, problem) in enumerate(TOPICS):
        task, language, ext = TASKS[i % len(TASKS)]
        body = f"def {name}(value):\n" + "".join(
            f"    {name}_{k} = {name}(value, {k})\n" for k in range(i * 7)
        )
        records.append(
            {
                "messages": [
                    {"role": "user", "content": f"Fix {name}: {problem}.\n\n{body}"},
                    {
                        "role": "assistant",
                        "content": f"def {name}(value):\n    return repair_{name}(value)  # {problem}\n",
                    },
                ],
                "meta": {
                    "task": task,
                    "language": language,
                    "paths": [f"src/{name}.{ext}"],
                    "quality": 0.8,
                },
            }
        )
    return records


def canary_record() -> dict:
    return {
        "messages": [
            {"role": "user", "content": "Create the S3 client for the uploader."},
            {
                "role": "assistant",
                "content": "import boto3\n\nclient = boto3.client(\n"
                f"    's3',\n    aws_access_key_id='{CANARY}',\n)\n",
            },
        ],
        "meta": {"task": "feature", "language": "python", "paths": ["src/uploader.py"]},
    }


def write_jsonl(path: Path, values: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    return path


@pytest.fixture
def curated(tmp_path) -> Curated:
    """data/curated/records.jsonl under tmp_path: 12 clean records, then the canary record."""
    values = [*curated_records(), canary_record()]
    path = write_jsonl(tmp_path / "data" / "curated" / "records.jsonl", values)
    return Curated(path, len(values), len(values))


# --- training runs, adapters and eval summaries, as `train`, `eval` and `promote` write them


def train_events(steps: int, total: int, end: str | None = None) -> list[dict]:
    """A train_log.jsonl's events: start, `steps` step events (an eval every 5), maybe an end."""
    events: list[dict] = [
        {
            "event": "start",
            "time": "2026-11-25T10:00:00+00:00",
            "config": {"base_model": "tiny", "lora_r": 8},
            "total_steps": total,
        }
    ]
    for step in range(1, steps + 1):
        events.append(
            {
                "event": "step",
                "time": f"2026-11-25T10:{step // 60:02d}:{step % 60:02d}+00:00",
                "step": step,
                "epoch": step / total,
                "loss": round(2.0 / step, 4),
                "learning_rate": 2e-4,
            }
        )
        if step % 5 == 0:
            events.append(
                {
                    "event": "eval",
                    "time": "2026-11-25T10:00:00+00:00",
                    "step": step,
                    "eval_loss": round(2.2 / step, 4),
                }  # fmt: skip
            )
    if end is not None:
        events.append(
            {
                "event": "end",
                "time": f"2026-11-25T10:{steps // 60:02d}:{steps % 60:02d}+00:00",
                "status": end,
                "steps": steps,
                "seconds": float(steps),
                "final_train_loss": 2.0 / steps,
                "final_eval_loss": None,
            }  # fmt: skip
        )
    return events


def eval_block(scores: dict[str, tuple[float, float]]) -> dict:
    """An adapter's `eval` block from {suite: (precision, recall)}."""
    suites = {
        name: {"precision": p, "recall": r, "f1": round(2 * p * r / (p + r), 4)}
        for name, (p, r) in scores.items()
    }
    mean_p = sum(p for p, _ in scores.values()) / len(scores)
    mean_r = sum(r for _, r in scores.values()) / len(scores)
    overall = {"precision": mean_p, "recall": mean_r, "f1": 2 * mean_p * mean_r / (mean_p + mean_r)}
    return {"evaluated_at": "2026-11-25T12:00:00+00:00", "reviewer": "model", "overall": overall,
            "suites": suites}  # fmt: skip


def write_adapter(
    folder: Path, name: str, scores: dict[str, tuple[float, float]] | None, train_sha: str
) -> Path:
    """An adapter folder holding only its adapter.metadata.json."""
    metadata = AdapterMetadata(
        name=name,
        role="specialist",
        specialist="python",
        base_model="tiny-llama",
        base_revision="abc123",
        datasets=[DatasetFile("train", "data/sft/train.jsonl", train_sha, 11)],
        audit={"passed": True, "violations": 0},
        hyperparameters={"lora_r": 8, "learning_rate": 0.0002},
        training={"steps": 30, "final_train_loss": 0.31},
        eval=eval_block(scores) if scores else None,
    )
    folder.mkdir(parents=True, exist_ok=True)
    save_metadata(folder, metadata)
    return folder


def write_promoted(path: Path, entries: dict[str, dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "schema": "code-assistant/promoted-adapters@1",
        "updated": "2026-11-25T12:00:00+00:00",
        "adapters": entries,
        "history": [],
    }
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path
