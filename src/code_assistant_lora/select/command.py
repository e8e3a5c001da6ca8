"""`code-assistant test` as one function: detect the frameworks, select, plan the exact commands,
run them with a timeout (or only print them with --dry-run), and write test-report.json."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_OK, UserError

ARTIFACT_DIR = Path("artifacts") / "code-assistant"
PYTHON_FRAMEWORKS = ("pytest", "unittest")


@dataclass(frozen=True)
class TestRequest:
    repo: str = "."
    base: str | None = None
    head: str | None = None
    staged: bool = False
    target: str = "changed"  # changed | all
    dry_run: bool = False
    timeout: float = 1800.0
    out: str | None = None
    record: bool = False  # run all pytest tests recording the coverage map for HEAD
    passthrough: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestOutcome:
    document: dict
    artifact: Path
    exit_code: int


def run_tests(request: TestRequest) -> TestOutcome:
    from .change import collect
    from .frameworks import detect, pytest_settings
    from .plan import plan_javascript, plan_native, plan_pytest, plan_unittest
    from .report import test_document, write_test_report

    if request.target not in ("changed", "all"):
        raise UserError(f"--target {request.target}: expected changed or all")
    if request.timeout <= 0:
        raise UserError(f"--timeout {request.timeout:g}: expected a positive number of seconds")
    started = time.monotonic()
    change = collect(request.repo, base=request.base, head=request.head, staged=request.staged)
    root = change.root
    out_dir = Path(request.out) if request.out else root / ARTIFACT_DIR
    frameworks = detect(change.paths, change.read)
    if not frameworks:
        raise UserError(
            f"no test framework detected in {root} (looked for pytest or unittest tests, "
            "package.json with jest or vitest, go.mod, Cargo.toml, pom.xml, build.gradle)"
        )
    everything = request.target == "all" or request.record
    if request.record and not any(f.name == "pytest" for f in frameworks):
        raise UserError("--record needs pytest: the coverage map is recorded by the pytest plugin")
    selection = None
    notes: list[str] = []
    if not everything and any(f.name in PYTHON_FRAMEWORKS for f in frameworks):
        selection = _python_selection(change, pytest_settings(change.read))
        notes += list(selection.notes)
    plans = []
    for framework in frameworks:
        results = (
            out_dir / f"results-{framework.name}.{'json' if framework.name == 'jest' else 'xml'}"
        )
        if framework.name == "pytest":
            extra = ("--record-coverage",) if request.record else ()
            plans.append(
                plan_pytest(
                    framework, selection, root, results, extra + request.passthrough, everything
                )
            )
        elif request.record:
            continue
        elif framework.name == "unittest":
            plans.append(plan_unittest(framework, selection, root, request.passthrough, everything))
        elif framework.name in ("jest", "vitest"):
            plans.append(
                plan_javascript(framework, change, results, request.passthrough, everything)
            )
        else:
            plans.append(plan_native(framework, change, request.passthrough, everything))

    runs = []
    for plan in plans:
        log = out_dir / f"test-{plan.framework.name}.log"
        entry = {
            **plan.framework.to_dict(),
            "framework": plan.framework.name,
            "command": list(plan.command),
            "cwd": str(root),
            "notes": list(plan.notes),
            "status": "planned" if request.dry_run else "skipped",
            "exit_code": None,
            "duration_s": 0.0,
            "counts": {"passed": 0, "failed": 0, "errors": 0, "skipped": 0},
            "failures": [],
            "log": None,
            "results": plan.results,
        }
        entry.pop("name")
        if plan.command and not request.dry_run:
            entry.update(_execute(plan, root, log, request.timeout, started))
        elif not plan.command:
            entry["status"] = "nothing to run"
        runs.append(entry)

    exit_code = EXIT_OK
    if any(r["status"] in ("failed", "timeout") for r in runs):
        exit_code = EXIT_FINDINGS
    elif any(r["status"] == "error" for r in runs):
        exit_code = EXIT_ENVIRONMENT
    selected = [
        {"framework": plan.framework.name, **test.to_dict()}
        for plan in plans
        for test in plan.selected
    ]
    document = test_document(
        source=change.source() if not everything else {**change.source(), "kind": "all"},
        target="all" if request.record else request.target,
        dry_run=request.dry_run,
        frameworks=[f.to_dict() for f in frameworks],
        selected=selected,
        files=[f.to_dict() for f in selection.files] if selection is not None else [],
        runs=runs,
        notes=notes,
        exit_code=exit_code,
        duration_s=time.monotonic() - started,
    )
    artifact = write_test_report(document, out_dir)
    return TestOutcome(document, artifact, exit_code)


def _python_selection(change, settings):
    from dataclasses import replace

    from . import coverage_map
    from .cache import SummaryCache
    from .engine import select_tests

    recorded, note = coverage_map.load(change.root, change.base_commit)
    selection = select_tests(change, settings, coverage=recorded, cache=SummaryCache(change.root))
    return replace(selection, notes=(*selection.notes, note)) if note else selection


def _execute(plan, root: Path, log: Path, timeout: float, started: float) -> dict:
    from .runner import (
        parse_cargo,
        parse_go_json,
        parse_jest_json,
        parse_junit,
        parse_unittest,
        run,
    )

    if plan.results:
        Path(plan.results).parent.mkdir(parents=True, exist_ok=True)
        Path(plan.results).unlink(missing_ok=True)
    from .redact import redact_file

    run_started = time.time()
    outcome = run(list(plan.command), root, timeout, log)
    redacted = redact_file(log) + (redact_file(Path(plan.results)) if plan.results else 0)
    text = log.read_text(encoding="utf-8", errors="replace")
    name = plan.framework.name
    parsed = None
    if name in ("pytest", "vitest") and plan.results:
        parsed = parse_junit([Path(plan.results)])
    elif name == "jest" and plan.results:
        parsed = parse_jest_json(Path(plan.results))
    elif name == "go":
        parsed = parse_go_json(text)
    elif name in ("maven", "gradle"):
        pattern = (
            "**/surefire-reports/TEST-*.xml" if name == "maven" else "**/test-results/**/*.xml"
        )
        fresh = [p for p in root.glob(pattern) if p.stat().st_mtime >= run_started - 1]
        parsed = parse_junit(fresh)
    counts, failures = parsed if parsed else (None, ())
    if counts is None:
        counts = (parse_unittest(text) if name == "unittest" else None) or (
            parse_cargo(text) if name == "cargo" else None
        )
    status = _status(name, outcome)
    return {
        "status": status,
        "exit_code": outcome.exit_code,
        "timed_out": outcome.timed_out,
        "duration_s": outcome.duration_s,
        "counts": counts.to_dict()
        if counts
        else {"passed": 0, "failed": 0, "errors": 0, "skipped": 0},
        "failures": list(failures)[:200],
        "log": str(log.relative_to(root)) if log.is_relative_to(root) else str(log),
        "secrets_redacted": redacted,
    }


def _status(framework: str, outcome) -> str:
    if outcome.timed_out:
        return "timeout"
    code = outcome.exit_code
    if code == 0 or (framework == "pytest" and code == 5):
        return "passed"
    if framework == "pytest" and code in (3, 4):
        return "error"
    return "failed"
