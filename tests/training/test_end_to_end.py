"""The whole adapter workflow on the CPU, each step through its real command: reviewer cases ->
build-reviewer-sft -> build-sft -> audit -> train (loss must drop) -> metadata -> `code-assistant
serve` on 127.0.0.1 -> the reviewer regression cases through the pytest eval plugin against the
served adapter, by its model name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("peft", reason="needs the train extra (make test installs it)")

from code_assistant_lora.training.jsonl import file_digest  # noqa: E402
from code_assistant_lora.training.metadata import load_metadata  # noqa: E402
from serve_process import ServeProcess  # noqa: E402
from train_cli import run_train_cli  # noqa: E402
from train_data_factory import tiny_config, write_config  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
SQL_CASES = PROJECT / "evals" / "reviewer_regression" / "sql"
EVAL_CASES = ("supabase_invoice_items_missing_rls", "clean_bookmarks_rls_enabled_after_indexes")


def test_cases_to_served_adapter_evaluated_by_the_plugin(
    tiny_model, tmp_path, train_cli, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    curated = tmp_path / "data" / "reviewer" / "sql.jsonl"
    train, evaluation = tmp_path / "data" / "sft" / "train.jsonl", tmp_path / "data" / "eval.jsonl"

    built = train_cli("build-reviewer-sft", SQL_CASES, "--specialist", "sql", "--out", curated)
    assert built.code == 0, built.err
    records = [json.loads(line) for line in curated.read_text().splitlines()]
    assert len(records) >= 20 and {r["meta"]["specialist"] for r in records} == {"sql"}

    split = train_cli(
        "build-sft", curated, "--train", train, "--eval", evaluation, "--eval-fraction", "0.2"
    )
    assert split.code == 0, split.err
    audit = train_cli("audit", train, evaluation, "--out", tmp_path / "audit.json")
    assert audit.code == 0, audit.out + audit.err

    adapter = tmp_path / "adapters" / "sql-reviewer"
    mapping = tiny_config(tiny_model, train, evaluation, adapter, max_steps=12, eval_steps=6)
    mapping["name"] = "sql-reviewer"
    mapping["adapter"] = {"role": "specialist", "specialist": "sql"}
    mapping["data"]["max_seq_length"] = 4096  # review prompts are long in a 400-token vocabulary
    trained = train_cli("train", "--config", write_config(tmp_path / "train.yaml", mapping))
    assert trained.code == 0, trained.out + trained.err

    steps = [
        json.loads(line)
        for line in (adapter / "train_log.jsonl").read_text().splitlines()
        if '"event": "step"' in line
    ]
    losses = [s["loss"] for s in steps]
    assert len(losses) == 12
    assert sum(losses[:4]) / 4 > sum(losses[-4:]) / 4  # it learned something

    shown = train_cli("metadata", adapter, "--format", "json")
    assert shown.code == 0, shown.err
    metadata = load_metadata(adapter)
    assert (metadata.role, metadata.specialist, metadata.base_model) == (
        "specialist",
        "sql",
        str(tiny_model),
    )
    hashes = {d.split: d.sha256 for d in metadata.datasets}
    assert hashes == {"train": file_digest(train), "eval": file_digest(evaluation)}
    assert metadata.audit["passed"] is True
    assert metadata.training["final_train_loss"] == pytest.approx(losses[-1], rel=0.5)

    suites = tmp_path / "evals" / "reviewer_regression"
    (suites / "sql").mkdir(parents=True)
    for case in EVAL_CASES:
        shutil.copy(SQL_CASES / f"{case}.yaml", suites / "sql")
    server = ServeProcess(
        [
            "--base",
            str(tiny_model),
            "--adapter",
            f"sql-reviewer={adapter}",
            "--port",
            "0",
            "--max-new-tokens",
            "24",
        ],  # fmt: skip
        tmp_path / "serve.log",
    )
    try:
        url = server.wait_ready()
        report = tmp_path / "logs" / "eval-sql-reviewer.json"
        evaluated = run_train_cli(
            "eval", str(suites), "--reviewer", "model", "--endpoint", url,
            "--model", "sql-reviewer", "--report", str(report), "--", "-q",
            cwd=tmp_path,
        )  # fmt: skip
    finally:
        assert server.interrupt() == 0, (tmp_path / "serve.log").read_text()

    output = evaluated.stdout[-3000:] + evaluated.stderr[-2000:]
    assert report.is_file(), output
    summary = json.loads(report.read_text())
    assert summary["reviewer"] == "model" and summary["model"] == "sql-reviewer"
    assert summary["endpoint"] == url
    assert summary["overall"]["cases"] == len(EVAL_CASES)
    # a 12-step tiny adapter cannot find RLS problems: the flagged case fails, so eval exits 1
    # with the summary written; the point is that every case went through the served adapter
    assert evaluated.returncode in (0, 1), evaluated.stdout[-3000:] + evaluated.stderr[-2000:]
    assert f"{len(EVAL_CASES)} passed" in evaluated.stdout or "failed" in evaluated.stdout
    assert [s["suite"] for s in summary["suites"]] == ["sql"]
