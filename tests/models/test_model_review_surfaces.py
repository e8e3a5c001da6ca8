"""The model path through the pre-commit hook (a real subprocess) and the pytest plugin (pytester)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from openai_server import FakeOpenAIServer, unused_port_url

pytest_plugins = ["pytester"]

REPLY = json.dumps(
    {
        "findings": [
            {
                "file": "app/jobs.py",
                "line": 3,
                "category": "swallowed-exception",
                "severity": "high",
                "rationale": "errors vanish",
                "suggested_fix": "log and re-raise",
            }
        ]
    }
)
JOBS = "def run(job):\n    try:\n        job()\n    except Exception:\n        pass\n"


def toml(base_url: str, review_models: bool = False) -> str:
    head = "[review]\nmodels = true\n" if review_models else ""
    return (
        f'{head}[models]\nbase_url = "{base_url}"\ntimeout = 2\nretries = 0\n'
        '[models.roles.python]\nmodel = "python-reviewer"\n'
    )


def hook(repo, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "code_assistant_lora.hooks.review", *args],
        cwd=repo.path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_the_hook_adds_model_findings_and_a_rerun_makes_no_request(git_repo):
    repo = git_repo()
    with FakeOpenAIServer(lambda body: REPLY) as server:
        repo.commit("base", **{".code-assistant.toml": toml(server.base_url), "README.md": "x\n"})
        repo.write("app/jobs.py", JOBS)
        repo.stage()
        first = hook(repo, "--models", "--fail-on", "critical")
        second = hook(repo, "--models", "--fail-on", "critical")
        asked = len(server.requests)
    assert first.returncode == 0, first.stderr
    assert "model.swallowed-exception" in first.stdout
    assert asked == 1  # the second run answered from .code-assistant/cache/
    assert "model python: cached" in second.stdout


def test_the_hook_with_the_server_down_passes_on_the_rules(git_repo):
    repo = git_repo()
    repo.commit("base", **{".code-assistant.toml": toml(unused_port_url()), "README.md": "x\n"})
    repo.write("app/jobs.py", JOBS)
    repo.stage()
    done = hook(repo, "--models")
    assert done.returncode == 0, done.stderr
    assert "model python: skipped" in done.stdout and "unreachable" in done.stdout
    assert hook(repo, "--require-model").returncode == 3


def _plugin_project(pytester, base_url: str, review_models: bool) -> None:
    import git

    repo = git.Repo.init(pytester.path, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "T")
        config.set_value("user", "email", "t@example.com")
    pytester.makefile(".toml", **{".code-assistant": toml(base_url, review_models)})
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    repo.git.add("-A")
    repo.git.commit("-qm", "base")
    (pytester.path / "app").mkdir()
    (pytester.path / "app/jobs.py").write_text(JOBS)


def test_the_plugin_asks_the_models_when_the_config_says_so(pytester):
    with FakeOpenAIServer(lambda body: REPLY) as server:
        _plugin_project(pytester, server.base_url, review_models=True)
        result = pytester.runpytest("--assistant-review", "-p", "no:cacheprovider")
        assert [r["model"] for r in server.requests] == ["python-reviewer"]
    result.stdout.fnmatch_lines(["*model.swallowed-exception*", "*session failed*"])
    assert result.ret == 1


def test_the_plugin_flag_turns_models_on_and_a_dead_server_only_shows_a_skip(pytester):
    _plugin_project(pytester, unused_port_url(), review_models=False)
    result = pytester.runpytest(
        "--assistant-review", "--assistant-review-models", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["*model python: skipped*unreachable*"])
    assert result.ret == 0
