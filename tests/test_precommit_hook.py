"""The `code-assistant-review` hook through a real `pre-commit try-repo` in a tmp git repo.

pre-commit builds its own virtualenv from a snapshot of this checkout (the `hook_repo` and
`pre_commit_home` session fixtures in conftest.py), once per session for every hook test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_review import PRIVATE_KEY

pytestmark = pytest.mark.slow


def try_repo(
    repo_path: Path, hook_repo: Path, home: Path, *extra: str
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("GIT_INDEX_FILE", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(hook_repo),
            "code-assistant-review",
            "--color",
            "never",
            *extra,
        ],
        cwd=repo_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def test_staged_secret_blocks_the_commit(git_repo, hook_repo, pre_commit_home):
    repo = git_repo()
    repo.commit("base", **{"README.md": "# app\n"})
    repo.write("deploy/key.txt", "deploy key\n" + PRIVATE_KEY)
    repo.stage()
    result = try_repo(repo.path, hook_repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-2000:]
    assert "code-assistant review (staged diff)" in output and "Failed" in output
    assert "deploy/key.txt" in output and "secrets.private-key" in output
    assert "MIIEowIBAAKCAQEA" not in output


def test_clean_change_passes(git_repo, hook_repo, pre_commit_home):
    repo = git_repo()
    repo.commit("base", **{"README.md": "# app\n"})
    repo.write("README.md", "# app\n\nHow to run it.\n")
    repo.stage()
    result = try_repo(repo.path, hook_repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-2000:]
    assert "Passed" in output


def test_args_change_the_threshold(git_repo, hook_repo, pre_commit_home, tmp_path):
    """Hook args pass through: with the secrets pack skipped, the same change passes."""
    repo = git_repo()
    repo.commit("base", **{"README.md": "# app\n"})
    config = tmp_path / "hooks.yaml"
    config.write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: HEAD\n  hooks:\n  - id: code-assistant-review\n"
        "    args: [--skip-rules, secrets]\n"
    )
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    config.write_text(config.read_text().replace("rev: HEAD", f"rev: {rev}"))
    repo.write("deploy/key.txt", PRIVATE_KEY)
    repo.stage()
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--config", str(config), "--color", "never"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-2000:]
