"""`code-assistant-train promote`: the gate between a trained adapter and the one a team serves.

An adapter is promoted for its role key (a specialist's name, `verifier` or `style`) only when
- its metadata checks out (`adapter_checks`): a PEFT folder, the base it names, an audit that
  passed, and eval scores measured on these very weights;
- its scores meet the configured thresholds (`[tool.code-assistant.evals]` min_precision and
  min_recall, overall and per suite, the same ones the eval plugin enforces);
- it does not score below the adapter promoted for that key: overall precision and recall not
  lower, no suite's precision or recall lower by more than `tolerance`, every suite the promoted
  one was scored on scored too, on the same number of cases, by the same kind of reviewer.

The registry (`adapters/promoted.json`, schema `code-assistant/promoted-adapters@1`) maps each key
to `{path, name, metadata_sha256, adapter_sha256, base_model, scores, promoted_at, ...}` and keeps a
history of promotions; it is written atomically. Paths are relative to the directory promote runs
in (the project root) when the adapter lies under it.

A deliberate rollback to an adapter that scores lower is `--force --reason TEXT`: it overrides the
comparison with the promoted adapter only, never the thresholds or the metadata checks, and the
reason is recorded in the registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..config import EvalsConfig
from ..errors import UserError
from ..json_input import read_json
from .adapter_checks import check_adapter_dir, role_key
from .jsonl import file_digest
from .metadata import AdapterMetadata, load_metadata, metadata_path

REGISTRY_SCHEMA = "code-assistant/promoted-adapters@1"
DEFAULT_REGISTRY = Path("adapters") / "promoted.json"
DEFAULT_TOLERANCE = 0.02
EPSILON = 1e-9


@dataclass
class SuiteRow:
    """One line of the comparison: the candidate's and the promoted adapter's scores."""

    suite: str
    candidate: dict | None
    promoted: dict | None
    min_precision: float | None = None
    min_recall: float | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Decision:
    key: str
    adapter: Path
    metadata: AdapterMetadata
    incumbent: dict | None = None
    rows: list[SuiteRow] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why it is refused
    overridden: list[str] = field(default_factory=list)  # comparison reasons --force set aside
    notes: list[str] = field(default_factory=list)
    already_promoted: bool = False

    @property
    def accepted(self) -> bool:
        return not self.reasons


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def load_registry(path: str | Path) -> dict:
    """The registry document; an empty one when the file does not exist yet."""
    source = Path(path)
    if not source.is_file():
        return {"schema": REGISTRY_SCHEMA, "updated": None, "adapters": {}, "history": []}
    document = read_json(source, str(path))
    if not isinstance(document, dict) or document.get("schema") != REGISTRY_SCHEMA:
        raise UserError(f"{path}: not a {REGISTRY_SCHEMA} registry (schema field)")
    if not isinstance(document.get("adapters"), dict):
        raise UserError(f"{path}: 'adapters' must be a mapping of role key to entry")
    document.setdefault("history", [])
    return document


def stored_path(adapter: Path, root: Path) -> str:
    """The adapter's path as the registry stores it: relative to `root` when under it."""
    resolved = adapter.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def scores_of(metadata: AdapterMetadata) -> dict:
    """What the registry keeps of an eval: reviewer, case counts and precision/recall/F1."""
    ev = metadata.eval or {}
    return {
        "reviewer": ev.get("reviewer"),
        "evaluated_at": ev.get("evaluated_at"),
        "overall": dict(ev.get("overall") or {}),
        "suites": {name: dict(values) for name, values in (ev.get("suites") or {}).items()},
    }


def _valid_scores(ev: dict) -> bool:
    def ok(values) -> bool:
        return isinstance(values, dict) and all(
            isinstance(values.get(k), (int, float)) for k in ("precision", "recall", "cases")
        )

    suites = ev.get("suites")
    return ok(ev.get("overall")) and isinstance(suites, dict) and all(map(ok, suites.values()))


def _incumbent_scores(entry: dict, root: Path, notes: list[str]) -> dict:
    """The promoted adapter's scores: re-read from its metadata when it was re-evaluated since
    (same weights, newer eval), so new suite cases can be compared like for like."""
    stored = entry.get("scores") or {}
    path = Path(entry.get("path", ""))
    path = path if path.is_absolute() else root / path
    try:
        current = load_metadata(path)
    except UserError:
        return stored
    ev = current.eval or {}
    newer = (ev.get("evaluated_at") or "") > (stored.get("evaluated_at") or "")
    same_weights = ev.get("adapter_sha256") == entry.get("adapter_sha256")
    if newer and same_weights and _valid_scores(ev):
        notes.append(f"promoted adapter re-evaluated at {ev['evaluated_at']}: comparing with that")
        return scores_of(current)
    return stored


def _threshold_problems(scores: dict, minimum_p, minimum_r) -> list[str]:
    problems = []
    if minimum_p is not None and scores["precision"] < minimum_p - EPSILON:
        problems.append(f"precision {scores['precision']:.3f} < {minimum_p:.3f}")
    if minimum_r is not None and scores["recall"] < minimum_r - EPSILON:
        problems.append(f"recall {scores['recall']:.3f} < {minimum_r:.3f}")
    return problems


def _comparison_problems(mine: dict | None, theirs: dict | None, tolerance: float) -> list[str]:
    if theirs is None:
        return []
    if mine is None:
        return ["not evaluated (the promoted adapter was)"]
    if mine.get("cases") != theirs.get("cases"):
        return [
            f"scored on {mine.get('cases')} cases, the promoted adapter on {theirs.get('cases')}: "
            "re-evaluate the promoted adapter so both see the same cases"
        ]
    problems = []
    for metric in ("precision", "recall"):
        drop = theirs[metric] - mine[metric]
        if drop > tolerance + EPSILON:
            problems.append(
                f"{metric} {mine[metric]:.3f} < promoted {theirs[metric]:.3f} (-{drop:.3f})"
            )
    return problems


def decide(
    adapter: str | Path,
    registry: dict,
    evals: EvalsConfig,
    tolerance: float = DEFAULT_TOLERANCE,
    force: bool = False,
    root: str | Path = ".",
) -> Decision:
    """Whether `adapter` may replace the promoted adapter of its role key, and why not."""
    root = Path(root)
    check = check_adapter_dir(adapter)
    metadata = check.metadata
    decision = Decision(key=role_key(metadata), adapter=Path(adapter), metadata=metadata)
    decision.reasons += check.problems
    ev = metadata.eval
    if ev is None:
        decision.reasons.append(f"no eval scores: run code-assistant-train eval {adapter}")
        return decision
    if not _valid_scores(ev):
        decision.reasons.append("the eval field has no overall and per-suite scores")
        return decision
    overall, suites = ev["overall"], ev["suites"]
    overall_row = SuiteRow("overall", overall, None, evals.min_precision, evals.min_recall)
    overall_row.problems += _threshold_problems(overall, evals.min_precision, evals.min_recall)
    rows = {"overall": overall_row}
    for name, values in sorted(suites.items()):
        limits = evals.thresholds(name)
        row = SuiteRow(name, values, None, limits.min_precision, limits.min_recall)
        row.problems += _threshold_problems(values, limits.min_precision, limits.min_recall)
        rows[name] = row
    decision.reasons += [f"{r.suite}: {p} (threshold)" for r in rows.values() for p in r.problems]

    incumbent = registry["adapters"].get(decision.key)
    decision.incumbent = incumbent
    if incumbent is not None:
        same_folder = (root / incumbent.get("path", "")).resolve() == Path(adapter).resolve()
        if same_folder and incumbent.get("metadata_sha256") == file_digest(metadata_path(adapter)):
            decision.already_promoted = True
        theirs = _incumbent_scores(incumbent, root, decision.notes)
        comparison = _compare(rows, theirs, ev, tolerance)  # also fills the promoted column
        if not decision.already_promoted:
            (decision.overridden if force else decision.reasons).extend(comparison)
    per_suite = sorted(
        (row for key, row in rows.items() if key != "overall"), key=lambda r: r.suite
    )
    decision.rows = [rows["overall"], *per_suite]
    return decision


def _compare(rows: dict[str, SuiteRow], theirs: dict, ev: dict, tolerance: float) -> list[str]:
    """Fill the promoted side of the rows; the reasons the candidate is worse."""
    reasons = []
    if theirs.get("reviewer") and theirs.get("reviewer") != ev.get("reviewer"):
        reasons.append(
            f"scored by reviewer {ev.get('reviewer')!r}, the promoted adapter by "
            f"{theirs.get('reviewer')!r}: evaluate both the same way"
        )
    theirs_overall = theirs.get("overall") or None
    rows["overall"].promoted = theirs_overall
    if theirs_overall:
        for metric in ("precision", "recall"):
            mine, base = rows["overall"].candidate[metric], theirs_overall.get(metric)
            if base is not None and mine < base - EPSILON:
                reasons.append(f"overall: {metric} {mine:.3f} < promoted {base:.3f}")
    for name, values in (theirs.get("suites") or {}).items():
        row = rows.setdefault(name, SuiteRow(name, None, None))
        row.promoted = values
        reasons += [f"{name}: {p}" for p in _comparison_problems(row.candidate, values, tolerance)]
    return reasons


def registry_entry(decision: Decision, root: Path, reason: str | None) -> dict:
    metadata = decision.metadata
    return {
        "path": stored_path(decision.adapter, root),
        "name": metadata.name,
        "role": metadata.role,
        "specialist": metadata.specialist,
        "base_model": metadata.base_model,
        "base_revision": metadata.base_revision,
        "metadata_sha256": file_digest(metadata_path(decision.adapter)),
        "adapter_sha256": (metadata.eval or {}).get("adapter_sha256"),
        "scores": scores_of(metadata),
        "promoted_at": _now(),
        "forced": bool(decision.overridden),
        "reason": reason,
    }


def promote(
    decision: Decision,
    registry: dict,
    registry_path: str | Path,
    root: str | Path = ".",
    reason: str | None = None,
) -> dict:
    """Record an accepted decision in the registry (atomically); returns the new entry."""
    from ..report import write_atomic

    if not decision.accepted:
        raise ValueError("promote() needs an accepted decision")
    entry = registry_entry(decision, Path(root), reason)
    previous = registry["adapters"].get(decision.key)
    registry["adapters"][decision.key] = entry
    registry["updated"] = entry["promoted_at"]
    registry["history"].append(
        {
            "key": decision.key,
            "name": entry["name"],
            "path": entry["path"],
            "metadata_sha256": entry["metadata_sha256"],
            "promoted_at": entry["promoted_at"],
            "replaced": previous.get("name") if previous else None,
            "forced": entry["forced"],
            "reason": reason,
        }
    )
    text = json.dumps(registry, indent=2) + "\n"
    write_atomic(Path(registry_path), text)
    return entry


def render_comparison(decision: Decision) -> str:
    """The per-suite table (rich): candidate vs promoted precision/recall, thresholds, verdict."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    def cell(values: dict | None, metric: str) -> str:
        return "-" if not values or values.get(metric) is None else f"{values[metric]:.3f}"

    def delta(row: SuiteRow, metric: str) -> str:
        if not row.candidate or not row.promoted or row.promoted.get(metric) is None:
            return ""
        return f"{row.candidate[metric] - row.promoted[metric]:+.3f}"

    def limit(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    promoted_name = (decision.incumbent or {}).get("name", "none")
    table = Table(title=f"{decision.metadata.name} vs promoted {decision.key}: {promoted_name}")
    for header in ("suite", "cases", "precision", "promoted", "Δ", "recall", "promoted", "Δ"):
        table.add_column(header, justify="left" if header == "suite" else "right")
    table.add_column("min P/R", justify="right")
    table.add_column("verdict")
    failed = {reason.split(":", 1)[0] for reason in decision.reasons + decision.overridden}
    for row in decision.rows:
        cases = (row.candidate or {}).get("cases", "-")
        verdict = "regressed" if row.suite in failed else "ok"
        if row.problems:
            verdict = "below threshold"
        table.add_row(
            row.suite, str(cases),
            cell(row.candidate, "precision"), cell(row.promoted, "precision"),
            delta(row, "precision"),
            cell(row.candidate, "recall"), cell(row.promoted, "recall"), delta(row, "recall"),
            f"{limit(row.min_precision)}/{limit(row.min_recall)}", verdict,
        )  # fmt: skip
    out = StringIO()
    Console(file=out, width=120, no_color=True, highlight=False).print(table)
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())
