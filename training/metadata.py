"""`adapter.metadata.json` (schema `code-assistant/adapter-metadata@1`): what an adapter is.

Written next to every saved adapter by `train`, completed with eval scores by `eval`, and read by
`promote`, `serve` and the dashboard. It says exactly what went in: the base model and revision,
each dataset file with its SHA-256 and record count, the audit result, hyperparameters, library
versions, the training code's git commit, hardware, time, final losses and eval scores.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from ..json_input import read_json
from .jsonl import file_digest

METADATA_SCHEMA = "code-assistant/adapter-metadata@1"
METADATA_FILE = "adapter.metadata.json"
ADAPTER_ROLES = ("specialist", "verifier", "style")
LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes", "datasets")


@dataclass
class DatasetFile:
    split: str  # "train" or "eval"
    path: str
    sha256: str
    records: int


@dataclass
class AdapterMetadata:
    name: str
    role: str  # one of ADAPTER_ROLES
    base_model: str  # a local path or a hub id
    base_revision: str | None
    specialist: str | None = None  # python, typescript, sql, docker_ci, tests (role specialist)
    datasets: list[DatasetFile] = field(default_factory=list)
    audit: dict = field(default_factory=dict)  # {"passed": bool, "violations": int, "report": path}
    hyperparameters: dict = field(default_factory=dict)
    libraries: dict = field(default_factory=dict)
    code: dict = field(default_factory=dict)  # {"git_commit": sha or None, "dirty": bool}
    hardware: dict = field(default_factory=dict)  # {"device": "cpu"|"cuda", "name", "count"}
    training: dict = field(default_factory=dict)  # seconds, steps, final_train_loss, ...
    eval: dict | None = None  # {"evaluated_at", "reviewer", "overall": {...}, "suites": {...}}
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def to_dict(self) -> dict:
        return {"schema": METADATA_SCHEMA, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict, where: str = "adapter metadata") -> AdapterMetadata:
        if not isinstance(data, dict) or data.get("schema") != METADATA_SCHEMA:
            raise UserError(f"{where}: not {METADATA_SCHEMA} (schema field missing or different)")
        body = {k: v for k, v in data.items() if k != "schema"}
        for key in ("name", "role", "base_model"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise UserError(f"{where}: missing or empty {key!r}")
        if body["role"] not in ADAPTER_ROLES:
            raise UserError(
                f"{where}: role {body['role']!r} is not one of {', '.join(ADAPTER_ROLES)}"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(body) - known)
        if unknown:
            raise UserError(f"{where}: unknown key {unknown[0]!r}")
        try:
            body["datasets"] = [DatasetFile(**entry) for entry in body.get("datasets", [])]
        except TypeError as exc:
            raise UserError(f"{where}: bad datasets entry ({exc})") from None
        return cls(**body)


def metadata_path(adapter_dir: str | Path) -> Path:
    return Path(adapter_dir) / METADATA_FILE


def load_metadata(adapter_dir: str | Path) -> AdapterMetadata:
    path = metadata_path(adapter_dir)
    if not path.is_file():
        raise UserError(
            f"{adapter_dir}: no {METADATA_FILE} (was it saved by code-assistant-train?)"
        )
    return AdapterMetadata.from_dict(read_json(path), str(path))


def save_metadata(adapter_dir: str | Path, metadata: AdapterMetadata) -> Path:
    from ..report import write_atomic

    return write_atomic(metadata_path(adapter_dir), json.dumps(metadata.to_dict(), indent=2) + "\n")


def dataset_file(path: str | Path, split: str) -> DatasetFile:
    """SHA-256 and record count (non-blank JSONL lines) of one dataset file."""
    with open(path, "rb") as handle:
        records = sum(1 for line in handle if line.strip())
    return DatasetFile(split=split, path=str(path), sha256=file_digest(path), records=records)


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in LIBRARIES:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def code_version(start: str | Path | None = None) -> dict:
    """The git commit of the training code (this package's checkout), and whether it was dirty."""
    where = Path(start) if start else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "dirty": None}
    if commit.returncode != 0:
        return {"git_commit": None, "dirty": None}
    return {"git_commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device: str) -> dict:
    """What trained the adapter: the CPU (model, cores) or the CUDA devices (name, count, memory).
    torch is consulted only when the caller already imported it (training did)."""
    info = {
        "device": device,
        "platform": platform.platform(),
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }
    torch = sys.modules.get("torch")
    if device == "cuda" and torch is not None and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            name=props.name,
            count=torch.cuda.device_count(),
            memory_gib=round(props.total_memory / 2**30, 1),
        )
    else:
        info.update(name=_cpu_name(), count=os.cpu_count())
    return info


ADAPTER_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")


def adapter_weights_sha256(adapter_dir: str | Path) -> str | None:
    """SHA-256 of the adapter's weights file (None when it has none): `eval` records it, so
    `promote` and `metadata` can tell when the scores belong to other weights."""
    for name in ADAPTER_WEIGHT_FILES:
        path = Path(adapter_dir) / name
        if path.is_file():
            return file_digest(path)
    return None
