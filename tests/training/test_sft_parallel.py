"""Per-record work spread over processes: same results as in-process, progress reported, and a
fallback when workers cannot start."""

from __future__ import annotations

import io
import subprocess
import sys

from code_assistant_lora.training.parallel import CHUNK, map_chunks
from code_assistant_lora.training.progress import progress_bar, stage


def test_chunks_come_back_in_order_with_progress():
    seen = []
    items = list(range(3 * CHUNK + 7))
    out = map_chunks(sorted, items, progress=lambda d, t: seen.append((d, t)), workers=1)
    assert out == items
    assert seen[-1] == (len(items), len(items)) and len(seen) == 4


def test_a_main_module_workers_cannot_import_falls_back_to_this_process():
    # A script read from stdin cannot be re-imported by a spawned worker: the pool breaks and
    # the work finishes in the parent, with the same results.
    script = (
        "from code_assistant_lora.training.parallel import map_chunks\n"
        "from code_assistant_lora.training.secret_scan import scan_chunk\n"
        "found = map_chunks(scan_chunk, [{'a': 'x'}] * 5000 + [{'k': \"key='AKIA\" + 'Q7ZPXM4RTL9WKD3V' + \"'\"}], workers=2)\n"
        "print(len(found), [i for i, f in enumerate(found) if f])\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "5001 [5000]"


def test_the_progress_bar_draws_each_stage_on_a_terminal():
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80)
    with progress_bar(enabled=True, console=console) as report:
        step = stage(report, "mining commits")
        step(3, 10)
        step(10, 10)
    assert "mining commits" in buffer.getvalue()
    with progress_bar(enabled=False) as report:
        assert report is None and stage(report, "x") is None
