"""Change sets from real git repos and diff files, including every kind of bad input."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from code_assistant_lora import changes
from code_assistant_lora.errors import UserError


def by_path(changeset: changes.ChangeSet) -> dict[str, changes.FileChange]:
    return {f.path: f for f in changeset.files}


@pytest.fixture
def history(git_repo):
    repo = git_repo()
    repo.commit(
        "base",
        **{
            "app/core.py": "def add(a, b):\n    return a + b\n",
            "app/old_name.py": "VALUE = 1\n" * 10,
            "docs/gone.md": "# gone\n",
            "run.sh": "echo hi\n",
        },
    )
    repo.branch("feature")
    repo.write(
        "app/core.py", "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    )
    repo.git("mv", "app/old_name.py", "app/new_name.py")
    repo.git("rm", "-q", "docs/gone.md")
    repo.write("app/new.py", "NEW = True\n")
    repo.write("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    os.chmod(repo.path / "run.sh", 0o755)
    repo.commit("feature work")
    return repo


def test_range_reports_every_kind_of_change(history):
    files = by_path(changes.from_range(history.path, "main", "feature"))
    assert files["app/core.py"].status == "modified"
    assert files["app/core.py"].added_lines == frozenset({3, 4, 5, 6})
    assert files["app/new_name.py"].status == "renamed"
    assert files["app/new_name.py"].old_path == "app/old_name.py"
    assert files["docs/gone.md"].status == "deleted"
    assert files["app/new.py"].status == "added"
    assert files["logo.png"].status == "binary"
    assert files["run.sh"].status == "mode-changed"
    assert (files["run.sh"].old_mode, files["run.sh"].new_mode) == ("100644", "100755")


def test_range_reads_new_content_from_the_commit_not_the_disk(history):
    changeset = changes.from_range(history.path, "main", "feature")
    history.write("app/new.py", "CHANGED_ON_DISK = 1\n")
    assert changeset.read_new(by_path(changeset)["app/new.py"]) == b"NEW = True\n"


def test_range_uses_the_merge_base(history):
    history.checkout("main")
    history.commit("main moves on", **{"app/main_only.py": "X = 1\n"})
    files = by_path(changes.from_range(history.path, "main", "feature"))
    assert "app/main_only.py" not in files


def test_staged_sees_the_index_only(git_repo):
    repo = git_repo()
    repo.commit("base", **{"a.py": "x = 1\n"})
    repo.write("a.py", "x = 1\ny = 2\n")
    repo.stage("a.py")
    repo.write("a.py", "x = 1\ny = 2\nz = 3\n")  # unstaged on top
    changeset = changes.from_staged(repo.path)
    change = by_path(changeset)["a.py"]
    assert change.added_lines == frozenset({2})
    assert changeset.read_new(change) == b"x = 1\ny = 2\n"


def test_staged_in_a_repo_without_commits(git_repo):
    repo = git_repo()
    repo.write("first.py", "print('hello')\n")
    repo.stage()
    change = by_path(changes.from_staged(repo.path))["first.py"]
    assert change.status == "added"


def test_worktree_includes_untracked_but_not_ignored(git_repo):
    repo = git_repo()
    repo.commit("base", **{"a.py": "x = 1\n", ".gitignore": "build/\n"})
    repo.write("a.py", "x = 2\n")
    repo.write("new.py", "y = 1\nz = 2\n")
    repo.write("build/out.py", "ignored = True\n")
    files = by_path(changes.from_worktree(repo.path))
    assert set(files) == {"a.py", "new.py"}
    assert files["new.py"].added_lines == frozenset({1, 2})


def test_non_utf8_content_is_decoded_with_replacement(git_repo):
    repo = git_repo()
    repo.commit("base", **{"a.txt": "ok\n"})
    repo.write("latin.py", "name = 'caf\xe9'\n".encode("latin-1"))
    changeset = changes.from_worktree(repo.path)
    content = changeset.read_new(by_path(changeset)["latin.py"])
    text, valid = changes.decode_text(content)
    assert not valid and "caf\ufffd" in text


def test_empty_change_is_an_error(git_repo):
    repo = git_repo()
    repo.commit("base", **{"a.py": "x = 1\n"})
    with pytest.raises(UserError, match="nothing to review"):
        changes.from_worktree(repo.path)
    with pytest.raises(UserError, match="no staged changes"):
        changes.from_staged(repo.path)


def test_unknown_ref_is_named(history):
    with pytest.raises(UserError, match="unknown base ref 'nope'"):
        changes.from_range(history.path, "nope", "feature")


def test_not_a_repo(tmp_path):
    with pytest.raises(UserError, match="not a git repository"):
        changes.from_worktree(tmp_path)


def test_shallow_clone_missing_base_suggests_fetch_depth(history, tmp_path):
    history.checkout("feature")
    clone = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            "feature",
            f"file://{history.path}",
            str(clone),
        ],
        check=True,
    )
    with pytest.raises(UserError, match="fetch-depth: 0"):
        changes.from_range(clone, "origin/main", "HEAD")


def test_choosing_two_sources_is_an_error(history):
    with pytest.raises(UserError, match="choose one change source"):
        changes.select_source(history.path, base="main", staged=True)


GOOD_DIFF = b"""diff --git a/pkg/mod.py b/pkg/mod.py
index 1111111..2222222 100644
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,3 +1,4 @@
 import os
+import subprocess
\x20
 def run():
"""


def test_diff_file_parses_and_shows_sparse_content(tmp_path):
    diff = tmp_path / "change.diff"
    diff.write_bytes(GOOD_DIFF)
    changeset = changes.from_diff_file(diff)
    change = by_path(changeset)["pkg/mod.py"]
    assert change.added_lines == frozenset({2})
    assert changeset.read_new(change).decode().splitlines()[:2] == [
        "import os",
        "import subprocess",
    ]


def test_diff_file_prefers_matching_worktree_content(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/mod.py").write_text(
        "import os\nimport subprocess\n\ndef run():\n    return 1\n"
    )
    diff = tmp_path / "change.diff"
    diff.write_bytes(GOOD_DIFF)
    changeset = changes.from_diff_file(diff, tmp_path)
    assert changeset.read_new(by_path(changeset)["pkg/mod.py"]).endswith(b"return 1\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty diff"),
        (b"just some words\nnot a diff\n", "no file changes found"),
        (b"\x00\x01\x02PK binary", "binary data"),
        (b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-caf\xe9\n+cafe\n", "not UTF-8"),
        (GOOD_DIFF.replace(b"@@ -1,3 +1,4 @@", b"@@ -1,30 +1,40 @@"), "malformed diff"),
        (GOOD_DIFF.replace(b"pkg/mod.py", b"../../etc/passwd"), "escapes the repository"),
        (
            GOOD_DIFF.replace(b"a/pkg/mod.py", b"/etc/passwd").replace(
                b"b/pkg/mod.py", b"/etc/passwd"
            ),
            "escapes the repository",
        ),
    ],
    ids=["empty", "not-a-diff", "binary", "non-utf8", "truncated", "dotdot", "absolute"],
)
def test_bad_diff_files_are_one_line_errors(tmp_path, content, message):
    diff = tmp_path / "bad.diff"
    diff.write_bytes(content)
    with pytest.raises(UserError, match=message) as info:
        changes.from_diff_file(diff)
    assert "\n" not in str(info.value)
    assert "bad.diff" in str(info.value)


def test_missing_diff_file(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        changes.from_diff_file(tmp_path / "nope.diff")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.sampled_from(
                [
                    "diff --git a/x.py b/x.py",
                    "--- a/x.py",
                    "+++ b/x.py",
                    "--- /dev/null",
                    "+++ /dev/null",
                    "@@ -1,2 +1,3 @@",
                    "@@ -0,0 +1 @@",
                    "@@ -1 +1 @@",
                    "+added",
                    "-removed",
                    " context",
                    "",
                    "new file mode 100644",
                    "deleted file mode 100644",
                    "index 0000000..1111111",
                    "Binary files a/x.png and b/x.png differ",
                    "rename from a.py",
                    "rename to b.py",
                    "old mode 100644",
                    "new mode 100755",
                    "\\ No newline at end of file",
                    "+++ b/../up.py",
                ]
            ),
            max_size=30,
        ).map(lambda lines: "\n".join(lines).encode()),
    )
)
def test_diff_reader_never_crashes(data):
    """Any input either parses into well-formed changes or raises a one-line UserError."""
    try:
        files = changes.parse_diff(data, "fuzz.diff")
    except UserError as exc:
        assert "\n" not in exc.message
        return
    for change in files:
        assert change.status in {
            "added",
            "modified",
            "deleted",
            "renamed",
            "mode-changed",
            "binary",
        }
        assert not change.path.startswith("/") and ".." not in change.path.split("/")
        assert all(n >= 1 for n in change.added_lines)
