"""Change sets: what changed, from any source (a ref range, the index, the working tree or a diff
file), as files with a status, added-line numbers, removed text and the new content.

This module is the project's only door to git for reading changes. Every failure a user can cause
(not a repo, unknown ref, shallow clone, malformed diff, paths escaping the repo) becomes a
`UserError` with one line that names the bad input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import UserError

MAX_FILE_BYTES = 2_000_000  # larger files are skipped with a note
MAX_DIFF_BYTES = 200_000_000
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# Our own outputs are never part of a change under review.
OWN_DIRS = ("artifacts/code-assistant/", ".code-assistant/")

_INDEX_LINE = re.compile(rb"^index ([0-9a-f]+)\.\.([0-9a-f]+)", re.M)


@dataclass(frozen=True)
class ChangeSource:
    """Where a change set came from, as recorded in reports."""

    kind: str  # range | staged | worktree | diff-file
    base: str | None = None
    head: str | None = None
    diff_file: str | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "base": self.base,
            "head": self.head,
            "diff_file": self.diff_file,
        }


@dataclass(frozen=True)
class FileChange:
    """One changed file. `path` is the new path (the old one for deletions), repo-relative, `/`."""

    path: str
    status: str  # added | modified | deleted | renamed | mode-changed | binary
    old_path: str | None = None
    added_lines: frozenset[int] = frozenset()
    removed_text: tuple[str, ...] = ()
    old_mode: str | None = None
    new_mode: str | None = None
    new_blob: str | None = None  # git blob id of the new content, when known
    context_lines: tuple[tuple[int, str], ...] = ()  # new-file lines the diff shows (context+added)

    @property
    def is_binary(self) -> bool:
        return self.status == "binary"


@dataclass
class ChangeSet:
    source: ChangeSource
    files: list[FileChange]
    repo_root: Path | None = None
    notes: list[str] = field(default_factory=list)
    # Returns the new content of a changed file as bytes, or None when it cannot be had.
    read_new: Callable[[FileChange], bytes | None] = field(default=lambda change: None, repr=False)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


# --- parsing -------------------------------------------------------------------------------


def _check_path(path: str, diff_name: str) -> str:
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        path = path.encode("latin-1", "ignore").decode("utf-8", "replace")
    pure = PurePosixPath(path)
    if path.startswith("/") or ".." in pure.parts or "\\" in path or "\x00" in path:
        raise UserError(f"{diff_name}: path {path!r} escapes the repository")
    return str(pure)


def _strip_prefix(name: str | None) -> str | None:
    if name is None or name == "/dev/null":
        return None
    if name.startswith('"'):
        inner = name[1:]
        if inner[:2] in ("a/", "b/"):
            return '"' + inner[2:]
        return name
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_diff(data: bytes, diff_name: str = "diff") -> list[FileChange]:
    """Parse a unified diff (git or plain) into file changes. Raises UserError on bad input."""
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    if b"\x00" in data:
        raise UserError(f"{diff_name}: binary data, not a unified diff")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{diff_name}: not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if not text.strip():
        raise UserError(f"{diff_name}: empty diff, nothing to review")
    try:
        patch = PatchSet(text.splitlines(keepends=True))
    except UnidiffParseError as exc:
        detail = " ".join(str(exc).split())[:200]
        raise UserError(f"{diff_name}: malformed diff: {detail}") from None
    if not len(patch):
        raise UserError(f"{diff_name}: no file changes found; is it a unified diff?")
    changes: list[FileChange] = []
    for patched in patch:
        changes.append(_file_change(patched, diff_name))
    return changes


def _file_change(patched, diff_name: str) -> FileChange:
    source = _strip_prefix(patched.source_file)
    target = _strip_prefix(patched.target_file)
    header = "".join(str(line) for line in (patched.patch_info or []))
    new_blob = None
    match = _INDEX_LINE.search(header.encode("utf-8", "replace"))
    if match:
        new_blob = match.group(2).decode()
    is_new = source is None or "\nnew file mode" in "\n" + header
    is_deleted = target is None or "\ndeleted file mode" in "\n" + header
    path = _check_path(target if not is_deleted else (source or target or ""), diff_name)
    old_path = _check_path(source, diff_name) if source else None
    if patched.is_binary_file:
        status = "deleted" if is_deleted else "binary"
    elif is_deleted:
        status = "deleted"
    elif is_new:
        status = "added"
        old_path = None
    elif old_path and old_path != path:
        status = "renamed"
    elif not len(patched) and patched.source_mode != patched.target_mode:
        status = "mode-changed"
    else:
        status = "modified"
    added: set[int] = set()
    removed: list[str] = []
    shown: list[tuple[int, str]] = []
    for hunk in patched:
        for line in hunk:
            value = line.value.rstrip("\r\n")
            if line.is_added:
                added.add(line.target_line_no)
                shown.append((line.target_line_no, value))
            elif line.is_removed:
                removed.append(value)
            elif line.is_context and line.target_line_no:
                shown.append((line.target_line_no, value))
    return FileChange(
        path=path,
        status=status,
        old_path=old_path if status == "renamed" else None,
        added_lines=frozenset(added),
        removed_text=tuple(removed),
        old_mode=patched.source_mode,
        new_mode=patched.target_mode,
        new_blob=None
        if status in ("deleted",) or new_blob is None or set(new_blob) == {"0"}
        else new_blob,
        context_lines=tuple(shown),
    )


# --- git sources -----------------------------------------------------------------------------


def open_repo(path: str | os.PathLike):
    """The git repository at `path` (or containing it)."""
    import git

    target = Path(path)
    if not target.exists():
        raise UserError(f"--repo {path}: no such directory")
    try:
        return git.Repo(target, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UserError(f"{path}: not a git repository") from None


def _git_bytes(repo, *args: str) -> bytes:
    import git

    try:
        return repo.git.execute(
            ["git", *args], stdout_as_string=False, strip_newline_in_stdout=False
        )
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise UserError(f"git {args[0]} failed: {detail[-1] if detail else exc}") from None


def _is_shallow(repo) -> bool:
    return (Path(repo.git_dir) / "shallow").exists()


def _resolve(repo, ref: str, role: str) -> str:
    import git

    try:
        return repo.git.rev_parse("--verify", "--quiet", "--end-of-options", ref + "^{commit}")
    except git.GitCommandError:
        if _is_shallow(repo):
            raise UserError(
                f"{role} ref {ref!r} is not in this shallow clone; fetch full history "
                "(actions/checkout with fetch-depth: 0, or git fetch --unshallow)"
            ) from None
        raise UserError(
            f"unknown {role} ref {ref!r}: no such commit in {repo.working_tree_dir}"
        ) from None


def _has_head(repo) -> bool:
    import git

    try:
        repo.git.rev_parse("--verify", "--quiet", "HEAD")
        return True
    except git.GitCommandError:
        return False


_DIFF_FLAGS = (
    "--no-color",
    "--no-ext-diff",
    "--full-index",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "-U3",
)


def _blob_reader(repo) -> Callable[[FileChange], bytes | None]:
    def read(change: FileChange) -> bytes | None:
        if not change.new_blob:
            return None
        return repo.odb.stream(bytes.fromhex(change.new_blob)).read()

    return read


def _worktree_reader(root: Path) -> Callable[[FileChange], bytes | None]:
    resolved_root = root.resolve()

    def read(change: FileChange) -> bytes | None:
        target = root / change.path
        try:
            if target.is_symlink() or not target.is_file():
                return None
            if resolved_root not in target.resolve().parents:
                return None
            return target.read_bytes()
        except OSError:
            return None

    return read


def _parse_git_output(data: bytes, what: str) -> list[FileChange]:
    if not data.strip():
        return []
    return parse_diff(data, what)


def from_range(repo_path: str | os.PathLike, base: str, head: str = "HEAD") -> ChangeSet:
    """Changes on `head` since its merge base with `base` (what a pull request shows)."""
    import git

    repo = open_repo(repo_path)
    base_sha = _resolve(repo, base, "base")
    head_sha = _resolve(repo, head, "head")
    try:
        merge_base = repo.git.merge_base(base_sha, head_sha)
    except git.GitCommandError:
        if _is_shallow(repo):
            raise UserError(
                f"no merge base between {base!r} and {head!r} in this shallow clone; fetch full "
                "history (actions/checkout with fetch-depth: 0, or git fetch --unshallow)"
            ) from None
        raise UserError(f"{base!r} and {head!r} share no history: nothing to compare") from None
    data = _git_bytes(repo, "diff", *_DIFF_FLAGS, merge_base, head_sha, "--")
    files = _parse_git_output(data, f"git diff {base}...{head}")
    if not files:
        raise UserError(f"nothing to review: no changes between {base!r} and {head!r}")
    return ChangeSet(
        source=ChangeSource("range", base=base, head=head),
        files=files,
        repo_root=Path(repo.working_tree_dir),
        read_new=_blob_reader(repo),
    )


def from_staged(repo_path: str | os.PathLike) -> ChangeSet:
    """What `git commit` would record now: the index against HEAD."""
    repo = open_repo(repo_path)
    against = "HEAD" if _has_head(repo) else EMPTY_TREE
    data = _git_bytes(repo, "diff", "--cached", *_DIFF_FLAGS, against, "--")
    files = _parse_git_output(data, "git diff --cached")
    if not files:
        raise UserError("nothing to review: no staged changes")
    return ChangeSet(
        source=ChangeSource("staged", base="HEAD", head="INDEX"),
        files=files,
        repo_root=Path(repo.working_tree_dir),
        read_new=_blob_reader(repo),
    )


def from_worktree(repo_path: str | os.PathLike) -> ChangeSet:
    """The working tree against HEAD: staged and unstaged edits plus untracked, non-ignored files."""
    repo = open_repo(repo_path)
    root = Path(repo.working_tree_dir)
    against = "HEAD" if _has_head(repo) else EMPTY_TREE
    data = _git_bytes(repo, "diff", *_DIFF_FLAGS, against, "--")
    files = _parse_git_output(data, "git diff HEAD")
    seen = {f.path for f in files}
    untracked = _git_bytes(repo, "ls-files", "-z", "--others", "--exclude-standard").split(b"\x00")
    reader = _worktree_reader(root)
    for raw in untracked:
        if not raw:
            continue
        path = raw.decode("utf-8", "replace")
        if path in seen or path.startswith(OWN_DIRS):
            continue
        change = FileChange(path=path, status="added")
        content = reader(change)
        if content is None:
            continue
        if b"\x00" in content[:8192]:
            files.append(FileChange(path=path, status="binary"))
            continue
        count = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
        files.append(
            FileChange(path=path, status="added", added_lines=frozenset(range(1, count + 1)))
        )
    if not files:
        raise UserError("nothing to review: the working tree matches HEAD")
    return ChangeSet(
        source=ChangeSource("worktree", base="HEAD", head="WORKTREE"),
        files=files,
        repo_root=root,
        read_new=reader,
    )


def from_diff_file(
    diff_path: str | os.PathLike, repo_path: str | os.PathLike | None = None
) -> ChangeSet:
    """A unified diff read from a file (`-` for stdin). New content comes from the repo's working
    tree when it matches the diff, otherwise from the lines the diff itself shows."""
    name = str(diff_path)
    if name == "-":
        import sys

        data = sys.stdin.buffer.read(MAX_DIFF_BYTES + 1)
    else:
        path = Path(diff_path)
        if not path.is_file():
            raise UserError(f"--diff-file {name}: no such file")
        if path.stat().st_size > MAX_DIFF_BYTES:
            raise UserError(f"--diff-file {name}: larger than {MAX_DIFF_BYTES // 1_000_000} MB")
        data = path.read_bytes()
    if len(data) > MAX_DIFF_BYTES:
        raise UserError(f"--diff-file {name}: larger than {MAX_DIFF_BYTES // 1_000_000} MB")
    files = parse_diff(data, f"--diff-file {name}")
    root = Path(repo_path) if repo_path is not None else None
    worktree = _worktree_reader(root) if root is not None and root.is_dir() else None

    def read(change: FileChange) -> bytes | None:
        if worktree is not None:
            content = worktree(change)
            if content is not None and _agrees(content, change):
                return content
        return _sparse_content(change)

    return ChangeSet(
        source=ChangeSource("diff-file", diff_file=name),
        files=files,
        repo_root=root,
        read_new=read,
    )


def _agrees(content: bytes, change: FileChange) -> bool:
    """Whether a working-tree file is the diff's new side (every shown line is where the diff says)."""
    lines = content.decode("utf-8", "replace").splitlines()
    return all(n <= len(lines) and lines[n - 1] == text for n, text in change.context_lines)


def _sparse_content(change: FileChange) -> bytes | None:
    """The new file as far as the diff shows it: known lines in place, blanks elsewhere."""
    if change.status in ("deleted", "binary") or not change.context_lines:
        return None
    size = max(n for n, _ in change.context_lines)
    lines = [""] * size
    for number, text in change.context_lines:
        lines[number - 1] = text
    return ("\n".join(lines) + "\n").encode("utf-8")


def select_source(
    repo: str | os.PathLike,
    base: str | None = None,
    head: str | None = None,
    staged: bool = False,
    diff_file: str | None = None,
) -> ChangeSet:
    """The change set the user asked for; exactly one kind of source."""
    chosen = [
        name
        for name, on in (
            ("--base/--head", base or head),
            ("--staged", staged),
            ("--diff-file", diff_file),
        )
        if on
    ]
    if len(chosen) > 1:
        raise UserError(f"choose one change source, not {' and '.join(chosen)}")
    if diff_file:
        return from_diff_file(diff_file, repo)
    if staged:
        return from_staged(repo)
    if base or head:
        if not base:
            raise UserError("--head needs --base")
        return from_range(repo, base, head or "HEAD")
    return from_worktree(repo)


def decode_text(content: bytes) -> tuple[str, bool]:
    """Text of a file and whether it was valid UTF-8 (invalid bytes become U+FFFD)."""
    try:
        return content.decode("utf-8"), True
    except UnicodeDecodeError:
        return content.decode("utf-8", "replace"), False


def looks_binary(content: bytes) -> bool:
    return b"\x00" in content[:8192]
