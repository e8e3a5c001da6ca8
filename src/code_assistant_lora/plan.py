"""Task + constraints + retrieved context -> write-context.json and patch-plan.md.

This is where a patch-author model plugs in later, so both artifacts are complete on their own and
deterministic: the same repository content and task give byte-identical files (no timestamps, no
absolute paths, no cache state). Text that came from the user (task, constraints) is checked for
secrets before it lands in an artifact."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EXIT_OK, UserError

WRITE_CONTEXT_SCHEMA = "code-assistant/write-context@1"
ARTIFACT_DIR = Path("artifacts") / "code-assistant"
MAX_TASK_CHARS = 20_000
MAX_CONSTRAINTS_BYTES = 200_000
PRIMARY_SHARE = 0.6  # files within this share of the top score are "files to change"
MAX_PRIMARY = 3
MAX_TO_CHANGE = 5

_DIRECTIVE = re.compile(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$")
_DIRECTIVES = ("avoid", "include", "run", "require")


@dataclass(frozen=True)
class Constraints:
    """What the constraints file requires: free-text requirements, paths the change must not touch
    (`avoid: GLOB`), files the context must include (`include: PATH`), commands that must pass
    (`run: COMMAND`)."""

    source: str | None = None
    requirements: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    run: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "requirements": list(self.requirements),
            "avoid": list(self.avoid),
            "include": list(self.include),
            "run": list(self.run),
        }


def read_task(task: str | None, task_file: str | None) -> str:
    """The task text from `--task` or `--task-file` (`-` reads stdin); clear errors otherwise."""
    if (task is None) == (task_file is None):
        raise UserError("give the task with exactly one of --task TEXT or --task-file FILE")
    name = "--task"
    if task_file is not None:
        name = f"--task-file {task_file}"
        if task_file == "-":
            data = sys.stdin.buffer.read(MAX_TASK_CHARS * 4 + 1)
        else:
            path = Path(task_file)
            if not path.is_file():
                raise UserError(f"{name}: no such file")
            data = path.read_bytes()[: MAX_TASK_CHARS * 4 + 1]
        try:
            task = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from None
    text = (task or "").replace("\r\n", "\n").strip()
    if not text:
        raise UserError(f"{name}: the task is empty; describe the change to plan")
    if "\x00" in text:
        raise UserError(f"{name}: the task holds binary data")
    if len(text) > MAX_TASK_CHARS:
        raise UserError(
            f"{name}: the task is {len(text)} characters; the limit is {MAX_TASK_CHARS}"
        )
    return text


def read_constraints(path: str | None) -> Constraints:
    """Parse a constraints file: `- requirement` bullets, `avoid: GLOB`, `include: PATH`,
    `run: COMMAND`, `require: TEXT`; `#` comments and blank lines are ignored; an indented line
    continues the bullet above it. Anything else is an error naming the line."""
    if path is None:
        return Constraints()
    target = Path(path)
    if not target.is_file():
        raise UserError(f"--constraints {path}: no such file")
    data = target.read_bytes()
    if len(data) > MAX_CONSTRAINTS_BYTES:
        raise UserError(f"--constraints {path}: larger than {MAX_CONSTRAINTS_BYTES // 1000} kB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"--constraints {path}:{line}: not UTF-8 text") from None
    found: dict[str, list[str]] = {name: [] for name in _DIRECTIVES}
    last: str | None = None
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            last = None if not line else last
            continue
        if raw[:1] in (" ", "\t") and last == "require" and found["require"]:
            found["require"][-1] += " " + line
            continue
        if line.startswith(("- ", "* ")):
            found["require"].append(line[2:].strip())
            last = "require"
            continue
        match = _DIRECTIVE.match(line)
        if match is None:
            raise UserError(
                f"--constraints {path}:{number}: expected '- requirement', 'avoid: GLOB', "
                f"'include: PATH', 'run: COMMAND' or a '#' comment, got {line[:60]!r}"
            )
        key, value = match.group(1).lower(), match.group(2).strip()
        if key not in _DIRECTIVES:
            raise UserError(
                f"--constraints {path}:{number}: unknown directive {key!r} "
                f"(expected one of: {', '.join(_DIRECTIVES)})"
            )
        if not value:
            raise UserError(f"--constraints {path}:{number}: {key}: needs a value")
        if key in ("avoid", "include") and (value.startswith("/") or ".." in value.split("/")):
            raise UserError(
                f"--constraints {path}:{number}: {key}: {value!r} is outside the repository"
            )
        found[key].append(value)
        last = key
    return Constraints(
        source=str(path),
        requirements=tuple(found["require"]),
        avoid=tuple(found["avoid"]),
        include=tuple(found["include"]),
        run=tuple(found["run"]),
    )


def _avoided(path: str, patterns: tuple[str, ...]) -> bool:
    from .review.workflow import is_excluded

    return is_excluded(path, patterns)


@dataclass(frozen=True)
class WritePlan:
    """The plan as data: what both artifacts and the hook are made from."""

    task: str
    constraints: Constraints
    to_change: tuple  # RankedFile, best first
    context: tuple  # RankedFile: lower-ranked code, docs, included files
    tests_to_run: tuple[tuple[str, str, str], ...]  # (test path, why, the file it tests)
    tests_to_add: tuple[tuple[str, str], ...]  # (suggested test path, for which file)
    test_command: str | None
    conventions: dict
    risks: tuple[str, ...]
    questions: tuple[str, ...]
    notes: tuple[str, ...]
    index_key: str
    skipped: tuple[tuple[str, str], ...] = ()  # (path, reason) of tracked files not indexed
    extra: dict = field(default_factory=dict)

    @property
    def expected_files(self) -> tuple[str, ...]:
        """The files the plan is most confident the change touches (for the commit-msg hook)."""
        top = self.to_change[0].score if self.to_change else 0.0
        return tuple(f.path for f in self.to_change[:MAX_PRIMARY] if f.score >= PRIMARY_SHARE * top)

    @property
    def expected_tests(self) -> tuple[str, ...]:
        """Tests linked to the expected files."""
        expected = set(self.expected_files)
        return tuple(dict.fromkeys(t for t, _, source in self.tests_to_run if source in expected))


def make_plan(
    repo: str | os.PathLike,
    task: str,
    constraints: Constraints,
    top: int = 10,
    progress=None,
    rerank: str = "none",
) -> WritePlan:
    from .retrieve import retrieve
    from .scan import redact_secrets

    if top < 1 or top > 100:
        raise UserError(f"--top {top}: expected a number from 1 to 100")
    safe_task, redacted = redact_secrets(task)
    notes: list[str] = []
    if redacted:
        notes.append(f"{redacted} line(s) of the task looked like secrets and were redacted")
    result = retrieve(repo, safe_task, top=max(top, 10), progress=progress, rerank=rerank)
    if result.rerank_note:
        notes.append(result.rerank_note)
    ranked = [f for f in result.files if not _avoided(f.path, constraints.avoid)]
    avoided = [f.path for f in result.files if _avoided(f.path, constraints.avoid)]
    if avoided:
        notes.append("left out by avoid: " + ", ".join(avoided))
    top_score = ranked[0].score if ranked else 0.0
    to_change = [f for f in ranked[:MAX_TO_CHANGE] if f.score >= 0.5 * top_score] or ranked[:1]
    to_change = to_change[:top]
    from .retrieve import RankedFile

    missing = [p for p in constraints.include if not (Path(repo) / p).is_file()]
    if missing:
        raise UserError(
            "--constraints: include: no such file in the repository: " + ", ".join(missing)
        )
    context = [f for f in ranked[:top] if f not in to_change] + list(result.ranking.docs)
    shown = {f.path for f in [*to_change, *context]}
    context += [
        RankedFile(path, 0.0, "code", ("included by the constraints",), ())
        for path in constraints.include
        if path not in shown
    ]
    linked = {t.test: t for t in result.tests}
    change_paths = {f.path for f in to_change}
    tests_to_run = tuple(
        (t.test, t.reason, t.source) for t in linked.values() if t.source in change_paths
    )
    covered = {t.source for t in linked.values()}
    tests_to_add = tuple(
        (_suggest_test(f.path, result.conventions), f.path)
        for f in to_change
        if f.path not in covered and f.path.endswith((".py", ".ts", ".tsx", ".js", ".jsx", ".go"))
    )
    command = _test_command(result.conventions, [t[0] for t in tests_to_run])
    risks = _risks(result, to_change, constraints)
    questions = _questions(result, to_change)
    skipped = len(result.skipped)
    if skipped:
        notes.append(
            f"{skipped} tracked file(s) not indexed; write-context.json lists each with its reason"
        )
    return WritePlan(
        task=safe_task,
        constraints=constraints,
        to_change=tuple(to_change),
        context=tuple(context),
        tests_to_run=tests_to_run,
        tests_to_add=tests_to_add,
        test_command=command,
        conventions=result.conventions,
        risks=tuple(risks),
        questions=tuple(questions),
        notes=tuple(notes),
        index_key=result.index_key,
        skipped=result.skipped,
        extra={
            "index_status": result.index_status,
            "files_indexed": result.files_indexed,
            "files_reread": result.files_reread,
        },
    )


def _suggest_test(path: str, conventions: dict) -> str:
    name = path.rsplit("/", 1)[-1]
    stem, _, suffix = name.partition(".")
    if suffix == "py":
        layout = conventions.get("tests", {}).get("layout", [])
        return (
            f"tests/test_{stem}.py"
            if "tests/ at the root" in layout or not layout
            else f"{path.rsplit('/', 1)[0]}/test_{stem}.py"
        )
    if suffix == "go":
        return path[: -len(".go")] + "_test.go"
    naming = " ".join(conventions.get("tests", {}).get("naming", []))
    marker = "spec" if "*.spec.*" in naming and "*.test.*" not in naming else "test"
    return path.rsplit(".", 1)[0] + f".{marker}." + path.rsplit(".", 1)[1]


def _test_command(conventions: dict, tests: list[str]) -> str | None:
    frameworks = conventions.get("tests", {}).get("frameworks", [])
    python_tests = [t for t in tests if t.endswith(".py")]
    js_tests = [t for t in tests if re.search(r"\.[cm]?[jt]sx?$", t)]
    if python_tests and ("pytest" in frameworks or "unittest" in frameworks):
        runner = "python -m pytest -q" if "pytest" in frameworks else "python -m unittest"
        return " ".join([runner, *python_tests])
    if js_tests:
        for tool, command in (
            ("vitest", "npx vitest run"),
            ("jest", "npx jest"),
            ("mocha", "npx mocha"),
        ):
            if tool in frameworks:
                return " ".join([command, *js_tests])
    go = sorted(
        {"./" + t.rsplit("/", 1)[0] if "/" in t else "." for t in tests if t.endswith("_test.go")}
    )
    if go:
        return "go test " + " ".join(go)
    return None


def _risks(result, to_change, constraints: Constraints) -> list[str]:
    risks: list[str] = []
    for f in to_change:
        count = result.fan_in.get(f.path, 0)
        if count >= 3:
            risks.append(f"`{f.path}` is imported by {count} files: keep its public names stable")
    linked = {t.source for t in result.tests}
    for f in to_change:
        if f.path not in linked:
            risks.append(f"no test is linked to `{f.path}`: a regression there would go unnoticed")
    if not result.query.names and not result.query.paths:
        risks.append(
            "the task names no code identifier or file: localization rests on word overlap alone"
        )
    if len(to_change) > 1 and to_change[1].score >= 0.9 * to_change[0].score:
        risks.append(
            f"`{to_change[0].path}` and `{to_change[1].path}` rank almost equally: confirm which one the change belongs in"
        )
    for pattern in constraints.avoid:
        risks.append(f"the constraints forbid touching `{pattern}`")
    return risks


def _questions(result, to_change) -> list[str]:
    questions: list[str] = []
    defined = {
        reason.split("`")[1]
        for f in result.files
        for reason in f.reasons
        if reason.startswith("defines `")
    }
    for name in result.query.names:
        if not any(name.lower().replace("_", "") in d.lower().replace("_", "") for d in defined):
            questions.append(
                f"`{name}` is named in the task but defined nowhere in the repo: is it new?"
            )
    for path in result.query.paths:
        if not any(f.path.endswith(path) for f in result.files):
            questions.append(
                f"`{path}` is named in the task but was not found among the indexed files"
            )
    return questions[:6]


# --- the artifacts ------------------------------------------------------------------------------


def write_context_document(plan: WritePlan) -> dict:
    return {
        "schema": WRITE_CONTEXT_SCHEMA,
        "task": plan.task,
        "constraints": plan.constraints.to_dict(),
        "index": {"key": plan.index_key},
        "files": [f.to_dict() for f in plan.to_change]
        + [f.to_dict() for f in plan.context if f.role != "doc"],
        "tests": [
            {"path": path, "reason": why, "for": source} for path, why, source in plan.tests_to_run
        ],
        "tests_to_add": [{"path": path, "for": source} for path, source in plan.tests_to_add],
        "test_command": plan.test_command,
        "context": [f.to_dict() for f in plan.context if f.role == "doc"],
        "conventions": plan.conventions,
        "plan": {
            "files_to_change": [f.path for f in plan.to_change],
            "expected_files": list(plan.expected_files),
            "risks": list(plan.risks),
            "questions": list(plan.questions),
        },
        "notes": list(plan.notes),
        "skipped": [{"path": path, "reason": reason} for path, reason in plan.skipped],
    }


def _lines(a: int, b: int) -> str:
    return f"line {a}" if a == b else f"lines {a}-{b}"


def patch_plan_markdown(plan: WritePlan) -> str:
    out: list[str] = ["# Patch plan", ""]
    first, _, rest = plan.task.partition("\n")
    out += [f"**Task:** {first.strip()}", ""]
    if rest.strip():
        out += ["> " + line if line else ">" for line in rest.strip().split("\n")] + [""]
    out += ["## Files to change", ""]
    for number, f in enumerate(plan.to_change, 1):
        out.append(f"{number}. `{f.path}` (score {f.score:.2f})")
        for reason in f.reasons:
            out.append(f"   - {reason}")
        focus = ", ".join(
            f"`{c.symbol}` ({_lines(c.start_line, c.end_line)})"
            if c.symbol
            else _lines(c.start_line, c.end_line)
            for c in f.chunks
        )
        if focus:
            out.append(f"   - look at: {focus}")
    if not plan.to_change:
        out.append("No code file matched the task; see the open questions.")
    context = [f for f in plan.context]
    if context:
        out += ["", "## Context to read (not to change)", ""]
        for f in context:
            why = f.reasons[0] if f.reasons else "related"
            out.append(f"- `{f.path}` ({'docs' if f.role == 'doc' else f.role}): {why}")
    out += ["", "## Steps", ""]
    steps: list[str] = []
    if plan.to_change:
        head = plan.to_change[0]
        focus = next((c for c in head.chunks if c.symbol), head.chunks[0] if head.chunks else None)
        where = f" around `{focus.symbol}`" if focus is not None and focus.symbol else ""
        steps.append(f"Read `{head.path}`{where} and the context files listed above.")
        steps.append(
            f"Make the change in `{head.path}`"
            + (
                ", then follow it through "
                + ", ".join(f"`{f.path}`" for f in plan.to_change[1:])
                + "."
                if len(plan.to_change) > 1
                else "."
            )
        )
    for path, source in plan.tests_to_add:
        steps.append(f"Add tests for `{source}` in `{path}`.")
    if plan.tests_to_run:
        steps.append(
            "Extend the linked tests: " + ", ".join(f"`{p}`" for p, _, _ in plan.tests_to_run) + "."
        )
    if plan.test_command:
        steps.append(f"Run `{plan.test_command}`.")
    for command in plan.constraints.run:
        steps.append(f"Run `{command}` (required by the constraints).")
    tools = plan.conventions.get("tools", [])
    if tools:
        steps.append("Check the change with the repo's tools: " + "; ".join(tools) + ".")
    out += [f"{n}. {s}" for n, s in enumerate(steps, 1)] or [
        "1. Describe the change in more detail."
    ]
    out += ["", "## Tests to add or run", ""]
    if not plan.tests_to_run and not plan.tests_to_add:
        out.append("- none linked: write a test that shows the change")
    for path, why, _source in plan.tests_to_run:
        out.append(f"- run `{path}` ({why})")
    for path, source in plan.tests_to_add:
        out.append(f"- add `{path}` (nothing tests `{source}` yet)")
    if plan.test_command:
        out += ["", f"Command: `{plan.test_command}`"]
    out += ["", "## Conventions", ""]
    conv = plan.conventions
    tests = conv.get("tests", {})
    if tests.get("frameworks"):
        out.append(
            f"- tests: {', '.join(tests['frameworks'])}; layout: {', '.join(tests.get('layout') or ['-'])}; naming: {', '.join(tests.get('naming') or ['-'])}"
        )
    for key, value in sorted(conv.get("naming", {}).items()):
        out.append(f"- naming ({key.replace('_', ' ')}): {value}")
    if conv.get("errors"):
        out.append(
            "- errors: raise the repo's own exception types: " + "; ".join(conv["errors"][:3])
        )
    if conv.get("config"):
        out.append("- config: " + "; ".join(conv["config"]))
    if tools:
        out.append("- tools: " + "; ".join(tools))
    out += ["", "## Risks", ""]
    out += [f"- {r}" for r in plan.risks] or ["- none found"]
    out += ["", "## Constraints", ""]
    c = plan.constraints
    if not (c.requirements or c.avoid or c.include or c.run):
        out.append("- none given")
    out += [f"- {r}" for r in c.requirements]
    out += [f"- do not touch `{p}`" for p in c.avoid]
    out += [f"- include `{p}` in the change's context" for p in c.include]
    out += [f"- `{cmd}` must pass" for cmd in c.run]
    out += ["", "## Open questions", ""]
    out += [f"- {q}" for q in plan.questions] or ["- none"]
    if plan.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in plan.notes]
    return "\n".join(out).rstrip() + "\n"


@dataclass(frozen=True)
class WriteOutcome:
    plan: WritePlan
    context_path: Path
    plan_path: Path
    exit_code: int = EXIT_OK


def run_write(
    repo: str | os.PathLike,
    task: str,
    constraints_path: str | None = None,
    top: int = 10,
    out: str | os.PathLike | None = None,
    progress=None,
    rerank: str = "none",
) -> WriteOutcome:
    """The `write` command's core: plan, then write both artifacts atomically (both or neither)."""
    from .report import write_atomic
    from .scan import repo_root

    root = repo_root(repo)
    constraints = read_constraints(constraints_path)
    plan = make_plan(root, task, constraints, top=top, progress=progress, rerank=rerank)
    document = json.dumps(write_context_document(plan), indent=2) + "\n"
    markdown = patch_plan_markdown(plan)
    out_dir = Path(out) if out else root / ARTIFACT_DIR
    context_path = write_atomic(out_dir / "write-context.json", document)
    plan_path = write_atomic(out_dir / "patch-plan.md", markdown)
    return WriteOutcome(plan=plan, context_path=context_path, plan_path=plan_path)
