"""The write loop's guards on untrusted model output, against real repositories: what a diff may
touch, how it is found in an answer, how verdicts are read, and that worktrees never linger."""

from __future__ import annotations

import os

import pytest

from code_assistant_lora.models.patch_apply import (
    MAX_PATCH_BYTES,
    PatchRejected,
    apply_patch,
    check_patch,
    extract_diff,
)
from code_assistant_lora.models.verifier import parse_verdict
from code_assistant_lora.models.worktree import temporary_worktree

GOOD = "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n"


def new_file(path: str, mode: str = "100644") -> str:
    return (
        f"diff --git a/{path} b/{path}\nnew file mode {mode}\n--- /dev/null\n+++ b/{path}\n"
        "@@ -0,0 +1 @@\n+data\n"
    )


@pytest.fixture
def repo(git_repo):
    made = git_repo()
    made.commit("app", **{"app.py": "x = 1\ny = 2\n", "pkg/mod.py": "z = 0\n"})
    return made


def test_a_good_patch_is_checked_and_applied(repo):
    checked = check_patch(GOOD, repo.path)
    assert (checked.files, checked.strip) == (("app.py",), 1)
    apply_patch(checked, repo.path)
    assert (repo.path / "app.py").read_text() == "x = 1\ny = 3\n"


def test_a_patch_without_prefixes_applies_with_p0(repo):
    checked = check_patch(
        GOOD.replace("a/app.py", "app.py").replace("b/app.py", "app.py"), repo.path
    )
    assert checked.strip == 0
    apply_patch(checked, repo.path)
    assert (repo.path / "app.py").read_text() == "x = 1\ny = 3\n"


@pytest.mark.parametrize(
    ("diff", "reason"),
    [
        (new_file("../x"), "escapes the repository"),
        (new_file("pkg/../../x"), "escapes the repository"),
        (new_file(".git/hooks/pre-commit", "100755"), "inside .git"),
        (new_file("pkg/.GIT/config"), "inside .git"),
        ("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", "not a plain relative path"),
        (new_file("evil", "120000"), "creates a symlink"),
        (new_file("sub", "160000"), "creates a submodule"),
        (new_file(".code-assistant.toml"), "own state or config"),
        (new_file("artifacts/code-assistant/write-loop.json"), "own state or config"),
        (new_file("a\\b.py"), "backslashes"),
        (
            "diff --git a/app.py b/app.py\nsimilarity index 100%\nrename from app.py\n"
            "rename to ../stolen.py\n",
            "escapes the repository",
        ),
        (
            "diff --git a/app.py b/app.py\nindex 1234567..89abcde 100644\n"
            "GIT binary patch\nliteral 4\nLcmZ?l\n\nliteral 0\nKcmV+b0RR6000031\n",
            "binary",
        ),
        (GOOD.replace("--- a/app.py", "--- app.py"), "mixed a/ b/ prefixes"),
        ("Sure! I fixed it.", "no unified diff"),
        ("--- a/app.py\n+++ b/app.py\n@@ -1,9 +1,9 @@\n x = 1\n", "malformed diff"),
    ],
)
def test_unsafe_or_broken_patches_are_rejected(repo, diff, reason):
    with pytest.raises(PatchRejected, match=reason):
        check_patch(extract_diff(diff), repo.path)


def test_a_path_through_a_symlink_is_rejected(repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo.path / "link")
    with pytest.raises(PatchRejected, match="goes through a symlink"):
        check_patch(new_file("link/evil.py"), repo.path)
    assert list(outside.iterdir()) == []


def test_an_oversized_patch_is_rejected(repo):
    body = "".join(f"+line {i}\n" for i in range(MAX_PATCH_BYTES // 8))
    with pytest.raises(PatchRejected, match="larger than"):
        check_patch(
            f"--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1,{MAX_PATCH_BYTES // 8} @@\n{body}", repo.path
        )


def test_a_patch_that_does_not_match_the_file_reports_gits_reason(repo):
    stale = GOOD.replace("-y = 2", "-y = 7")
    with pytest.raises(PatchRejected, match="git apply failed: .*app.py"):
        apply_patch(check_patch(stale, repo.path), repo.path)
    assert (repo.path / "app.py").read_text() == "x = 1\ny = 2\n"


def test_extract_diff_takes_the_diff_fence_and_ignores_commands():
    answer = "Run this first:\n```bash\nrm -rf ~\n```\nThen apply:\n```diff\n" + GOOD + "```\nDone."
    assert extract_diff(answer) == GOOD
    assert extract_diff("Here you go:\n" + GOOD) == GOOD
    assert extract_diff("no diff at all") == ""


@pytest.mark.parametrize(
    ("answer", "approve", "note"),
    [
        ('{"approve": true, "feedback": "fine"}', True, None),
        ('```json\n{"approve": false, "feedback": "add a test"}\n```', False, None),
        ('Verdict: {"approve": true, "feedback": "ok"} -- thanks', True, None),
        ('{"approve": "yes", "feedback": "ok"}', False, "no boolean 'approve'"),
        ("LGTM, ship it", False, "not a JSON object"),
        ("[true]", False, "not a JSON object"),
    ],
)
def test_verdicts_that_cannot_be_read_never_approve(answer, approve, note):
    verdict = parse_verdict(answer)
    assert verdict.approve is approve
    assert (verdict.note is None) if note is None else note in verdict.note


def test_the_worktree_is_removed_even_when_the_loop_fails(repo):
    with pytest.raises(RuntimeError), temporary_worktree(repo.path) as worktree:
        assert (worktree / "app.py").read_text() == "x = 1\ny = 2\n"
        (worktree / "app.py").write_text("changed\n")
        raise RuntimeError("boom")
    assert not worktree.exists() and not worktree.parent.exists()
    listing = repo.git("worktree", "list", "--porcelain").splitlines()
    assert [line for line in listing if line.startswith("worktree ")] == [f"worktree {repo.path}"]
    assert (repo.path / "app.py").read_text() == "x = 1\ny = 2\n"
