"""`pytest --assistant-review` in real pytest sub-runs (pytester) over real git repos."""

from __future__ import annotations

import json

import pytest
from git_repos import GIT_ENV, GitRepo
from test_cli_review import PRIVATE_KEY

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    repo = GitRepo(pytester.path)
    repo.commit("base", **{"test_ok.py": "def test_ok():\n    assert 1 + 1 == 2\n"})
    return repo


def test_clean_change_passes_and_reports(pytester, project):
    project.write("NOTES.md", "# notes\n")
    result = pytester.runpytest("--assistant-review")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*code-assistant review*", "0 finding(s) in 1 file(s)*"])
    review = json.loads((project.path / "artifacts/code-assistant/review.json").read_text())
    assert review["summary"]["findings"] == 0


def test_findings_at_threshold_fail_the_session(pytester, project):
    project.write("deploy/key.txt", PRIVATE_KEY)
    result = pytester.runpytest("--assistant-review")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*secrets.private-key*", "*session failed: findings at or above high*"]
    )


def test_review_base_reviews_the_branch(pytester, project):
    project.branch("feature")
    project.commit("leak", **{"deploy/key.txt": PRIVATE_KEY})
    result = pytester.runpytest("--assistant-review", "--assistant-review-base", "main")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*deploy/key.txt*"])


def test_empty_change_does_not_fail(pytester, project):
    result = pytester.runpytest("--assistant-review")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*nothing to review*"])


def test_unknown_base_is_a_usage_error(pytester, project):
    result = pytester.runpytest("--assistant-review", "--assistant-review-base", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--assistant-review: unknown base ref 'nope'*"])


def test_failing_tests_keep_their_exit_code(pytester, project):
    project.write("test_bad.py", "def test_bad():\n    assert 1 == 2\n")
    result = pytester.runpytest("--assistant-review")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)


def test_plain_runs_do_not_load_the_core(pytester, project):
    pytester.makepyfile(
        test_probe="""
        import sys

        def test_probe():
            assert "code_assistant_lora.review" not in sys.modules
            assert "git" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("test_probe.py")
    result.assert_outcomes(passed=1)
