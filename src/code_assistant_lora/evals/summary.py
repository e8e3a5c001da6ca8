"""The eval summary (schema `code-assistant/eval-summary@1`) as JSON and as markdown."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from .score import SuiteScore, overall

SUMMARY_SCHEMA = "code-assistant/eval-summary@1"


def summary_document(
    suites: dict[str, SuiteScore],
    reviewer: str,
    thresholds_failed: list[str],
    model: str | None = None,
    endpoint: str | None = None,
) -> dict:
    return {
        "schema": SUMMARY_SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reviewer": reviewer,
        "model": model,
        "endpoint": endpoint,
        "tool_version": __version__,
        "python": platform.python_version(),
        "suites": [score.to_dict() for score in suites.values()],
        "overall": overall(suites).to_dict(),
        "thresholds_failed": thresholds_failed,
    }


def table_rows(document: dict) -> list[list[str]]:
    rows = []
    for row in [*document["suites"], document["overall"]]:
        rows.append(
            [
                row["suite"],
                str(row["cases"]),
                f"{row['passed']}/{row['cases']}",
                f"{row['precision']:.2f}",
                f"{row['recall']:.2f}",
                f"{row['f1']:.2f}",
                f"{row['false_positive_rate']:.2f}",
                f"{row['latency_ms']['mean']:.1f}",
            ]
        )
    return rows


HEADER = ["suite", "cases", "passed", "precision", "recall", "F1", "clean FP rate", "ms/case"]


def render_table(document: dict) -> str:
    rows = [HEADER, *table_rows(document)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(document: dict) -> str:
    title = f"# Reviewer eval: {document['reviewer']}"
    if document.get("model"):
        title += f" (`{document['model']}`)"
    lines = [title, "", f"{document['created']}, code-assistant {document['tool_version']}", ""]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "---|" * len(HEADER))
    for row in table_rows(document):
        lines.append("| " + " | ".join(row) + " |")
    if document["thresholds_failed"]:
        lines += ["", "Thresholds not met:", ""]
        lines += [f"- {item}" for item in document["thresholds_failed"]]
    return "\n".join(lines) + "\n"


def write_summary(document: dict, path: str | Path) -> tuple[Path, Path]:
    """Write PATH (JSON) and PATH with a .md suffix, atomically."""
    from ..report import write_atomic

    target = Path(path)
    if target.suffix != ".json":
        target = target.with_name(target.name + ".json")
    markdown = target.with_suffix(".md")
    write_atomic(target, json.dumps(document, indent=2) + "\n")
    write_atomic(markdown, render_markdown(document))
    return target, markdown
