"""Running a test command: exact argument lists (never a shell), a timeout that kills the whole
process group of a hanging run, and the results read back from JUnit XML or the framework's own
output."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EXIT_ENVIRONMENT, UserError

KILL_GRACE_S = 5.0


@dataclass(frozen=True)
class Counts:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.passed + other.passed,
            self.failed + other.failed,
            self.errors + other.errors,
            self.skipped + other.skipped,
        )

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None  # None when killed at the timeout
    timed_out: bool
    duration_s: float
    counts: Counts = field(default_factory=Counts)
    failures: tuple[str, ...] = ()


def run(args: list[str], cwd: Path, timeout: float, log: Path, env: dict | None = None) -> Outcome:
    """Run `args` in `cwd`, output to `log`. A run past `timeout` seconds has its whole process
    group terminated, then killed after a grace period, and is reported as timed out."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log, "wb") as out:
        out.write(("$ " + " ".join(args) + "\n").encode())
        out.flush()
        try:
            process = subprocess.Popen(
                args,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise UserError(
                f"{args[0]}: not found on PATH (needed to run the tests)", EXIT_ENVIRONMENT
            ) from None
        except PermissionError:
            raise UserError(f"{args[0]}: not executable", EXIT_ENVIRONMENT) from None
        try:
            code = process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            stop_process_group(process)
            code, timed_out = None, True
            out.write(f"\n[code-assistant] killed after {timeout:g} s (timeout)\n".encode())
    return Outcome(code, timed_out, round(time.monotonic() - started, 3))


def stop_process_group(process: subprocess.Popen, grace: float = KILL_GRACE_S) -> None:
    """SIGTERM to the process group of PROCESS (started with start_new_session), SIGKILL when it
    is still alive after GRACE seconds; returns once it has exited."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


# --- results -------------------------------------------------------------------------------------


def parse_junit(paths: list[Path]) -> tuple[Counts, tuple[str, ...]] | None:
    """Counts and failed test ids from JUnit XML files; None when none could be read."""
    import xml.etree.ElementTree as ET

    counts, failures, read = Counts(), [], False
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError):
            continue
        read = True
        for case in root.iter("testcase"):
            name = "::".join(p for p in (case.get("classname"), case.get("name")) if p)
            if case.find("failure") is not None:
                counts += Counts(failed=1)
                failures.append(name)
            elif case.find("error") is not None:
                counts += Counts(errors=1)
                failures.append(name)
            elif case.find("skipped") is not None:
                counts += Counts(skipped=1)
            else:
                counts += Counts(passed=1)
    return (counts, tuple(failures)) if read else None


_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in", re.M)
_UNITTEST_TAIL = re.compile(r"^(OK|FAILED)(?: \((.*)\))?\s*$", re.M)


def parse_unittest(text: str) -> Counts | None:
    ran = _UNITTEST_RAN.findall(text)
    tail = _UNITTEST_TAIL.findall(text)
    if not ran or not tail:
        return None
    details = dict((k.strip(), int(v)) for k, v in re.findall(r"(\w+)=(\d+)", tail[-1][1] or ""))
    failed, errors = details.get("failures", 0), details.get("errors", 0)
    skipped = details.get("skipped", 0) + details.get("expected failures", 0)
    total = int(ran[-1])
    return Counts(max(total - failed - errors - skipped, 0), failed, errors, skipped)


_CARGO = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")


def parse_cargo(text: str) -> Counts | None:
    found = _CARGO.findall(text)
    if not found:
        return None
    counts = Counts()
    for passed, failed, ignored in found:
        counts += Counts(int(passed), int(failed), 0, int(ignored))
    return counts


def parse_go_json(text: str) -> tuple[Counts, tuple[str, ...]] | None:
    """`go test -json` events: one final action per test."""
    final: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(event, dict)
            and event.get("Test")
            and event.get("Action")
            in (
                "pass",
                "fail",
                "skip",
            )
        ):
            final[f"{event.get('Package')}::{event['Test']}"] = event["Action"]
    if not final:
        return None
    failed = tuple(sorted(t for t, a in final.items() if a == "fail"))
    values = list(final.values())
    return Counts(values.count("pass"), values.count("fail"), 0, values.count("skip")), failed


def parse_jest_json(path: Path) -> tuple[Counts, tuple[str, ...]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "numTotalTests" not in data:
        return None
    failures = []
    for suite in data.get("testResults") or []:
        for test in suite.get("assertionResults") or []:
            if test.get("status") == "failed":
                failures.append(f"{suite.get('name')}::{test.get('fullName')}")
    counts = Counts(
        int(data.get("numPassedTests", 0)),
        int(data.get("numFailedTests", 0)),
        int(data.get("numRuntimeErrorTestSuites", 0)),
        int(data.get("numPendingTests", 0)) + int(data.get("numTodoTests", 0)),
    )
    return counts, tuple(failures)
