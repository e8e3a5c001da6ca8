"""`code-assistant review --models` end to end: real repos, a real OpenAI-compatible server on
127.0.0.1, and everything a server can do wrong (garbage, 500s, stalls, being down)."""

from __future__ import annotations

import json
import time

import pytest
from cli_run import run
from openai_server import FakeOpenAIServer, unused_port_url

SPECIALISTS = ("python", "typescript", "sql", "docker_ci", "tests")
AWS_CANARY = "AKIA" + "Q3EGRTWKJ7MZ5XLP"  # an AWS access key id by format, not a real one
PASSWORD_CANARY = "Zq8#t" + "Vn2!pL6wXr9$kD"
SQL_PY = (
    "import sqlite3\n\n\ndef orders_for(conn, customer):\n"
    "    return conn.execute(f\"select * from orders where c = '{customer}'\")\n"
)


def config(base_url: str, timeout: float = 2.0, extra: str = "", roles=SPECIALISTS) -> str:
    text = f'[models]\nbase_url = "{base_url}"\ntimeout = {timeout}\nretries = 1\n{extra}\n'
    for role in roles:
        text += f'[models.roles.{role}]\nmodel = "{role}-reviewer"\n'
    return text


def answer(*findings: dict) -> str:
    return json.dumps({"findings": list(findings)})


def finding(file: str, line: int, category: str, severity: str = "medium") -> dict:
    return {
        "file": file,
        "line": line,
        "category": category,
        "severity": severity,
        "rationale": "the model says so",
        "suggested_fix": "fix it",
    }


@pytest.fixture
def make_repo(git_repo):
    """A repo whose config points at BASE_URL, with CHANGES left in the working tree."""

    def make(base_url: str, changes: dict[str, str], **config_args):
        repo = git_repo()
        repo.commit(
            "base",
            **{
                ".code-assistant.toml": config(base_url, **config_args),
                "app/__init__.py": "",
                "app/reports.py": "import sqlite3\n",
                "db/schema.sql": "create table orders (id int);\n",
                ".gitignore": "artifacts/\n.code-assistant/\n",
            },
        )
        for path, text in changes.items():
            repo.write(path, text)
        return repo

    return make


def review_json(repo) -> dict:
    return json.loads((repo.path / "artifacts/code-assistant/review.json").read_text())


def roles_by_name(document: dict) -> dict[str, dict]:
    return {role["role"]: role for role in document["models"]["roles"]}


SQL_CHANGE = {"db/schema.sql": "create table orders (id int);\nalter table orders add total int;\n"}


def test_only_the_sql_specialist_is_asked_for_a_sql_change(make_repo):
    with FakeOpenAIServer(
        lambda body: answer(finding("db/schema.sql", 2, "locking-migration"))
    ) as s:
        repo = make_repo(s.base_url, SQL_CHANGE)
        code, out, _ = run("review", "--repo", str(repo.path), "--models")
        assert [r["model"] for r in s.requests] == ["sql-reviewer"]
        prompt = s.requests[0]["messages"][-1]["content"]
    assert code == 0
    assert "db/schema.sql" in prompt and "app/reports.py" not in prompt
    document = review_json(repo)
    roles = roles_by_name(document)
    assert roles["sql"]["status"] == "ok" and roles["sql"]["findings"] == 1
    assert roles["python"] == {**roles["python"], "status": "skipped"}
    assert roles["python"]["reason"] == "nothing in its slice changed"
    [model_finding] = [f for f in document["findings"] if f["source"] == "model:sql"]
    assert model_finding["rule"] == "model.locking-migration" and model_finding["line"] == 2
    assert document["schema"] == "code-assistant/review@1"
    assert "model sql: ok, 1 finding(s)" in out


def test_a_warm_cache_rerun_makes_no_request_and_no_model_cache_asks_again(make_repo):
    with FakeOpenAIServer(lambda body: answer()) as server:
        repo = make_repo(server.base_url, SQL_CHANGE)
        run("review", "--repo", str(repo.path), "--models")
        assert len(server.requests) == 1
        code, _, _ = run("review", "--repo", str(repo.path), "--models")
        assert code == 0 and len(server.requests) == 1
        assert roles_by_name(review_json(repo))["sql"]["status"] == "cached"
        run("review", "--repo", str(repo.path), "--models", "--no-model-cache")
        assert len(server.requests) == 2
    assert list((repo.path / ".code-assistant/cache").glob("*.json"))


def test_config_turns_models_on_and_off(make_repo):
    with FakeOpenAIServer(lambda body: answer()) as server:
        repo = make_repo(server.base_url, SQL_CHANGE, extra="")
        run("review", "--repo", str(repo.path))
        assert server.requests == [] and "models" not in review_json(repo)
        toml = repo.path / ".code-assistant.toml"
        toml.write_text("[review]\nmodels = true\n" + toml.read_text())
        run("review", "--repo", str(repo.path))
        assert len(server.requests) == 1 and "models" in review_json(repo)
        run("review", "--repo", str(repo.path), "--no-models", "--no-model-cache")
        assert len(server.requests) == 1


def test_garbage_is_dropped_with_a_note_and_the_rules_still_decide(make_repo):
    with FakeOpenAIServer(lambda body: "I think it is fine!") as server:
        repo = make_repo(server.base_url, {"app/reports.py": SQL_PY})
        code, out, _ = run("review", "--repo", str(repo.path), "--models")
        run("review", "--repo", str(repo.path), "--models")
        asked = len(server.requests)
    assert code == 1  # the rules' high sql-injection finding
    document = review_json(repo)
    assert {f["source"] for f in document["findings"]} == {"rule"}
    assert roles_by_name(document)["python"]["status"] == "skipped"
    assert "model:python: answer was not findings JSON; ignored" in document["notes"]
    assert "model python: skipped (answer was not findings JSON)" in out
    assert asked == 2  # garbage is never cached: python is asked again on the second run


def test_500_is_retried_then_the_role_is_skipped(make_repo):
    with FakeOpenAIServer(lambda body: (500, {"error": "boom"})) as server:
        repo = make_repo(server.base_url, SQL_CHANGE)
        code, _, _ = run("review", "--repo", str(repo.path), "--models")
        assert len(server.requests) == 2  # retries = 1
    role = roles_by_name(review_json(repo))["sql"]
    assert (
        code == 0 and role["status"] == "skipped" and "HTTP 500 after 2 attempt" in role["reason"]
    )


def test_a_stalled_server_is_skipped_within_the_timeout(make_repo):
    with FakeOpenAIServer(lambda body: 5.0) as server:
        repo = make_repo(server.base_url, {**SQL_CHANGE, "app/reports.py": SQL_PY}, timeout=0.5)
        started = time.monotonic()
        code, _, _ = run("review", "--repo", str(repo.path), "--models")
        elapsed = time.monotonic() - started
    roles = roles_by_name(review_json(repo))
    assert elapsed < 4.0  # three roles asked in parallel, each giving up after 0.5 s
    assert code == 1
    assert {roles[r]["status"] for r in ("python", "sql", "tests")} == {"skipped"}
    assert "did not answer within 0.5 s" in roles["sql"]["reason"]


def test_server_down_completes_on_the_rules_and_require_model_exits_3(make_repo):
    repo = make_repo(unused_port_url(), {"app/reports.py": SQL_PY})
    code, _, _ = run("review", "--repo", str(repo.path), "--models")
    assert code == 1
    roles = roles_by_name(review_json(repo))
    assert roles["python"]["status"] == "skipped" and "unreachable" in roles["python"]["reason"]
    code, _, err = run("review", "--repo", str(repo.path), "--require-model")
    assert code == 3 and "--require-model: role" in err and "unreachable" in err


def test_no_models_configured_is_a_note_or_exit_2_with_require_model(make_repo):
    repo = make_repo("http://127.0.0.1:9/v1", SQL_CHANGE, roles=())
    code, out, _ = run("review", "--repo", str(repo.path), "--models")
    assert code == 0
    assert "no specialist role has a model in [models]" in out
    assert review_json(repo)["models"]["roles"] == []
    code, _, err = run("review", "--repo", str(repo.path), "--require-model")
    assert code == 2 and "configures no specialist role" in err


def test_findings_outside_the_diff_are_dropped(make_repo):
    reply = answer(
        finding("app/reports.py", 1, "unused-import"),  # an unchanged line
        finding("app/elsewhere.py", 3, "bug"),  # not in the change
        finding("app/reports.py", 4, "missing-docstring", "low"),
    )
    with FakeOpenAIServer(
        lambda body: reply if body["model"] == "python-reviewer" else answer()
    ) as server:
        repo = make_repo(server.base_url, {"app/reports.py": SQL_PY})
        run("review", "--repo", str(repo.path), "--models")
    document = review_json(repo)
    model = [(f["line"], f["category"]) for f in document["findings"] if f["source"] != "rule"]
    assert model == [(4, "missing-docstring")]
    assert "model:python: dropped 2 finding(s) outside the diff" in document["notes"]


def test_a_model_finding_that_restates_a_rule_finding_is_merged(make_repo):
    reply = answer(finding("app/reports.py", 5, "sql-injection-risk", "critical"))
    with FakeOpenAIServer(
        lambda body: reply if body["model"] == "python-reviewer" else answer()
    ) as server:
        repo = make_repo(server.base_url, {"app/reports.py": SQL_PY})
        run("review", "--repo", str(repo.path), "--models")
        prompt = server.requests[0]["messages"][-1]["content"]
    assert "app/reports.py:5 python.sql-injection (high)" in prompt  # told what rules found
    document = review_json(repo)
    on_line_5 = [f for f in document["findings"] if f["line"] == 5]
    assert [(f["rule"], f["severity"]) for f in on_line_5] == [("python.sql-injection", "high")]
    assert roles_by_name(document)["python"]["merged"] == 1
    assert any("merged into the rule finding" in note for note in document["notes"])


def test_a_secret_in_the_diff_never_reaches_the_server(make_repo):
    settings = (
        "import os\n\n"
        f'AWS_ACCESS_KEY_ID = "{AWS_CANARY}"\n'
        f'db_password = "{PASSWORD_CANARY}"\n'
        'API_URL = os.environ["API_URL"]\n'
    )
    dockerfile = f"FROM python:3.12\nENV AWS_ACCESS_KEY_ID={AWS_CANARY}\n"
    with FakeOpenAIServer(lambda body: answer()) as server:
        repo = make_repo(server.base_url, {"app/settings.py": settings, "Dockerfile": dockerfile})
        run("review", "--repo", str(repo.path), "--models", "--no-model-cache")
        bodies = [json.dumps(r) for r in server.requests]
    assert {json.loads(b)["model"] for b in bodies} >= {"python-reviewer", "docker_ci-reviewer"}
    assert all(AWS_CANARY not in b and PASSWORD_CANARY not in b for b in bodies)
    artifact = (repo.path / "artifacts/code-assistant/review.json").read_text()
    assert AWS_CANARY not in artifact and PASSWORD_CANARY not in artifact
