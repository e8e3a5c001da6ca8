"""Test selection on real code: safety and reduction against pytest-testmon and pytest-picked, and
selection time on a synthetic 1,000-module repository.

    python benchmarks/test_selection.py [--mutants 25] [--projects more-itertools,python-dateutil]
                                        [--log logs/test_selection.json]

For each project it downloads the sdist from PyPI (`pip download --no-binary :all:`), makes a
git repository of it, and seeds single-file mutants in its source functions (a flipped
comparison, a changed constant, a swapped operator, a dropped `not`, `return None`). For every
mutant, in the same run, on the same tree:

- full: `pytest` (which tests fail decides whether the mutant is caught at all);
- ours: `pytest --changed-only` (no coverage map: static selection only);
- testmon: `pytest --testmon` from the database recorded on the clean tree;
- picked: `pytest --picked`.

Safety is the share of the mutants the full suite catches that each tool also catches (target
100% for ours). Reduction is the share of tests run and of wall time (interpreter start
included) against the full suite. pytest-testmon, pytest-picked and the projects' own test
dependencies (six, freezegun) are installed with `pip install --target` into a scratch folder for
the run only. Issue #3's targets: 100% safety, <= testmon's share of tests, <= 0.5x the full
suite's wall time, selection with no coverage map <= 0.5 s on 1,000 modules.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = {
    "more-itertools": {
        "version": "10.5.0",
        "package": "more_itertools",
        "pythonpath": ["."],
        "args": [],
        "scenarios": {
            "conftest: an autouse fixture that fails": ("append", "tests/conftest.py", "FAIL"),
            "deleted module: more_itertools/recipes.py": ("delete", "more_itertools/recipes.py"),
            "dependency manifest: requirements/development.txt": (
                "append",
                "requirements/development.txt",
                "# pinned for the benchmark\n",
            ),
        },
    },
    "python-dateutil": {
        "version": "2.9.0.post0",
        "package": "src/dateutil",
        "pythonpath": ["src"],
        # the sdist's pytest config turns warnings into errors; newer pytest warns on its marks
        "args": [
            "-W",
            "ignore::pytest.PytestUnknownMarkWarning",
            "-W",
            "ignore::pytest.PytestRemovedIn10Warning",
            "-W",
            "ignore::DeprecationWarning",
        ],
        "scenarios": {
            "data file: the zoneinfo tarball tests read": (
                "replace",
                "src/dateutil/zoneinfo/dateutil-zoneinfo.tar.gz",
                "not a tarball\n",
            ),
            "conftest: an autouse fixture that fails": ("append", "tests/conftest.py", "FAIL"),
            "deleted module: src/dateutil/easter.py": ("delete", "src/dateutil/easter.py"),
            "dependency manifest: requirements-dev.txt": (
                "append",
                "requirements-dev.txt",
                "pytest-timeout\n",
            ),
        },
    },
    "attrs": {"version": "24.2.0", "package": "src/attr", "pythonpath": ["src"], "args": []},
}
TOOLS = ("full", "ours", "ours+map", "testmon", "picked")
FAILING_FIXTURE = (
    "\n\nimport pytest as _bench_pytest\n\n\n@_bench_pytest.fixture(autouse=True)\n"
    "def _bench_fails():\n    raise RuntimeError('broken by the benchmark')\n"
)
HELPERS = ("pytest-testmon==2.2.0", "pytest-picked==0.5.1", "six", "freezegun")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


RUN_TIMEOUT_S = 180
MEMORY_LIMIT = 4 * 1024**3  # a mutant that allocates without end must not take the machine


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def sh(args, cwd=None, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


# --- projects ---------------------------------------------------------------------------------


def fetch(name: str, version: str, into: Path) -> Path:
    downloads = into / "downloads"
    done = sh(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"{name}=={version}",
            "-d",
            str(downloads),
        ]
    )
    if done.returncode:
        raise SystemExit(f"pip download {name} failed:\n{done.stderr[-2000:]}")
    archive = next(downloads.glob(f"*{version}*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    source = next((into / "src").glob(f"*{version}"))
    repo = into / name
    shutil.move(str(source), repo)
    env = {**os.environ, **GIT_ENV}
    for args in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "sdist"],
    ):
        sh(args, cwd=repo, env=env)
    # the tools' own state, ignored as any project using them would
    (repo / ".git" / "info" / "exclude").write_text(
        ".testmondata*\n.code-assistant/\n.pytest_cache/\n"
    )
    return repo


def install_helpers(site: Path) -> None:
    done = sh(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            *HELPERS,
        ]
    )
    if done.returncode:
        raise SystemExit(f"pip install {HELPERS} failed:\n{done.stderr[-2000:]}")


# --- mutants ----------------------------------------------------------------------------------

_SWAP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _sites(tree: ast.Module):
    """(node, kind) for every mutable single-line expression inside a function body."""
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = func.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # not the docstring
        for statement in body:
            for node in ast.walk(statement):
                if getattr(node, "lineno", None) != getattr(node, "end_lineno", -1):
                    continue
                if isinstance(node, ast.Compare) and type(node.ops[0]) in _SWAP:
                    yield node, "compare"
                elif (
                    isinstance(node, ast.Constant)
                    and type(node.value) in (int, float)
                    and not isinstance(node.value, bool)
                ):
                    yield node, "constant"
                elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
                    yield node, "arith"
                elif isinstance(node, ast.BoolOp):
                    yield node, "boolop"
                elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                    yield node, "not"
                elif isinstance(node, ast.Return) and node.value is not None:
                    yield node, "return"


def _mutate(node: ast.AST, kind: str) -> str:
    import copy

    new = copy.deepcopy(node)
    if kind == "compare":
        new.ops[0] = _SWAP[type(new.ops[0])]()
    elif kind == "constant":
        new.value = new.value + 1
    elif kind == "arith":
        new.op = ast.Sub() if isinstance(new.op, ast.Add) else ast.Add()
    elif kind == "boolop":
        new.op = ast.Or() if isinstance(new.op, ast.And) else ast.And()
    elif kind == "not":
        return "(" + ast.unparse(new.operand) + ")"
    elif kind == "return":
        return "return None"
    text = ast.unparse(new)
    return text if kind == "return" else f"({text})"


def make_mutants(repo: Path, package: str, count: int, seed: int) -> list[dict]:
    candidates = []
    for path in sorted((repo / package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node, kind in _sites(tree):
            candidates.append((path, node, kind))
    rng = random.Random(seed)
    rng.shuffle(candidates)
    mutants = []
    for path, node, kind in candidates:
        if len(mutants) == count:
            break
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        line = lines[node.lineno - 1].encode("utf-8")
        replacement = _mutate(node, kind).encode("utf-8")
        mutated = line[: node.col_offset] + replacement + line[node.end_col_offset :]
        new_lines = list(lines)
        new_lines[node.lineno - 1] = mutated.decode("utf-8")
        new_text = "".join(new_lines)
        try:
            ast.parse(new_text)
        except SyntaxError:
            continue
        if new_text == "".join(lines):
            continue
        mutants.append(
            {
                "file": path.relative_to(repo).as_posix(),
                "line": node.lineno,
                "kind": kind,
                "before": lines[node.lineno - 1].strip(),
                "after": mutated.decode("utf-8").strip(),
                "text": new_text,
            }
        )
    return mutants


# --- runs ---------------------------------------------------------------------------------------


def junit(path: Path) -> tuple[int, set[str]]:
    """(test cases run, ids of those that failed or errored)."""
    if not path.is_file():
        return 0, set()
    root = ET.parse(path).getroot()
    cases, failed = 0, set()
    for case in root.iter("testcase"):
        cases += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(f"{case.get('classname')}::{case.get('name')}")
    return cases, failed


def run_tool(tool: str, repo: Path, env: dict, args: list[str], out: Path) -> dict:
    xml = out / f"{tool}.xml"
    xml.unlink(missing_ok=True)
    extra = {
        "full": [],
        "ours": ["--changed-only"],
        "ours+map": ["--changed-only"],
        "testmon": ["--testmon"],
        "picked": ["--picked"],
    }[tool]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        f"--junitxml={xml}",
        *args,
        *extra,
    ]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            preexec_fn=_limit_memory,
            check=False,
        )
        code, tail = done.returncode, done.stdout[-600:] if done.returncode not in (0, 1, 5) else ""
    except subprocess.TimeoutExpired:
        code, tail = None, f"timed out after {RUN_TIMEOUT_S} s"
    wall = time.perf_counter() - started
    cases, failed = junit(xml)
    if code is None or (code not in (0, 5) and not failed):
        failed.add(f"<run ended with {code}>")  # a hang or a crash is a failing run
    return {
        "wall_s": round(wall, 3),
        "tests": cases,
        "failed": sorted(failed),
        "exit": code,
        "tail": tail,
    }


def bench_project(name: str, spec: dict, work: Path, site: Path, mutants: int, seed: int) -> dict:
    repo = fetch(name, spec["version"], work)
    env = {
        **os.environ,
        **GIT_ENV,
        "PYTHONPATH": os.pathsep.join([*(str(repo / p) for p in spec["pythonpath"]), str(site)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("PYTEST_ADDOPTS", None)
    out = work / f"{name}-runs"
    out.mkdir()
    baseline = run_tool("full", repo, env, spec["args"], out)
    broken = set(baseline["failed"])
    started = time.perf_counter()
    recorded = sh(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--testmon",
            *spec["args"],
        ],
        cwd=repo,
        env=env,
    )
    testmon_baseline = time.perf_counter() - started
    if recorded.returncode not in (0, 1):
        raise SystemExit(
            f"{name}: testmon baseline failed ({recorded.returncode}):\n"
            f"{recorded.stdout[-2000:]}{recorded.stderr[-2000:]}"
        )
    saved = work / f"{name}-testmon"
    saved.mkdir()
    for part in repo.glob(".testmondata*"):  # SQLite: the database and its -wal/-shm files
        shutil.copy(part, saved / part.name)
    started = time.perf_counter()
    recorded = sh(
        [sys.executable, "-m", "pytest", "-q", "--record-coverage", *spec["args"]],
        cwd=repo,
        env=env,
    )
    map_baseline = time.perf_counter() - started
    (coverage_map,) = (repo / ".code-assistant" / "coverage").glob("*.json")
    saved_map = work / f"{name}.coverage-map.json"
    shutil.copy(coverage_map, saved_map)

    rows = []
    for mutant in make_mutants(repo, spec["package"], mutants, seed):
        target = repo / mutant["file"]
        original = target.read_text(encoding="utf-8")
        target.write_text(mutant["text"], encoding="utf-8")
        row = {k: mutant[k] for k in ("file", "line", "kind", "before", "after")}
        try:
            for tool in TOOLS:
                prepare(tool, repo, saved, saved_map, coverage_map)
                result = run_tool(tool, repo, env, spec["args"], out)
                result["caught"] = bool(set(result["failed"]) - broken)
                row[tool] = result
        finally:
            target.write_text(original, encoding="utf-8")
            sh(["git", "checkout", "-q", "--", "."], cwd=repo)
        rows.append(row)
        marks = " ".join(f"{t}:{'C' if row[t]['caught'] else '-'}{row[t]['tests']}" for t in TOOLS)
        print(f"  {name} {mutant['file']}:{mutant['line']} {mutant['kind']:<8} {marks}", flush=True)
    scenarios = []
    for title, (action, rel, *content) in spec.get("scenarios", {}).items():
        target = repo / rel
        if action == "delete":
            target.unlink()
        elif action == "replace":
            target.write_bytes(content[0].encode())
        else:
            text = FAILING_FIXTURE if content[0] == "FAIL" else content[0]
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(text)
        row = {"scenario": title}
        try:
            for tool in TOOLS:
                prepare(tool, repo, saved, saved_map, coverage_map)
                result = run_tool(tool, repo, env, spec["args"], out)
                result["caught"] = bool(set(result["failed"]) - broken)
                row[tool] = result
        finally:
            sh(["git", "checkout", "-q", "--", "."], cwd=repo)
            sh(["git", "clean", "-qfd"], cwd=repo)
        scenarios.append(row)
        marks = " ".join(f"{t}:{'C' if row[t]['caught'] else '-'}{row[t]['tests']}" for t in TOOLS)
        print(f"  {name} {title}: {marks}", flush=True)
    return {
        "version": spec["version"],
        "scenarios": scenarios,
        "suite": {"tests": baseline["tests"], "wall_s": baseline["wall_s"], "failing": len(broken)},
        "testmon_baseline_s": round(testmon_baseline, 3),
        "coverage_map_baseline_s": round(map_baseline, 3),
        "mutants": rows,
        "summary": summarize(rows),
    }


def prepare(tool: str, repo: Path, testmon_saved: Path, map_saved: Path, map_path: Path) -> None:
    """Each tool starts from its own recorded state: testmon's database as recorded on the clean
    tree; our coverage map present only for ours+map (ours runs with no map at all)."""
    if tool == "testmon":
        for part in repo.glob(".testmondata*"):
            part.unlink()
        for part in testmon_saved.iterdir():
            shutil.copy(part, repo / part.name)
    if tool == "ours+map":
        shutil.copy(map_saved, map_path)
    else:
        map_path.unlink(missing_ok=True)


def summarize(rows: list[dict]) -> dict:
    caught = [r for r in rows if r["full"]["caught"]]
    summary = {"mutants": len(rows), "caught_by_full_suite": len(caught)}
    full_tests = sum(r["full"]["tests"] for r in rows) or 1
    full_wall = sum(r["full"]["wall_s"] for r in rows) or 1
    # a mutant that hangs costs every tool the whole timeout: shown apart, it would swamp the sums
    finished = [r for r in rows if r["full"]["exit"] is not None] or rows
    finished_wall = sum(r["full"]["wall_s"] for r in finished) or 1
    summary["timed_out_mutants"] = len(rows) - len(finished)
    for tool in TOOLS[1:]:
        missed = [f"{r['file']}:{r['line']} {r['kind']}" for r in caught if not r[tool]["caught"]]
        summary[tool] = {
            "safety": round(1 - len(missed) / len(caught), 4) if caught else None,
            "missed": missed,
            "tests_share": round(sum(r[tool]["tests"] for r in rows) / full_tests, 4),
            "wall_share": round(sum(r[tool]["wall_s"] for r in rows) / full_wall, 4),
            "wall_share_without_timeouts": round(
                sum(r[tool]["wall_s"] for r in finished) / finished_wall, 4
            ),
            "median_wall_ratio": round(
                statistics.median(r[tool]["wall_s"] / r["full"]["wall_s"] for r in rows), 4
            )
            if rows
            else None,
        }
    return summary


# --- selection time on 1,000 modules ----------------------------------------------------------

MODULE = '''"""Synthetic module {pkg}.m{n}."""

from .m{dep} import helper_{dep}


CONSTANT_{n} = {n}


def helper_{n}(value):
    if value > CONSTANT_{n}:
        return value - CONSTANT_{n}
    return value + helper_{dep}(value) if value < 0 else value


def compute_{n}(items):
    total = 0
    for item in items:
        total += helper_{n}(item)
    return total


class Model{n}:
    def __init__(self, name):
        self.name = name

    def render_{n}(self):
        return f"<{{self.name}}:{{compute_{n}([1, 2, 3])}}>"
'''

TEST = """from synth import compute_{n}, Model{n}


def test_compute_{n}():
    assert compute_{n}([]) == 0


def test_render_{n}():
    assert Model{n}("x").render_{n}().startswith("<x")
"""


def synthetic_repo(root: Path, modules: int = 1000, packages: int = 20) -> Path:
    repo = root / "synthetic"
    per = modules // packages
    for p in range(packages):
        pkg = repo / "synth" / f"p{p}"
        pkg.mkdir(parents=True)
        names = []
        for i in range(per):
            n = p * per + i
            dep = p * per + (i - 1 if i else per - 1)
            (pkg / f"m{n}.py").write_text(MODULE.format(pkg=f"synth.p{p}", n=n, dep=dep))
            names.append(n)
        (pkg / "__init__.py").write_text("".join(f"from .m{n} import *\n" for n in names))
    (repo / "synth" / "__init__.py").write_text(
        "".join(f"from .p{p} import *\n" for p in range(packages))
    )
    tests = repo / "tests"
    tests.mkdir()
    for n in range(0, modules, 4):
        (tests / f"test_m{n}.py").write_text(TEST.format(n=n))
    env = {**os.environ, **GIT_ENV}
    for args in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "synthetic"],
    ):
        sh(args, cwd=repo, env=env)
    return repo


def selection_time(work: Path, runs: int = 5) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from code_assistant_lora.select.cache import SummaryCache
    from code_assistant_lora.select.change import collect
    from code_assistant_lora.select.engine import select_tests

    repo = synthetic_repo(work)
    target = repo / "synth" / "p7" / "m356.py"
    target.write_text(target.read_text().replace("total += helper_356", "total -= helper_356"))
    timings = {"cold": [], "warm": []}
    selected = None
    for _ in range(runs):
        shutil.rmtree(repo / ".code-assistant", ignore_errors=True)
        for mode in ("cold", "warm"):
            started = time.perf_counter()
            change = collect(repo)
            selection = select_tests(change, cache=SummaryCache(repo))
            timings[mode].append(time.perf_counter() - started)
            selected = [t.nodeid for t in selection.tests]
    python_files = sum(1 for _ in repo.rglob("*.py"))
    return {
        "modules": python_files,
        "change": "synth/p7/m356.py: one operator in compute_356",
        "selected": selected,
        "cold_s": round(statistics.median(timings["cold"]), 4),
        "warm_s": round(statistics.median(timings["warm"]), 4),
        "runs": runs,
        "target_s": 0.5,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=25)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--projects", default="more-itertools,python-dateutil")
    parser.add_argument("--log", default=str(ROOT / "logs" / "test_selection.json"))
    parser.add_argument("--skip-mutants", action="store_true")
    parser.add_argument(
        "--rerender", action="store_true", help="Recompute summaries and markdown from --log."
    )
    options = parser.parse_args(argv)
    if options.rerender:
        log = Path(options.log)
        document = json.loads(log.read_text())
        for project in document["projects"].values():
            project["summary"] = summarize(project["mutants"])
        log.write_text(json.dumps(document, indent=2) + "\n")
        log.with_suffix(".md").write_text(markdown(document))
        return 0
    started = time.perf_counter()
    document = {
        "schema": "code-assistant/bench-test-selection@1",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "targets": {
            "safety": 1.0,
            "tests_share": "<= testmon's",
            "wall_share": 0.5,
            "selection_s_1000_modules": 0.5,
        },
        "projects": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-select-") as scratch:
        work = Path(scratch)
        print("selection time on a synthetic 1,000-module repository ...", flush=True)
        document["selection_time"] = selection_time(work)
        print(f"  {document['selection_time']}", flush=True)
        if not options.skip_mutants:
            site = work / "site"
            install_helpers(site)
            for name in options.projects.split(","):
                print(f"{name}: mutants", flush=True)
                project_work = work / f"{name}-work"
                project_work.mkdir()
                document["projects"][name] = bench_project(
                    name, PROJECTS[name], project_work, site, options.mutants, options.seed
                )
                print(f"  {json.dumps(document['projects'][name]['summary'])}", flush=True)
    document["duration_s"] = round(time.perf_counter() - started, 1)
    log = Path(options.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(json.dumps(document, indent=2) + "\n")
    log.with_suffix(".md").write_text(markdown(document))
    print(f"wrote {log} and {log.with_suffix('.md')}")
    return 0


def markdown(document: dict) -> str:
    lines = [
        "# Test selection benchmark",
        "",
        f"{document['date']}, Python {document['machine']['python']}, "
        f"{document['machine']['cpus']} CPUs; `python benchmarks/test_selection.py`.",
        "",
    ]
    timing = document.get("selection_time")
    if timing:
        lines += [
            f"Selection time, no coverage map, {timing['modules']} Python files: "
            f"**{timing['cold_s']} s** cold (no cache), **{timing['warm_s']} s** warm "
            f"(target <= {timing['target_s']} s).",
            "",
        ]
    if document["projects"]:
        lines += [
            "| project | tests | mutants caught by full suite | tool | safety | tests run "
            "| wall time | wall time, hangs apart | median per mutant |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, project in document["projects"].items():
            summary = project["summary"]
            for tool in TOOLS[1:]:
                row = summary[tool]
                safety = "n/a" if row["safety"] is None else f"{row['safety']:.0%}"
                lines.append(
                    f"| {name} {project['version']} | {project['suite']['tests']} | "
                    f"{summary['caught_by_full_suite']}/{summary['mutants']} | {tool} | {safety} | "
                    f"{row['tests_share']:.1%} | {row['wall_share']:.2f}x | "
                    f"{row.get('wall_share_without_timeouts', row['wall_share']):.2f}x | "
                    f"{row['median_wall_ratio']:.2f}x |"
                )
        lines += [
            "",
            "Tests run and wall time are shares of the full suite over all mutants (wall time "
            "includes interpreter start); a mutant that hangs costs every tool the whole "
            f"{RUN_TIMEOUT_S} s timeout, so the wall time is also shown without those ("
            + ", ".join(
                f"{n}: {p['summary'].get('timed_out_mutants', 0)}"
                for n, p in document["projects"].items()
            )
            + "). Recorded baselines: "
            + ", ".join(
                f"{n}: testmon {p['testmon_baseline_s']} s, our coverage map "
                f"{p['coverage_map_baseline_s']} s (full suite {p['suite']['wall_s']} s)"
                for n, p in document["projects"].items()
            )
            + ". `ours` runs with no coverage map; `ours+map` with the map recorded on the "
            "clean tree.",
            "",
        ]
        for name, project in document["projects"].items():
            for tool in TOOLS[1:]:
                missed = project["summary"][tool]["missed"]
                if missed:
                    lines.append(f"- {name}: {tool} missed {len(missed)}: {', '.join(missed[:8])}")
        lines += [
            "",
            "Changes testmon is blind to (caught = a test that passed before fails; tests run):",
            "",
            "| project | change | full | ours | ours+map | testmon | picked |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, project in document["projects"].items():
            for row in project.get("scenarios", []):
                cells = [
                    f"{'caught' if row[t]['caught'] else 'not caught'}, {row[t]['tests']}"
                    for t in TOOLS
                ]
                lines.append(f"| {name} | {row['scenario']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
