"""`code-assistant-train eval ADAPTER`: the real regression cases (two copied from this repo's
python suite), the tiny local adapter served on 127.0.0.1 by the pytest plugin, and the scores
folded into the adapter's metadata."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from code_assistant_lora.training.metadata import AdapterMetadata, load_metadata, save_metadata
from train_cli import run_train_cli

pytest.importorskip("peft", reason="needs the train extra (make test installs it)")

PROJECT = Path(__file__).resolve().parents[2]
CASES = PROJECT / "evals" / "reviewer_regression"


@pytest.fixture
def workspace(tmp_path, tiny_model, tiny_adapter) -> Path:
    """Suites with two python cases (one flagged, one clean) and one sql case, plus a copy of the
    tiny adapter with metadata saying it is the python specialist."""
    suites = tmp_path / "evals" / "reviewer_regression"
    for suite, case in (
        ("python", "deploy_helper_shell_true"),
        ("python", "clean_none_default_idiom"),
        ("sql", "clean_bookmarks_rls_enabled_after_indexes"),
    ):
        (suites / suite).mkdir(parents=True, exist_ok=True)
        shutil.copy(CASES / suite / f"{case}.yaml", suites / suite)
    adapter = tmp_path / "adapters" / "python-reviewer"
    shutil.copytree(tiny_adapter, adapter)
    metadata = AdapterMetadata(
        name="python-reviewer",
        role="specialist",
        specialist="python",
        base_model=str(tiny_model),
        base_revision=None,
    )
    save_metadata(adapter, metadata)
    return tmp_path


def test_eval_adapter_writes_the_scores_into_its_metadata(workspace):
    adapter = workspace / "adapters" / "python-reviewer"
    completed = run_train_cli(
        "eval", str(adapter), "--suites", "evals/reviewer_regression", "--", "-q", cwd=workspace
    )
    # the untrained adapter answers noise: the clean case passes, the flagged one is missed
    assert completed.returncode == 1, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "code-assistant reviewer eval" in completed.stdout
    assert "1 failed, 1 passed" in completed.stdout  # the sql case is not the python specialist's
    evaluation = load_metadata(adapter).eval
    assert evaluation["reviewer"] == "model"
    assert set(evaluation["suites"]) == {"python"}
    assert evaluation["overall"]["cases"] == 2 and evaluation["overall"]["passed"] == 1
    assert evaluation["overall"]["recall"] == 0.0
    assert evaluation["suites"]["python"]["precision"] == 1.0
    assert evaluation["thresholds_failed"] == []
    weights = (adapter / "adapter_model.safetensors").read_bytes()
    assert evaluation["adapter_sha256"] == hashlib.sha256(weights).hexdigest()
    assert evaluation["suites_path"] == "evals/reviewer_regression"
    summary = json.loads((adapter / "eval-summary.json").read_text())
    assert summary["schema"] == "code-assistant/eval-summary@1"
    assert (adapter / "eval-summary.md").is_file()
    assert "python-reviewer: precision 1.000, recall 0.000 over 2 cases" in completed.stderr


def test_eval_adapter_usage_errors(workspace, train_cli, tiny_adapter, monkeypatch):
    monkeypatch.chdir(workspace)
    adapter = workspace / "adapters" / "python-reviewer"
    run = train_cli("eval", adapter, "--endpoint", "http://127.0.0.1:9/v1")
    assert run.code == 2 and "drop --endpoint and --model" in run.err
    bare = workspace / "bare-adapter"
    shutil.copytree(tiny_adapter, bare)
    run = train_cli("eval", bare)
    assert run.code == 2 and "no adapter.metadata.json" in run.err
    run = train_cli("eval", "evals/reviewer_regression", "--suites", "evals/reviewer_regression")
    assert run.code == 2 and "give the suites once" in run.err
    assert load_metadata(adapter).eval is None


def test_a_specialist_runs_only_its_own_suites(workspace):
    from code_assistant_lora.training.adapter_eval import suite_paths

    root = workspace / "evals" / "reviewer_regression"
    python = load_metadata(workspace / "adapters" / "python-reviewer")
    assert suite_paths(root, python) == [root / "python"]
    verifier = AdapterMetadata(name="v", role="verifier", base_model="m", base_revision=None)
    assert suite_paths(root, verifier) == [root]
    assert suite_paths(root / "python", python) == [root / "python"]  # one suite given: itself
