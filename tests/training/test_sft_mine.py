"""Mining the history fixture: what each commit gives, what is skipped and why, provenance."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest
from code_assistant_lora.training.history import Commit, FileStat
from code_assistant_lora.training.mine import (
    MineOptions,
    classify,
    is_bulk_formatting,
    message_text,
    mine,
)
from code_assistant_lora.training.records import parse_record

from code_assistant_lora.errors import UserError


@pytest.fixture(scope="module")
def mined(history_repo):
    return mine(history_repo)


def _git(repo, *args) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def _by_subject(repo, mined, subject: str) -> list[dict]:
    sha = _git(repo, "log", "--all", f"--grep=^{subject}", "--format=%H").split()[0]
    return [c for c in mined.candidates if c["meta"]["commit"] == sha]


def test_each_kind_of_candidate_is_mined(mined):
    kinds = Counter(c["meta"]["task"] for c in mined.candidates)
    assert kinds == {"feature": 4, "bugfix": 2, "test_fix": 2, "refactor": 1, "docs": 1, "edit": 5}
    assert mined.commits_read == 16


def test_skipped_commits_are_counted_by_reason(mined):
    assert mined.skipped == {
        "merge commit": 1,
        "revert": 1,
        "bulk formatting": 1,
        "too large to teach from": 1,
        "uninformative message": 1,
        "only skipped paths (skipped folder)": 1,  # vendor/
        "only skipped paths (generated or minified file)": 1,  # *_pb2.py
        "only skipped paths (lock file)": 1,  # poetry.lock
    }
    assert "\n" not in mined.summary() and "1 revert" in mined.summary()


def test_every_candidate_is_a_valid_record_with_provenance(history_repo, mined):
    shas = set(_git(history_repo, "rev-list", "--all").split())
    for candidate in mined.candidates:
        record = parse_record(candidate)
        meta = candidate["meta"]
        assert meta["commit"] in shas
        assert meta["source"] == "git" and 0 <= meta["quality"] <= 1
        changed = set(
            _git(history_repo, "show", "--format=", "--name-only", meta["commit"]).split()
        )
        assert set(meta["paths"]) <= changed
        assert record.language == ("markdown" if meta["paths"][0].endswith(".md") else "python")


def test_a_bug_fix_with_a_test_teaches_test_to_fix(history_repo, mined):
    made = _by_subject(history_repo, mined, "Fix rounding of negative amounts")
    by_task = {c["meta"]["task"]: c for c in made}
    assert set(by_task) == {"bugfix", "test_fix", "edit"}
    fix = by_task["test_fix"]
    assert "def test_negative_amount" in fix["instruction"]  # the failing test is the prompt
    assert "tests/test_formatting.py" not in fix["output"]  # the answer is the code change only
    assert fix["output"].startswith("diff --git a/ledger/formatting.py b/ledger/formatting.py")
    assert "cents = int(amount * 100)" in fix["input"]  # the code before the fix
    assert "\nindex " not in by_task["bugfix"]["output"]  # blob ids stripped from patches
    assert "truncated towards zero" in by_task["bugfix"]["instruction"]  # the body is the task


def test_an_edit_shows_the_file_before_and_after(history_repo, mined):
    made = _by_subject(history_repo, mined, "Rename Account.owner to holder")
    edit = next(c for c in made if c["meta"]["task"] == "edit")
    sha = edit["meta"]["commit"]
    before = _git(history_repo, "show", f"{sha}^:ledger/accounts.py")
    after = _git(history_repo, "show", f"{sha}:ledger/accounts.py")
    assert before.strip() in edit["input"]
    assert edit["output"] == f"```python\n{after.rstrip()}\n```"
    assert "answer with the whole updated file" in edit["instruction"]


def test_a_merged_branch_commit_is_mined_once(history_repo, mined):
    made = _by_subject(history_repo, mined, "Add monthly statements as CSV")
    assert [c["meta"]["task"] for c in made] == ["feature"]
    assert made[0]["meta"]["paths"] == ["ledger/statements.py", "tests/test_statements.py"]


def test_since_and_max_limit_the_commits_read(history_repo):
    assert mine(history_repo, MineOptions(max_commits=3)).commits_read == 3
    recent = mine(history_repo, MineOptions(since="2024-01-12"))
    assert 0 < recent.commits_read < 16
    assert all(c["meta"]["date"] >= "2024-01-12" for c in recent.candidates)
    with pytest.raises(UserError, match="--since 'last tuesday-ish'"):
        mine(history_repo, MineOptions(since="last tuesday-ish"))


def _commit(subject: str, body: str = "") -> Commit:
    return Commit("0" * 40, ("1" * 40,), "2024-01-01T00:00:00+00:00", f"{subject}\n\n{body}")


@pytest.mark.parametrize(
    ("subject", "paths", "kind"),
    [
        ("feat(api): paginate invoices", ["api.py"], "feature"),
        ("fix: off-by-one in pager", ["api.py"], "bugfix"),
        ("docs: explain retries", ["api.py"], "docs"),
        ("Update the changelog", ["CHANGELOG.md", "docs/usage.md"], "docs"),
        ("Cover the pager", ["tests/test_pager.py"], "tests"),
        ("Handle empty pages without crashing", ["api.py"], "bugfix"),
        ("Extract the pager into its own module", ["api.py", "pager.py"], "refactor"),
        ("Support CSV export", ["export.py"], "feature"),
        ("Pager tweaks for big tables", ["api.py"], "change"),
    ],
)
def test_classification_reads_the_message_then_the_diff(subject, paths, kind):
    stats = [FileStat(p, 3, 3) for p in paths]
    assert classify(_commit(subject), stats) == kind


def test_trailers_and_their_emails_leave_the_message():
    commit = _commit(
        "Fix pager",
        "Explain why.\n\nSigned-off-by: Ada <ada@example.com>\nCo-authored-by: Bob <bob@example.com>",
    )
    assert message_text(commit) == "Fix pager\n\nExplain why."


def test_layout_only_changes_are_bulk_formatting():
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,4 @@\n"
        "-x = f(a,b)\n-y = 'z'\n+x = f(\n+    a, b\n+)\n+y = \"z\"\n"
    )
    assert is_bulk_formatting(_commit("Tidy"), diff)
    real = diff.replace('+y = "z"', '+y = "w"')
    assert not is_bulk_formatting(_commit("Tidy"), real)


def test_renames_and_unusual_paths_keep_their_provenance(history_builder, history_copy):
    accounts = (history_copy / "ledger" / "accounts.py").read_text()
    history_builder.commit(
        history_copy,
        "Move accounts into the core package\n\nThe core package holds the domain types.",
        {"ledger/core/accounts.py": accounts.replace("A withdrawal", "Any withdrawal")},
        delete=["ledger/accounts.py"],
    )
    history_builder.commit(
        history_copy,
        "Add the statement template for the spanish bank",
        {"templates/extracto de cuenta ñ.txt": "Saldo: {balance}\n"},
    )
    result = mine(history_copy, MineOptions(max_commits=2))
    paths = [c["meta"]["paths"] for c in result.candidates]
    assert ["templates/extracto de cuenta ñ.txt"] in paths
    move = next(c for c in result.candidates if c["meta"]["task"] == "refactor")
    assert move["meta"]["paths"] == ["ledger/core/accounts.py"]
    assert "rename from ledger/accounts.py" in move["output"]
    assert "class InsufficientFunds" in move["input"]  # the pre-image under its old name


def test_a_repository_without_commits_is_a_usage_error(git_repo):
    with pytest.raises(UserError, match="has no commits"):
        mine(git_repo().path)
