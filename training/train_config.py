"""The training config (`configs/train.*.yaml`), validated into frozen dataclasses.

Sections and keys (see docs/training.md for every key and its default):

```yaml
name: python-reviewer              # adapter name [default: output_dir's folder name]
output_dir: adapters/python-reviewer
model:   {base: PATH-OR-HUB-ID, revision: null, quantization: none|nf4, double_quant: true,
          compute_dtype: auto|bf16|fp16|fp32, device: auto|cpu|cuda}
adapter: {role: specialist|verifier|style, specialist: python}
lora:    {r: 16, alpha: 32, dropout: 0.05, target_modules: [q_proj, v_proj] | all-linear}
data:    {train: data/sft/train.jsonl, eval: data/sft/eval.jsonl, max_seq_length: 2048,
          packing: false, loss: completion|all}
train:   {epochs: 1, max_steps: null, batch_size: 1, grad_accumulation: 8, learning_rate: 2e-4,
          lr_scheduler: cosine, warmup_ratio: 0.03, weight_decay: 0.0, max_grad_norm: 1.0,
          optimizer: adamw_torch, bf16: false, gradient_checkpointing: false, seed: 13,
          logging_steps: 1, eval_steps: 50, save_steps: 50, save_total_limit: 2}
```

Relative paths resolve against the current directory (run from the repository root). Unknown
keys and bad values are one-line `UserError`s naming the dotted key; command-line overrides are
applied to the raw mapping first, so they are validated by the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from .metadata import ADAPTER_ROLES
from .reviewer_sft import SPECIALISTS

QUANTIZATIONS = ("none", "nf4")
COMPUTE_DTYPES = ("auto", "bf16", "fp16", "fp32")
DEVICES = ("auto", "cpu", "cuda")
LOSSES = ("completion", "all")
SCHEDULERS = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
)


@dataclass(frozen=True)
class ModelSection:
    base: str  # a local directory or a hub id
    revision: str | None = None
    quantization: str = "none"
    double_quant: bool = True
    compute_dtype: str = "auto"  # auto: bf16 on CUDA, fp32 on the CPU
    device: str = "auto"


@dataclass(frozen=True)
class AdapterSection:
    role: str
    specialist: str | None = None


@dataclass(frozen=True)
class LoraSection:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] | str = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass(frozen=True)
class DataSection:
    train: Path
    eval: Path | None = None
    max_seq_length: int = 2048
    packing: bool = False
    loss: str = "completion"  # completion: the final assistant answer only; all: every token


@dataclass(frozen=True)
class TrainSection:
    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs when set
    batch_size: int = 1
    grad_accumulation: int = 8
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    optimizer: str = "adamw_torch"
    bf16: bool = False
    gradient_checkpointing: bool = False
    seed: int = 13
    logging_steps: int = 1
    eval_steps: int = 50
    save_steps: int = 50
    save_total_limit: int | None = 2


@dataclass(frozen=True)
class TrainConfig:
    name: str
    output_dir: Path
    model: ModelSection
    adapter: AdapterSection
    lora: LoraSection
    data: DataSection
    train: TrainSection
    source: str = "<config>"  # the file it was read from

    def to_dict(self) -> dict:
        """JSON-ready (paths as strings, tuples as lists), without `source`."""
        out = asdict(self)
        out.pop("source")
        return _jsonable(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# --- value checkers: each returns the clean value or raises ValueError(what was expected)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {_type_name(value)}")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_type_name(value)}")
    return value


def _integer(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {value!r}")
        return value

    return check


def _number(low: float, high: float | None = None, open_low: bool = False) -> Callable:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {_type_name(value)}")
        too_low = value <= low if open_low else value < low
        if too_low or (high is not None and value > high):
            bound = f"> {low}" if open_low else f">= {low}"
            raise ValueError(
                f"expected a number {bound}{f' and <= {high}' if high is not None else ''}, "
                f"got {value!r}"
            )
        return float(value)

    return check


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {value!r}")
        return value

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _path(value: Any) -> Path:
    return Path(_string(value)).expanduser()


def _targets(value: Any) -> tuple[str, ...] | str:
    if value == "all-linear":
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ValueError("expected a list of module names (e.g. [q_proj, v_proj]) or all-linear")


def _revision(value: Any) -> str | None:
    # YAML reads a bare hex commit like 1234567 as a number: take it back as the string it was
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _optional(_string)(value)


SCHEMA: dict[str, dict[str, Callable[[Any], Any]]] = {
    "model": {
        "base": _string,
        "revision": _revision,
        "quantization": _choice(QUANTIZATIONS),
        "double_quant": _boolean,
        "compute_dtype": _choice(COMPUTE_DTYPES),
        "device": _choice(DEVICES),
    },
    "adapter": {"role": _choice(ADAPTER_ROLES), "specialist": _optional(_choice(SPECIALISTS))},
    "lora": {
        "r": _integer(1),
        "alpha": _integer(1),
        "dropout": _number(0.0, 1.0),
        "target_modules": _targets,
    },
    "data": {
        "train": _path,
        "eval": _optional(_path),
        "max_seq_length": _integer(16),
        "packing": _boolean,
        "loss": _choice(LOSSES),
    },
    "train": {
        "epochs": _number(0.0, open_low=True),
        "max_steps": _optional(_integer(1)),
        "batch_size": _integer(1),
        "grad_accumulation": _integer(1),
        "learning_rate": _number(0.0, open_low=True),
        "lr_scheduler": _choice(SCHEDULERS),
        "warmup_ratio": _number(0.0, 0.99),
        "weight_decay": _number(0.0),
        "max_grad_norm": _number(0.0),
        "optimizer": _string,
        "bf16": _boolean,
        "gradient_checkpointing": _boolean,
        "seed": _integer(0),
        "logging_steps": _integer(1),
        "eval_steps": _integer(1),
        "save_steps": _integer(1),
        "save_total_limit": _optional(_integer(1)),
    },
}
TOP_LEVEL = {"name": _string, "output_dir": _path}
REQUIRED = ("output_dir", "model.base", "adapter.role", "data.train")
SECTIONS = {
    "model": ModelSection,
    "adapter": AdapterSection,
    "lora": LoraSection,
    "data": DataSection,
    "train": TrainSection,
}


def _section(raw: Mapping, name: str, where: str) -> dict:
    body = raw.get(name) or {}
    checks = SCHEMA[name]
    unknown = sorted(set(body) - set(checks), key=str)
    if unknown:
        raise UserError(f"{where}: unknown key {name}.{unknown[0]} (expected {', '.join(checks)})")
    clean = {}
    for key, value in body.items():
        try:
            clean[key] = checks[key](value)
        except ValueError as exc:
            raise UserError(f"{where}: {name}.{key}: {exc}") from None
    return clean


def parse_config(raw: Any, where: str = "<config>") -> TrainConfig:
    """Validate a config mapping (as read from YAML, overrides applied)."""
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a mapping of sections, got {_type_name(raw)}")
    allowed = set(TOP_LEVEL) | set(SCHEMA)
    unknown = sorted(set(raw) - allowed, key=str)
    if unknown:
        raise UserError(
            f"{where}: unknown key {unknown[0]} (expected {', '.join(sorted(allowed))})"
        )
    for name in SCHEMA:
        if raw.get(name) is not None and not isinstance(raw[name], dict):
            raise UserError(f"{where}: {name}: expected a mapping, got {_type_name(raw[name])}")
    for dotted in REQUIRED:
        section, _, key = dotted.partition(".")
        holder = raw.get(section) if key else raw
        if not isinstance(holder, dict) or holder.get(key or section) is None:
            raise UserError(f"{where}: missing required key {dotted}")
    top = {}
    for key, check in TOP_LEVEL.items():
        if raw.get(key) is not None:
            try:
                top[key] = check(raw[key])
            except ValueError as exc:
                raise UserError(f"{where}: {key}: {exc}") from None
    sections = {name: cls(**_section(raw, name, where)) for name, cls in SECTIONS.items()}
    adapter = sections["adapter"]
    if adapter.role == "specialist" and adapter.specialist is None:
        raise UserError(
            f"{where}: adapter.specialist: required for role specialist "
            f"(one of {', '.join(SPECIALISTS)})"
        )
    if adapter.role != "specialist" and adapter.specialist is not None:
        raise UserError(f"{where}: adapter.specialist: only for role specialist")
    model = sections["model"]
    if model.quantization == "nf4" and model.compute_dtype == "fp16" and sections["train"].bf16:
        raise UserError(f"{where}: model.compute_dtype: fp16 with train.bf16 mixes precisions")
    output_dir = top["output_dir"]
    return TrainConfig(
        name=top.get("name") or output_dir.resolve().name,
        output_dir=output_dir,
        source=where,
        **sections,
    )


def read_config(path: str | Path) -> dict:
    """The raw mapping of a YAML config file; a missing or unparsable file is a UserError."""
    import yaml

    source = Path(path)
    if not source.is_file():
        raise UserError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}: not valid YAML{where}") from None
    return raw if raw is not None else {}


def with_overrides(raw: dict, overrides: Mapping[str, Any]) -> dict:
    """A copy of `raw` with dotted keys (`train.max_steps`, `output_dir`) set; None means unset."""
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        if not key:
            merged[section] = value
            continue
        holder = merged.get(section)
        if not isinstance(holder, dict):
            holder = merged[section] = {}
        holder[key] = value
    return merged


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read, override and validate one config file."""
    return parse_config(with_overrides(read_config(path), overrides or {}), str(path))
