"""`build --config`: the dataset config and the whole chain it runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from code_assistant_lora.training.dataset_config import load_config

from code_assistant_lora.errors import UserError

PROJECT = Path(__file__).resolve().parents[2]
SUITES = PROJECT / "evals" / "reviewer_regression"


def _config(tmp_path: Path, repo: Path, **extra) -> Path:
    curated = tmp_path / "curated.jsonl"
    curated.write_text(
        json.dumps(
            {
                "instruction": "How do I add a ledger operation?",
                "output": "Add a function to ledger/accounts.py next to transfer, export it from "
                "ledger/__init__.py, and cover it in tests/test_accounts.py.",
                "meta": {"task": "howto", "quality": 0.9},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    config = {
        "schema": "code-assistant/dataset-config@1",
        "name": "ledger",
        "out_dir": "out",
        "sources": [
            {"kind": "curated", "path": "curated.jsonl"},
            {"kind": "git", "repo": str(repo)},
            {"kind": "reviewer_cases", "path": str(SUITES / "sql"), "specialist": "sql"},
        ],
        "filters": {"min_quality": 0.5, "exclude_tasks": ["docs"]},
        "split": {"eval_fraction": 0.2, "seed": 1, "group_by": "file"},
        **extra,
    }
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_the_config_runs_the_whole_chain(train_cli, tmp_path, history_repo):
    run = train_cli("build", "--config", _config(tmp_path, history_repo))
    assert run.code == 0, run.err
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {
        "candidates.jsonl", "train.jsonl", "eval.jsonl", "stats.json", "audit.json",
    }  # fmt: skip
    stats = json.loads((out / "stats.json").read_text())
    kinds = [source["kind"] for source in stats["inputs"]]
    assert kinds == ["curated", "git", "reviewer_cases"]
    assert stats["inputs"][1]["skipped"]["merge commit"] == 1
    assert stats["dropped"]["task excluded"] == 1  # the docs commit
    tasks = stats["all"]["by_task"]
    assert tasks["howto"] == 1 and tasks["review"] >= 20 and "docs" not in tasks
    assert json.loads((out / "audit.json").read_text())["passed"] is True
    assert "audit passed" in run.err


def test_limits_keep_the_best_records_per_task(train_cli, tmp_path, history_repo):
    config = _config(tmp_path, history_repo, limits={"max_per_task": 2})
    assert train_cli("build", "--config", config, "--out-dir", tmp_path / "elsewhere").code == 0
    stats = json.loads((tmp_path / "elsewhere" / "stats.json").read_text())
    assert max(stats["all"]["by_task"].values()) <= 2
    assert stats["dropped"]["over max_per_task"] > 0
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shuffle": True}, "dataset.json: shuffle: unknown key"),
        ({"split": {"group_by": "folder"}}, "split.group_by: expected file or commit"),
        ({"split": {"eval_fraction": 1}}, "split.eval_fraction: expected a number in [0, 1)"),
        ({"sources": []}, "sources: expected a non-empty list"),
        ({"sources": [{"kind": "ftp"}]}, "sources[0].kind: expected one of curated, git"),
        ({"sources": [{"kind": "curated", "path": "nope.jsonl"}]}, "sources[0].path: "),
        ({"sources": [{"kind": "git", "repo": ".", "max_commits": 0}]}, "max_commits"),
        ({"filters": {"tasks": "bugfix"}}, "filters.tasks: expected a list of names"),
        ({"schema": "other@9"}, "schema: expected 'code-assistant/dataset-config@1'"),
    ],
)
def test_config_errors_name_the_key(tmp_path, history_repo, change, message):
    path = _config(tmp_path, history_repo)
    config = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps(config))
    with pytest.raises(UserError) as caught:
        load_config(path)
    assert message in caught.value.message


def test_a_bad_config_exits_2_and_writes_nothing(train_cli, tmp_path, history_repo):
    path = _config(tmp_path, history_repo)
    path.write_text(path.read_text()[:-5])  # truncated JSON
    run = train_cli("build", "--config", path)
    assert run.code == 2 and "invalid JSON" in run.err
    assert not (tmp_path / "out").exists()


def test_the_example_config_is_valid_and_points_at_this_repository():
    config = load_config(PROJECT / "configs" / "dataset.example.json")
    assert config.out_dir == PROJECT / "data" / "sft" / "self"
    assert [s.kind for s in config.sources] == ["curated", "git"]
    assert config.sources[1].path.resolve() == PROJECT
    assert config.group_by == "file" and 0 < config.eval_fraction < 1
