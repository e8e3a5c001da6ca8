"""The formatters a repository configures, run on a patch's files before its tests.

Only formatters the repository itself sets up are run (ruff format with `[tool.ruff]`, ruff.toml
or .ruff.toml; black with `[tool.black]`), and only when installed; absent ones are skipped. The
configuration is read from the clean checkout before a patch is applied, so a patch cannot switch
a formatter on. Commands are fixed argument lists; nothing a model wrote is run as a command."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

FORMAT_TIMEOUT_S = 60
PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Formatter:
    name: str
    command: tuple[str, ...]  # the file paths are appended after `--`
    suffixes: tuple[str, ...]


def configured_formatters(root: Path) -> list[Formatter]:
    """The formatters `root` configures and this machine has."""
    tool: dict = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            tool = {}
    found: list[Formatter] = []
    wants_ruff = "ruff" in tool or (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file()
    ruff = _executable("ruff")
    if wants_ruff and ruff:
        found.append(Formatter("ruff", (*ruff, "format", "--quiet"), PYTHON_SUFFIXES))
    black = _executable("black")
    if "black" in tool and black:
        found.append(Formatter("black", (*black, "--quiet"), PYTHON_SUFFIXES))
    return found


def _executable(module: str) -> tuple[str, ...] | None:
    if importlib.util.find_spec(module) is not None:
        return (sys.executable, "-m", module)
    found = shutil.which(module)
    return (found,) if found else None


def run_formatters(
    formatters: list[Formatter], worktree: Path, paths: tuple[str, ...]
) -> list[dict]:
    """Run each formatter on the existing files among `paths`; one record per formatter run."""
    runs: list[dict] = []
    for formatter in formatters:
        targets = [p for p in paths if p.endswith(formatter.suffixes) and (worktree / p).is_file()]
        if not targets:
            continue
        command = [*formatter.command, "--", *targets]
        try:
            done = subprocess.run(
                command,
                cwd=worktree,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=FORMAT_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
            status = "ok" if done.returncode == 0 else "failed"
            output = (done.stdout + done.stderr).strip()[-2000:]
        except subprocess.TimeoutExpired:
            status, output = "timeout", f"killed after {FORMAT_TIMEOUT_S} s"
        except OSError as exc:
            status, output = "error", str(exc)
        runs.append({"name": formatter.name, "files": targets, "status": status, "output": output})
    return runs
