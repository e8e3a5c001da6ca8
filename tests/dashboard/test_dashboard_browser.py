"""The dashboard end to end in Debian's headless Chromium, driven by Playwright: the app runs on
127.0.0.1 (a free port, in this process), the page loads a curated file with a planted canary
secret, runs build-sft and the audit, and must show the counts, the files written and the
violation with the secret masked. Any request leaving 127.0.0.1 is blocked and fails the test."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from dashboard_fixtures import (
    CANARY,
    canary_record,
    curated_records,
    eval_block,
    train_events,
    write_adapter,
    write_jsonl,
    write_promoted,
)

CHROMIUM = Path(shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PROJECT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason="no Chromium installed (apt-get install chromium; `make test` does this as root)",
    ),
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),  # gradio's own pandas use
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project as the other commands leave it: curated data, eval summaries, adapters with a
    promoted one, and a training run part-way through its log."""
    root = tmp_path_factory.mktemp("project")
    write_jsonl(root / "data" / "curated" / "records.jsonl", [*curated_records(), canary_record()])
    malformed = write_jsonl(root / "data" / "curated" / "malformed.jsonl", curated_records()[:1])
    with open(malformed, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"messages": [{"role": "user", "content": "no answer"}]}) + "\n")
    (root / "logs").mkdir()
    shutil.copy(PROJECT / "logs" / "eval-rules-2026-11-25.json", root / "logs")
    promoted = {"python": (0.95, 0.90), "sql": (0.90, 0.90)}
    write_adapter(root / "adapters" / "python-v1", "python-v1", promoted, "a" * 64)
    write_adapter(
        root / "adapters" / "python-v2",
        "python-v2",
        {"python": (0.97, 0.8), "sql": (0.92, 0.95)},
        "b" * 64,
    )
    write_promoted(
        root / "adapters" / "promoted.json",
        {"python": {"path": "adapters/python-v1", "name": "python-v1",
                    "scores": eval_block(promoted), "promoted_at": "2026-11-25T12:00:00+00:00"}},
    )  # fmt: skip
    (root / "configs").mkdir()
    (root / "configs" / "train.broken.yaml").write_text("output_dir: [\n", encoding="utf-8")
    run = root / "runs" / "cpu"
    run.mkdir(parents=True)
    (run / "train_log.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in train_events(10, 40))
    )
    return root


@pytest.fixture(scope="module")
def server(project):
    """The dashboard served on 127.0.0.1 in a background thread; closed at the end."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from code_assistant_lora.training.dashboard.app import serve

    port = _free_port()
    app = serve(project, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh page on the dashboard; requests to anywhere but the app are blocked and listed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(server)
    yield page
    context.close()
    assert outside == [], f"the page tried to reach outside 127.0.0.1: {outside}"


def _load(page, path: Path) -> None:
    page.get_by_label("Curated file").fill(str(path))
    page.locator("#load-button").click()


def test_data_build_and_audit_through_the_page(page, project, tmp_path):
    from playwright.sync_api import expect

    curated = project / "data" / "curated" / "records.jsonl"
    _load(page, curated)
    status = page.locator("#data-status")
    expect(status).to_contain_text("13 records", timeout=TIMEOUT_MS)
    expect(status).to_contain_text("3 task types, 2 languages")
    table = page.locator("#task-table")
    for cell in ("bugfix", "feature", "tests", "python", "typescript"):
        expect(table).to_contain_text(cell)

    record = page.get_by_label("Record # (or click a row)")
    record.fill("13")
    record.press("Enter")
    expect(page.locator("#record-json")).to_contain_text("[secret masked: AWS Access Key]")

    page.locator("#build-button").click()
    expect(page.locator("#build-status")).to_contain_text("build-sft done", timeout=TIMEOUT_MS)
    files = page.locator("#build-files")
    sft = project / "data" / "sft"
    for split in ("train", "eval"):
        written = sft / f"{split}.jsonl"
        assert written.is_file()
        expect(files).to_contain_text(str(written))
        records = len(written.read_text(encoding="utf-8").splitlines())
        row = files.get_by_role("row").filter(has_text=str(written))
        expect(row).to_contain_text(str(records))
    expect(page.locator("#build-status")).to_contain_text("dropped: 1 holds a secret")

    page.get_by_role("tab", name="Audit").click()
    expect(page.get_by_label("Dataset files to audit", exact=False)).to_have_value(str(curated))
    page.locator("#audit-button").click()
    expect(page.locator("#audit-status")).to_contain_text("audit FAILED", timeout=TIMEOUT_MS)
    assert page.locator("#audit-status").inner_text().count("audit FAILED") == 1
    violations = page.locator("#audit-violations")
    row = violations.get_by_role("row").filter(has_text="AWS Access Key")
    for cell in ("secret", str(curated), "13", "messages[1].content line 5"):
        expect(row).to_contain_text(cell)
    expect(row).to_contain_text("[secret masked: AWS Access Key]")
    page.screenshot(path=str(tmp_path / "dashboard-audit.png"), full_page=True)
    assert (tmp_path / "dashboard-audit.png").stat().st_size > 10_000

    assert CANARY not in page.inner_text("body")
    assert CANARY not in page.content()

    page.get_by_role("button", name="Use the last build-sft output").click()
    expect(page.get_by_label("Dataset files to audit", exact=False)).to_have_value(
        f"{sft / 'train.jsonl'}\n{sft / 'eval.jsonl'}"
    )
    page.locator("#audit-button").click()
    expect(page.locator("#audit-status")).to_contain_text("audit passed", timeout=TIMEOUT_MS)


def test_bad_input_reads_as_a_message_not_a_stack_trace(page, project):
    from playwright.sync_api import expect

    status = page.locator("#data-status")
    _load(page, project / "data" / "nowhere.jsonl")
    expect(status).to_contain_text("Error:", timeout=TIMEOUT_MS)
    expect(status).to_contain_text("nowhere.jsonl: no such file")

    malformed = project / "data" / "curated" / "malformed.jsonl"
    _load(page, malformed)
    expect(status).to_contain_text("1 malformed line(s)", timeout=TIMEOUT_MS)
    expect(status).to_contain_text(f"{malformed}:2: messages: must end with the assistant's answer")

    page.locator("#build-button").click()
    expect(page.locator("#build-status")).to_contain_text(f"Error: {malformed}:2: messages")
    assert "Traceback" not in page.inner_text("body")


def test_evals_adapters_and_a_live_training_log(page, project):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Evals & adapters").click()
    expect(page.locator("#evals-overview")).to_contain_text("eval-rules-2026-11-25.json")
    page.get_by_role("button", name="Compare adapters").click()
    expect(page.locator("#adapters-status")).to_contain_text("4 regression(s)")
    regressed = page.locator("td.regression")
    expect(regressed).to_have_count(4)
    expect(regressed.first).to_contain_text("(promoted 0.900)")

    page.get_by_role("tab", name="Training").click()
    page.get_by_label("Training config").click()
    page.get_by_role("option", name="configs/train.broken.yaml").click()
    expect(page.locator("#command-info")).to_contain_text(
        "Error: " + str(project / "configs" / "train.broken.yaml") + ": not valid YAML at line 2"
    )
    run = project / "runs" / "cpu"
    page.get_by_label("Run folder to follow (holds train_log.jsonl)").fill(str(run))
    page.get_by_role("button", name="Follow").click()
    progress = page.locator("#run-progress")
    expect(progress).to_contain_text("step 10 / 40 (25%)")
    later = train_events(40, 40, "completed")[len(train_events(10, 40)) :]
    with open(run / "train_log.jsonl", "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(e) + "\n" for e in later))
    expect(progress).to_contain_text("completed: step 40 / 40 (100%)")  # polled, no reload
