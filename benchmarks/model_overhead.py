"""Model path overhead: what the review adds per specialist call beyond the server's own time
(routing, slicing and secret masking, prompt build, HTTP on 127.0.0.1, parsing, merging), and a
check that a warm-cache re-run of the same review makes no request.

    python benchmarks/model_overhead.py [--runs 20] [--server-ms 20] [--log logs/model_overhead.json]

The server is the tests' scripted OpenAI-compatible server (tests/openai_server.py) on 127.0.0.1;
each answer takes `--server-ms` (a sleep standing in for generation) and returns two findings, one
of them restating a rule finding (so the merge runs). Specialists are asked one at a time
(`concurrency = 1`) so wall time minus server time is the overhead. Target (issue #7): <= 50 ms
per specialist call.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from openai_server import FakeOpenAIServer  # noqa: E402
from rulekit import file_change  # noqa: E402

from code_assistant_lora.config import parse_config  # noqa: E402
from code_assistant_lora.models.review import review_with_models  # noqa: E402
from code_assistant_lora.review.engine import review_files  # noqa: E402

PY_FUNC = '''

def orders_for_{n}(conn, customer):
    """Orders of one customer."""
    rows = conn.execute(f"select * from orders where customer = '{{customer}}'")
    return [dict(row) for row in rows]
'''


def typical_change(scale: int = 1) -> list:
    """~300 changed lines across the five specialists' slices (times `scale`)."""
    python = "import sqlite3\n" + "".join(PY_FUNC.format(n=n) for n in range(25 * scale))
    ts = "".join(
        f"export async function load{n}(id: string) {{\n  const r = await fetch(`/api/${{id}}`);\n"
        f"  return r.json();\n}}\n"
        for n in range(12 * scale)
    )
    sql = "".join(
        f"alter table orders add column c{n} int;\ndrop table legacy_{n};\n"
        for n in range(15 * scale)
    )
    docker = "FROM python:3.12\nRUN pip install requests\n" + "".join(
        f"RUN echo step {n}\n" for n in range(10 * scale)
    )
    tests = "".join(
        f"def test_orders_{n}():\n    import time\n    time.sleep(1)\n    assert True\n"
        for n in range(10 * scale)
    )
    return [
        file_change("app/orders.py", python, "import sqlite3\n"),
        file_change("web/src/load.ts", ts, None),
        file_change("db/migrations/0002.sql", sql, None),
        file_change("Dockerfile", docker, "FROM python:3.12\n"),
        file_change("tests/test_orders.py", tests, None),
    ]


def _answer(server_s: float):
    def reply(body: dict) -> str:
        time.sleep(server_s)
        prompt = body["messages"][-1]["content"]
        path = prompt.split("--- ", 1)[1].split(" ", 1)[0]
        return json.dumps(
            {
                "findings": [
                    {
                        "file": "app/orders.py",
                        "line": 6,
                        "category": "sql-injection",
                        "severity": "high",
                        "rationale": "r",
                        "suggested_fix": "f",
                    },
                    {
                        "file": path,
                        "line": 2,
                        "category": "model-only-concern",
                        "severity": "low",
                        "rationale": "r",
                        "suggested_fix": "f",
                    },
                ]
            }
        )

    return reply


def _models(base_url: str):
    roles = {
        r: {"model": f"{r}-reviewer"} for r in ("python", "typescript", "sql", "docker_ci", "tests")
    }
    table = {"base_url": base_url, "timeout": 10, "concurrency": 1, "roles": roles}
    return parse_config({"models": table}, "benchmark").models


def breakdown(files: list, rule_findings: list, runs: int) -> dict:
    """In-process stages per specialist call, without HTTP: slice+mask+prompt, parse+merge."""
    from code_assistant_lora.models.review import merge_with_rules
    from code_assistant_lora.models.router import route
    from code_assistant_lora.models.slices import render_slice
    from code_assistant_lora.models.specialist import build_messages, parse_findings

    prompt_ms, parse_ms = [], []
    for _ in range(runs):
        for plan in route(files, rule_findings):
            started = time.perf_counter()
            diff, _ = render_slice(plan.files)
            messages = build_messages(diff, role=plan.role, rule_findings=rule_findings)
            built = time.perf_counter()
            answer = _answer(0.0)({"messages": messages})
            found, _ = parse_findings(answer, plan.files, f"model:{plan.role}")
            merge_with_rules(rule_findings, found)
            prompt_ms.append((built - started) * 1000)
            parse_ms.append((time.perf_counter() - built) * 1000)
    return {
        "prompt_build_ms_median": round(statistics.median(prompt_ms), 2),
        "parse_and_merge_ms_median": round(statistics.median(parse_ms), 2),
    }


def measure(files: list, runs: int, server_s: float) -> dict:
    rule_findings = review_files(files)
    with FakeOpenAIServer(_answer(server_s)) as server:
        models = _models(server.base_url)
        review_with_models(files, rule_findings, models, use_cache=False)  # warm imports
        server.requests.clear()
        per_call, request_ms = [], []
        for _ in range(runs):
            started = time.perf_counter()
            result = review_with_models(files, rule_findings, models, use_cache=False)
            wall_ms = (time.perf_counter() - started) * 1000
            calls = [r for r in result.roles if r.status == "ok"]
            per_call.append((wall_ms - len(calls) * server_s * 1000) / len(calls))
            request_ms.append(sum(r.ms for r in calls) / len(calls))
        asked = len(server.requests) // runs
        with tempfile.TemporaryDirectory() as repo:
            before = len(server.requests)
            cold = review_with_models(files, rule_findings, models, repo_root=repo)
            cold_requests = len(server.requests) - before
            warm = review_with_models(files, rule_findings, models, repo_root=repo)
            warm_requests = len(server.requests) - before - cold_requests
    return {
        "changed_lines": sum(len(f.added_lines) for f in files),
        "specialist_calls_per_review": asked,
        "overhead_ms_per_call": {
            "median": round(statistics.median(per_call), 2),
            "max": round(max(per_call), 2),
        },
        "request_ms_per_call_median": round(statistics.median(request_ms), 2),
        "stages": breakdown(files, rule_findings, runs),
        "model_findings_kept": sum(r.findings - r.merged for r in result.roles),
        "merged_into_rules": sum(r.merged for r in result.roles),
        "cold_cache_requests": cold_requests,
        "warm_cache_requests": warm_requests,
        "warm_cache_statuses": sorted({r.status for r in warm.roles}),
        "cold_cache_statuses": sorted({r.status for r in cold.roles}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--server-ms", type=float, default=20.0)
    parser.add_argument("--log", type=Path, default=ROOT / "logs" / "model_overhead.json")
    args = parser.parse_args()
    server_s = args.server_ms / 1000
    cases = {
        "typical": measure(typical_change(1), args.runs, server_s),
        "large": measure(typical_change(10), max(3, args.runs // 4), server_s),
    }
    target_ms = 50.0
    ok = all(
        case["overhead_ms_per_call"]["median"] <= target_ms and case["warm_cache_requests"] == 0
        for case in cases.values()
    )
    record = {
        "benchmark": "model_overhead",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "runs": args.runs,
        "server_ms": args.server_ms,
        "target_overhead_ms_per_call": target_ms,
        "cases": cases,
        "meets_target": ok,
    }
    from code_assistant_lora.report import write_atomic

    write_atomic(args.log, json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
