"""Report renderings: SARIF validated against the official 2.1.0 schema, GitHub workflow commands,
review.json shape, the text report, and atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from code_assistant_lora.changes import ChangeSet, ChangeSource
from code_assistant_lora.findings import Finding, Severity, fingerprint
from code_assistant_lora.report import render, review_document, write_atomic
from code_assistant_lora.review.run import ReviewResult

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())


def finding(
    rule="docker.secret-in-env",
    severity=Severity.HIGH,
    file="Dockerfile",
    line=7,
    rationale="Secret in ENV, 100% visible: a,b",
):
    return Finding(
        rule=rule,
        category="secret-in-dockerfile",
        severity=severity,
        file=file,
        line=line,
        end_line=line,
        rationale=rationale,
        suggested_fix="Use a build secret.\nThen rotate it.",
        fingerprint=fingerprint(rule, file, "ENV X=y"),
    )


@pytest.fixture
def document():
    result = ReviewResult(
        changeset=ChangeSet(source=ChangeSource("range", base="main", head="HEAD"), files=[]),
        findings=[
            finding(),
            finding("python.print-left-in-code", Severity.LOW, "app/x.py", 3, "print left in"),
        ],
        files_reviewed=2,
        notes=["skipped big.json: 3000 kB is over the 2 MB review limit"],
    )
    return review_document(result, Severity.HIGH)


def test_review_json_follows_the_contract(document):
    assert document["schema"] == "code-assistant/review@1"
    assert document["source"] == {
        "kind": "range",
        "base": "main",
        "head": "HEAD",
        "diff_file": None,
    }
    assert document["summary"]["by_severity"] == {"high": 1, "low": 1}
    assert document["summary"]["failing"] == 1
    first = document["findings"][0]
    assert set(first) == {
        "rule",
        "category",
        "severity",
        "file",
        "line",
        "end_line",
        "rationale",
        "suggested_fix",
        "source",
        "fingerprint",
    }
    assert Finding.from_dict(first) == finding()


def test_sarif_validates_against_the_official_schema(document):
    sarif = json.loads(render(document, "sarif"))
    jsonschema.validate(sarif, SCHEMA)
    run = sarif["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == [
        "docker.secret-in-env",
        "python.print-left-in-code",
    ]
    assert run["results"][0]["level"] == "error" and run["results"][1]["level"] == "note"
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {
        "docker.secret-in-env",
        "python.print-left-in-code",
    }


def test_sarif_with_no_findings_is_still_valid(document):
    empty = {**document, "findings": [], "notes": []}
    jsonschema.validate(json.loads(render(empty, "sarif")), SCHEMA)


def test_an_invalid_sarif_would_be_caught(document):
    sarif = json.loads(render(document, "sarif"))
    sarif["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(sarif, SCHEMA)


def test_github_commands_escape_data_and_properties(document):
    lines = render(document, "github").splitlines()
    assert lines[0].startswith(
        "::error file=Dockerfile,line=7,endLine=7,title=docker.secret-in-env::[high] "
    )
    assert "100%25 visible: a,b" in lines[0]  # data: only %, CR, LF escaped
    assert "%0AThen rotate it." in lines[0]
    assert lines[1].startswith("::notice file=app/x.py,line=3,")
    assert lines[2].startswith("::notice title=code-assistant::skipped big.json")


def test_text_report_is_readable(document):
    text = render(document, "text")
    assert (
        "Dockerfile" in text
        and "docker.secret-in-env" in text
        and "fix: Use a build secret." in text
    )
    assert "2 finding(s) in 2 file(s) (1 high, 1 low); 1 at or above high" in text
    assert "\x1b[" not in text


def test_write_atomic_leaves_no_temp_files(tmp_path):
    target = write_atomic(tmp_path / "a" / "review.json", "{}\n")
    assert target.read_text() == "{}\n"
    assert [p.name for p in target.parent.iterdir()] == ["review.json"]
