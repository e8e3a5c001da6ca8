"""`code-assistant-train train` end to end on the tiny local model (no downloads): plain LoRA in fp32
on the CPU, Ctrl-C and --resume, the dry run, input errors, and one nf4 QLoRA smoke run."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from code_assistant_lora.training.cli import main
from code_assistant_lora.training.metadata import load_metadata
from code_assistant_lora.training.train_log import read_events
from train_data_factory import tiny_config, write_config, write_dataset

pytest.importorskip("trl")
pytest.importorskip("peft")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def run_cli(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, Path]:
    return write_dataset(tmp_path_factory.mktemp("sft"))


@pytest.fixture(scope="module")
def trained(tiny_model, dataset, tmp_path_factory) -> Path:
    """One 15-step CPU LoRA run with an eval split, shared by the assertions below."""
    root = tmp_path_factory.mktemp("run")
    config = write_config(
        root / "train.yaml", tiny_config(tiny_model, *dataset, root / "adapters" / "tiny")
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        assert run_cli("train", "--config", config) == 0
    return root / "adapters" / "tiny"


def _steps(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] == "step"]


def test_cpu_lora_loss_decreases(trained):
    losses = [e["loss"] for e in _steps(read_events(trained / "train_log.jsonl"))]
    assert len(losses) == 15
    assert sum(losses[:5]) / 5 > sum(losses[-5:]) / 5


def test_log_has_start_steps_evals_and_end(trained):
    events = read_events(trained / "train_log.jsonl")
    assert events[0]["event"] == "start" and events[0]["total_steps"] == 15
    assert events[0]["config"]["lora"]["r"] == 8
    assert [e["step"] for e in _steps(events)] == list(range(1, 16))
    assert [e["step"] for e in events if e["event"] == "eval"] == [5, 10, 15]
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "completed" and end["steps"] == 15
    assert end["final_train_loss"] == _steps(events)[-1]["loss"]
    assert end["final_eval_loss"] is not None
    assert all("time" in e for e in events)


def test_adapter_loads_with_peft_and_changes_the_output(trained, tiny_model):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained)  # saved beside the adapter
    ids = tokenizer("def f(x): return x", return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    with torch.no_grad():
        before = base(ids).logits
    model = PeftModel.from_pretrained(base, trained)
    with torch.no_grad():
        after = model(ids).logits
    assert not torch.allclose(before, after)  # the trained LoRA weights are not zero


def test_metadata_describes_the_run(trained, dataset):
    from code_assistant_lora.training.jsonl import file_digest

    metadata = load_metadata(trained)  # validates the schema
    assert (metadata.name, metadata.role, metadata.specialist) == (
        "tiny-reviewer",
        "specialist",
        "python",
    )
    assert [(d.split, d.sha256, d.records) for d in metadata.datasets] == [
        ("train", file_digest(dataset[0]), 24),
        ("eval", file_digest(dataset[1]), 2),
    ]
    assert metadata.audit["passed"] is True and metadata.audit["skipped"] is False
    assert Path(metadata.audit["report"]).is_file()
    assert metadata.hyperparameters["lora"]["target_modules"] == "all-linear"
    assert metadata.hyperparameters["train"]["learning_rate"] == 2e-2
    assert metadata.libraries["peft"] and metadata.libraries["trl"]
    assert metadata.hardware["device"] == "cpu"
    run = metadata.training
    assert run["steps"] == 15 and run["seconds"] > 0 and run["tokens_per_second"] > 0
    assert run["final_eval_loss"] is not None
    assert metadata.eval is None


def test_outputs_are_laid_out_as_documented(trained):
    assert (trained / "adapter_config.json").is_file()
    assert (trained / "adapter_model.safetensors").is_file()
    assert (trained / "tokenizer_config.json").is_file()
    assert (trained / "loss.png").read_bytes().startswith(b"\x89PNG")
    checkpoints = sorted(p.name for p in (trained / "checkpoints").glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-10", "checkpoint-15"]  # save_total_limit 2


def test_finished_adapter_is_not_overwritten(trained, capsys):
    config = trained.parent.parent / "train.yaml"
    before = (trained / "adapter.metadata.json").read_bytes()
    assert run_cli("train", "--config", config) == 2
    assert "holds a finished adapter" in capsys.readouterr().err
    assert (trained / "adapter.metadata.json").read_bytes() == before


def test_dry_run_reports_and_writes_nothing(tiny_model, dataset, tmp_path, train_cli):
    output = tmp_path / "out"
    config = write_config(tmp_path / "c.yaml", tiny_config(tiny_model, *dataset, output))
    result = train_cli("train", "--config", config, "--dry-run")
    assert result.code == 0, result.err
    assert "max_steps: 15" in result.out  # the resolved config
    assert "trainable" in result.out and "parameters:" in result.out
    total, trainable = _param_counts(result.out)
    assert 0 < trainable < total
    assert "train: 24 records" in result.out and "eval: 2 records" in result.out
    assert "estimated memory" in result.out and "audit passed" in result.out
    assert not output.exists()


def _param_counts(text: str) -> tuple[int, int]:
    line = next(x for x in text.splitlines() if x.startswith("parameters:"))
    words = line.replace(",", "").split()
    return int(words[1]), int(words[3])


def test_ctrl_c_stops_with_a_checkpoint_and_resume_finishes(
    tiny_model, dataset, tmp_path, train_cli
):
    output = tmp_path / "adapter"
    config = write_config(
        tmp_path / "c.yaml", tiny_config(tiny_model, *dataset, output, save_steps=100)
    )
    log = output / "train_log.jsonl"

    def press_ctrl_c_after_step_3():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            events = read_events(log)
            if any(e["event"] == "end" for e in events):
                return  # too late: a SIGINT now would hit pytest, not the trainer
            if any(e["step"] >= 3 for e in _steps(events)):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=press_ctrl_c_after_step_3, daemon=True)
    watcher.start()
    first = train_cli("train", "--config", config)
    watcher.join()
    assert first.code == 130, first.err
    assert "interrupted at step" in first.err and "--resume" in first.err
    assert not (output / "adapter.metadata.json").exists()  # not a finished adapter
    end = read_events(log)[-1]
    assert end["event"] == "end" and end["status"] == "interrupted"
    stopped = end["steps"]
    assert 3 <= stopped < 15
    assert (output / "checkpoints" / f"checkpoint-{stopped}").is_dir()  # saved on the stop
    assert (output / "loss.png").is_file()

    again = train_cli("train", "--config", config)
    assert again.code == 2 and "--resume" in again.err

    resumed = train_cli("train", "--config", config, "--resume")
    assert resumed.code == 0, resumed.err
    events = read_events(log)
    starts = [e for e in events if e["event"] == "start"]
    assert starts[-1]["resume_from"].endswith(f"checkpoint-{stopped}")
    after = [e["step"] for e in _steps(events[events.index(starts[-1]) :])]
    assert after == list(range(stopped + 1, 16))  # continued, not restarted
    metadata = load_metadata(output)
    assert metadata.training["steps"] == 15
    assert metadata.training["resumed_from"].endswith(f"checkpoint-{stopped}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lora": {"rank": 8}}, "unknown key lora.rank"),
        ({"train": {"learning_rate": -1}}, "train.learning_rate"),
        ({"model": {"quantization": "int3"}}, "model.quantization"),
        ({"adapter": {"role": "specialist", "specialist": None}}, "adapter.specialist"),
        ({"extra": 1}, "unknown key extra"),
    ],
)
def test_config_errors_exit_2_naming_the_key(change, message, tmp_path, train_cli):
    mapping = tiny_config(tmp_path / "model", tmp_path / "t.jsonl", None, tmp_path / "out")
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(mapping.get(key), dict):
            mapping[key].update(value)
        else:
            mapping[key] = value
    result = train_cli("train", "--config", write_config(tmp_path / "c.yaml", mapping))
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_config_and_bad_override_exit_2(tmp_path, train_cli):
    missing = train_cli("train", "--config", tmp_path / "nope.yaml")
    assert missing.code == 2 and "nope.yaml: no such config file" in missing.err
    mapping = tiny_config(tmp_path / "model", tmp_path / "t.jsonl", None, tmp_path / "out")
    config = write_config(tmp_path / "c.yaml", mapping)
    bad = train_cli("train", "--config", config, "--max-steps", "0")
    assert bad.code == 2 and "train.max_steps" in bad.err


def test_malformed_records_and_missing_files_exit_2(tiny_model, tmp_path, train_cli):
    train = tmp_path / "train.jsonl"
    train.write_text(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "ok"},
                ]
            }
        )
        + "\n{not json\n",
        encoding="utf-8",
    )
    config = write_config(
        tmp_path / "c.yaml", tiny_config(tiny_model, train, None, tmp_path / "out")
    )
    result = train_cli("train", "--config", config)
    assert result.code == 2 and f"{train}:2: invalid JSON" in result.err
    train.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    result = train_cli("train", "--config", config)
    assert result.code == 2 and f"{train}:1: messages" in result.err
    result = train_cli("train", "--config", config, "--train-file", tmp_path / "absent.jsonl")
    assert result.code == 2 and "absent.jsonl: no such file" in result.err
    assert not (tmp_path / "out").exists()


def test_prompts_longer_than_max_seq_length_are_refused_not_trained_on(
    tiny_model, dataset, tmp_path, train_cli
):
    """TRL silently drops records whose answer is truncated away; with none left, say why."""
    train, evaluation = dataset
    mapping = tiny_config(tiny_model, train, evaluation, tmp_path / "out")
    mapping["data"]["max_seq_length"] = 16
    result = train_cli("train", "--config", write_config(tmp_path / "c.yaml", mapping))
    assert result.code == 2, result.err
    assert "data.max_seq_length=16" in result.err and "no answer would be trained" in result.err
    assert not (tmp_path / "out" / "adapter.metadata.json").exists()


def test_failed_audit_refuses_to_train(tiny_model, dataset, tmp_path, train_cli):
    leaked = tmp_path / "eval.jsonl"
    leaked.write_text(dataset[0].read_text().splitlines()[0] + "\n")  # a train record in eval
    config = write_config(
        tmp_path / "c.yaml", tiny_config(tiny_model, dataset[0], leaked, tmp_path / "out")
    )
    result = train_cli("train", "--config", config)
    assert result.code == 2
    assert "audit FAILED" in result.err and "cross-split-duplicate" in result.err
    assert "--skip-audit" in result.err
    assert not (tmp_path / "out").exists()


def test_unknown_target_module_is_a_config_error(tiny_model, dataset, tmp_path, train_cli):
    mapping = tiny_config(tiny_model, *dataset, tmp_path / "out")
    mapping["lora"]["target_modules"] = ["no_such_proj"]
    result = train_cli("train", "--config", write_config(tmp_path / "c.yaml", mapping), "--dry-run")
    assert result.code == 2 and "lora.target_modules" in result.err


@pytest.mark.slow
def test_qlora_nf4_on_the_cpu(tiny_model, dataset, tmp_path, train_cli):
    """The real QLoRA path: bitsandbytes nf4 with double quantization (fp32 compute on the CPU)."""
    pytest.importorskip("bitsandbytes")
    from bitsandbytes.nn import Linear4bit
    from code_assistant_lora.training.train import load_model
    from code_assistant_lora.training.train_config import parse_config

    mapping = tiny_config(tiny_model, dataset[0], None, tmp_path / "qlora", max_steps=4)
    mapping["model"]["quantization"] = "nf4"
    model = load_model(parse_config(mapping), "cpu", "fp32")
    quantized = [m for m in model.modules() if isinstance(m, Linear4bit)]
    assert quantized and all(m.weight.quant_state.nested for m in quantized)  # double quant
    del model

    result = train_cli("train", "--config", write_config(tmp_path / "c.yaml", mapping))
    assert result.code == 0, result.err
    metadata = load_metadata(tmp_path / "qlora")
    assert metadata.hyperparameters["quantization"] == "nf4"
    assert metadata.training["steps"] == 4
    losses = [e["loss"] for e in _steps(read_events(tmp_path / "qlora" / "train_log.jsonl"))]
    assert len(losses) == 4 and losses[0] > min(losses[1:])


def test_a_tokenizer_without_chat_template_gets_the_fallback(
    tiny_model, dataset, tmp_path, train_cli
):
    import shutil

    from code_assistant_lora.training.train_data import ensure_chat_template
    from transformers import AutoTokenizer

    bare = tmp_path / "bare-model"
    shutil.copytree(tiny_model, bare)
    (bare / "chat_template.jinja").unlink()
    tokenizer = AutoTokenizer.from_pretrained(bare)
    assert not tokenizer.chat_template and ensure_chat_template(tokenizer)
    messages = json.loads(dataset[0].read_text().splitlines()[0])["messages"]
    prompt = tokenizer.apply_chat_template(
        messages[:-1], tokenize=False, add_generation_prompt=True
    )
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    assert full.startswith(prompt) and full.endswith("</s>\n")  # what completion-only loss needs

    config = write_config(tmp_path / "c.yaml", tiny_config(bare, *dataset, tmp_path / "out"))
    result = train_cli("train", "--config", config, "--dry-run")
    assert result.code == 0, result.err
    assert "using the fallback template" in result.out
