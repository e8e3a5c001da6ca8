"""The human rendering: findings grouped by file, most severe first, with a one-line summary."""

from __future__ import annotations

import io

_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def render_text(document: dict, color: bool = False) -> str:
    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=100,
        highlight=False,
        soft_wrap=True,
    )
    current = None
    for finding in document["findings"]:
        if finding["file"] != current:
            current = finding["file"]
            console.print(f"\n[bold]{escape(current)}[/bold]")
        style = _STYLES.get(finding["severity"], "")
        console.print(
            f"  {finding['line']:>5}  [{style}]{finding['severity']:<8}[/{style}] "
            f"{escape(finding['rule'])}: {escape(finding['rationale'])}"
        )
        console.print(f"         [dim]fix:[/dim] {escape(finding['suggested_fix'])}")
    for note in document.get("notes", []):
        console.print(f"[dim]note: {escape(note)}[/dim]")
    for role in document.get("models", {}).get("roles", []):
        console.print(escape(_role_line(role)), style="dim" if role["status"] != "skipped" else "")
    summary = document["summary"]
    by = ", ".join(f"{count} {sev}" for sev, count in summary["by_severity"].items())
    line = f"{summary['findings']} finding(s) in {summary['files']} file(s)" + (
        f" ({by})" if by else ""
    )
    if "fail_on" in summary:
        line += f"; {summary['failing']} at or above {summary['fail_on']}"
    console.print(("\n" if document["findings"] else "") + line)
    return buffer.getvalue()


def _role_line(role: dict) -> str:
    if role["status"] == "skipped":
        return f"model {role['role']}: skipped ({role['reason']})"
    line = f"model {role['role']}: {role['status']}, {role['findings']} finding(s), {role['ms']} ms"
    return line + (f", {role['merged']} merged into rule findings" if role["merged"] else "")
