"""Build the demo repository from fixtures/demo_repo/.

    python scripts/make_demo_repo.py DEST [--force]

`main` gets an empty initial commit and then the clean service (fixtures/demo_repo/base/), so
`--base main~1 --head main` reviews the whole clean tree. The `feature/invoice-export` branch then
overlays fixtures/demo_repo/feature/ and deletes the paths in fixtures/demo_repo/deleted.txt, in
three commits (backend, tests, the rest), and is left checked out.

Git runs with a fixed identity and dates and without the user's or the system's git config (no
hooks, no signing), so the repository is the same on every machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from fixture_git import identity, run_git

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "demo_repo"
FEATURE_BRANCH = "feature/invoice-export"
IDENTITY = identity("Demo Developer")
# The feature branch's commits: message and the path prefixes each takes (the last takes the rest).
FEATURE_COMMITS = (
    ("Export invoices to CSV and notify the accounting webhook", ("invoice_service/",)),
    ("Export tests; drop the formatting tests", ("tests/",)),
    ("Export panel, export worker image, nightly job, schema and config", ()),
)


class DemoError(Exception):
    """A problem with the command line or the destination: one line, exit code 2."""


def git(dest: Path, *args: str, date: str | None = None) -> str:
    return run_git(dest, IDENTITY, *args, date=date)


def commit(dest: Path, message: str, date: str) -> None:
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "--no-verify", "--allow-empty", "-m", message, date=date)


def tree_files(root: Path) -> list[str]:
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def copy_files(source: Path, dest: Path, paths: list[str]) -> None:
    for relpath in paths:
        target = dest / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relpath, target)


def prepare_destination(dest: Path, force: bool) -> None:
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        if not force:
            raise DemoError(f"{dest} exists and is not empty (use --force to replace it)")
        resolved = dest.resolve()
        if resolved in (Path(resolved.anchor), Path.home()) or resolved in FIXTURE.parents:
            raise DemoError(f"refusing to remove {dest}")
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        else:
            dest.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def build(dest: Path) -> dict[str, int]:
    base, feature = FIXTURE / "base", FIXTURE / "feature"
    deleted = (FIXTURE / "deleted.txt").read_text(encoding="utf-8").split()
    git(dest, "init", "-q")
    git(dest, "symbolic-ref", "HEAD", "refs/heads/main")
    commit(dest, "Initial commit", "2024-03-01T09:00:00+00:00")
    base_files = tree_files(base)
    copy_files(base, dest, base_files)
    commit(
        dest, "Invoice service: API, admin UI, schema and deployment", "2024-03-01T10:00:00+00:00"
    )

    git(dest, "checkout", "-q", "-b", FEATURE_BRANCH)
    pending = tree_files(feature)
    for index, (message, prefixes) in enumerate(FEATURE_COMMITS):
        is_last = index == len(FEATURE_COMMITS) - 1
        mine = [p for p in pending if is_last or p.startswith(prefixes)]
        gone = [p for p in deleted if is_last or p.startswith(prefixes)]
        pending = [p for p in pending if p not in mine]
        deleted = [p for p in deleted if p not in gone]
        copy_files(feature, dest, mine)
        for relpath in gone:
            (dest / relpath).unlink()
        commit(dest, message, f"2024-06-12T{9 + index:02d}:00:00+00:00")
    changed = git(dest, "diff", "--name-status", "main", FEATURE_BRANCH).splitlines()
    return {
        "base_files": len(base_files),
        "feature_commits": len(FEATURE_COMMITS),
        "changed": len(changed),
        "deleted": sum(line.startswith("D") for line in changed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="where to create the repository")
    parser.add_argument("--force", action="store_true", help="replace DEST if it exists")
    args = parser.parse_args(argv)
    try:
        prepare_destination(args.dest, args.force)
        stats = build(args.dest)
    except DemoError as exc:
        print(f"make_demo_repo: {exc}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as exc:
        print(f"make_demo_repo: {exc}", file=sys.stderr)
        return 3
    print(
        f"demo repo at {args.dest}: main has the clean service ({stats['base_files']} files); "
        f"{FEATURE_BRANCH} (checked out) adds {stats['feature_commits']} commits changing "
        f"{stats['changed']} files ({stats['deleted']} deleted)"
    )
    print(
        f"review it: code-assistant review --repo {args.dest} --base main --head {FEATURE_BRANCH}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
