"""Routing a change to the specialists, and the prompt slice each one gets (secrets masked)."""

from __future__ import annotations

from rulekit import file_change

from code_assistant_lora.findings import Finding, Severity
from code_assistant_lora.models.router import LARGE_CHANGE, route
from code_assistant_lora.models.slices import render_slice
from code_assistant_lora.models.specialist import ROLE_QUESTIONS, build_messages

AWS_CANARY = "AKIA" + "Q3EGRTWKJ7MZ5XLP"  # an AWS access key id by format, not a real one
PASSWORD_CANARY = "Zq8#t" + "Vn2!pL6wXr9$kD"


def roles(files, findings=()):
    return [r.role for r in route(files, findings)]


def test_a_sql_change_goes_to_the_sql_specialist_only():
    files = [file_change("db/schema.sql", "create table t (id int);\n", "")]
    assert roles(files) == ["sql"]


def test_each_specialist_gets_only_its_slice():
    files = [
        file_change("app/models.py", "x = 1\ny = 2\n", "x = 1\n"),
        file_change("web/src/app.ts", "export const a = 1;\n", None),
        file_change("Dockerfile", "FROM python:3.12\n", None),
        file_change("tests/test_models.py", "def test_x():\n    assert True\n", None),
        file_change("README.md", "# docs\n", None),
    ]
    routed = {r.role: r.paths for r in route(files)}
    assert routed == {
        "python": ("app/models.py", "tests/test_models.py"),
        "typescript": ("web/src/app.ts",),
        "docker_ci": ("Dockerfile",),
        "tests": ("tests/test_models.py",),
    }


def test_a_deleted_file_asks_nobody():
    deleted = file_change("app/old.py", None, "x = 1\n")
    assert roles([deleted]) == []


def test_migrations_widen_to_sql_and_ci_configs_raise_priority():
    migration = file_change("app/migrations/0002_add_total.py", "ops = []\n", None)
    assert set(roles([migration])) == {"python", "sql"}
    ci = file_change(".github/workflows/ci.yml", "on: push\n", None)
    compose = file_change("compose.yml", "services: {}\n", None)
    [docker] = route([ci, compose])
    assert docker.role == "docker_ci" and docker.priority == 2 and "CI config" in docker.reasons


def test_security_paths_are_risky_asked_first_and_widen_to_tests():
    auth = file_change("app/auth/session.py", "def login():\n    pass\n", "")
    sql = file_change("db/report.sql", "select 1;\n", "")
    plans = route([sql, auth])
    assert [p.role for p in plans] == ["python", "tests", "sql"]
    python, tests, _ = plans
    assert python.risky and python.priority > plans[2].priority
    assert tests.paths == ("app/auth/session.py",)
    assert tests.reasons[0] == "risky or large source change with no test change"
    system = build_messages("diff", role="python", risky=True)[0]["content"]
    assert ROLE_QUESTIONS["python"] in system and "security-relevant" in system


def test_a_large_change_raises_priority_and_high_rule_findings_too():
    big = "\n".join(f"v{i} = {i}" for i in range(LARGE_CHANGE)) + "\n"
    [python, tests] = route([file_change("app/big.py", big, "")])
    assert python.priority == 2 and tests.role == "tests"
    small = file_change("app/db.py", "q = 1\n", "")
    high = Finding("python.x", "x", Severity.HIGH, "app/db.py", 1, 1, "r", "f")
    assert route([small], [high])[0].priority == 2
    assert route([small])[0].priority == 1


def test_the_slice_numbers_new_lines_marks_added_ones_and_keeps_context_short():
    old = "".join(f"line{i}\n" for i in range(1, 21))
    new = old.replace("line10\n", "line10\nadded\n")
    text, masked = render_slice([file_change("app/a.py", new, old)])
    assert masked == 0
    assert "   11 + added" in text and "   10   line10" in text
    assert "line1\n" not in text and "line20" not in text  # only 3 lines of context


def test_secrets_in_the_slice_are_masked():
    new = (
        "import os\n"
        f'AWS_KEY = "{AWS_CANARY}"\n'
        f'db_password = "{PASSWORD_CANARY}"\n'
        'token = os.environ["TOKEN"]\n'
    )
    text, masked = render_slice([file_change("app/settings.py", new, "import os\n")])
    assert AWS_CANARY not in text and PASSWORD_CANARY not in text
    assert masked >= 2
    assert 'token = os.environ["TOKEN"]' in text  # reading from the environment is not a secret
