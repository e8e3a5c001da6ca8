"""A model-written diff is untrusted text: find it, parse it, check it, then apply it with `git apply`.

What may pass: text patches whose every path (headers, `diff --git`, rename/copy lines) is a plain
relative path inside the repository, outside `.git/` and our own folders, not through a symlink,
creating no symlink or submodule, within size limits. What is applied is unidiff's re-serialisation
of the parsed patch, so prose around the diff never reaches git."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_PATCH_BYTES = 512_000
MAX_PATCH_FILES = 50
GIT_TIMEOUT_S = 60
# Our own state and configuration: a patch that edits them could change what the tool does.
PROTECTED_PREFIXES = ("artifacts/code-assistant/", ".code-assistant/")
PROTECTED_FILES = (".code-assistant.toml",)
ALLOWED_MODES = ("100644", "100755")

_FENCE = re.compile(r"^```[ \t]*([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_DIFF_START = re.compile(r"^(diff --git |--- )", re.M)
_HEADER_PATHS = ("rename from ", "rename to ", "copy from ", "copy to ")
_MODE_LINE = re.compile(r"^(?:new file mode|new mode|old mode|deleted file mode) (\d+)\s*$")
_INDEX_MODE = re.compile(r"^index [0-9a-f]+\.\.[0-9a-f]+ (\d+)\s*$")


class PatchRejected(Exception):
    """The diff cannot be used; the message says why in one line (it goes back to the patcher)."""


@dataclass(frozen=True)
class CheckedPatch:
    text: str  # the parsed patch, re-serialised: what `git apply` gets
    files: tuple[str, ...]  # repo-relative paths it touches (new paths; old ones for deletions)
    strip: int  # the -p level: 1 with a/ b/ prefixes, 0 without


def extract_diff(answer: str) -> str:
    """The unified diff in a model answer: the first fenced block that holds one (```diff or
    plain ```), else everything from the first diff header on. Empty when there is none."""
    for match in _FENCE.finditer(answer):
        body = match.group(2)
        if _DIFF_START.search(body):
            return body
    start = _DIFF_START.search(answer)
    return answer[start.start() :] if start else ""


def check_patch(diff: str, root: Path) -> CheckedPatch:
    """Parse and validate `diff` against the checkout at `root`; PatchRejected says what is wrong."""
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    if not diff.strip():
        raise PatchRejected("the answer holds no unified diff")
    if len(diff.encode("utf-8")) > MAX_PATCH_BYTES:
        raise PatchRejected(f"the diff is larger than {MAX_PATCH_BYTES // 1000} kB")
    if "\x00" in diff or "\nGIT binary patch" in "\n" + diff:
        raise PatchRejected("binary patches are not accepted")
    try:
        patch = PatchSet(diff.splitlines(keepends=True))
    except UnidiffParseError as exc:
        raise PatchRejected(f"malformed diff: {' '.join(str(exc).split())[:200]}") from None
    if not len(patch):
        raise PatchRejected("the answer holds no file changes in unified diff form")
    if len(patch) > MAX_PATCH_FILES:
        raise PatchRejected(f"the diff touches {len(patch)} files; the limit is {MAX_PATCH_FILES}")
    names = [
        name
        for patched in patch
        for name in (patched.source_file, patched.target_file)
        if name and name != "/dev/null"
    ]
    prefixed = [name[:2] in ("a/", "b/") for name in names]
    if any(prefixed) and not all(prefixed):
        raise PatchRejected("mixed a/ b/ prefixes: use them on every ---/+++ line or on none")
    strip = 1 if prefixed and all(prefixed) else 0
    real_root = root.resolve()
    files: list[str] = []
    for patched in patch:
        if patched.is_binary_file:
            raise PatchRejected("binary patches are not accepted")
        source = _unprefixed(patched.source_file, strip)
        target = _unprefixed(patched.target_file, strip)
        for name in (source, target):
            if name is not None:
                _check_path(name, real_root)
        for line in str(patched.patch_info or "").splitlines():
            _check_header_line(line, real_root)
        if not len(patched) and source is None and target is None:
            raise PatchRejected("a file entry names no path")
        files.append(target or source)
    return CheckedPatch(text=str(patch), files=tuple(dict.fromkeys(files)), strip=strip)


def _unprefixed(name: str | None, strip: int) -> str | None:
    if name is None or name == "/dev/null":
        return None
    return name[2:] if strip else name


def _check_header_line(line: str, root: Path) -> None:
    if line.startswith("diff --git "):
        # Names with spaces split into pieces; each piece must still be a safe relative path.
        for token in line[len("diff --git ") :].split():
            name = token[2:] if token[:2] in ("a/", "b/") else token
            _check_path(name, root)
        return
    for prefix in _HEADER_PATHS:
        if line.startswith(prefix):
            _check_path(line[len(prefix) :].strip(), root)
            return
    mode = _MODE_LINE.match(line) or _INDEX_MODE.match(line)
    if mode and mode.group(1) not in ALLOWED_MODES and not line.startswith("deleted file mode"):
        kind = {"120000": "a symlink", "160000": "a submodule"}.get(mode.group(1), "that mode")
        raise PatchRejected(f"the diff creates {kind} ({line.strip()!r}); only regular files")


def _check_path(path: str, root: Path) -> None:
    """A plain relative path inside `root` that is not ours or git's and not behind a symlink."""
    shown = path[:120]
    if not path or path.startswith(("/", '"', "~")) or re.match(r"^[A-Za-z]:", path):
        raise PatchRejected(f"path {shown!r} is not a plain relative path inside the repository")
    if "\\" in path or any(ord(c) < 32 for c in path):
        raise PatchRejected(f"path {shown!r} holds backslashes or control characters")
    parts = path.split("/")
    if ".." in parts:
        raise PatchRejected(f"path {shown!r} escapes the repository")
    if any(part.lower() == ".git" for part in parts):
        raise PatchRejected(f"path {shown!r} is inside .git")
    clean = str(PurePosixPath(path))
    if clean in PROTECTED_FILES or (clean + "/").startswith(PROTECTED_PREFIXES):
        raise PatchRejected(f"path {shown!r} is code-assistant's own state or config")
    current = root
    for part in PurePosixPath(clean).parts:
        current = current / part
        if current.is_symlink():
            raise PatchRejected(f"path {shown!r} goes through a symlink ({part!r})")
    if not current.resolve().is_relative_to(root):
        raise PatchRejected(f"path {shown!r} escapes the repository")


def apply_patch(patch: CheckedPatch, worktree: Path) -> None:
    """`git apply --check`, then `git apply`, in `worktree`; PatchRejected with git's reason."""
    handle, name = tempfile.mkstemp(prefix="code-assistant-", suffix=".diff")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(patch.text)
        args = [f"-p{patch.strip}", "--whitespace=nowarn", name]
        for extra in (["--check"], []):
            done = _git_apply(worktree, [*extra, *args])
            if done.returncode != 0:
                raise PatchRejected(f"git apply failed: {_last_lines(done.stderr)}")
    finally:
        os.unlink(name)


def _git_apply(cwd: Path, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "apply", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=GIT_TIMEOUT_S,
        env={**os.environ, "LC_ALL": "C"},
    )


def _last_lines(stderr: str, count: int = 3) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:])[:400] or "no reason given"
