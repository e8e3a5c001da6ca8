"""`python -m code_assistant_lora.scan_repo PATH --out data/raw/repo_chunks.jsonl`: scan a repository
into symbol chunks, one JSON object per line (path, language, symbol, kind, start/end line, text,
content hash), for dataset building. Skipped files are counted by reason on stderr; a progress bar
shows on long scans when stderr is a terminal."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from .entry import run_command
from .errors import UserError

PROGRESS_FROM = 200  # files; smaller scans finish before a bar is worth drawing


def _scan(path: str, show_progress: bool):
    from .scan import scan_repo

    if not show_progress:
        return scan_repo(path)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=None)

        def progress(done: int, total: int) -> None:
            if total >= PROGRESS_FROM:
                bar.update(task, completed=done, total=total)

        return scan_repo(path, progress=progress)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("path", type=click.Path(file_okay=False))
@click.option(
    "--out",
    default="data/raw/repo_chunks.jsonl",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the chunks (JSONL, written atomically).",
)
def scan_command(path: str, out: str) -> None:
    """Scan the git repository at PATH (tracked files only) into symbol chunks."""
    from .report import write_atomic

    result = _scan(path, sys.stderr.isatty())
    if not result.chunks:
        raise UserError(
            f"{path}: no text files to scan ({len(result.skipped)} tracked files skipped)"
        )
    lines = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in result.chunks)
    target = write_atomic(Path(out), lines)
    reasons = Counter(s.reason.split(" (", 1)[0] for s in result.skipped)
    click.echo(
        f"scanned {len(result.files)} files into {len(result.chunks)} chunks -> {target}", err=True
    )
    for reason, count in reasons.most_common():
        click.echo(f"  skipped {count}: {reason}", err=True)


def main(argv: list[str] | None = None) -> None:
    run_command(scan_command, argv, "scan_repo")


if __name__ == "__main__":
    main()
