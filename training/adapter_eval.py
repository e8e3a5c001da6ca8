"""`code-assistant-train eval ADAPTER`: score an adapter on the reviewer regression suites and
write the scores into its `adapter.metadata.json`.

The suites run through the pytest plugin exactly as in CI (`--assistant-adapter` serves the base and
the adapter on 127.0.0.1 for the session), so the numbers are the ones `promote` compares. A
specialist is scored on its own suites by default (python <- python; typescript <- typescript, react,
vue; ...); a verifier or style adapter on every suite. The eval field records the weights' SHA-256:
scores of other weights are never promoted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from .metadata import AdapterMetadata, adapter_weights_sha256, load_metadata, save_metadata

DEFAULT_SUITES = "evals/reviewer_regression"
SUMMARY_FILE = "eval-summary.json"  # beside the metadata, with eval-summary.md
SCORE_KEYS = ("precision", "recall", "f1", "false_positive_rate", "cases", "passed")


def is_adapter_dir(path: str | Path) -> bool:
    return (Path(path) / "adapter_config.json").is_file()


def suite_paths(root: str | Path, metadata: AdapterMetadata) -> list[Path]:
    """The suite folders to run: a specialist's own suites when `root` holds them, else `root`."""
    from .reviewer_sft import SPECIALIST_SUITES

    root = Path(root)
    if metadata.role != "specialist" or metadata.specialist not in SPECIALIST_SUITES:
        return [root]
    own = [root / suite for suite in SPECIALIST_SUITES[metadata.specialist]]
    present = [path for path in own if path.is_dir()]
    return present or [root]


def _scores(row: dict) -> dict:
    return {key: row[key] for key in SCORE_KEYS}


def eval_field(
    document: dict, suites_path: str | Path, weights_sha256: str | None, pytest_args: Sequence[str]
) -> dict:
    """The metadata `eval` field from an eval summary (schema code-assistant/eval-summary@1)."""
    return {
        "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reviewer": document["reviewer"],
        "suites_path": str(suites_path),
        "pytest_args": list(pytest_args),
        "adapter_sha256": weights_sha256,
        "tool_version": document.get("tool_version"),
        "overall": _scores(document["overall"]),
        "suites": {row["suite"]: _scores(row) for row in document["suites"]},
        "thresholds_failed": list(document["thresholds_failed"]),
    }


@dataclass
class AdapterEval:
    exit_code: int  # pytest's: 0 every case passed and every threshold held, 1 otherwise
    metadata: AdapterMetadata
    metadata_path: Path
    summary: dict


def run_adapter_eval(
    adapter: str | Path,
    suites: str | Path = DEFAULT_SUITES,
    reviewer: str = "model",
    timeout: float = 60.0,
    report: str | Path | None = None,
    pytest_args: Sequence[str] = (),
) -> AdapterEval:
    """Run the suites against `adapter` in this process (pytest.main) and fold the summary into
    its metadata. Nothing is written when the run did not produce scores."""
    import pytest

    from .serving import require_serving_libraries

    require_serving_libraries("eval ADAPTER")
    adapter = Path(adapter)
    metadata = load_metadata(adapter)  # fail before the slow part when it is missing or invalid
    paths = suite_paths(suites, metadata)
    target = Path(report) if report else adapter / SUMMARY_FILE
    if target.suffix != ".json":
        target = target.with_name(target.name + ".json")
    target.unlink(missing_ok=True)  # a summary left by an earlier run must not be folded in
    args = [*map(str, paths), "-p", "no:cacheprovider", "--assistant-adapter", str(adapter)]
    args += ["--assistant-reviewer", reviewer, "--assistant-model-timeout", str(timeout)]
    args += ["--assistant-eval-report", str(target), *pytest_args]
    code = int(pytest.main(args))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise UserError(f"{suites}: no reviewer cases selected; metadata unchanged")
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not target.is_file():
        raise UserError(
            f"eval of {adapter} produced no scores (pytest exit {code}); metadata unchanged",
            exit_code=2 if code == pytest.ExitCode.USAGE_ERROR else 3,
        )
    summary = json.loads(target.read_text(encoding="utf-8"))
    narrowed = [str(p) for p in paths if Path(p) != Path(suites)]
    field = eval_field(summary, suites, adapter_weights_sha256(adapter), [*narrowed, *pytest_args])
    field["summary"] = str(target)
    metadata = replace(metadata, eval=field)
    written = save_metadata(adapter, metadata)
    return AdapterEval(exit_code=code, metadata=metadata, metadata_path=written, summary=summary)
