"""`pytest --record-coverage`: record which test ran which lines into `.code-assistant/coverage/`
(the map `--changed-only` may narrow with). Registered only when recording, so other runs pay
nothing in their per-test and per-fixture hooks."""

from __future__ import annotations

import pytest

NAME = "code-assistant-record-coverage"
EARLY_RECORDER = pytest.StashKey()  # a Recorder started before the initial conftests import


def start_early_recording(early_config: pytest.Config) -> None:
    """Start recording before conftest.py files are imported, so the map also sees the
    import-time lines they run (pytest-cov starts at the same point)."""
    from code_assistant_lora.select.coverage_map import Recorder

    recorder = Recorder(early_config.rootpath)
    recorder.start()
    early_config.stash[EARLY_RECORDER] = recorder


def _fixture_key(fixturedef) -> str:
    return f"{fixturedef.scope} {fixturedef.baseid}::{fixturedef.argname}"


def _shared_fixtures(item: pytest.Item) -> list[str]:
    """Keys of the non-function-scoped fixtures `item` uses (every definition in an override
    chain: an overriding fixture may run the one it overrides)."""
    info = getattr(item, "_fixtureinfo", None)
    defs = getattr(info, "name2fixturedefs", None) or {}
    return [
        _fixture_key(fixturedef)
        for name in getattr(item, "fixturenames", ())
        for fixturedef in defs.get(name, ())
        if fixturedef.scope != "function"
    ]


class CoverageRecording:
    """One dynamic coverage context per test, and per shared fixture's setup, on the controller."""

    def __init__(self, config: pytest.Config) -> None:
        early = config.stash.get(EARLY_RECORDER, None)
        if getattr(config.option, "numprocesses", None):
            if early is not None:
                early.stop()
            raise pytest.UsageError("--record-coverage: run without -n (xdist) to record")
        if early is None:
            from code_assistant_lora.select.coverage_map import Recorder

            early = Recorder(config.rootpath)
            early.start()
        self.recorder = early
        self.written = None
        self.error = ""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.recorder.switch(item.nodeid)
        self.recorder.uses(item.nodeid, _shared_fixtures(item))
        yield
        self.recorder.switch("")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.scope == "function":
            yield
            return
        self.recorder.enter_fixture(_fixture_key(fixturedef))
        try:
            yield
        finally:
            self.recorder.leave_fixture()

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        from code_assistant_lora.errors import UserError

        try:
            self.written = self.recorder.finish()
        except UserError as exc:
            self.error = exc.message

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.written:
            terminalreporter.write_line(f"code-assistant coverage map: {self.written}")
        else:
            terminalreporter.write_line(f"code-assistant coverage map not written: {self.error}")
