"""The Environment tab: the `doctor` report (`environment.describe_environment`) as rows, and its
recommended training command as markdown."""

from __future__ import annotations

import json


def _cell(value) -> str:
    if value is None:
        return "not installed"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def report_rows(report: dict) -> list[list[str]]:
    """(item, value) rows: one per library, per CUDA device and per other entry; the
    recommendation is left to `advice_markdown`."""
    rows: list[list[str]] = []
    for key, value in report.items():
        if key == "recommendation":
            continue
        if key == "cuda" and isinstance(value, list):
            rows += [[f"cuda:{d.get('index', i)}", _cell(d)] for i, d in enumerate(value)]
            if not value:
                rows.append(["cuda", "no CUDA device"])
        elif isinstance(value, dict):
            rows += [[f"{key}.{name}", _cell(item)] for name, item in value.items()]
        else:
            rows.append([key, _cell(value)])
    return rows


def advice_markdown(recommendation: dict) -> str:
    """The doctor's recommendation: why, the exact command, and any warning."""
    lines = [
        f"**{recommendation.get('why', '')}**",
        "",
        "```bash",
        recommendation["command"],
        "```",
    ]
    if recommendation.get("warning"):
        lines += ["", f"Warning: {recommendation['warning']}"]
    return "\n".join(lines)
