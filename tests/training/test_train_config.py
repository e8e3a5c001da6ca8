"""The training config, the step log and the memory estimate, without training anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from code_assistant_lora.training.train_config import SCHEMA, SECTIONS, load_config, parse_config
from code_assistant_lora.training.train_log import TrainLog, plot_loss, read_events
from code_assistant_lora.training.train_memory import ModelShape, estimate_memory

from code_assistant_lora.errors import UserError

PROJECT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((PROJECT / "configs").glob("train.*.yaml"))


def minimal(**sections) -> dict:
    raw = {
        "output_dir": "adapters/x",
        "model": {"base": "some/model"},
        "adapter": {"role": "style"},
        "data": {"train": "train.jsonl"},
    }
    for name, body in sections.items():
        raw[name] = {**raw.get(name, {}), **body} if isinstance(body, dict) else body
    return raw


def test_every_section_key_is_validated():
    for name, cls in SECTIONS.items():
        assert set(SCHEMA[name]) == set(cls.__dataclass_fields__), name


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    config = load_config(path)
    assert config.output_dir.parts[0] == "adapters"
    if config.model.quantization == "nf4":
        assert config.train.bf16 and config.train.gradient_checkpointing
        assert config.model.compute_dtype == "bf16"
    if config.model.device == "cpu":  # the fast CPU path: fp32, no checkpointing
        assert not config.train.bf16 and not config.train.gradient_checkpointing


def test_defaults_and_derived_name():
    config = parse_config(minimal())
    assert config.name == "x"  # the output folder's name
    assert config.lora.r == 16 and config.train.max_steps is None
    assert config.data.loss == "completion" and config.model.quantization == "none"


def test_overrides_are_validated_like_the_file(tmp_path):
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(minimal()))
    config = load_config(path, {"train.max_steps": 7, "model.base": "/models/m", "name": None})
    assert config.train.max_steps == 7 and config.model.base == "/models/m"
    with pytest.raises(UserError, match="train.batch_size: expected an integer >= 1"):
        load_config(path, {"train.batch_size": 0})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (minimal(lora={"alpha": "big"}), "lora.alpha: expected an integer"),
        (minimal(lora={"target_modules": []}), "lora.target_modules"),
        (minimal(lora={"dropout": 1.5}), "lora.dropout"),
        (minimal(data={"loss": "prompt"}), "data.loss: expected one of completion, all"),
        (minimal(train={"bf16": "yes"}), "train.bf16: expected true or false"),
        (minimal(train={"lr_scheduler": "cosine_annealing"}), "train.lr_scheduler"),
        (minimal(adapter={"role": "style", "specialist": "python"}), "adapter.specialist"),
        (minimal(adapter={"role": "specialist", "specialist": "cobol"}), "adapter.specialist"),
        (minimal(model="some/model"), "model: expected a mapping"),
        ({"model": {"base": "m"}}, "missing required key output_dir"),
        (minimal(data={"train": None}), "missing required key data.train"),
        ([1, 2], "expected a mapping of sections"),
    ],
)
def test_bad_values_name_the_key(raw, message):
    with pytest.raises(UserError, match=message.replace(".", r"\.")) as info:
        parse_config(raw, "c.yaml")
    assert str(info.value).startswith("c.yaml: ") and "\n" not in str(info.value)


def test_a_numeric_revision_stays_the_commit_it_was():
    assert parse_config(minimal(model={"revision": 1234567})).model.revision == "1234567"


def test_yaml_errors_say_where(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  base: [unclosed\n")
    with pytest.raises(UserError, match=r"c\.yaml: not valid YAML at line \d"):
        load_config(path)


def test_accelerate_configs_load():
    pytest.importorskip("accelerate")
    from accelerate.commands.config.config_args import load_config_from_file

    kinds = {}
    for path in sorted((PROJECT / "configs" / "accelerate").glob("*.yaml")):
        kinds[path.stem] = str(load_config_from_file(str(path)).distributed_type)
    assert kinds == {
        "deepspeed_zero2": "DistributedType.DEEPSPEED",
        "deepspeed_zero3": "DistributedType.DEEPSPEED",
        "fsdp": "DistributedType.FSDP",
        "multi_gpu": "DistributedType.MULTI_GPU",
        "single_gpu": "DistributedType.NO",
    }


def test_log_lines_are_flushed_as_written_and_a_cut_line_is_skipped(tmp_path):
    log = TrainLog(tmp_path / "train_log.jsonl")
    log.start({"name": "x"}, total_steps=2)
    log.step(1, 0.5, 2.0, 1e-3)
    assert [e["event"] for e in read_events(log.path)] == ["start", "step"]  # before close
    log.eval(1, 1.9)
    log.step(2, 1.0, 1.5, 5e-4)
    log.end("completed", steps=2, seconds=1.25)
    with open(log.path, "a") as handle:
        handle.write('{"event": "st')  # a crash mid-line
    events = read_events(log.path)
    assert [e["event"] for e in events] == ["start", "step", "eval", "step", "end"]
    assert events[-1] == {
        **events[-1],
        "status": "completed",
        "steps": 2,
        "final_train_loss": 1.5,
        "final_eval_loss": 1.9,
    }
    assert json.loads(log.path.read_text().splitlines()[0])["total_steps"] == 2
    with pytest.raises(ValueError):
        TrainLog(tmp_path / "other.jsonl").end("crashed", 0, 0.0)


def test_loss_plot_is_a_png_and_nothing_without_points(tmp_path):
    events = [{"event": "step", "step": i, "loss": 3.0 - i / 10} for i in range(1, 6)]
    events.append({"event": "eval", "step": 5, "eval_loss": 2.6})
    target = plot_loss(events, tmp_path / "loss.png")
    assert target.read_bytes().startswith(b"\x89PNG")
    assert plot_loss([{"event": "start"}], tmp_path / "empty.png") is None
    assert not (tmp_path / "empty.png").exists()


def test_memory_estimate_orders_the_setups():
    shape = ModelShape(
        total_params=7_000_000_000,
        quantizable_params=6_500_000_000,
        trainable_params=40_000_000,
        hidden_size=4096,
        num_layers=32,
        vocab_size=32000,
    )

    def estimate(**changes):
        settings = dict(
            compute_dtype="bf16",
            quantization="none",
            double_quant=True,
            batch_size=1,
            seq_length=2048,
            gradient_checkpointing=False,
        )
        return estimate_memory(shape, **{**settings, **changes})

    plain, nf4 = estimate(), estimate(quantization="nf4")
    assert plain.weights == 14_000_000_000
    assert 3.3e9 < nf4.weights < 4.5e9  # 4-bit linears, bf16 embeddings
    assert estimate(quantization="nf4", double_quant=False).weights > nf4.weights
    assert estimate(gradient_checkpointing=True).activations < plain.activations / 5
    assert nf4.adapter == 40_000_000 * 16
