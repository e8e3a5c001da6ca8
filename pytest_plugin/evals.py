"""Reviewer regression cases as pytest items.

Every `*.yaml` under a `reviewer_regression/` folder is a case (see `code_assistant_lora.evals.case`);
each becomes one item named `<suite>/<case>`, so `-k`, `-m` (suite names, `clean`, and the case's
tags), `-x`, `--lf`, `-n` and JUnit XML work as for any test. Results travel in the report's
`user_properties`, so the per-suite scores are computed on the controller even under xdist. At the
end of the session: a table in the terminal summary, the JSON and markdown summaries when
`--assistant-eval-report` asks, and a failed session when a suite misses its thresholds.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

REVIEWERS = ("rules", "model", "both")
RESULT_KEY = "code_assistant_eval"


def add_options(group) -> None:
    group.addoption(
        "--assistant-reviewer",
        choices=REVIEWERS,
        default="rules",
        help="Reviewer scored by reviewer_regression cases: rules (default), model, or both.",
    )
    group.addoption(
        "--assistant-model",
        metavar="NAME",
        help="Model name to evaluate (a role's model or a LoRA module name on the server).",
    )
    group.addoption(
        "--assistant-endpoint",
        metavar="URL",
        help="OpenAI-compatible base URL for --assistant-reviewer model|both (e.g. http://127.0.0.1:8000/v1).",
    )
    group.addoption(
        "--assistant-adapter",
        metavar="PATH",
        help="Evaluate a local LoRA adapter: its base model and the adapter are served on 127.0.0.1 "
        "for the session (needs the train extra).",
    )
    group.addoption(
        "--assistant-eval-report",
        metavar="PATH",
        help="Write the eval summary as JSON to PATH and as markdown beside it (PATH with .md).",
    )
    group.addoption(
        "--assistant-model-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="Per-request timeout for model reviewers (default 60).",
    )


# pytest gives these markers behaviour: a case tagged `skip` would silently not run.
RESERVED_MARKERS = frozenset(
    {
        "skip",
        "skipif",
        "xfail",
        "parametrize",
        "usefixtures",
        "filterwarnings",
        "tryfirst",
        "trylast",
    }
)


def _marker_name(tag: str) -> str:
    return re.sub(r"\W", "_", tag.strip().lower()).strip("_") or "tag"


class CaseFailed(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class EvalItem(pytest.Item):
    def __init__(self, *, case, **kwargs) -> None:
        super().__init__(**kwargs)
        self.case = case
        for marker in {case.suite, "clean" if case.must_not_flag else "flagged", *case.tags}:
            name = _marker_name(marker)
            self.config.addinivalue_line("markers", f"{name}: reviewer eval cases ({name})")
            self.add_marker(name)

    def runtest(self) -> None:
        from code_assistant_lora.evals.score import describe_mismatch, score_case

        session: EvalSession = self.config.pluginmanager.get_plugin(EvalSession.NAME)
        reviewer = session.reviewer()
        started = time.perf_counter()
        findings, notes = reviewer.review(self.case)
        latency = time.perf_counter() - started
        result = score_case(
            self.case, findings, latency, min_severity=session.min_severity(), notes=notes
        )
        self.user_properties.append((RESULT_KEY, json.dumps(result.record())))
        if not result.passed:
            raise CaseFailed(describe_mismatch(result))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFailed):
            return "expected vs produced findings (= matched, - missing, + unexpected):\n" + (
                excinfo.value.description
            )
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"eval {self.case.case_id}"


class CaseFile(pytest.File):
    def collect(self):
        from code_assistant_lora.evals.case import CaseError, load_case

        try:
            case = load_case(self.path)
        except CaseError as exc:
            raise self.CollectError(f"invalid eval case: {exc}") from None
        reserved = sorted(t for t in case.tags if _marker_name(t) in RESERVED_MARKERS)
        if reserved:
            raise self.CollectError(
                f"invalid eval case: {self.path}: tags: {reserved[0]!r} is a pytest marker with "
                "its own behaviour; choose another tag"
            )
        yield EvalItem.from_parent(self, name=case.case_id, case=case)


class EvalSession:
    """Options, the reviewer, and the per-suite aggregation for one pytest session."""

    NAME = "code-assistant-evals"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: list[dict] = []
        self._reviewer = None
        self._project = None
        self._server = None
        self.kind = config.getoption("assistant_reviewer")
        self.failures: list[str] = []
        self.document: dict | None = None
        self.written: tuple[Path, Path] | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        if config.getoption("assistant_reviewer") != "rules" or config.getoption(
            "assistant_adapter"
        ):
            self.reviewer()  # a missing endpoint or model is a usage error before anything runs

    def project_config(self):
        if self._project is None:
            from code_assistant_lora.config import load_config

            self._project = load_config(self.config.rootpath)
        return self._project

    def min_severity(self):
        return self.project_config().evals.min_severity

    def reviewer(self):
        if self._reviewer is None:
            from code_assistant_lora.errors import UserError
            from code_assistant_lora.evals.reviewers import make_reviewer

            option = self.config.getoption
            kind = option("assistant_reviewer")
            endpoint, model = option("assistant_endpoint"), option("assistant_model")
            adapter = option("assistant_adapter")
            if adapter:
                endpoint, model = self._serve_adapter(adapter)
                kind = "model" if kind == "rules" else kind
            self.kind = kind
            try:
                self._reviewer = make_reviewer(
                    kind, endpoint, model, timeout=option("assistant_model_timeout")
                )
            except UserError as exc:
                raise pytest.UsageError(f"--assistant-reviewer: {exc.message}") from None
        return self._reviewer

    def _serve_adapter(self, adapter: str) -> tuple[str, str]:
        try:
            from code_assistant_lora.training.serving import serve_adapter_in_background
        except ImportError as exc:
            raise pytest.UsageError(
                f"--assistant-adapter needs the train extra ({exc.name} is missing): "
                "pip install 'code-assistant-lora[train]'"
            ) from None
        from code_assistant_lora.errors import UserError

        try:
            self._server = serve_adapter_in_background(adapter)
        except UserError as exc:
            raise pytest.UsageError(f"--assistant-adapter: {exc.message}") from None
        return self._server.base_url, self._server.models.adapters[0]

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def pytest_collect_file(self, file_path: Path, parent):
        if file_path.suffix in (".yaml", ".yml") and "reviewer_regression" in file_path.parts:
            return CaseFile.from_parent(parent, path=file_path)
        return None

    def pytest_runtest_logreport(self, report) -> None:
        if report.when != "call":
            return
        for key, value in report.user_properties:
            if key == RESULT_KEY:
                self.records.append(json.loads(value))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.records or hasattr(self.config, "workerinput"):
            return
        from code_assistant_lora.evals.score import score_suites, threshold_failures
        from code_assistant_lora.evals.summary import summary_document, write_summary

        suites = score_suites(self.records)
        self.failures = threshold_failures(suites, self.project_config().evals.thresholds)
        option = self.config.getoption
        self.document = summary_document(
            suites,
            reviewer=self.kind,
            thresholds_failed=self.failures,
            model=option("assistant_model") or option("assistant_adapter"),
            endpoint=option("assistant_endpoint"),
        )
        report = option("assistant_eval_report")
        if report:
            self.written = write_summary(self.document, report)
        if self.failures and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.document is None:
            return
        from code_assistant_lora.evals.summary import render_table

        terminalreporter.section("code-assistant reviewer eval")
        terminalreporter.write_line(f"reviewer: {self.document['reviewer']}")
        terminalreporter.write_line(render_table(self.document))
        for failure in self.failures:
            terminalreporter.write_line(f"threshold not met: {failure}", red=True, bold=True)
        if self.written:
            terminalreporter.write_line(f"eval summary: {self.written[0]} and {self.written[1]}")
