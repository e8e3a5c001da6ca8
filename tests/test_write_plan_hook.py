"""The `code-assistant-write-plan` hook through real `pre-commit` runs in tmp git repos: the
commit-msg stage warns (or fails with --strict) about files and tests the commit message's plan
expects but the staged change does not touch; the manual stage writes the plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
HOOK = "code-assistant-write-plan"
SHOP = {
    "src/shop/__init__.py": "",
    "src/shop/orders.py": "def apply_coupon(cart, coupon):\n    '''Discount the cart.'''\n    return cart\n",
    "src/shop/shipping.py": "def quote(weight):\n    return weight * 2\n",
    "tests/test_orders.py": "from shop.orders import apply_coupon\n\n\ndef test_coupon():\n    assert apply_coupon([1], None) == [1]\n",
}
MESSAGE = "Make apply_coupon reject expired coupons\n\n# Please enter the commit message\n"


def pre_commit(
    repo: Path, home: Path, *args: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", **(env or {})}
    full_env.pop("GIT_INDEX_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=900,
        check=False,
    )


def _shop(git_repo):
    repo = git_repo()
    repo.commit("shop", **SHOP)
    return repo


def test_commit_msg_warns_about_untouched_files_and_tests(
    git_repo, hook_repo, pre_commit_home, tmp_path
):
    repo = _shop(git_repo)
    repo.write("src/shop/shipping.py", "def quote(weight):\n    return weight * 3\n")
    repo.stage()
    message = tmp_path / "COMMIT_EDITMSG"
    message.write_text(MESSAGE)
    result = pre_commit(
        repo.path,
        pre_commit_home,
        "try-repo",
        str(hook_repo),
        HOOK,
        "--hook-stage",
        "commit-msg",
        "--commit-msg-filename",
        str(message),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "the commit message suggests changes the staged change does not make" in output
    assert "file  src/shop/orders.py: defines `apply_coupon`, named in the task" in output
    assert "test  tests/test_orders.py: imports src/shop/orders.py" in output
    assert "warning only" in output

    repo.write(
        "src/shop/orders.py", SHOP["src/shop/orders.py"].replace("return cart", "return list(cart)")
    )
    repo.write(
        "tests/test_orders.py",
        SHOP["tests/test_orders.py"] + "\n\ndef test_more():\n    assert True\n",
    )
    repo.stage()
    result = pre_commit(
        repo.path,
        pre_commit_home,
        "try-repo",
        str(hook_repo),
        HOOK,
        "--hook-stage",
        "commit-msg",
        "--commit-msg-filename",
        str(message),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "the staged change covers the files and tests the plan expects" in output


def test_strict_fails_the_commit(git_repo, hook_repo, pre_commit_home, tmp_path):
    repo = _shop(git_repo)
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    config = tmp_path / "hooks.yaml"
    config.write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: {HOOK}\n    args: [--strict]\n"
    )
    repo.write("src/shop/shipping.py", "def quote(weight):\n    return weight * 3\n")
    repo.stage()
    message = tmp_path / "MSG"
    message.write_text(MESSAGE)
    result = pre_commit(
        repo.path,
        pre_commit_home,
        "run",
        "--config",
        str(config),
        "--hook-stage",
        "commit-msg",
        "--commit-msg-filename",
        str(message),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Failed" in output and "src/shop/orders.py" in output


def test_manual_stage_writes_the_plan_for_the_task_in_the_environment(
    git_repo, hook_repo, pre_commit_home
):
    repo = _shop(git_repo)
    args = ("try-repo", str(hook_repo), HOOK, "--hook-stage", "manual")
    result = pre_commit(
        repo.path,
        pre_commit_home,
        *args,
        env={"CODE_ASSISTANT_TASK": "Make apply_coupon reject expired coupons"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    artifacts = repo.path / "artifacts" / "code-assistant"
    doc = json.loads((artifacts / "write-context.json").read_text())
    assert doc["files"][0]["path"] == "src/shop/orders.py"
    assert "## Files to change" in (artifacts / "patch-plan.md").read_text()

    missing = pre_commit(repo.path, pre_commit_home, *args, env={"CODE_ASSISTANT_TASK": ""})
    output = missing.stdout + missing.stderr
    assert missing.returncode == 1, output[-3000:]  # pre-commit's code for a failed hook
    assert "exit code: 2" in output and "no task: set CODE_ASSISTANT_TASK" in output
