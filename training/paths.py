"""Paths that must never reach a training set: dotenv files, keys and credential stores,
dependency folders, virtualenvs and build output.

Mining drops such files from a commit before anything is read from them; the audit fails any
record whose provenance (or a diff header inside its text) names one. Vendored, generated and lock
files are the scanner's business (`code_assistant_lora.scan.skip_reason_for_path`): mining applies
both rule sets, the audit only this stricter one, which holds for any dataset.
"""

from __future__ import annotations

import re

from ..scan import is_env_file

_KEY_SUFFIXES = (
    ".pem",
    ".key",
    ".p12",
    ".pfx",
    ".jks",
    ".keystore",
    ".ppk",
    ".gpg",
    ".pgp",
    ".kdbx",
)
_KEY_NAMES = frozenset(
    {
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        ".netrc",
        "_netrc",
        ".pgpass",
        ".pypirc",
        ".npmrc",
        ".htpasswd",
        ".git-credentials",
        "credentials",
    }
)
_KEY_FOLDERS = frozenset({".ssh", ".aws", ".gnupg", ".docker"})
_DEPENDENCY_FOLDERS = frozenset({"node_modules", "bower_components", "jspm_packages"})
_VIRTUALENV_FOLDERS = frozenset(
    {
        ".venv",
        "venv",
        ".virtualenv",
        "virtualenv",
        "site-packages",
        ".tox",
        ".nox",
        "__pypackages__",
    }
)
_BUILD_FOLDERS = frozenset(
    {
        "build",
        "dist",
        "target",
        "out",
        ".next",
        ".nuxt",
        ".svelte-kit",
        "__pycache__",
        "htmlcov",
        ".eggs",
    }
)


def banned_reason(path: str) -> str | None:
    """Why `path` may not appear in a training record, or None when it may."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts:
        return None
    name = parts[-1]
    lowered = name.lower()
    if is_env_file(name):
        return "dotenv file"
    if lowered in _KEY_NAMES or lowered.endswith(_KEY_SUFFIXES):
        return "key or credential file"
    for folder in parts[:-1]:
        if folder in _KEY_FOLDERS:
            return f"credential folder {folder}/"
        if folder in _DEPENDENCY_FOLDERS:
            return f"dependency folder {folder}/"
        if folder in _VIRTUALENV_FOLDERS:
            return f"virtualenv {folder}/"
        if folder in _BUILD_FOLDERS or folder.endswith(".egg-info"):
            return f"build output {folder}/"
    if lowered.endswith((".pyc", ".pyo")) or lowered == "pyvenv.cfg":
        return "build output"
    return None


# Paths a unified diff names: `diff --git a/X b/Y`, `--- a/X`, `+++ b/Y`, `rename from X`.
_DIFF_PATH = re.compile(
    r"^(?:diff --git a/(\S+) b/(\S+)|(?:---|\+\+\+) [ab]/(\S+)|rename (?:from|to) (\S+))$",
    re.M,
)


def paths_in_diff(text: str) -> set[str]:
    """Every path a unified diff inside `text` names in its headers."""
    if "diff --git" not in text and "+++ " not in text and "rename " not in text:
        return set()
    return {group for match in _DIFF_PATH.finditer(text) for group in match.groups() if group}
