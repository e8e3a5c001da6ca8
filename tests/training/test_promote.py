"""`code-assistant-train promote` and `metadata`: real adapter folders (config, weights, metadata)
in tmp dirs, the real CLI entry point, thresholds from a real .code-assistant.toml."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from code_assistant_lora.training.metadata import AdapterMetadata, save_metadata

PROJECT = Path(__file__).resolve().parents[2]
BASE = "org/base-coder-7b"


def _score(precision: float, recall: float, cases: int) -> dict:
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": round(f1, 4),
        "false_positive_rate": 0.0,
        "cases": cases,
        "passed": cases,
    }


def make_adapter(
    root: Path,
    name: str,
    suites: dict[str, tuple[float, float, int]] | None,
    overall: tuple[float, float] | None = None,
    role: str = "specialist",
    specialist: str | None = "python",
    weights: bytes | None = None,
    evaluated_at: str = "2026-11-01T10:00:00+00:00",
) -> Path:
    """An adapter folder with its eval scores (None: never evaluated)."""
    folder = root / "adapters" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": BASE, "peft_type": "LORA", "r": 8})
    )
    weights = weights if weights is not None else name.encode()
    (folder / "adapter_model.safetensors").write_bytes(weights)
    evaluation = None
    if suites is not None:
        cases = sum(c for _, _, c in suites.values())
        p, r = overall or next(iter(suites.values()))[:2]
        evaluation = {
            "evaluated_at": evaluated_at,
            "reviewer": "model",
            "suites_path": "evals/reviewer_regression",
            "pytest_args": [],
            "adapter_sha256": hashlib.sha256(weights).hexdigest(),
            "overall": _score(p, r, cases),
            "suites": {s: _score(*values) for s, values in suites.items()},
            "thresholds_failed": [],
        }
    metadata = AdapterMetadata(
        name=name,
        role=role,
        base_model=BASE,
        base_revision="abc123",
        specialist=specialist,
        audit={"passed": True, "violations": 0},
        eval=evaluation,
    )
    save_metadata(folder, metadata)
    return folder


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project root (the cwd) with thresholds: 0.8/0.7 overall, python recall at least 0.75."""
    (tmp_path / ".code-assistant.toml").write_text(
        "[evals]\nmin_precision = 0.8\nmin_recall = 0.7\n[evals.suites.python]\nmin_recall = 0.75\n"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def registry(project: Path) -> dict:
    return json.loads((project / "adapters" / "promoted.json").read_text())


def test_promote_records_the_adapter_for_its_role(project, train_cli):
    adapter = make_adapter(project, "python-v1", {"python": (0.95, 0.9, 34)})
    run = train_cli("promote", adapter)
    assert run.code == 0, run.err
    assert "promoted python-v1 as python" in run.err
    document = registry(project)
    assert document["schema"] == "code-assistant/promoted-adapters@1"
    entry = document["adapters"]["python"]
    assert entry["path"] == "adapters/python-v1" and entry["name"] == "python-v1"
    metadata_bytes = (adapter / "adapter.metadata.json").read_bytes()
    assert entry["metadata_sha256"] == hashlib.sha256(metadata_bytes).hexdigest()
    assert entry["adapter_sha256"] == hashlib.sha256(b"python-v1").hexdigest()
    assert entry["scores"]["overall"]["recall"] == 0.9
    assert entry["scores"]["suites"]["python"]["cases"] == 34
    assert entry["promoted_at"] and entry["forced"] is False
    assert [h["name"] for h in document["history"]] == ["python-v1"]
    again = train_cli("promote", adapter)
    assert again.code == 0 and "already the promoted python" in again.err
    assert len(registry(project)["history"]) == 1


def test_refused_below_the_thresholds_overall_and_per_suite(project, train_cli):
    adapter = make_adapter(project, "python-weak", {"python": (0.95, 0.72, 34)})
    run = train_cli("promote", adapter)
    assert run.code == 1
    # 0.72 clears the overall 0.7 but not python's own 0.75
    assert "python: recall 0.720 < 0.750 (threshold)" in run.err
    assert "overall:" not in run.err
    assert "below threshold" in run.out
    assert not (project / "adapters" / "promoted.json").exists()
    imprecise = make_adapter(project, "python-noisy", {"python": (0.6, 0.9, 34)})
    run = train_cli("promote", imprecise)
    assert run.code == 1
    assert "overall: precision 0.600 < 0.800 (threshold)" in run.err


def test_refused_below_the_promoted_adapter(project, train_cli):
    assert train_cli("promote", make_adapter(project, "v1", {"python": (0.95, 0.9, 34)})).code == 0
    before = (project / "adapters" / "promoted.json").read_bytes()
    worse = make_adapter(project, "v2", {"python": (0.95, 0.85, 34)})
    run = train_cli("promote", worse)
    assert run.code == 1
    assert "overall: recall 0.850 < promoted 0.900" in run.err
    assert "python: recall 0.850 < promoted 0.900 (-0.050)" in run.err
    assert "regressed" in run.out and "-0.050" in run.out
    assert (project / "adapters" / "promoted.json").read_bytes() == before


def test_suite_tolerance_against_the_promoted_verifier(project, train_cli):
    suites = {"python": (0.9, 0.9, 10), "sql": (0.9, 0.9, 10)}
    first = make_adapter(project, "verifier-v1", suites, role="verifier", specialist=None)
    assert train_cli("promote", first).code == 0
    # overall better, but sql recall dropped 0.05: beyond the 0.02 tolerance
    dropped = {"python": (0.98, 0.98, 10), "sql": (0.9, 0.85, 10)}
    second = make_adapter(
        project, "verifier-v2", dropped, (0.92, 0.92), role="verifier", specialist=None
    )
    run = train_cli("promote", second)
    assert run.code == 1 and "sql: recall 0.850 < promoted 0.900 (-0.050)" in run.err
    assert train_cli("promote", second, "--tolerance", "0.06").code == 0
    document = registry(project)
    assert document["adapters"]["verifier"]["name"] == "verifier-v2"
    assert document["history"][-1]["replaced"] == "verifier-v1"
    # a suite the promoted adapter was scored on must be scored again
    partial = make_adapter(
        project, "verifier-v3", {"python": (1.0, 1.0, 10)}, (0.95, 0.95), "verifier", None
    )
    run = train_cli("promote", partial)
    assert run.code == 1 and "sql: not evaluated (the promoted adapter was)" in run.err


def test_missing_eval_and_eval_of_other_weights_are_refused(project, train_cli):
    never = make_adapter(project, "never-evaluated", None)
    run = train_cli("promote", never)
    assert run.code == 1
    assert f"no eval scores: run code-assistant-train eval {never}" in run.err
    retrained = make_adapter(project, "retrained", {"python": (0.95, 0.9, 34)})
    (retrained / "adapter_model.safetensors").write_bytes(b"new weights after the eval")
    run = train_cli("promote", retrained)
    assert run.code == 1 and "the eval scores belong to other weights" in run.err


def test_other_case_counts_need_a_re_evaluated_promoted_adapter(project, train_cli):
    incumbent = make_adapter(project, "v1", {"python": (0.9, 0.8, 30)})
    assert train_cli("promote", incumbent).code == 0
    newcomer = make_adapter(project, "v2", {"python": (0.9, 0.8, 34)})
    run = train_cli("promote", newcomer)
    assert run.code == 1 and "scored on 34 cases, the promoted adapter on 30" in run.err
    # the suites grew; re-evaluating the promoted adapter (same weights) makes them comparable
    make_adapter(
        project, "v1", {"python": (0.85, 0.78, 34)}, evaluated_at="2026-11-20T10:00:00+00:00"
    )
    run = train_cli("promote", newcomer)
    assert run.code == 0, run.err
    assert "promoted adapter re-evaluated at 2026-11-20T10:00:00+00:00" in run.err


def test_force_is_a_recorded_rollback_never_past_thresholds(project, train_cli):
    assert train_cli("promote", make_adapter(project, "v2", {"python": (0.95, 0.9, 34)})).code == 0
    older = make_adapter(project, "v1", {"python": (0.9, 0.8, 34)})
    assert train_cli("promote", older, "--force").code == 2
    run = train_cli("promote", older, "--force", "--reason", "v2 floods PRs with style nits")
    assert run.code == 0, run.err
    assert "forced past: overall: precision 0.900 < promoted 0.950" in run.err
    entry = registry(project)["adapters"]["python"]
    assert entry["name"] == "v1" and entry["forced"] is True
    assert entry["reason"] == "v2 floods PRs with style nits"
    failing = make_adapter(project, "v0", {"python": (0.9, 0.5, 34)})
    run = train_cli("promote", failing, "--force", "--reason", "anything")
    assert run.code == 1 and "python: recall 0.500 < 0.750 (threshold)" in run.err


def test_a_broken_registry_is_a_usage_error(project, train_cli):
    (project / "adapters").mkdir()
    (project / "adapters" / "promoted.json").write_text('{"schema": "something-else@1"}')
    run = train_cli("promote", make_adapter(project, "v1", {"python": (0.95, 0.9, 34)}))
    assert run.code == 2 and "not a code-assistant/promoted-adapters@1 registry" in run.err


def test_metadata_command_shows_and_checks(project, train_cli):
    adapter = make_adapter(project, "python-v1", {"python": (0.95, 0.9, 34)})
    text = train_cli("metadata", adapter)
    assert text.code == 0, text.out + text.err
    assert "specialist (registry key python)" in text.out
    assert "org/base-coder-7b @ abc123" in text.out and "valid" in text.out
    as_json = json.loads(train_cli("metadata", adapter, "--format", "json").out)
    assert as_json["valid"] is True and as_json["metadata"]["name"] == "python-v1"
    assert as_json["metadata"]["eval"]["suites"]["python"]["cases"] == 34
    config = json.loads((adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "org/another-model"
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    moved = train_cli("metadata", adapter, "--format", "json")
    assert moved.code == 1
    assert (
        "adapter_config.json says base 'org/another-model'" in json.loads(moved.out)["problems"][0]
    )
    (adapter / "adapter.metadata.json").write_text('{"schema": "nope"}')
    broken = train_cli("metadata", adapter)
    assert broken.code == 2 and "not code-assistant/adapter-metadata@1" in broken.err


def test_the_example_metadata_file_is_valid_and_promotable():
    from code_assistant_lora.training.promote import _valid_scores

    from code_assistant_lora.config import EvalsConfig

    data = json.loads((PROJECT / "configs" / "adapter.metadata.example.json").read_text())
    metadata = AdapterMetadata.from_dict(data, "configs/adapter.metadata.example.json")
    assert metadata.to_dict() == data
    assert metadata.role == "specialist" and metadata.specialist == "python"
    assert {d.split for d in metadata.datasets} == {"train", "eval"}
    assert _valid_scores(metadata.eval)
    evals = EvalsConfig(min_precision=0.9, min_recall=0.8)
    assert metadata.eval["overall"]["precision"] >= evals.min_precision


def test_the_dashboard_reads_the_registry_promote_writes(project, train_cli):
    from code_assistant_lora.training.dashboard import adapters_view

    adapter = make_adapter(project, "python-v1", {"python": (0.95, 0.9, 34)})
    assert train_cli("promote", adapter).code == 0
    promoted = adapters_view.load_promoted(project / "adapters" / "promoted.json")
    assert set(promoted) == {"python"}
    scores = adapters_view.baseline_scores(promoted["python"], project)
    assert scores["python"]["recall"] == 0.9 and scores["overall"]["precision"] == 0.95
