"""`code-assistant write --apply`: plan, then patch -> apply in a temporary worktree -> format ->
test -> verify, revising until the tests pass and the verifier approves, or N rounds.

What the loop may do is fixed here, not by anything a model or a repository file says: it sends
redacted prompts, applies a validated diff inside a throwaway worktree, runs the repository's own
formatters and the tests our framework detection selects, and writes artifacts. The user's checkout
changes only with `apply_to_worktree`, only after approval, and only through `git apply`.

Artifacts (in the artifact directory): write-round-N.diff, write-round-N-tests.json (+ its log),
write-round-N-verdict.json for every round; patch.diff when approved; write-loop.json always."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError
from .patch_apply import PatchRejected, apply_patch, check_patch, extract_diff
from .patcher import PatchContext, Revision, patcher_messages
from .verifier import Verdict, parse_verdict, verifier_messages

WRITE_LOOP_SCHEMA = "code-assistant/write-loop@1"
VERDICT_SCHEMA = "code-assistant/write-verdict@1"
ARTIFACT_DIR = Path("artifacts") / "code-assistant"
DEFAULT_MAX_ROUNDS = 3
MAX_ROUNDS_LIMIT = 10
DEFAULT_TEST_TIMEOUT = 300.0
MAX_CONTEXT_FILE_BYTES = 200_000
MAX_ANSWER_CHARS = 600_000  # a longer answer is cut before it is parsed or written

Progress = Callable[[str], None]


@dataclass(frozen=True)
class WriteLoopRequest:
    task: str
    repo: str = "."
    constraints: str | None = None
    top: int = 10
    out: str | None = None
    rerank: str = "none"
    max_rounds: int = DEFAULT_MAX_ROUNDS
    test_timeout: float = DEFAULT_TEST_TIMEOUT
    apply_to_worktree: bool = False


@dataclass
class WriteLoopOutcome:
    document: dict
    artifact: Path
    patch_path: Path | None
    exit_code: int


@dataclass
class _Round:
    number: int
    approved: bool = False
    reasons: list[str] = field(default_factory=list)
    record: dict = field(default_factory=dict)
    revision: Revision | None = None  # what the next round must fix


def run_write_loop(request: WriteLoopRequest, progress: Progress | None = None) -> WriteLoopOutcome:
    """Run the loop; writes every artifact and returns the summary and the exit code."""
    from ..config import load_config
    from ..plan import read_constraints, run_write
    from ..scan import repo_root
    from .roles import resolve_role

    say = progress or (lambda message: None)
    if not 1 <= request.max_rounds <= MAX_ROUNDS_LIMIT:
        raise UserError(f"--max-rounds {request.max_rounds}: expected 1 to {MAX_ROUNDS_LIMIT}")
    if request.test_timeout <= 0:
        raise UserError(f"--test-timeout {request.test_timeout:g}: expected a positive number")
    root = repo_root(request.repo)
    config = load_config(root)
    roles = {name: resolve_role(config.models, name) for name in ("patcher", "verifier")}
    missing = [name for name, role in roles.items() if role is None]
    if missing:
        raise UserError(
            f"write --apply needs the {' and '.join(missing)} model role(s): set "
            + ", ".join(f"[models.roles.{name}] model" for name in missing)
            + " in .code-assistant.toml (see docs/write-loop.md)",
            EXIT_ENVIRONMENT,
        )
    from .worktree import git

    if not git(root, "rev-parse", "--verify", "--quiet", "HEAD", ok=(0, 1)).strip():
        raise UserError(f"{root}: no commit yet; the write loop patches HEAD")
    constraints = read_constraints(request.constraints)
    out_dir = Path(request.out) if request.out else root / ARTIFACT_DIR
    written = run_write(
        root,
        request.task,
        constraints_path=request.constraints,
        top=request.top,
        out=out_dir,
        rerank=request.rerank,
    )
    plan = written.plan
    _clear_previous(out_dir)
    say(f"planned: {', '.join(f.path for f in plan.to_change) or 'no file found'}")
    loop = _Loop(
        root=root,
        out_dir=out_dir,
        plan=plan,
        avoid=constraints.avoid,
        roles=roles,
        skip_rules=config.review.skip_rules,
        fail_on=config.review.fail_on,
        test_timeout=request.test_timeout,
        specialists=config.models,
        say=say,
    )
    document = loop.run(request.max_rounds)
    patch_path = None
    exit_code = {"approved": EXIT_OK, "max-rounds": EXIT_FINDINGS}.get(
        document["status"], EXIT_ENVIRONMENT
    )
    if document["status"] == "approved":
        patch_path = _write(out_dir / "patch.diff", loop.final_diff)
        document["patch"] = patch_path.name
        if _redacted(loop.final_diff) != loop.final_diff:
            document["reasons"].append(
                "patch.diff holds lines that look like secrets (it must stay exact to apply; "
                "the round diffs are redacted): do not upload it"
            )
    apply_error = None
    if request.apply_to_worktree and patch_path is not None:
        try:
            apply_to_user_tree(root, loop.final_diff)
            document["applied_to_worktree"] = True
            say(f"applied {patch_path.name} to {root}")
        except UserError as exc:
            apply_error = exc
            document["reasons"].append(f"not applied to the working tree: {exc.message}")
    elif request.apply_to_worktree:
        document["reasons"].append("not applied to the working tree: the patch was not approved")
    artifact = _write(out_dir / "write-loop.json", json.dumps(document, indent=2) + "\n")
    if apply_error is not None:
        raise apply_error
    return WriteLoopOutcome(document, artifact, patch_path, exit_code)


def apply_to_user_tree(root: Path, diff: str) -> None:
    """Apply an approved patch to the user's checkout: refused (exit 2) when a file it touches
    has uncommitted changes or `git apply --check` fails."""
    from .worktree import git

    try:
        checked = check_patch(diff, root)
    except PatchRejected as exc:
        raise UserError(f"--apply-to-worktree: {exc}") from None
    dirty = [
        entry[3:]
        for entry in git(root, "status", "--porcelain", "-z", "--", *checked.files).split("\0")
        if entry
    ]
    if dirty:
        raise UserError(
            "--apply-to-worktree: uncommitted changes in "
            + ", ".join(dirty[:5])
            + "; commit or stash them, then apply patch.diff with `git apply`"
        )
    try:
        apply_patch(checked, root)
    except PatchRejected as exc:
        raise UserError(f"--apply-to-worktree: {exc}", EXIT_USAGE) from None


@dataclass
class _Loop:
    """One run of the loop over a temporary worktree: its settings and the round records."""

    root: Path
    out_dir: Path
    plan: object  # plan.WritePlan
    avoid: tuple[str, ...]
    roles: dict  # role name -> ResolvedRole
    skip_rules: tuple[str, ...]
    fail_on: object  # findings.Severity
    test_timeout: float
    say: Progress
    specialists: object = None  # config.ModelsConfig: the specialists that review each round
    rounds: list[dict] = field(default_factory=list)
    final_diff: str = ""  # the last diff that applied
    requests: int = 0

    def run(self, max_rounds: int) -> dict:
        from .client import ModelError
        from .formatting import configured_formatters
        from .roles import open_client
        from .worktree import temporary_worktree

        started = time.monotonic()
        status, reasons = "error", ["the loop did not start"]
        # no response cache: a revision must reach the model even when a round repeats itself
        clients = {name: open_client(role) for name, role in self.roles.items()}
        try:
            with (
                temporary_worktree(self.root) as worktree,
                tempfile.TemporaryDirectory(prefix="code-assistant-tests-") as scratch,
            ):
                context = self._context(worktree)
                formatters = configured_formatters(worktree)
                revision = None
                for number in range(1, max_rounds + 1):
                    self.say(f"round {number}: asking the patcher")
                    result = self._round(
                        number, context, revision, worktree, Path(scratch), formatters, clients
                    )
                    self.rounds.append(result.record)
                    self.say(f"round {number}: {'approved' if result.approved else 'not approved'}")
                    if result.approved:
                        status = "approved"
                        reasons = [f"round {number}: the tests pass and the verifier approved"]
                        break
                    revision = result.revision
                    reasons = [f"round {number}: {reason}" for reason in result.reasons]
                else:
                    status = "max-rounds"
                    reasons = [f"stopped after {max_rounds} round(s) without approval", *reasons]
        except ModelError as exc:
            status, reasons = "error", [f"model unreachable or unusable: {exc}"]
        except KeyboardInterrupt:
            status, reasons = "error", ["interrupted"]
            _write(
                self.out_dir / "write-loop.json",
                json.dumps(self._document(status, reasons, started), indent=2) + "\n",
            )
            raise
        finally:
            for client in clients.values():
                client.close()
        return self._document(status, reasons, started)

    def _document(self, status: str, reasons: list[str], started: float) -> dict:
        return {
            "schema": WRITE_LOOP_SCHEMA,
            "task": self.plan.task,
            "status": status,
            "reasons": reasons,
            "rounds": self.rounds,
            "roles": {
                name: {"model": role.model, "base_url": role.base_url}
                for name, role in self.roles.items()
            },
            "files_planned": [f.path for f in self.plan.to_change],
            "patch": None,
            "applied_to_worktree": False,
            "model_requests": self.requests,
            "duration_s": round(time.monotonic() - started, 3),
        }

    def _context(self, worktree: Path) -> PatchContext:
        """The files to change and their tests, as committed at HEAD (what the patch applies to)."""

        def read(paths) -> tuple[tuple[str, str], ...]:
            out = []
            for path in dict.fromkeys(paths):
                target = worktree / path
                if not target.is_file() or target.is_symlink():
                    continue
                data = target.read_bytes()[:MAX_CONTEXT_FILE_BYTES]
                if b"\x00" in data[:8192]:
                    continue
                out.append((path, data.decode("utf-8", "replace")))
            return tuple(out)

        plan = self.plan
        return PatchContext(
            task=plan.task,
            files=read(f.path for f in plan.to_change),
            tests=read(path for path, _why, _source in plan.tests_to_run),
            requirements=plan.constraints.requirements,
            avoid=plan.constraints.avoid,
        )

    def _ask(self, clients, name: str, messages: list[dict]) -> str:
        """One request; every message is redacted first, whatever it came from."""
        from ..scan import redact_secrets

        role = self.roles[name]
        safe = [
            {**message, "content": redact_secrets(message["content"], "prompt.txt")[0]}
            for message in messages
        ]
        self.requests += 1
        answer = clients[name].complete(
            role.model, safe, max_tokens=role.max_tokens, temperature=role.temperature
        )
        return answer[:MAX_ANSWER_CHARS]

    def _round(self, number, context, revision, worktree, scratch, formatters, clients) -> _Round:
        from ..review.workflow import is_excluded
        from .evidence import rule_findings, run_selected_tests
        from .formatting import run_formatters
        from .worktree import reset, staged_diff

        started = time.monotonic()
        result = _Round(number)
        names = {
            "diff": f"write-round-{number}.diff",
            "tests": f"write-round-{number}-tests.json",
            "verdict": f"write-round-{number}-verdict.json",
        }
        answer = self._ask(clients, "patcher", patcher_messages(context, revision))
        proposed = extract_diff(answer)
        reset(worktree)
        try:
            checked = check_patch(proposed, worktree)
            avoided = [path for path in checked.files if is_excluded(path, self.avoid)]
            if avoided:
                raise PatchRejected(f"the constraints say not to touch {', '.join(avoided)}")
            apply_patch(checked, worktree)
            diff = staged_diff(worktree)
            if not diff.strip():
                raise PatchRejected("the diff changes nothing")
        except PatchRejected as exc:
            reason = f"patch rejected: {exc}"
            _write(self.out_dir / names["diff"], _redacted(proposed or answer))
            verdict = Verdict(False, "", note="not sent to the verifier: " + reason)
            self._write_verdict(names["verdict"], number, verdict, None, ())
            result.reasons = [reason]
            result.revision = Revision(number, proposed or answer, problems=(reason,))
            result.record = {
                "round": number,
                "status": "patch-rejected",
                "patch": {"applied": False, "error": str(exc), "files": []},
                "artifacts": {"diff": names["diff"], "verdict": names["verdict"]},
                "reasons": result.reasons,
                "duration_s": round(time.monotonic() - started, 3),
            }
            return result
        formatted = run_formatters(formatters, worktree, checked.files)
        if formatted:
            diff = staged_diff(worktree)
        _write(self.out_dir / names["diff"], _redacted(diff))
        self.final_diff = diff
        rules = rule_findings(worktree, self.skip_rules, self.specialists)
        self.say(f"round {number}: running the selected tests")
        tests = run_selected_tests(
            worktree,
            scratch / f"round-{number}",
            self.test_timeout,
            self.out_dir / f"write-round-{number}-tests.log",
        )
        tests_document = tests.document or {"status": tests.status, "notes": list(tests.notes)}
        _write(self.out_dir / names["tests"], json.dumps(tests_document, indent=2) + "\n")
        formatter_text = (
            "\n".join(f"{r['name']} on {', '.join(r['files'])}: {r['status']}" for r in formatted)
            or "none configured"
        )
        verdict = parse_verdict(
            self._ask(
                clients,
                "verifier",
                verifier_messages(
                    self.plan.task, diff, tests.render(), rules.render(), formatter_text
                ),
            )
        )
        blocking = [f for f in rules.findings if f.severity.at_least(self.fail_on)]
        reasons = []
        if not tests.ok:
            failed = ", ".join(tests.failures[:5])
            reasons.append(f"tests {tests.status}" + (f": {failed}" if failed else ""))
        if not verdict.approve:
            reasons.append(
                "the verifier did not approve"
                + (f": {verdict.feedback[:300]}" if verdict.feedback else "")
                + (f" ({verdict.note})" if verdict.note else "")
            )
        for finding in blocking:
            reasons.append(
                f"{finding.rule} ({finding.severity.value}) at {finding.file}:{finding.line}"
            )
        result.approved = not reasons
        if tests.status == "none" and result.approved:
            reasons.append("no test ran for this change; approved on the verifier's word")
        result.reasons = reasons
        self._write_verdict(names["verdict"], number, verdict, tests.status, blocking)
        problems = []
        if not tests.ok:
            problems.append(f"tests {tests.status}:\n{tests.render()}")
        problems += [
            f"formatter {r['name']} {r['status']}: {r['output']}"
            for r in formatted
            if r["status"] != "ok"
        ]
        result.revision = Revision(
            number,
            diff,
            problems=tuple(problems),
            verifier_feedback=verdict.feedback or (verdict.note or ""),
            findings=tuple(rules.render().splitlines()) if rules.findings else (),
        )
        result.record = {
            "round": number,
            "status": "approved" if result.approved else "rejected",
            "patch": {"applied": True, "error": None, "files": list(checked.files)},
            "formatters": formatted,
            "tests": tests.summary(),
            "findings": [f.to_dict() for f in rules.findings],
            "verdict": verdict.to_dict(),
            "artifacts": {**names, "tests_log": f"write-round-{number}-tests.log"}
            if tests.log_tail
            else names,
            "reasons": reasons,
            "duration_s": round(time.monotonic() - started, 3),
        }
        return result

    def _write_verdict(self, name, number, verdict: Verdict, tests_status, blocking) -> None:
        document = {
            "schema": VERDICT_SCHEMA,
            "round": number,
            **verdict.to_dict(),
            "tests": tests_status,
            "blocking_findings": [f.to_dict() for f in blocking],
        }
        _write(self.out_dir / name, json.dumps(document, indent=2) + "\n")


def _write(path: Path, text: str) -> Path:
    from ..report import write_atomic

    return write_atomic(path, text)


def _redacted(text: str) -> str:
    """Round artifacts are for reading and may be uploaded: secret-looking lines are masked."""
    from ..scan import redact_secrets

    return redact_secrets(text, "patch.diff")[0]


def _clear_previous(out_dir: Path) -> None:
    """Round files and patch.diff from an earlier run would be mistaken for this run's."""
    if not out_dir.is_dir():
        return
    for stale in [*out_dir.glob("write-round-*"), out_dir / "patch.diff"]:
        if stale.is_file():
            stale.unlink()
