"""build-sft end to end: validation, filters, dedupe, the grouped split, stats, exit codes."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from code_assistant_lora.training.stats import STATS_SCHEMA
from sft_canaries import AWS_KEY_ID, leaks


def _code(rng: random.Random, name: str) -> str:
    words = [f"{rng.choice('abcdefgh')}{rng.randrange(10_000)}" for _ in range(30)]
    return f"def {name}(items):\n" + "\n".join(
        f"    {words[i]} = compute({words[i + 1]}, {words[i + 2]})" for i in range(0, 27, 3)
    )


def _records(count: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(count):
        path = f"pkg/module_{i % (count // 2)}.py"  # two records per file
        records.append(
            {
                "instruction": f"Add helper number {i} to {path}",
                "output": _code(rng, f"helper_{i}"),
                "meta": {
                    "task": ("feature", "bugfix", "edit")[i % 3],
                    "paths": [path],
                    "commit": f"{i % 7:040x}",
                    "quality": round(rng.uniform(0.3, 1), 2),
                },
            }
        )
    return records


def _write(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_dataset_is_split_by_file_with_stats(train_cli, tmp_path):
    records = _records(60)
    base = records[0]
    records += [
        dict(base),  # an exact copy
        {**base, "output": base["output"].replace("compute(", "compute_all(", 1)},  # near copy
        {**base, "instruction": "Explain nothing", "output": "  "},  # empty answer
        {**base, "instruction": "Too long", "output": "x = 1\n" * 3000},  # ~4.5k tokens
        {**base, "instruction": "Leaks", "output": f"key = '{AWS_KEY_ID}'"},  # a secret
    ]
    curated = _write(tmp_path / "curated.jsonl", records)
    train, evaluation = tmp_path / "out" / "train.jsonl", tmp_path / "out" / "eval.jsonl"
    run = train_cli("build-sft", curated, "--train", train, "--eval", evaluation)
    assert run.code == 0, run.err
    train_rows, eval_rows = _read(train), _read(evaluation)
    assert len(train_rows) + len(eval_rows) == 60
    assert eval_rows and len(eval_rows) <= 10
    train_files = {p for r in train_rows for p in r["meta"]["paths"]}
    assert not train_files & {p for r in eval_rows for p in r["meta"]["paths"]}
    assert all(set(r) == {"messages", "meta"} for r in train_rows)
    assert all(r["meta"]["group"].startswith("file:") for r in train_rows)
    stats = json.loads((tmp_path / "out" / "train.stats.json").read_text())
    assert stats["schema"] == STATS_SCHEMA
    assert stats["dropped"] == {
        "empty": 1,
        "exact-duplicate": 1,
        "holds a secret": 1,
        "near-duplicate": 1,
        "oversize": 1,
    }
    assert stats["all"]["by_task"] == {"bugfix": 20, "edit": 20, "feature": 20}
    assert stats["all"]["by_language"] == {"python": 60}
    tokens = stats["train"]["tokens"]
    assert tokens["min"] <= tokens["p50"] <= tokens["p90"] <= tokens["p99"] <= tokens["max"]
    assert stats["split"]["group_by"] == "file" and stats["split"]["groups"] == 30
    assert stats["outputs"]["train"]["sha256"] and stats["inputs"][0]["records"] == 65
    assert run.err.count("\n") == 1 and run.err.startswith(f"{len(train_rows)} train + ")
    assert not leaks(train.read_text() + evaluation.read_text() + run.out + run.err)


def test_the_build_is_deterministic_and_ignores_input_order(train_cli, tmp_path):
    records = _records(40)
    first = _write(tmp_path / "a.jsonl", records)
    shuffled = records[:]
    random.Random(4).shuffle(shuffled)
    second = _write(tmp_path / "b.jsonl", shuffled)
    outputs = []
    for name, source in (("one", first), ("two", first), ("three", second)):
        train, evaluation = tmp_path / name / "t.jsonl", tmp_path / name / "e.jsonl"
        assert train_cli("build-sft", source, "--train", train, "--eval", evaluation).code == 0
        outputs.append((train.read_bytes(), evaluation.read_bytes()))
    assert outputs[0] == outputs[1]
    ids = [
        sorted(r["meta"]["id"] for r in _read(tmp_path / "three" / n))
        for n in ("t.jsonl", "e.jsonl")
    ]
    assert ids == [
        sorted(r["meta"]["id"] for r in _read(tmp_path / "one" / n)) for n in ("t.jsonl", "e.jsonl")
    ]


def test_group_by_commit_keeps_commits_whole(train_cli, tmp_path):
    curated = _write(tmp_path / "c.jsonl", _records(42))
    train, evaluation = tmp_path / "t.jsonl", tmp_path / "e.jsonl"
    run = train_cli(
        "build-sft", curated, "--train", train, "--eval", evaluation,
        "--group-by", "commit", "--eval-fraction", "0.3", "--seed", "5",
    )  # fmt: skip
    assert run.code == 0, run.err
    commits = [{r["meta"]["commit"] for r in _read(p)} for p in (train, evaluation)]
    assert commits[1] and not commits[0] & commits[1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"c\.jsonl:3: <line>: invalid JSON"),
        (json.dumps({"instruction": "x"}), r"c\.jsonl:3: output: missing"),
        (
            json.dumps({"messages": [{"role": "tool", "content": "x"}]}),
            r"c\.jsonl:3: messages\[0\]\.role",
        ),
    ],
)
def test_an_invalid_record_stops_the_build_before_anything_is_written(
    train_cli, tmp_path, line, message
):
    good = [json.dumps(r) for r in _records(4)]
    curated = tmp_path / "c.jsonl"
    curated.write_text("\n".join([good[0], good[1], line, good[2], line]) + "\n")
    train = tmp_path / "t.jsonl"
    run = train_cli("build-sft", curated, "--train", train, "--eval", tmp_path / "e.jsonl")
    assert run.code == 2
    assert re.search(message, run.err) and "(and 1 more invalid records)" in run.err
    assert run.err.startswith("code-assistant-train: error: ") and run.err.count("\n") == 1
    assert not train.exists() and not (tmp_path / "e.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--eval-fraction", "1.5"], "--eval-fraction 1.5"),
        (["--train", "same.jsonl", "--eval", "same.jsonl"], "same file"),
        (["--group-by", "folder"], "Invalid value for '--group-by'"),
    ],
)
def test_bad_options_exit_2(train_cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "c.jsonl", _records(4))
    run = train_cli("build-sft", "c.jsonl", *args)
    assert run.code == 2 and message in run.err
    assert not (tmp_path / "data").exists() and not (tmp_path / "same.jsonl").exists()


def test_missing_input_exits_2(train_cli, tmp_path):
    run = train_cli("build-sft", tmp_path / "nope.jsonl", "--train", tmp_path / "t.jsonl")
    assert run.code == 2 and "nope.jsonl: no such file" in run.err


def test_the_module_form_runs_the_same_command(tmp_path):
    curated = _write(tmp_path / "c.jsonl", _records(10))
    done = subprocess.run(
        [sys.executable, "-m", "code_assistant_lora.build_sft", str(curated),
         "--train", str(tmp_path / "t.jsonl"), "--eval", str(tmp_path / "e.jsonl")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t.stats.json").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "code_assistant_lora.build_sft", str(tmp_path / "missing.jsonl")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("build_sft: error: ")
