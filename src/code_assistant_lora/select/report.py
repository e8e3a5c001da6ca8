"""`test-report.json` (schema `code-assistant/test-report@1`): what was detected, what was selected
and why, the exact commands, and how each run ended."""

from __future__ import annotations

import json
from pathlib import Path

from ..report import write_atomic

TEST_REPORT_SCHEMA = "code-assistant/test-report@1"


def test_document(
    *,
    source: dict,
    target: str,
    dry_run: bool,
    frameworks: list[dict],
    selected: list[dict],
    files: list[dict],
    runs: list[dict],
    notes: list[str],
    exit_code: int,
    duration_s: float,
) -> dict:
    totals = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for run in runs:
        for key in totals:
            totals[key] += run.get("counts", {}).get(key, 0)
    return {
        "schema": TEST_REPORT_SCHEMA,
        "source": source,
        "target": target,
        "dry_run": dry_run,
        "frameworks": frameworks,
        "selected": selected,
        "files": files,
        "runs": runs,
        "counts": totals,
        "exit_code": exit_code,
        "duration_s": round(duration_s, 3),
        "logs": [run["log"] for run in runs if run.get("log")],
        "notes": notes,
    }


def write_test_report(document: dict, out_dir: Path) -> Path:
    return write_atomic(out_dir / "test-report.json", json.dumps(document, indent=2) + "\n")


def render_text(document: dict) -> str:
    """The plan and the results, for people."""
    lines = []
    source = document["source"]
    if document["target"] == "all":
        lines.append("target: all tests")
    else:
        base = source.get("base_commit") or "empty tree"
        lines.append(
            f"change: {source.get('kind')} against {str(base)[:12]} -> {source.get('head')}"
        )
    for placed in document["files"]:
        lines.append(
            f"  {placed['path']} ({placed['status']}): {placed['placement']}: {placed['detail']}"
        )
    for run in document["runs"]:
        chosen = [s for s in document["selected"] if s["framework"] == run["framework"]]
        lines.append(
            f"{run['framework']} ({run['package_manager']}): {len(chosen)} selected"
            + (f" [{run['status']}]" if run["status"] != "planned" else "")
        )
        for test in chosen[:50]:
            lines.append(f"  {test['nodeid'] or '(whole suite)'}: {test['reason']}")
        if len(chosen) > 50:
            lines.append(f"  ... {len(chosen) - 50} more in test-report.json")
        for note in run.get("notes", []):
            lines.append(f"  note: {note}")
        if run["command"]:
            lines.append("  $ " + " ".join(_quote(a) for a in run["command"]))
        if run["status"] != "planned":
            counts = run["counts"]
            lines.append(
                f"  {counts['passed']} passed, {counts['failed']} failed, {counts['errors']} errors, "
                f"{counts['skipped']} skipped in {run['duration_s']} s; log: {run['log']}"
            )
    for note in document["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
