"""Model reviewers over a real OpenAI-compatible server on 127.0.0.1: answers, garbage, outages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai_server import FakeOpenAIServer, unused_port_url
from rulekit import file_change
from test_evals_plugin import CLEAN_CASE, SQL_CASE, write_case

from code_assistant_lora.findings import Severity
from code_assistant_lora.models.client import ChatClient, ModelError
from code_assistant_lora.models.specialist import parse_findings

pytest_plugins = ["pytester"]

FILES = [
    file_change(
        "app/reports.py",
        "import sqlite3\n\n\ndef orders_for(conn, c):\n    return conn.execute(f'{c}')\n",
        "import sqlite3\n",
    )
]


def answer(*findings: dict) -> str:
    return "Here you go:\n```json\n" + json.dumps({"findings": list(findings)}) + "\n```"


def sql_finding(line: int = 5, **extra) -> dict:
    return {
        "file": "app/reports.py",
        "line": line,
        "category": "sql-injection",
        "severity": "high",
        "rationale": "query built from input",
        "suggested_fix": "use parameters",
        **extra,
    }


def test_valid_findings_are_kept_and_out_of_diff_ones_dropped():
    text = answer(
        sql_finding(),
        sql_finding(line=1),  # unchanged line
        sql_finding(file="elsewhere.py"),
        {"file": "app/reports.py", "line": 5, "category": "x", "severity": "urgent"},
        "not a finding",
    )
    kept, notes = parse_findings(text, FILES, "model:python")
    assert [(f.file, f.line, f.severity, f.source, f.rule) for f in kept] == [
        ("app/reports.py", 5, Severity.HIGH, "model:python", "model.sql-injection")
    ]
    assert notes == [
        "model:python: dropped 2 invalid finding(s)",
        "model:python: dropped 2 finding(s) outside the diff",
    ]


@pytest.mark.parametrize("text", ["", "no json here", "{", '{"findings": 3}', "[1, 2", "null"])
def test_garbage_answers_give_no_findings_and_a_note(text):
    kept, notes = parse_findings(text, FILES, "model:python")
    assert kept == [] and len(notes) == 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parse_findings_never_raises(text):
    kept, notes = parse_findings(text, FILES, "model:python")
    assert all(f.file == "app/reports.py" for f in kept)


def test_client_round_trip_and_api_key_from_environment(monkeypatch):
    monkeypatch.setenv("CODE_ASSISTANT_API_KEY", "test-key")
    seen = {}

    def reply(body):
        seen.update(body)
        return "hello"

    with FakeOpenAIServer(reply) as server:
        client = ChatClient(server.base_url, timeout=5)
        try:
            assert (
                client.complete("python-reviewer", [{"role": "user", "content": "hi"}]) == "hello"
            )
        finally:
            client.close()
    assert seen["model"] == "python-reviewer" and seen["temperature"] == 0.0


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (lambda body: (500, {"error": "boom"}), "answered HTTP 500"),
        (lambda body: (400, {"error": "bad model"}), "answered HTTP 400"),
        (lambda body: (200, b"<html>"), "not a chat completion"),
        (lambda body: 2.0, "did not answer within 0.5 s"),
    ],
)
def test_client_errors_are_one_line_model_errors(reply, message):
    with FakeOpenAIServer(reply) as server:
        client = ChatClient(server.base_url, timeout=0.5, backoff=0.01)
        with pytest.raises(ModelError, match=message):
            client.complete("m", [])
        client.close()


def test_unreachable_server_is_a_model_error():
    client = ChatClient(unused_port_url(), timeout=1, backoff=0.01)
    with pytest.raises(ModelError, match="unreachable"):
        client.complete("m", [])
    client.close()


def test_eval_plugin_scores_a_model_endpoint(pytester):
    write_case(pytester, "python", "sql_fstring", SQL_CASE)
    write_case(pytester, "python", "clean_param_query", CLEAN_CASE)

    def reply(body):
        prompt = body["messages"][-1]["content"]
        if 'f"select' in prompt or "f'" in prompt or "{customer}" in prompt:
            return answer(sql_finding(line=9))
        return answer()

    with FakeOpenAIServer(reply) as server:
        result = pytester.runpytest(
            "evals",
            "--assistant-reviewer",
            "model",
            "--assistant-endpoint",
            server.base_url,
            "--assistant-model",
            "python-reviewer",
            "--assistant-eval-report",
            "eval.json",
        )
        assert {r["model"] for r in server.requests} == {"python-reviewer"}
    result.assert_outcomes(passed=2)
    summary = json.loads((pytester.path / "eval.json").read_text())
    assert summary["reviewer"] == "model" and summary["model"] == "python-reviewer"
    assert summary["overall"]["recall"] == 1.0


def test_eval_plugin_with_the_model_down_fails_cases_with_a_note(pytester):
    write_case(pytester, "python", "sql_fstring", SQL_CASE)
    result = pytester.runpytest(
        "evals",
        "--assistant-reviewer",
        "both",
        "--assistant-endpoint",
        unused_port_url(),
        "--assistant-model",
        "python-reviewer",
        "--assistant-model-timeout",
        "1",
    )
    # the rules still find the problem; the note says the model was skipped
    result.assert_outcomes(passed=1)
    write_case(pytester, "python", "sql_fstring", SQL_CASE.replace("line: 9", "line: 4"))
    result = pytester.runpytest(
        "evals",
        "--assistant-reviewer",
        "model",
        "--assistant-endpoint",
        unused_port_url(),
        "--assistant-model",
        "python-reviewer",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*note: model python-reviewer skipped: *unreachable*"])
