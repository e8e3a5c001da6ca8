"""`code-assistant-train metadata --format text`: an adapter's metadata for people (rich tables)."""

from __future__ import annotations

from io import StringIO

from .adapter_checks import AdapterCheck, role_key


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _score(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def render_metadata(check: AdapterCheck) -> str:
    from rich.console import Console
    from rich.table import Table

    meta = check.metadata
    about = Table(show_header=False, box=None, pad_edge=False)
    about.add_column(style="bold")
    about.add_column()
    about.add_row("adapter", f"{meta.name} ({check.path})")
    about.add_row("role", f"{meta.role} (registry key {role_key(meta)})")
    about.add_row("base model", f"{meta.base_model} @ {meta.base_revision or 'no revision'}")
    for entry in meta.datasets:
        about.add_row(
            f"{entry.split} data", f"{entry.path} ({entry.records} records, {entry.sha256[:12]})"
        )
    if meta.audit:
        about.add_row(
            "audit", f"passed={meta.audit.get('passed')} {meta.audit.get('report') or ''}"
        )
    for key, value in sorted(meta.hyperparameters.items()):
        about.add_row(key, _fmt(value))
    for key, value in sorted(meta.training.items()):
        about.add_row(f"training {key}", _fmt(value))
    if meta.hardware:
        about.add_row("hardware", ", ".join(f"{k}={v}" for k, v in meta.hardware.items()))
    about.add_row("libraries", ", ".join(f"{k} {v}" for k, v in meta.libraries.items() if v))
    code = meta.code or {}
    dirty = " (dirty)" if code.get("dirty") else ""
    about.add_row("code", f"{code.get('git_commit') or 'unknown commit'}{dirty}")
    about.add_row("created", meta.created)
    out = StringIO()
    console = Console(file=out, width=120, no_color=True, highlight=False)
    console.print(about)
    if meta.eval:
        scores = Table(title=f"eval ({meta.eval.get('reviewer')}, {meta.eval.get('evaluated_at')})")
        for header in ("suite", "cases", "passed", "precision", "recall", "F1", "clean FP rate"):
            scores.add_column(header, justify="left" if header == "suite" else "right")
        rows = [*sorted((meta.eval.get("suites") or {}).items()), ("overall", meta.eval["overall"])]
        for name, values in rows:
            scores.add_row(
                name,
                _fmt(values.get("cases")),
                _fmt(values.get("passed")),
                *(
                    _score(values.get(k))
                    for k in ("precision", "recall", "f1", "false_positive_rate")
                ),
            )
        console.print(scores)
        for failure in meta.eval.get("thresholds_failed") or []:
            console.print(f"threshold not met at eval time: {failure}")
    for problem in check.problems:
        console.print(f"problem: {problem}")
    for note in check.notes:
        console.print(f"note: {note}")
    console.print("valid" if check.valid else f"{len(check.problems)} problem(s)")
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())
