"""Running commands: timeouts that kill the process group, and reading results back."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from code_assistant_lora.errors import EXIT_ENVIRONMENT, UserError
from code_assistant_lora.select.runner import (
    Counts,
    parse_cargo,
    parse_go_json,
    parse_jest_json,
    parse_junit,
    parse_unittest,
    run,
)


def test_run_records_output_and_exit_code(tmp_path):
    log = tmp_path / "out.log"
    outcome = run([sys.executable, "-c", "print('hello'); raise SystemExit(3)"], tmp_path, 30, log)
    assert (outcome.exit_code, outcome.timed_out) == (3, False)
    assert "hello" in log.read_text()


def test_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = textwrap.dedent(
        f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        time.sleep(60)
        """
    )
    started = time.monotonic()
    outcome = run([sys.executable, "-c", script], tmp_path, 1.5, tmp_path / "out.log")
    assert outcome.timed_out and outcome.exit_code is None
    assert time.monotonic() - started < 15
    child = int(pidfile.read_text())
    for _ in range(50):  # the grandchild went with the group
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the grandchild process survived the timeout")
    assert "killed after 1.5 s (timeout)" in (tmp_path / "out.log").read_text()


def test_missing_runner_is_an_environment_error(tmp_path):
    with pytest.raises(UserError) as error:
        run(["no-such-runner-xyz"], tmp_path, 5, tmp_path / "out.log")
    assert error.value.exit_code == EXIT_ENVIRONMENT
    assert "no-such-runner-xyz: not found on PATH" in error.value.message


def test_junit_from_a_real_pytest_run(tmp_path):
    (tmp_path / "test_mix.py").write_text(
        "import pytest\n\ndef test_ok():\n    pass\n\ndef test_bad():\n    assert 0\n\n"
        "@pytest.mark.skip\ndef test_skip():\n    pass\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError\n\ndef test_error(broken):\n    pass\n"
    )
    xml = tmp_path / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    counts, failures = parse_junit([xml])
    assert counts == Counts(passed=1, failed=1, errors=1, skipped=1)
    assert failures == ("test_mix::test_bad", "test_mix::test_error")
    assert parse_junit([tmp_path / "missing.xml"]) is None


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_junit_parser_never_raises(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("junit") / "x.xml"
    path.write_bytes(data)
    result = parse_junit([path])
    assert result is None or isinstance(result[0], Counts)


def test_unittest_cargo_go_and_jest_outputs(tmp_path):
    assert parse_unittest(
        "...\nRan 5 tests in 0.1s\n\nFAILED (failures=1, errors=1, skipped=1)\n"
    ) == Counts(2, 1, 1, 1)
    assert parse_unittest("Ran 2 tests in 0.0s\n\nOK\n") == Counts(2, 0, 0, 0)
    assert parse_unittest("nothing here") is None
    cargo = "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured\ntest result: FAILED. 1 passed; 2 failed; 0 ignored"
    assert parse_cargo(cargo) == Counts(4, 2, 0, 1)
    go = "\n".join(
        [
            '{"Action":"run","Package":"p","Test":"TestA"}',
            '{"Action":"pass","Package":"p","Test":"TestA"}',
            '{"Action":"fail","Package":"p","Test":"TestB"}',
            "not json",
        ]
    )
    assert parse_go_json(go) == (Counts(1, 1, 0, 0), ("p::TestB",))
    jest = tmp_path / "jest.json"
    jest.write_text(
        '{"numTotalTests": 3, "numPassedTests": 2, "numFailedTests": 1, "numPendingTests": 0,'
        ' "testResults": [{"name": "a.test.js", "assertionResults": [{"status": "failed", "fullName": "x"}]}]}'
    )
    assert parse_jest_json(jest) == (Counts(2, 1, 0, 0), ("a.test.js::x",))
