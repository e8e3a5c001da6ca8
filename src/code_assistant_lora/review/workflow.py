"""The review command as one function shared by every surface (CLI, pre-commit hook, pytest plugin):
pick the change set, apply the project config, review, write review.json, decide the exit code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import LINTERS
from ..errors import EXIT_FINDINGS, EXIT_OK
from ..findings import Severity

ARTIFACT_DIR = Path("artifacts") / "code-assistant"


@dataclass(frozen=True)
class ReviewRequest:
    repo: str = "."
    base: str | None = None
    head: str | None = None
    staged: bool = False
    diff_file: str | None = None
    out: str | None = None
    fail_on: str | None = None  # None: the config's (default high)
    baseline: str | None = None
    rules: tuple[str, ...] = ()
    skip_rules: tuple[str, ...] = ()
    linters: tuple[str, ...] = ()
    models: bool | None = None  # None: the config's `[review] models`
    require_model: bool = False  # exit 3 when a configured role cannot be reached
    model_cache: bool = True  # False: neither read nor write .code-assistant/cache/


@dataclass(frozen=True)
class ReviewOutcome:
    document: dict
    artifact: Path
    exit_code: int
    fail_on: Severity


def _split(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(part.strip() for value in values for part in value.split(",") if part.strip())


def _check_rule_names(names: frozenset[str], option: str) -> None:
    if not names:
        return
    from ..errors import UserError
    from .rules import ALL_PACKS

    known = {rule.id for pack in ALL_PACKS for rule in pack.rules}
    packs = {pack.name for pack in ALL_PACKS}
    for name in sorted(names):
        base = name[:-2] if name.endswith(".*") else name
        if name not in known and base not in packs and base.split(".", 1)[0] not in LINTERS:
            raise UserError(f"{option}: unknown rule {name!r} (see `code-assistant rules`)")


def _repo_root(request: ReviewRequest) -> Path | None:
    """The work tree holding the config; a diff file may be reviewed with no repository at all."""
    from ..changes import open_repo

    if request.diff_file and not (Path(request.repo) / ".git").exists():
        return Path(request.repo) if Path(request.repo).is_dir() else None
    return Path(open_repo(request.repo).working_tree_dir)


def is_excluded(path: str, patterns: tuple[str, ...]) -> bool:
    """fnmatch globs where `*` crosses folders; `dir/` (or `dir/**`) excludes a whole folder."""
    from fnmatch import fnmatchcase

    for pattern in patterns:
        folder = pattern.removesuffix("**").rstrip("/")
        if pattern.endswith(("/", "/**")) and (path == folder or path.startswith(folder + "/")):
            return True
        if fnmatchcase(path, pattern):
            return True
    return False


def exclude_paths(changeset, patterns: tuple[str, ...]):
    """The change set without the excluded files (a note says how many were left out). A change
    that touches only excluded files reviews nothing and passes: it is not an input error."""
    from dataclasses import replace

    kept = [f for f in changeset.files if not is_excluded(f.path, patterns)]
    left_out = len(changeset.files) - len(kept)
    if not left_out:
        return changeset
    return replace(
        changeset,
        files=kept,
        notes=[*changeset.notes, f"{left_out} file(s) skipped by [review] exclude"],
    )


def run_review(request: ReviewRequest) -> ReviewOutcome:
    from .. import changes
    from ..config import load_config
    from ..report import review_document, write_atomic
    from .engine import RuleSelection
    from .run import load_baseline, review_changeset

    root = _repo_root(request)
    config = load_config(root)
    fail_on = Severity.parse(request.fail_on) if request.fail_on else config.review.fail_on
    only = _split(request.rules) or frozenset(config.review.rules)
    skip = _split(request.skip_rules) | frozenset(config.review.skip_rules)
    _check_rule_names(only, "--rules")
    _check_rule_names(skip, "--skip-rules")
    if request.baseline:
        baseline = load_baseline(request.baseline)
    elif config.review.baseline:
        baseline = load_baseline(Path(root or ".") / config.review.baseline)
    else:
        baseline = frozenset()
    linters = request.linters or config.review.linters
    if linters:
        from .linters import resolve

        resolve(linters)
    changeset = changes.select_source(
        request.repo,
        base=request.base,
        head=request.head,
        staged=request.staged,
        diff_file=request.diff_file,
    )
    root = changeset.repo_root or root or Path(request.repo)
    if config.review.exclude:
        changeset = exclude_paths(changeset, config.review.exclude)
    result = review_changeset(
        changeset, RuleSelection(only=only, skip=skip), baseline, tuple(linters)
    )
    models_section = None
    if request.require_model or (
        request.models if request.models is not None else config.review.models
    ):
        result, models_section = _add_model_findings(result, config, root, baseline, request)
    document = review_document(result, fail_on, models=models_section)
    out_dir = Path(request.out) if request.out else root / ARTIFACT_DIR
    artifact = write_atomic(out_dir / "review.json", json.dumps(document, indent=2) + "\n")
    exit_code = EXIT_FINDINGS if document["summary"]["failing"] else EXIT_OK
    return ReviewOutcome(document=document, artifact=artifact, exit_code=exit_code, fail_on=fail_on)


def _add_model_findings(result, config, root: Path, baseline: frozenset[str], request):
    """The review with the routed specialists' findings merged in, and review.json's `models`
    section. A role that fails is only reported, unless --require-model makes that exit 3."""
    from dataclasses import replace

    from ..errors import EXIT_ENVIRONMENT, UserError
    from ..models.review import review_with_models

    reviewed = review_with_models(
        result.files, result.findings, config.models, root, use_cache=request.model_cache
    )
    if request.require_model and not reviewed.roles:
        raise UserError("--require-model: [models] configures no specialist role with a model")
    if request.require_model and reviewed.unreachable:
        down = reviewed.unreachable[0]
        raise UserError(
            f"--require-model: role {down.role} ({down.model}) unreachable: {down.reason}",
            exit_code=EXIT_ENVIRONMENT,
        )
    kept = [f for f in reviewed.findings if f.fingerprint not in baseline]
    merged = replace(
        result,
        findings=kept,
        notes=[*result.notes, *reviewed.notes],
        suppressed_by_baseline=result.suppressed_by_baseline + len(reviewed.findings) - len(kept),
    )
    return merged, reviewed.section()
