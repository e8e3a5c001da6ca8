"""pytest options and hooks for code-assistant; the review itself lives in the core.

`pytest --assistant-review` reviews the change (the working tree against HEAD, or the range since
`--assistant-review-base`), prints the findings in the terminal summary, writes review.json and
fails the session when a finding meets `--assistant-review-fail-on` (default: the project config,
else high). With `--assistant-review-models` (or `[review] models = true`) the specialist models
add their findings; a model that is down only shows as a skipped role. The core is imported only
when an option asks for it, so plain pytest runs pay nothing.
"""

from __future__ import annotations

import pytest

SEVERITIES = ("critical", "high", "medium", "low", "info")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("code-assistant", "code-assistant review and test selection")
    group.addoption(
        "--assistant-review",
        action="store_true",
        help="Review the change and report findings in the summary.",
    )
    group.addoption(
        "--assistant-review-base",
        metavar="REF",
        help="Review HEAD's changes since its merge base with REF (default: working tree against HEAD).",
    )
    group.addoption(
        "--assistant-review-fail-on",
        metavar="SEVERITY",
        choices=SEVERITIES,
        help="Fail the session on findings at or above SEVERITY (default: config, else high).",
    )
    group.addoption(
        "--assistant-review-models",
        action="store_true",
        default=None,
        help="Also ask the specialist models in [models] (default: config's [review] models).",
    )
    from .evals import add_options

    add_options(group)
    from .changed_only import add_options as add_changed_only_options

    add_changed_only_options(group)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args) -> None:
    if getattr(early_config.known_args_namespace, "record_coverage", False):
        from .recording import start_early_recording

        start_early_recording(early_config)


def pytest_configure(config: pytest.Config) -> None:
    from .evals import EvalSession

    config.pluginmanager.register(EvalSession(config), EvalSession.NAME)
    from .changed_only import NAME, ChangedOnly, wanted

    if wanted(config):
        config.pluginmanager.register(ChangedOnly(config), NAME)
    if config.getoption("record_coverage") and not hasattr(config, "workerinput"):
        from .recording import NAME as RECORDING
        from .recording import CoverageRecording

        config.pluginmanager.register(CoverageRecording(config), RECORDING)
    if config.getoption("assistant_review") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(AssistantReview(config), "code-assistant-review")


class AssistantReview:
    """Runs one review per session on the controller (never on xdist workers)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.outcome = None
        self.message: str | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from code_assistant_lora.errors import UserError
        from code_assistant_lora.review.workflow import ReviewRequest, run_review

        request = ReviewRequest(
            repo=str(self.config.rootpath),
            base=self.config.getoption("assistant_review_base"),
            fail_on=self.config.getoption("assistant_review_fail_on"),
            models=self.config.getoption("assistant_review_models"),
        )
        try:
            self.outcome = run_review(request)
        except UserError as exc:
            if exc.message.startswith("nothing to review"):
                self.message = exc.message
                return
            raise pytest.UsageError(f"--assistant-review: {exc.message}") from None

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.outcome is not None and self.outcome.exit_code and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("code-assistant review")
        if self.outcome is None:
            terminalreporter.write_line(self.message or "review did not run")
            return
        from code_assistant_lora.report import render

        terminalreporter.write(
            render(self.outcome.document, "text", color=terminalreporter.hasmarkup)
        )
        terminalreporter.write_line(f"review.json: {self.outcome.artifact}")
        if self.outcome.exit_code:
            terminalreporter.write_line(
                f"session failed: findings at or above {self.outcome.fail_on.value}",
                red=True,
                bold=True,
            )
