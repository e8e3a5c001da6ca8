"""The eval summaries under `logs/` (schema `code-assistant/eval-summary@1`): a table per
summary, per-suite precision/recall chart rows, and an overview of every summary found."""

from __future__ import annotations

from pathlib import Path

from ...errors import UserError
from ...evals.summary import HEADER, SUMMARY_SCHEMA, table_rows
from ...json_input import read_json

CHART_METRICS = ("precision", "recall")
OVERVIEW_HEADERS = ["file", "created", "reviewer", "model", "precision", "recall", "F1", "passed"]


def find_summaries(logs_dir: str | Path) -> list[str]:
    """`eval-*.json` files in `logs_dir`, newest name last."""
    base = Path(logs_dir)
    if not base.is_dir():
        return []
    return sorted(str(p) for p in base.glob("eval-*.json") if p.is_file())


def load_summary(path: str | Path) -> dict:
    """One eval summary, checked for its schema and the fields the tables read."""
    document = read_json(path)
    if not isinstance(document, dict) or document.get("schema") != SUMMARY_SCHEMA:
        raise UserError(f"{path}: not an eval summary ({SUMMARY_SCHEMA})")
    try:
        table_rows(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: eval summary is missing a field ({exc})") from None
    return document


def summary_table(document: dict) -> tuple[list[str], list[list[str]]]:
    """The same table `code-assistant-train eval` prints: (headers, rows), overall last."""
    return HEADER, table_rows(document)


def chart_rows(document: dict) -> list[dict]:
    """Long-form rows for a grouped bar chart: one per suite and metric."""
    return [
        {"suite": suite["suite"], "metric": metric, "value": float(suite[metric])}
        for suite in document["suites"]
        for metric in CHART_METRICS
    ]


def describe(document: dict) -> str:
    """One markdown line saying what was evaluated, and any threshold that failed."""
    what = document.get("reviewer", "?")
    if document.get("model"):
        what += f" `{document['model']}`"
    line = f"**{what}**, {document.get('created', '?')}"
    failed = document.get("thresholds_failed") or []
    if failed:
        line += " — thresholds not met: " + "; ".join(map(str, failed))
    return line


def overview_rows(paths: list[str]) -> list[list]:
    """One row per summary file: overall precision, recall and F1 (unreadable files say why)."""
    rows = []
    for path in paths:
        try:
            document = load_summary(path)
        except UserError as exc:
            rows.append([Path(path).name, "", "", "", "", "", "", f"unreadable: {exc.message}"])
            continue
        overall = document["overall"]
        rows.append(
            [
                Path(path).name,
                document.get("created", ""),
                document.get("reviewer", ""),
                document.get("model") or "",
                f"{overall['precision']:.2f}",
                f"{overall['recall']:.2f}",
                f"{overall['f1']:.2f}",
                f"{overall['passed']}/{overall['cases']}",
            ]
        )
    return rows
