"""Reviewer regression cases collected and scored by the pytest plugin, in real pytest sub-runs."""

from __future__ import annotations

import json
import textwrap

import pytest

pytest_plugins = ["pytester"]

SQL_CASE = """\
description: Report export builds its query with an f-string
files_before:
  app/reports.py: |
    import sqlite3


    def count_orders(conn):
        return conn.execute("select count(*) from orders").fetchone()[0]
diff: |
  --- a/app/reports.py
  +++ b/app/reports.py
  @@ -3,3 +3,7 @@

   def count_orders(conn):
       return conn.execute("select count(*) from orders").fetchone()[0]
  +
  +
  +def orders_for(conn, customer):
  +    return conn.execute(f"select * from orders where customer = '{customer}'").fetchall()
expected:
  - {file: app/reports.py, line: 9, category: sql-injection, severity: high}
tags: [injection]
"""

CLEAN_CASE = """\
description: Parameterised query is fine
diff: |
  --- /dev/null
  +++ b/app/queries.py
  @@ -0,0 +1,2 @@
  +def orders_for(conn, customer):
  +    return conn.execute("select * from orders where customer = ?", (customer,)).fetchall()
must_not_flag: true
"""


def write_case(pytester, suite: str, name: str, text: str):
    folder = pytester.path / "evals" / "reviewer_regression" / suite
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def suites(pytester):
    write_case(pytester, "python", "sql_fstring", SQL_CASE)
    write_case(pytester, "python", "clean_param_query", CLEAN_CASE)
    return pytester


def test_cases_are_items_named_suite_slash_case(suites):
    result = suites.runpytest("evals", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*clean_param_query.yaml::python/clean_param_query",
            "*sql_fstring.yaml::python/sql_fstring",
        ]
    )


def test_passing_suite_prints_scores_and_writes_reports(suites):
    result = suites.runpytest("evals", "--assistant-eval-report", "logs/eval.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*code-assistant reviewer eval*", "python*2*2/2*1.00*1.00*"])
    summary = json.loads((suites.path / "logs" / "eval.json").read_text())
    assert summary["schema"] == "code-assistant/eval-summary@1"
    python = summary["suites"][0]
    assert (python["suite"], python["cases"], python["clean_cases"]) == ("python", 2, 1)
    assert python["precision"] == 1.0 and python["recall"] == 1.0
    assert "| python | 2 | 2/2 |" in (suites.path / "logs" / "eval.md").read_text()


def test_missed_finding_fails_with_expected_vs_produced(suites):
    write_case(
        suites,
        "python",
        "wrong_line",
        SQL_CASE.replace("line: 9", "line: 4").replace("f-string", "f-string (bad line)"),
    )
    result = suites.runpytest("evals", "-k", "wrong_line")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- missing  app/reports.py:4 sql-injection >= high*",
            "*+ unexpected app/reports.py:9 sql-injection high (python.sql-injection)*",
        ]
    )


def test_flagged_clean_case_fails(suites):
    write_case(
        suites,
        "python",
        "not_clean",
        "description: claims to be clean\n"
        + SQL_CASE.split("\n", 1)[1].split("expected:")[0]
        + "must_not_flag: true\n",
    )
    result = suites.runpytest("evals", "-k", "not_clean")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*+ unexpected app/reports.py:9 sql-injection*"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SQL_CASE.replace("severity: high", "severity: urgent"), "expected[0].severity: 'urgent'"),
        (SQL_CASE.replace("description:", "descripton:"), "descripton: unknown field"),
        (SQL_CASE.replace('count(*) from orders").fetchone()[0]\ndiff', "x\ndiff"), "diff: "),
        ("description: x\ndiff: not a diff\nmust_not_flag: true\n", "diff: "),
        (CLEAN_CASE.replace("must_not_flag: true", ""), "expected: missing"),
        ("- just a list\n", "<document>: a case is a YAML mapping"),
        (SQL_CASE.replace("tags: [injection]", "tags: [skip]"), "tags: 'skip' is a pytest marker"),
    ],
)
def test_broken_case_is_a_collection_error_naming_file_and_field(pytester, text, message):
    write_case(pytester, "python", "broken", text)
    result = pytester.runpytest("evals")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    line = next(x for x in result.stdout.lines if x.startswith("invalid eval case:"))
    assert "broken.yaml: " in line and message in line


def test_markers_select_suites_tags_and_clean_cases(suites):
    write_case(suites, "sql", "clean_select", CLEAN_CASE)
    result = suites.runpytest("evals", "-m", "clean and not sql")
    result.assert_outcomes(passed=1, deselected=2)
    result = suites.runpytest("evals", "-m", "injection")
    result.assert_outcomes(passed=1, deselected=2)


def test_thresholds_from_config_fail_the_session(suites):
    write_case(
        suites,
        "python",
        "wrong_line",
        SQL_CASE.replace("line: 9", "line: 4"),
    )
    suites.makepyprojecttoml(
        """
        [tool.code-assistant.evals]
        min_precision = 0.9
        [tool.code-assistant.evals.suites.python]
        min_recall = 0.9
        """
    )
    result = suites.runpytest(
        "evals", "--deselect", "evals/reviewer_regression/python/wrong_line.yaml::python/wrong_line"
    )
    assert result.ret == pytest.ExitCode.OK
    result = suites.runpytest("evals")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*threshold not met: python: precision 0.50 < 0.90*", "*python: recall 0.50 < 0.90*"]
    )


def test_xdist_and_junit_xml(suites):
    result = suites.runpytest("evals", "-n", "2", "--junitxml", "junit.xml")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["python*2*2/2*"])
    xml = (suites.path / "junit.xml").read_text()
    assert 'name="python/sql_fstring"' in xml


def test_model_reviewer_needs_endpoint(suites):
    result = suites.runpytest("evals", "--assistant-reviewer", "model")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--assistant-reviewer: *needs a model endpoint and a model name*"]
    )


def test_plain_pytest_runs_ignore_yaml_outside_reviewer_regression(pytester):
    (pytester.path / "config.yaml").write_text(textwrap.dedent("a: 1\n"))
    pytester.makepyfile("def test_ok():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "reviewer eval" not in result.stdout.str()


def test_train_eval_runs_the_same_plugin(suites):
    import subprocess
    import sys

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "code_assistant_lora.training.cli",
            "eval",
            "evals/reviewer_regression",
            "--report",
            "logs/train-eval.json",
            "--",
            "-q",
        ],
        cwd=suites.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "code-assistant reviewer eval" in completed.stdout
    summary = json.loads((suites.path / "logs" / "train-eval.json").read_text())
    assert summary["overall"]["cases"] == 2


def test_train_eval_names_a_folder_without_reviewer_cases(tmp_path, capsys):
    """Cases are collected only under reviewer_regression/: any other folder is a usage error, not
    a silent 'no tests ran'."""
    from code_assistant_lora.training.cli import main

    (tmp_path / "suites" / "sql").mkdir(parents=True)
    for target, message in (
        (tmp_path / "suites", "not in or above a reviewer_regression/ folder"),
        (tmp_path / "absent", "does not exist"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(["eval", str(target)])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
