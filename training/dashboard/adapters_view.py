"""Adapters side by side: every folder holding an `adapter.metadata.json` under a root, their
metadata in one table (base model, data hashes, hyperparameters, losses, scores), and each score
that fell below the promoted adapter of the same role.

The promoted registry (`adapters/promoted.json`, read by `promote.load_registry`) maps a role key
(`adapter_checks.role_key`: a specialist's name, else the role) to its entry with `path` and
`scores`. A missing registry means nothing is promoted yet: no regressions are flagged.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from ...errors import UserError
from ..adapter_checks import role_key
from ..metadata import METADATA_FILE, AdapterMetadata, load_metadata
from ..promote import DEFAULT_REGISTRY, load_registry
from .discovery import folders_with

PROMOTED_FILE = DEFAULT_REGISTRY
SCORED_METRICS = ("precision", "recall", "f1")


@dataclass(frozen=True)
class FoundAdapter:
    path: str
    metadata: AdapterMetadata | None = None
    error: str | None = None  # why the metadata could not be read


@dataclass(frozen=True)
class Regression:
    adapter: str
    role_key: str
    suite: str
    metric: str
    value: float
    promoted: float

    def to_row(self) -> list:
        delta = self.value - self.promoted
        return [self.adapter, self.role_key, self.suite, self.metric,
                f"{self.value:.3f}", f"{self.promoted:.3f}", f"{delta:+.3f}"]  # fmt: skip


REGRESSION_HEADERS = ["adapter", "promoted role", "suite", "metric", "value", "promoted", "change"]


def find_adapters(root: str | Path, max_depth: int = 4) -> list[FoundAdapter]:
    """Folders under `root` (itself included) with an adapter.metadata.json, sorted by path;
    checkpoints and virtualenvs are not searched."""
    if not Path(root).is_dir():
        raise UserError(f"{root}: no such folder")
    found: list[FoundAdapter] = []
    for folder in folders_with(root, METADATA_FILE, max_depth):
        try:
            found.append(FoundAdapter(str(folder), load_metadata(folder)))
        except UserError as exc:
            found.append(FoundAdapter(str(folder), error=exc.message))
    return found


def load_promoted(path: str | Path) -> dict[str, dict]:
    """Role key -> registry entry (`promote.load_registry`); {} when there is no registry."""
    return load_registry(path)["adapters"]


def suite_scores(scores: dict | None) -> dict[str, dict[str, float]]:
    """Suite name -> {metric: value} from an eval block (`{"overall": {...}, "suites": {...}}`,
    suites as a mapping or a list of `{"suite": name, ...}`) or flat overall metrics."""
    if not isinstance(scores, dict):
        return {}
    out: dict[str, dict[str, float]] = {}

    def take(name: str, values) -> None:
        if isinstance(values, dict):
            metrics = {
                m: float(values[m])
                for m in SCORED_METRICS
                if isinstance(values.get(m), (int, float)) and not isinstance(values[m], bool)
            }
            if metrics:
                out[name] = metrics

    suites = scores.get("suites")
    if isinstance(suites, dict):
        for name, values in suites.items():
            take(str(name), values)
    elif isinstance(suites, list):
        for values in suites:
            if isinstance(values, dict) and isinstance(values.get("suite"), str):
                take(values["suite"], values)
    if isinstance(scores.get("overall"), dict):
        take("overall", scores["overall"])
    elif not out:
        take("overall", scores)
    return out


def baseline_scores(entry: dict, root: str | Path) -> dict[str, dict[str, float]]:
    """The promoted adapter's scores: the registry's copy, else its metadata's eval block."""
    scores = suite_scores(entry.get("scores"))
    if scores:
        return scores
    path = Path(entry["path"])
    try:
        metadata = load_metadata(path if path.is_absolute() else Path(root) / path)
    except UserError:
        return {}
    return suite_scores(metadata.eval)


def regressions(
    name: str,
    key: str,
    candidate: dict[str, dict[str, float]],
    promoted: dict[str, dict[str, float]],
    tolerance: float = 1e-9,
) -> list[Regression]:
    """Each (suite, metric) both have where the candidate scores lower than the promoted one."""
    found = []
    for suite in sorted(set(candidate) & set(promoted), key=lambda s: (s == "overall", s)):
        for metric in SCORED_METRICS:
            value, base = candidate[suite].get(metric), promoted[suite].get(metric)
            if value is not None and base is not None and value < base - tolerance:
                found.append(Regression(name, key, suite, metric, value, base))
    return found


@dataclass(frozen=True)
class Comparison:
    columns: list[str]  # adapter names (folder names where two share a name)
    rows: list[tuple[str, list[str]]]  # (field, one cell per adapter)
    regressions: list[Regression]
    flagged: frozenset[tuple[str, int]]  # (field, column) cells that regressed
    promoted_columns: frozenset[int]


def _short(value, width: int = 12) -> str:
    return "" if value is None else str(value)[:width]


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def compare(
    adapters: list[FoundAdapter], promoted: dict[str, dict], root: str | Path
) -> Comparison:
    """The side-by-side table of readable adapters and the regressions against the promoted one."""
    readable = [a for a in adapters if a.metadata is not None]
    names = [a.metadata.name for a in readable]
    columns = [
        name if names.count(name) == 1 else f"{name} ({Path(a.path).name})"
        for name, a in zip(names, readable, strict=True)
    ]
    metas = [a.metadata for a in readable]
    scores = [suite_scores(m.eval) for m in metas]
    keys = [role_key(m) for m in metas]
    promoted_paths = {
        key: str((Path(root) / entry["path"]).resolve()) for key, entry in promoted.items()
    }
    promoted_columns = frozenset(
        i
        for i, a in enumerate(readable)
        if str(Path(a.path).resolve()) == promoted_paths.get(keys[i])
    )
    found: list[Regression] = []
    flagged: set[tuple[str, int]] = set()
    for i, (column, key) in enumerate(zip(columns, keys, strict=True)):
        if key not in promoted or i in promoted_columns:
            continue
        for regression in regressions(column, key, scores[i], baseline_scores(promoted[key], root)):
            found.append(regression)
            flagged.add((f"{regression.suite} {regression.metric}", i))

    def row(field: str, cells) -> tuple[str, list[str]]:
        return field, [_fmt(c) for c in cells]

    def dataset(m: AdapterMetadata, split: str) -> str:
        files = [d for d in m.datasets if d.split == split]
        return "; ".join(f"{_short(d.sha256)} ({d.records} records)" for d in files)

    rows = [
        row("folder", [a.path for a in readable]),
        row("role", keys),
        row(
            "promoted",
            [f"yes ({keys[i]})" if i in promoted_columns else "" for i in range(len(metas))],
        ),
        row("base model", [m.base_model for m in metas]),
        row("base revision", [m.base_revision for m in metas]),
        row("train data sha256", [dataset(m, "train") for m in metas]),
        row("eval data sha256", [dataset(m, "eval") for m in metas]),
        row("audit passed", [m.audit.get("passed") for m in metas]),
    ]
    for name in sorted({k for m in metas for k in m.hyperparameters}):
        rows.append(row(name, [m.hyperparameters.get(name) for m in metas]))
    for name in ("steps", "seconds", "final_train_loss", "final_eval_loss"):
        if any(name in m.training for m in metas):
            rows.append(row(name, [m.training.get(name) for m in metas]))
    rows.append(
        row("hardware", [m.hardware.get("name") or m.hardware.get("device") for m in metas])
    )
    rows.append(row("git commit", [_short(m.code.get("git_commit"), 10) for m in metas]))
    rows.append(row("created", [m.created for m in metas]))
    suites = sorted({s for sc in scores for s in sc}, key=lambda s: (s != "overall", s))
    for suite in suites:
        for metric in SCORED_METRICS:
            cells = [sc.get(suite, {}).get(metric) for sc in scores]
            if any(c is not None for c in cells):
                rows.append((f"{suite} {metric}", [_fmt_score(c) for c in cells]))
    return Comparison(columns, rows, found, frozenset(flagged), promoted_columns)


def _fmt_score(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def comparison_html(comparison: Comparison) -> str:
    """The table as HTML; regressed cells are red and say the promoted value."""
    if not comparison.columns:
        return "<p>No adapters with readable metadata.</p>"
    baseline = {(r.suite + " " + r.metric, r.adapter): r.promoted for r in comparison.regressions}
    head = "".join(
        f"<th>{html.escape(c)}{' ★ promoted' if i in comparison.promoted_columns else ''}</th>"
        for i, c in enumerate(comparison.columns)
    )
    body = []
    for field, cells in comparison.rows:
        tds = []
        for i, cell in enumerate(cells):
            if (field, i) in comparison.flagged:
                was = baseline[(field, comparison.columns[i])]
                tds.append(
                    '<td class="regression" style="background:#fde2e2;color:#9b1c1c;'
                    f'font-weight:600">{html.escape(cell)} ▼ (promoted {was:.3f})</td>'
                )
            else:
                tds.append(f"<td>{html.escape(cell)}</td>")
        body.append(f"<tr><th>{html.escape(field)}</th>{''.join(tds)}</tr>")
    return (
        '<table class="adapter-comparison"><thead><tr><th>field</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
