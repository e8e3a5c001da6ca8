"""Is an adapter folder what its `adapter.metadata.json` says? (`code-assistant-train metadata`)

Problems make the metadata untrustworthy for serving or promotion: the folder is not a PEFT adapter,
the adapter was trained on another base than the metadata names, a specialist names no specialist,
or the eval scores belong to other weights. Notes are worth knowing but normal: the dataset files
are not on this machine (the adapter was copied from the training box) or changed since training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .jsonl import file_digest
from .metadata import (
    AdapterMetadata,
    adapter_weights_sha256,
    load_metadata,
    metadata_path,
)

SPECIALISTS = ("python", "typescript", "sql", "docker_ci", "tests")


@dataclass
class AdapterCheck:
    path: Path
    metadata: AdapterMetadata
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "valid": self.valid,
            "problems": self.problems,
            "notes": self.notes,
            "metadata_sha256": file_digest(metadata_path(self.path)),
            "metadata": self.metadata.to_dict(),
        }


def role_key(metadata: AdapterMetadata) -> str:
    """The registry and `[models.roles]` key: the specialist's name, else the role."""
    if metadata.role == "specialist" and metadata.specialist:
        return metadata.specialist
    return metadata.role


def check_adapter_dir(adapter: str | Path) -> AdapterCheck:
    """Load (a UserError when the metadata is missing or invalid) and cross-check the folder."""
    from .serving import adapter_base_model, same_base

    path = Path(adapter)
    metadata = load_metadata(path)
    check = AdapterCheck(path=path, metadata=metadata)
    problems, notes = check.problems, check.notes
    if metadata.role == "specialist" and metadata.specialist not in SPECIALISTS:
        problems.append(
            f"role specialist needs specialist one of {', '.join(SPECIALISTS)} "
            f"(got {metadata.specialist!r})"
        )
    if not (path / "adapter_config.json").is_file():
        problems.append("no adapter_config.json: not a PEFT adapter folder")
    else:
        trained_on = adapter_base_model(path)
        if not same_base(trained_on, metadata.base_model):
            problems.append(
                f"adapter_config.json says base {trained_on!r}, metadata says "
                f"{metadata.base_model!r}"
            )
    weights = adapter_weights_sha256(path)
    if weights is None:
        problems.append("no adapter weights (adapter_model.safetensors or .bin)")
    if metadata.eval is None:
        notes.append("no eval scores yet: code-assistant-train eval " + str(path))
    elif metadata.eval.get("adapter_sha256") != weights:
        problems.append("the eval scores belong to other weights: re-run code-assistant-train eval")
    for entry in metadata.datasets:
        source = Path(entry.path)
        if not source.is_file():
            notes.append(f"dataset {entry.path} ({entry.split}) is not on this machine")
        elif file_digest(source) != entry.sha256:
            notes.append(f"dataset {entry.path} ({entry.split}) changed since training")
    if metadata.audit and metadata.audit.get("passed") is False:
        problems.append("trained on a dataset that failed its audit")
    return check
