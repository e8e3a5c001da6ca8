"""Reviewer SFT from the real regression fixtures: the prompt a specialist is sent at review time,
and an answer the model-side validator accepts as exactly the expected findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from code_assistant_lora.training.records import parse_record
from code_assistant_lora.training.reviewer_sft import (
    SPECIALIST_SUITES,
    load_cases,
    reviewer_records,
)
from sft_canaries import AWS_KEY_ID, leaks

from code_assistant_lora.errors import UserError
from code_assistant_lora.evals.case import find_cases, load_case
from code_assistant_lora.evals.patch import apply_case
from code_assistant_lora.models.specialist import parse_findings, specialist_messages

SUITES = Path(__file__).resolve().parents[2] / "evals" / "reviewer_regression"


@pytest.fixture(scope="module")
def sql_cases():
    return load_cases([SUITES / "sql"])


def test_every_sql_case_becomes_one_record(sql_cases):
    result = reviewer_records(sql_cases, "sql")
    assert len(result.records) == len(find_cases(SUITES / "sql")) == len(sql_cases)
    assert not result.skipped
    for case, record in zip(sql_cases, result.records, strict=True):
        assert record.meta["specialist"] == "sql" and record.meta["case"] == case.case_id
        prompt, _ = specialist_messages(apply_case(case), role="sql")
        assert [m.to_dict() for m in record.messages[:2]] == prompt
        answer = json.loads(record.messages[-1].content)
        produced = {(f["file"], f["line"], f["category"]) for f in answer["findings"]}
        assert produced == {(e.file, e.line, e.category) for e in case.expected}
        assert all(f["rationale"] for f in answer["findings"])


def test_the_answer_passes_the_specialists_own_output_validator(sql_cases):
    for case, record in zip(sql_cases, reviewer_records(sql_cases, "sql").records, strict=True):
        findings, notes = parse_findings(record.messages[-1].content, apply_case(case), "model:x")
        assert notes == []
        for expected in case.expected:
            match = next(f for f in findings if (f.file, f.line) == (expected.file, expected.line))
            assert match.category == expected.category
            assert match.severity.at_least(expected.severity)


def test_clean_cases_teach_an_empty_answer(sql_cases):
    clean = [c for c in sql_cases if c.must_not_flag]
    records = reviewer_records(clean, "sql").records
    assert records and all(r.messages[-1].content == '{"findings": []}' for r in records)


def test_specialists_take_only_their_suites():
    cases = load_cases([SUITES / "react", SUITES / "sql"])
    typescript = reviewer_records(cases, "typescript").records
    assert {r.meta["case"].split("/")[0] for r in typescript} == {"react"}
    assert SPECIALIST_SUITES["typescript"] == ("typescript", "react", "vue")
    everyone = reviewer_records(cases)
    assert {r.meta["specialist"] for r in everyone.records} == {"typescript", "sql"}


def test_cases_with_secrets_or_dotenv_files_are_skipped():
    cases = load_cases([SUITES / "docker_ci", SUITES / "typescript"])
    result = reviewer_records(cases)
    assert result.skipped["holds a secret"] >= 1 and result.skipped["banned path"] >= 1
    text = "\n".join(json.dumps(r.to_dict()) for r in result.records)
    assert "AKIA" not in text and ".env b/" not in text


def _mined_case(**overrides) -> dict:
    case = {
        "suite": "python",
        "description": "A request without a timeout",
        "diff": (
            "diff --git a/app/client.py b/app/client.py\nnew file mode 100644\n"
            "--- /dev/null\n+++ b/app/client.py\n@@ -0,0 +1,4 @@\n+import requests\n+\n+\n"
            "+def fetch(url):\n"
        ),
        "must_not_flag": True,
    }
    case.update(overrides)
    return case


def test_mined_review_data_in_jsonl_is_read_like_fixtures(tmp_path):
    mined = tmp_path / "mined.jsonl"
    mined.write_text(json.dumps(_mined_case()) + "\n", encoding="utf-8")
    cases = load_cases([mined])
    assert [c.case_id for c in cases] == ["python/mined:1"]
    record = reviewer_records(cases, "python").records[0]
    assert parse_record(record.to_dict()).messages == record.messages


def test_a_broken_mined_case_names_its_line(tmp_path):
    mined = tmp_path / "mined.jsonl"
    mined.write_text(
        json.dumps(_mined_case()) + "\n" + json.dumps(_mined_case(must_not_flag="yes")) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError, match=r"mined.jsonl:2: must_not_flag"):
        load_cases([mined])
    mined.write_text(json.dumps({k: v for k, v in _mined_case().items() if k != "suite"}))
    with pytest.raises(UserError, match=r"mined.jsonl:1: suite: missing"):
        load_cases([mined])


def test_the_command_writes_one_specialists_records(train_cli, tmp_path):
    out = tmp_path / "sql.jsonl"
    run = train_cli("build-reviewer-sft", SUITES / "sql", "--specialist", "sql", "--out", out)
    assert run.code == 0, run.err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(find_cases(SUITES / "sql"))
    assert run.err.startswith(f"{len(lines)} reviewer records for sql (")
    assert str(out) in run.err


def test_a_case_with_a_planted_key_never_reaches_the_output(train_cli, tmp_path):
    case = load_case(SUITES / "python" / "asyncpg_user_repo_fstring.yaml")
    data = _mined_case(
        diff=case.diff.replace("import httpx", f"import httpx\nKEY = '{AWS_KEY_ID}'"),
        description="planted",
    )
    data.pop("must_not_flag")
    data["expected"] = [{"file": "accounts/repo.py", "line": 1, "category": "x", "severity": "low"}]
    data["files_before"] = case.files_before
    data["diff"] = case.diff  # the key goes in the description instead: any field counts
    data["description"] = f"uses {AWS_KEY_ID}"
    mined = tmp_path / "mined.jsonl"
    mined.write_text(json.dumps(data) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = train_cli("build-reviewer-sft", mined, "--out", out)
    assert run.code == 2 and "no reviewer records" in run.err
    assert not out.exists() and not leaks(run.out + run.err)
