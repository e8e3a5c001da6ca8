"""The `code-assistant-write-plan` pre-commit hook.

At the `commit-msg` stage the commit message is the task: the hook plans it and reports the files
and tests the plan expects that the staged change does not touch (a warning; `--strict` fails the
commit). At the `manual` stage (`pre-commit run code-assistant-write-plan --hook-stage manual`) it
writes write-context.json and patch-plan.md for the task in `CODE_ASSISTANT_TASK`.

pre-commit passes the message file at `commit-msg` and the staged files at `manual`; a single
argument that git does not track is taken as the message file."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from code_assistant_lora.errors import EXIT_FINDINGS, EXIT_OK, UserError

PREFIX = "code-assistant write-plan"


def _git(*args: str) -> bytes:
    done = subprocess.run(["git", *args], capture_output=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"git {args[0]} failed: {detail[-1] if detail else 'error'}")
    return done.stdout


def _is_tracked(path: str) -> bool:
    done = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "--", path], capture_output=True, check=False
    )
    return done.returncode == 0


def commit_message(path: str) -> str:
    """The message as git will record it: comment lines and everything below the scissors
    line dropped."""
    try:
        raw = open(path, "rb").read()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the commit message ({exc.strerror})") from None
    text = raw.decode("utf-8", "replace")
    kept: list[str] = []
    for line in text.split("\n"):
        if line.startswith("# ------------------------ >8 ------------------------"):
            break
        if not line.startswith("#"):
            kept.append(line)
    return "\n".join(kept).strip()


def staged_paths() -> set[str]:
    listing = _git("diff", "--cached", "--name-only", "-z", "--no-renames")
    return {p.decode("utf-8", "surrogateescape") for p in listing.split(b"\x00") if p}


def check_commit(message_file: str, strict: bool, top: int) -> int:
    from code_assistant_lora.plan import Constraints, make_plan

    task = commit_message(message_file)
    if not task:
        print(f"{PREFIX}: empty commit message, nothing to check")
        return EXIT_OK
    plan = make_plan(".", task, Constraints(), top=top)
    staged = staged_paths()
    files = [f for f in plan.to_change if f.path in plan.expected_files and f.path not in staged]
    tests = [
        (path, why)
        for path, why, source in plan.tests_to_run
        if path in plan.expected_tests and path not in staged
    ]
    if not files and not tests:
        print(f"{PREFIX}: the staged change covers the files and tests the plan expects")
        return EXIT_OK
    print(f"{PREFIX}: the commit message suggests changes the staged change does not make")
    for f in files:
        print(f"  file  {f.path}: {f.reasons[0] if f.reasons else 'ranked for the task'}")
    for path, why in tests:
        print(f"  test  {path}: {why}")
    if strict:
        return EXIT_FINDINGS
    print(f"{PREFIX}: warning only (add --strict to the hook's args to fail the commit)")
    return EXIT_OK


def write_plan(top: int) -> int:
    from code_assistant_lora.plan import read_task, run_write

    task = os.environ.get("CODE_ASSISTANT_TASK", "")
    if not task.strip():
        raise UserError(
            "no task: set CODE_ASSISTANT_TASK for the manual stage, or install the hook for "
            "the commit-msg stage (pre-commit install --hook-type commit-msg)"
        )
    outcome = run_write(".", read_task(task, None), top=top)
    print(f"{PREFIX}: files to change: {', '.join(f.path for f in outcome.plan.to_change)}")
    print(f"{PREFIX}: wrote {outcome.context_path} and {outcome.plan_path}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="code-assistant-write-plan", description=__doc__)
    parser.add_argument("--strict", action="store_true", help="fail when the plan expects more")
    parser.add_argument("--top", type=int, default=10, help="ranked files to consider")
    parser.add_argument("filenames", nargs="*", help="the commit message file (commit-msg stage)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if (
            len(args.filenames) == 1
            and os.path.isfile(args.filenames[0])
            and not _is_tracked(args.filenames[0])
        ):
            code = check_commit(args.filenames[0], args.strict, args.top)
        else:
            code = write_plan(args.top)
    except UserError as exc:
        print(f"{PREFIX}: error: {exc.message}", file=sys.stderr)
        code = exc.exit_code
    sys.exit(code)


if __name__ == "__main__":
    main()
