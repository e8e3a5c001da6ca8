"""The dashboard's pure data functions, over real files: curated datasets, build-sft and audit
runs, eval summaries, adapter metadata, training logs and a real training subprocess."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from code_assistant_lora.training.dashboard import (
    adapters_view,
    audit_view,
    build_view,
    dataset_view,
    environment_view,
    evals_view,
    launch,
    training_log,
)
from code_assistant_lora.training.dashboard.masking import mask_text, mask_value
from code_assistant_lora.training.dashboard.run_process import TrainingProcess
from code_assistant_lora.training.environment import (
    CPU_CONFIG,
    GPU_CONFIG,
    accelerate_config,
    training_command,
)
from code_assistant_lora.training.train_config import load_config
from dashboard_fixtures import (
    CANARY,
    canary_record,
    curated_records,
    eval_block,
    train_events,
    write_adapter,
    write_jsonl,
    write_promoted,
)

from code_assistant_lora.errors import UserError

PROJECT = Path(__file__).resolve().parents[2]
RULES_SUMMARY = PROJECT / "logs" / "eval-rules-2026-11-25.json"


# --- masking -------------------------------------------------------------------------------------


def test_mask_text_replaces_only_the_line_holding_the_secret():
    text = f"import boto3\nkey = '{CANARY}'\nprint(key)"
    masked = mask_text(text)
    assert CANARY not in masked
    assert masked.split("\n") == ["import boto3", "[secret masked: AWS Access Key]", "print(key)"]
    assert mask_text("def add(a, b):\n    return a + b") == "def add(a, b):\n    return a + b"


def test_mask_text_hides_a_whole_private_key_block():
    body = "MIIEow" + "IBAAKCAQEA7Vq2" + "c9Fh" * 12
    armour = "-----BEGIN RSA " + "PRIVATE KEY-----"
    text = f"key:\n{armour}\n{body[:64]}\n{body[64:]}\n-----END RSA PRIVATE KEY-----\ndone"
    masked = mask_text(text)
    assert body[:24] not in masked and body[64:80] not in masked
    assert masked == "key:\n[secret masked: private key]\ndone"


def test_mask_value_masks_nested_strings_and_keeps_the_shape():
    value = {"messages": [{"role": "user", "content": f"token = '{CANARY}'"}], "meta": {"n": 3}}
    masked = mask_value(value)
    assert CANARY not in json.dumps(masked)
    assert masked["meta"] == {"n": 3} and masked["messages"][0]["role"] == "user"


# --- the curated file ----------------------------------------------------------------------------


@pytest.fixture
def loaded(curated):
    return dataset_view.load_curated(curated.path)


def test_load_counts_task_types_and_languages(loaded, curated):
    assert loaded.count == curated.records and loaded.invalid == ()
    records = [r for _, r in loaded.records]
    table = dataset_view.task_language_rows(records)
    assert table[0] == ["task", "python", "typescript", "total"]
    assert table[1:] == [
        ["bugfix", 4, 0, 4],
        ["feature", 1, 4, 5],  # the canary record is a python feature
        ["tests", 4, 0, 4],
        ["total", 9, 4, 13],
    ]
    assert dataset_view.count_rows(records, "language") == [
        {"language": "python", "records": 9},
        {"language": "typescript", "records": 4},
    ]
    assert dataset_view.summary(loaded)["by_task"] == {"bugfix": 4, "feature": 5, "tests": 4}


def test_malformed_lines_are_listed_without_their_values(tmp_path):
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [*curated_records()[:2], {"messages": [{"role": "robot", "content": CANARY}]}],
    )
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    loaded = dataset_view.load_curated(path)
    assert loaded.count == 2
    listed = dataset_view.invalid_lines(loaded)
    assert listed[0].startswith(f"{path}:3: messages[0].role")
    assert listed[1].startswith(f"{path}:4: invalid JSON")
    assert CANARY not in "\n".join(listed)


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.jsonl", "no such file"), ("", "no file given"), ("empty.jsonl", "no records")],
)
def test_bad_files_are_user_errors(tmp_path, name, message):
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(UserError, match=message):
        dataset_view.load_curated(tmp_path / name if name else "")


def test_length_histogram_uses_doubling_bins_and_keeps_empty_ones():
    rows = dataset_view.length_histogram([10, 32, 33, 200, 250])
    assert rows == [
        {"tokens": "<= 32", "records": 2},
        {"tokens": "33-64", "records": 1},
        {"tokens": "65-128", "records": 0},
        {"tokens": "129-256", "records": 2},
    ]
    assert dataset_view.length_histogram([]) == []


def test_lengths_split_prompt_and_answer(loaded):
    records = [r for _, r in loaded.records]
    whole, prompt, answer = (
        dataset_view.lengths(records, p) for p in ("record", "prompt", "answer")
    )
    assert all(p + a - 1 <= w <= p + a for w, p, a in zip(whole, prompt, answer, strict=True))
    assert prompt[11] > prompt[0]  # the clean records' prompts grow


def test_record_pages_clamp_and_mask(loaded, curated):
    page = dataset_view.record_page(loaded, 99, size=5)
    assert (page.number, page.pages, page.first) == (3, 3, 10)
    assert [row[0] for row in page.rows] == [11, 12, 13]
    assert page.rows[-1][1] == curated.canary_line
    shown = dataset_view.record_json(loaded, curated.records)
    assert CANARY not in shown and "[secret masked: AWS Access Key]" in shown
    assert json.loads(shown)["line"] == curated.canary_line
    assert dataset_view.record_page(loaded, 0, size=5).number == 1


# --- build-sft and the audit ---------------------------------------------------------------------


def test_build_writes_the_splits_and_lists_them(curated, tmp_path):
    view = build_view.run_build(str(curated.path), str(tmp_path / "sft"), 0.25, 13, "file")
    files = {row[0]: row for row in view.files}
    for split in ("train", "eval"):
        path = Path(files[split][1])
        lines = path.read_text(encoding="utf-8").splitlines()
        assert files[split][2] == len(lines) > 0
        assert files[split][3] == path.stat().st_size
        assert CANARY not in path.read_text(encoding="utf-8")
    assert files["train"][2] + files["eval"][2] == curated.records - 1
    assert view.dropped == [["holds a secret", 1]]
    assert Path(files["stats"][1]).name == "train.stats.json"


def test_build_refuses_a_malformed_record_and_writes_nothing(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [*curated_records()[:3], {"output": "x"}])
    with pytest.raises(UserError, match=r"bad\.jsonl:4: instruction"):
        build_view.run_build(str(bad), str(tmp_path / "out"), 0.25, 13, "file")
    assert not (tmp_path / "out").exists()
    with pytest.raises(UserError, match="no curated file"):
        build_view.run_build("", str(tmp_path / "out"), 0.25, 13, "file")


def test_audit_rows_name_file_and_record_with_the_secret_masked(curated):
    view = audit_view.run_audit([str(curated.path)])
    assert not view.result.passed and view.path == curated.path.with_name("audit.json")
    assert ["secret", 1, "FAIL"] in view.checks
    (row,) = view.violations
    check, file, line, field, detail, excerpt = row
    assert (check, file, line, detail) == ("secret", str(curated.path), 13, "AWS Access Key")
    assert field == "messages[1].content line 5"
    assert "[secret masked: AWS Access Key]" in excerpt and CANARY not in excerpt
    assert excerpt.startswith("messages[1].content line 5:")


def test_audit_needs_existing_files(tmp_path):
    with pytest.raises(UserError, match="no files"):
        audit_view.run_audit([])
    with pytest.raises(UserError, match="missing.jsonl: no such file"):
        audit_view.run_audit([str(tmp_path / "missing.jsonl")])
    assert audit_view.parse_paths(" a.jsonl\n\nb.jsonl, c.jsonl ") == [
        "a.jsonl",
        "b.jsonl",
        "c.jsonl",
    ]


def test_record_excerpt_of_a_line_that_is_not_json_is_masked():
    excerpt = audit_view.record_excerpt(f'{{"broken": "{CANARY}"')
    assert CANARY not in excerpt and "secret masked" in excerpt


# --- eval summaries ------------------------------------------------------------------------------


def test_eval_summary_table_and_chart_rows():
    document = evals_view.load_summary(RULES_SUMMARY)
    headers, rows = evals_view.summary_table(document)
    assert headers[:5] == ["suite", "cases", "passed", "precision", "recall"]
    assert rows[-1][0] == "all" and len(rows) == len(document["suites"]) + 1
    chart = evals_view.chart_rows(document)
    assert len(chart) == 2 * len(document["suites"])
    assert {"suite": "python", "metric": "recall", "value": 1.0} in chart


def test_eval_overview_reports_unreadable_files(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "eval-rules.json").write_text(RULES_SUMMARY.read_text(encoding="utf-8"))
    (logs / "eval-broken.json").write_text("{", encoding="utf-8")
    (logs / "eval-other.json").write_text('{"schema": "x"}', encoding="utf-8")
    paths = evals_view.find_summaries(logs)
    assert [Path(p).name for p in paths] == [
        "eval-broken.json",
        "eval-other.json",
        "eval-rules.json",
    ]
    rows = evals_view.overview_rows(paths)
    assert rows[0][-1].startswith("unreadable:") and "not valid JSON" in rows[0][-1]
    assert "not an eval summary" in rows[1][-1]
    assert rows[2][2] == "rules" and rows[2][-1] == "207/207"
    assert evals_view.find_summaries(tmp_path / "nowhere") == []


# --- adapters ------------------------------------------------------------------------------------

PROMOTED_SCORES = {"python": (0.95, 0.90), "sql": (0.90, 0.90)}


@pytest.fixture
def adapters_root(tmp_path) -> Path:
    write_adapter(tmp_path / "adapters" / "python-v1", "python-v1", PROMOTED_SCORES, "a" * 64)
    write_adapter(
        tmp_path / "adapters" / "python-v2",
        "python-v2",
        {"python": (0.97, 0.80), "sql": (0.92, 0.95)},
        "b" * 64,
    )
    broken = tmp_path / "adapters" / "broken"
    broken.mkdir()
    (broken / "adapter.metadata.json").write_text('{"schema": "nope"}', encoding="utf-8")
    return tmp_path


def test_find_adapters_reads_metadata_and_reports_bad_files(adapters_root):
    found = adapters_view.find_adapters(adapters_root / "adapters")
    assert [Path(a.path).name for a in found] == ["broken", "python-v1", "python-v2"]
    assert found[0].metadata is None and "not code-assistant/adapter-metadata@1" in found[0].error
    assert found[1].metadata.name == "python-v1"
    with pytest.raises(UserError, match="no such folder"):
        adapters_view.find_adapters(adapters_root / "missing")


def test_comparison_flags_regressions_against_the_promoted_adapter(adapters_root):
    registry = write_promoted(
        adapters_root / "adapters" / "promoted.json",
        {
            "python": {
                "path": "adapters/python-v1",
                "name": "python-v1",
                "scores": eval_block(PROMOTED_SCORES),
                "promoted_at": "2026-11-25T12:00:00+00:00",
            }
        },
    )
    promoted = adapters_view.load_promoted(registry)
    found = adapters_view.find_adapters(adapters_root / "adapters")
    comparison = adapters_view.compare(found, promoted, adapters_root)
    assert comparison.columns == ["python-v1", "python-v2"]
    assert comparison.promoted_columns == {0}
    regressed = {(r.adapter, r.suite, r.metric) for r in comparison.regressions}
    assert regressed == {
        ("python-v2", "python", "recall"),
        ("python-v2", "python", "f1"),
        ("python-v2", "overall", "recall"),
        ("python-v2", "overall", "f1"),
    }
    assert ("python recall", 1) in comparison.flagged and (
        "python precision",
        1,
    ) not in comparison.flagged
    rows = dict(comparison.rows)
    assert rows["base model"] == ["tiny-llama", "tiny-llama"]
    assert rows["train data sha256"][1].startswith("bbbbbbbbbbbb (11 records)")
    page = adapters_view.comparison_html(comparison)
    assert page.count('class="regression"') == 4
    assert "0.800 ▼ (promoted 0.900)" in page


def test_registry_entries_without_scores_use_the_promoted_metadata(adapters_root):
    promoted = {"python": {"path": "adapters/python-v1", "name": "python-v1"}}
    found = adapters_view.find_adapters(adapters_root / "adapters")
    comparison = adapters_view.compare(found, promoted, adapters_root)
    assert {(r.suite, r.metric) for r in comparison.regressions} >= {("python", "recall")}


def test_no_registry_means_no_regressions(adapters_root):
    assert adapters_view.load_promoted(adapters_root / "adapters" / "promoted.json") == {}
    found = adapters_view.find_adapters(adapters_root / "adapters")
    assert adapters_view.compare(found, {}, adapters_root).regressions == []
    bad = adapters_root / "bad.json"
    bad.write_text('{"schema": "something-else"}', encoding="utf-8")
    with pytest.raises(UserError, match="not a code-assistant/promoted-adapters@1 registry"):
        adapters_view.load_promoted(bad)


def test_suite_scores_reads_every_shape():
    listed = {"suites": [{"suite": "sql", "precision": 0.5, "recall": 1, "f1": 0.67}]}
    assert adapters_view.suite_scores(listed) == {
        "sql": {"precision": 0.5, "recall": 1.0, "f1": 0.67}
    }
    assert adapters_view.suite_scores({"precision": 0.9, "recall": 0.8}) == {
        "overall": {"precision": 0.9, "recall": 0.8}
    }
    assert adapters_view.suite_scores(None) == {}


# --- training logs -------------------------------------------------------------------------------


def _log_text(events: list[dict]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def _run(tmp_path: Path, text: str) -> Path:
    (tmp_path / training_log.LOG_FILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_progress_of_a_running_log_with_a_half_written_last_line(tmp_path):
    log = training_log.read_log(_run(tmp_path, _log_text(train_events(10, 40)) + '{"event": "st'))
    state = training_log.progress(log)
    assert state["status"] == "running"
    assert (state["step"], state["total_steps"], state["fraction"]) == (10, 40, 0.25)
    assert state["loss"] == 0.2 and state["eval_loss"] == 0.22
    assert state["elapsed_s"] == 10 and state["remaining_s"] == 30
    markdown = training_log.progress_markdown(state)
    assert "step 10 / 40 (25%)" in markdown and "about 0h00m30s left" in markdown


def test_progress_of_a_finished_log():
    state = training_log.progress(training_log.summarize(train_events(40, 40, "completed")))
    assert state["status"] == "completed" and state["fraction"] == 1.0
    assert state["remaining_s"] is None and state["elapsed_s"] == 40.0
    interrupted = training_log.summarize(train_events(3, 40, "interrupted"))
    assert training_log.progress(interrupted)["status"] == "interrupted"
    assert training_log.progress(training_log.summarize([]))["status"] == "not started"


def test_events_without_their_numbers_are_skipped():
    log = training_log.summarize([{"event": "step", "step": 1}, {"event": "eval", "step": 1}])
    assert (log.steps, log.evals, log.skipped) == ([], [], 2)


def test_loss_points_are_thinned_but_keep_the_last_step():
    log = training_log.summarize(train_events(100, 100))
    points = training_log.loss_points(log, limit=30)
    train = [p for p in points if p["series"] == "train"]
    assert len(train) <= 31 and train[0]["step"] == 1 and train[-1]["step"] == 100
    assert [p["step"] for p in points if p["series"] == "eval"] == list(range(5, 101, 5))


def test_find_runs_newest_first(tmp_path):
    for name, stamp in (("old", 1_000_000), ("new", 2_000_000)):
        run = tmp_path / "runs" / name
        run.mkdir(parents=True)
        log = run / training_log.LOG_FILE
        log.write_text(_log_text(train_events(1, 2)))
        os.utime(log, (stamp, stamp))
    (tmp_path / ".venv" / "x").mkdir(parents=True)
    (tmp_path / ".venv" / "x" / training_log.LOG_FILE).write_text("")
    assert [Path(p).name for p in training_log.find_runs(tmp_path)] == ["new", "old"]
    assert training_log.read_log(tmp_path / "nowhere") is None


# --- training commands and configs ---------------------------------------------------------------


def test_training_command_for_each_machine(tmp_path):
    assert training_command(CPU_CONFIG, 0) == [
        "code-assistant-train", "train", "--config", "configs/train.cpu-lora.yaml",
    ]  # fmt: skip
    assert training_command(GPU_CONFIG, 1)[0] == "code-assistant-train"
    assert launch.shell_line(training_command(GPU_CONFIG, 4)) == (
        "accelerate launch --multi_gpu --num_processes 4 --module "
        "code_assistant_lora.training.cli train --config configs/train.qlora.yaml"
    )
    command = training_command(GPU_CONFIG, 2, accelerate_config(PROJECT))
    assert command[2:4] == ["--config_file", "configs/accelerate/multi_gpu.yaml"]
    runnable = launch.runnable_command(command)
    assert runnable[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert launch.runnable_command(training_command(CPU_CONFIG, 0))[:3] == [
        sys.executable, "-m", "code_assistant_lora.training.cli",
    ]  # fmt: skip


def test_environment_rows_and_advice():
    report = {
        "python": "3.11.7",
        "libraries": {"torch": "2.13.0", "bitsandbytes": None},
        "torch": {"version": "2.13.0", "device_count": 1},
        "cuda": [{"index": 0, "name": "H100", "memory_total_gib": 80}],
        "recommendation": {
            "mode": "qlora",
            "why": "one CUDA device",
            "command": "x",
            "warning": "w",
        },
    }
    rows = dict(environment_view.report_rows(report))
    assert rows["libraries.torch"] == "2.13.0" and rows["libraries.bitsandbytes"] == "not installed"
    assert json.loads(rows["cuda:0"])["name"] == "H100" and "recommendation" not in rows
    advice = environment_view.advice_markdown(report["recommendation"])
    assert advice.splitlines()[:4] == ["**one CUDA device**", "", "```bash", "x"]
    assert "Warning: w" in advice
    no_gpu = environment_view.report_rows({"cuda": []})
    assert no_gpu == [["cuda", "no CUDA device"]]


def test_configs_are_validated_and_say_what_they_need(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    for name in ("train.cpu-lora.yaml", "train.qlora.yaml"):
        shutil.copy(PROJECT / "configs" / name, configs / name)
    (configs / "train.bad.yaml").write_text("output_dir: [\n")
    wrong = (
        (PROJECT / "configs" / "train.cpu-lora.yaml")
        .read_text()
        .replace("quantization: none", "quantization: int3")
    )
    (configs / "train.wrong.yaml").write_text(wrong)
    assert launch.find_configs(tmp_path) == [
        "configs/train.bad.yaml", "configs/train.cpu-lora.yaml", "configs/train.qlora.yaml",
        "configs/train.wrong.yaml",
    ]  # fmt: skip
    cpu = load_config(configs / "train.cpu-lora.yaml")
    assert not launch.needs_gpu(cpu)
    assert launch.run_folder(cpu, tmp_path) == tmp_path / "adapters" / "python-reviewer-cpu"
    assert launch.needs_gpu(load_config(configs / "train.qlora.yaml"))
    with pytest.raises(UserError, match="not valid YAML at line 2"):
        load_config(configs / "train.bad.yaml")
    with pytest.raises(UserError, match="quantization"):
        load_config(configs / "train.wrong.yaml")


# --- the training subprocess ---------------------------------------------------------------------

FAKE_TRAINER = """
import json, sys, time
from pathlib import Path
run = Path(sys.argv[1]); run.mkdir(parents=True, exist_ok=True)
log = run / "train_log.jsonl"
events = json.loads(sys.argv[2])
for event in events:
    with open(log, "a") as handle:
        handle.write(json.dumps(event) + "\\n")
print("training step output", flush=True)
print("key = '" + sys.argv[3] + "'", flush=True)
"""


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_training_process_runs_and_its_log_is_followed(tmp_path):
    process = TrainingProcess()
    run = tmp_path / "runs" / "cpu"
    events = json.dumps(train_events(12, 12, "completed"))
    command = [sys.executable, "-c", FAKE_TRAINER, str(run), events, CANARY]
    state = process.start(command, tmp_path, tmp_path / "out" / "train.log")
    assert state.pid is not None
    _wait(lambda: not process.state().running)
    assert process.state().returncode == 0
    tail = process.output_tail()
    assert tail.splitlines()[0] == "training step output"
    assert "[secret masked" in tail and CANARY not in tail
    state = training_log.progress(training_log.read_log(run))
    assert (state["status"], state["step"]) == ("completed", 12)


def test_training_process_refuses_a_second_run_and_stops(tmp_path):
    process = TrainingProcess()
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    process.start(sleeper, tmp_path, tmp_path / "a.log")
    try:
        with pytest.raises(UserError, match="already in progress"):
            process.start(sleeper, tmp_path, tmp_path / "b.log")
    finally:
        state = process.stop(timeout=5)
    assert not state.running and state.returncode is not None
    with pytest.raises(UserError, match="could not start"):
        process.start([str(tmp_path / "no-such-program")], tmp_path, tmp_path / "c.log")


def test_canary_record_is_the_one_the_scan_flags():
    from code_assistant_lora.training.secret_scan import value_secrets

    assert value_secrets(canary_record())
    assert not any(value_secrets(r) for r in curated_records())
