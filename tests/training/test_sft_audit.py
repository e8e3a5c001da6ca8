"""audit: a clean split passes; each kind of problem fails it (exit 1) and says where, never what."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from code_assistant_lora.training.audit import AUDIT_SCHEMA, CHECKS
from sft_canaries import AWS_KEY_ID, GITHUB_TOKEN, PRIVATE_KEY, leaks


def _record(n: int, **meta) -> dict:
    rng = random.Random(n)  # every record its own words: none is near another
    names = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)) for _ in range(24)]
    body = "\n".join(f"    {names[i]} = {names[i + 12]} * quantity_{i}" for i in range(12))
    return {
        "messages": [
            {"role": "user", "content": f"Write function number {n} of the pricing module."},
            {"role": "assistant", "content": f"def price_{n}(quantity):\n{body}\n"},
        ],
        "meta": {"task": "feature", "language": "python", "paths": [f"pricing/m{n}.py"], **meta},
    }


def _write(path: Path, records: list) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def clean_split(tmp_path):
    train = _write(tmp_path / "train.jsonl", [_record(n, group=f"g{n}") for n in range(20)])
    evaluation = _write(tmp_path / "eval.jsonl", [_record(n, group=f"g{n}") for n in range(20, 24)])
    return train, evaluation


def test_a_clean_split_passes(train_cli, clean_split, tmp_path):
    run = train_cli("audit", *clean_split)
    assert run.code == 0, run.err
    document = json.loads((tmp_path / "audit.json").read_text())
    assert document["schema"] == AUDIT_SCHEMA and document["passed"] is True
    assert document["checks"] == dict.fromkeys(CHECKS, 0)
    assert [f["records"] for f in document["files"]] == [20, 4]
    assert "cross-split-duplicate" in run.out and "FAIL" not in run.out  # the table
    assert run.err.startswith("audit passed: 24 records in 2 file(s)")


def test_instruction_records_are_audited_like_chat_records(train_cli, tmp_path):
    """instruction/input/output is an accepted record shape: the audit must not assume messages."""

    def instruction(n: int) -> dict:
        chat = _record(n, group=f"g{n}")
        return {
            "instruction": chat["messages"][0]["content"],
            "output": chat["messages"][1]["content"],
            "meta": chat["meta"],
        }

    train = _write(tmp_path / "train.jsonl", [instruction(n) for n in range(6)])
    evaluation = _write(
        tmp_path / "eval.jsonl", [instruction(n) for n in (6, 7)] + [instruction(0)]
    )
    run = train_cli("audit", train, evaluation)
    assert run.code == 1, run.err  # the copied record is a duplicate across the split
    document = json.loads((tmp_path / "audit.json").read_text())
    assert document["checks"]["invalid-schema"] == 0
    assert document["checks"]["cross-split-duplicate"] >= 1


def _problems(tmp_path, check):
    document = json.loads((tmp_path / "audit.json").read_text())
    return [p for p in document["problems"] if p["check"] == check], document


def test_secrets_in_any_field_fail_and_are_never_repeated(train_cli, clean_split, tmp_path):
    train, evaluation = clean_split
    planted = _record(90, note=f"deploy with {AWS_KEY_ID}")
    planted["messages"][1]["content"] += f"\nTOKEN = '{GITHUB_TOKEN}'\n"
    key_in_path = _record(91, paths=["ok.py", "x/" + PRIVATE_KEY.splitlines()[0]])
    _write(
        train,
        [*(json.loads(line) for line in train.read_text().splitlines()), planted, key_in_path],
    )
    run = train_cli("audit", train, evaluation, "--format", "json")
    assert run.code == 1
    secrets, document = _problems(tmp_path, "secret")
    where = {(p["line"], p["field"]) for p in secrets}
    assert where == {
        (21, "messages[1].content line 15"),
        (21, "meta.note line 1"),
        (22, "meta.paths[1] line 1"),
    }
    assert {p["detail"] for p in secrets} >= {"AWS Access Key", "GitHub Token", "Private Key"}
    assert document["passed"] is False
    assert not leaks((tmp_path / "audit.json").read_text() + run.out + run.err)


def test_banned_paths_in_provenance_or_diff_headers_fail(train_cli, clean_split, tmp_path):
    train, evaluation = clean_split
    dotenv = _record(50, paths=[".env.production"])
    vendored = _record(51)
    vendored["messages"][1]["content"] = (
        "diff --git a/node_modules/left-pad/index.js b/node_modules/left-pad/index.js\n"
        "--- a/node_modules/left-pad/index.js\n+++ b/node_modules/left-pad/index.js\n@@ -1 +1 @@\n-a\n+b\n"
    )
    _write(
        evaluation, [dotenv, vendored, _record(52, paths=["venv/lib/site.py", "keys/deploy.pem"])]
    )
    run = train_cli("audit", train, evaluation)
    assert run.code == 1
    banned, _ = _problems(tmp_path, "banned-path")
    assert {p["detail"] for p in banned} == {
        ".env.production: dotenv file",
        "node_modules/left-pad/index.js: dependency folder node_modules/",
        "venv/lib/site.py: virtualenv venv/",
        "keys/deploy.pem: key or credential file",
    }
    assert "banned-path" in run.out and "FAIL" in run.out


def test_near_duplicates_across_the_split_fail(train_cli, clean_split, tmp_path):
    train, evaluation = clean_split
    copy = _record(3)
    copy["messages"][1]["content"] = copy["messages"][1]["content"].replace("quantity_5", "qty_5")
    exact = _record(4)
    _write(evaluation, [_record(30), copy, exact])
    run = train_cli("audit", train, evaluation)
    assert run.code == 1
    cross, document = _problems(tmp_path, "cross-split-duplicate")
    details = sorted(p["detail"] for p in cross)
    assert details[0].endswith(f"similar to {train}:4") and details[1] == f"same text as {train}:5"
    assert [p["line"] for p in sorted(cross, key=lambda p: p["line"])] == [2, 3]
    assert document["checks"]["duplicate"] == 0


def test_schema_size_emptiness_duplicates_and_group_leaks_fail(train_cli, clean_split, tmp_path):
    train, evaluation = clean_split
    empty = _record(60)
    empty["messages"][1]["content"] = "  "
    rows = [
        '{broken "' + AWS_KEY_ID,
        {"messages": [{"role": "user", "content": "only a question"}]},
        empty,
        _record(61),
        _record(61),
        _record(62, group="g1"),  # g1 is a train group
    ]
    _write(evaluation, rows)
    run = train_cli("audit", train, evaluation, "--max-tokens", "60")
    assert run.code == 1
    _, document = _problems(tmp_path, "x")
    checks = document["checks"]
    assert checks["invalid-schema"] == 2 and checks["empty"] == 1 and checks["duplicate"] == 1
    assert checks["group-leak"] == 1 and checks["oversize"] == 23
    invalid = [p for p in document["problems"] if p["check"] == "invalid-schema"]
    assert [(p["line"], p.get("field")) for p in invalid] == [(1, None), (2, "messages")]
    secret = [p for p in document["problems"] if p["check"] == "secret"]
    assert [(p["line"], p["field"]) for p in secret] == [(1, "<raw line> line 1")]
    assert not leaks((tmp_path / "audit.json").read_text() + run.out + run.err)


def test_a_missing_dataset_is_a_usage_error(train_cli, tmp_path):
    run = train_cli("audit", tmp_path / "nope.jsonl")
    assert run.code == 2 and "nope.jsonl: no such file" in run.err
    assert not (tmp_path / "audit.json").exists()
