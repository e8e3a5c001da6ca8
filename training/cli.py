"""`code-assistant-train`: dataset building and adapter training (commands land with their issues).

Heavy libraries (torch, transformers, peft, bitsandbytes) are imported inside commands only."""

from __future__ import annotations

import sys

import click

from code_assistant_lora.entry import text_or_json_option

from .. import __version__
from ..entry import run_command
from ..errors import UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="code-assistant-train")
def cli() -> None:
    """Build SFT datasets from a repository and train LoRA/QLoRA adapters."""


@cli.command()
@text_or_json_option()
def doctor(fmt: str) -> None:
    """Report the training environment and the training command for this machine.

    Python, torch and its CUDA build, each CUDA device (name, capability, memory total and free),
    bitsandbytes and whether 4-bit nf4 actually runs here (a small quantized matmul), peft,
    transformers, trl, accelerate; then the exact command: plain LoRA on the CPU, QLoRA on one GPU,
    or `accelerate launch` on several.
    """
    from .environment import describe_environment, render_text

    report = describe_environment()
    if fmt == "json":
        import json

        click.echo(json.dumps(report, indent=2))
        return
    click.echo(render_text(report), nl=False)


@cli.command("eval")
@click.argument("target", required=False, type=click.Path(exists=True))
@click.option(
    "--suites",
    type=click.Path(exists=True),
    help="Regression folder or one suite when TARGET is an adapter "
    "[default: evals/reviewer_regression; a specialist runs its own suites in it].",
)
@click.option(
    "--reviewer",
    type=click.Choice(["rules", "model", "both"]),
    default="rules",
    show_default=True,
    help="What to score: the deterministic rules, a model endpoint, or both merged "
    "(an adapter is scored as model unless both is asked).",
)
@click.option("--endpoint", metavar="URL", help="OpenAI-compatible base URL for model reviewers.")
@click.option("--model", metavar="NAME", help="Model (or LoRA module) name on the endpoint.")
@click.option(
    "--report",
    metavar="PATH",
    help="Write the eval summary JSON to PATH and markdown beside it (e.g. logs/eval-rules.json).",
)
@click.option(
    "--timeout", type=float, default=60.0, show_default=True, help="Seconds per model request."
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def evaluate(target, suites, reviewer, endpoint, model, report, timeout, pytest_args) -> None:
    """Run the reviewer regression suites through the pytest plugin and print per-suite scores.

    TARGET is either an adapter folder (it has adapter_config.json) or the suites to run (the
    regression folder or one suite; default evals/reviewer_regression).

    With an adapter, its base model and the adapter are served on 127.0.0.1 for the run and the
    scores are written into the adapter's adapter.metadata.json (the eval field `promote` reads).
    A specialist is scored on its own suites (python <- python; typescript <- typescript, react,
    vue; sql <- sql; docker_ci <- docker_ci, orchestration; tests <- testing), other adapters on
    every suite.

    Extra arguments after `--` go to pytest (e.g. `-- -k sql -n 4`). Exits with pytest's code: 0
    when every case passes and every threshold holds, 1 otherwise (the scores are still written).
    """
    from .adapter_eval import DEFAULT_SUITES, is_adapter_dir

    try:
        import pytest
    except ImportError:
        raise UserError("eval needs pytest: pip install 'code-assistant-lora[train]'") from None
    if target and is_adapter_dir(target):
        if endpoint or model:
            raise UserError("eval ADAPTER serves the adapter itself: drop --endpoint and --model")
        from .adapter_eval import run_adapter_eval

        outcome = run_adapter_eval(
            target,
            suites or DEFAULT_SUITES,
            reviewer="both" if reviewer == "both" else "model",
            timeout=timeout,
            report=report,
            pytest_args=pytest_args,
        )
        overall = outcome.metadata.eval["overall"]
        click.echo(
            f"{outcome.metadata.name}: precision {overall['precision']:.3f}, recall "
            f"{overall['recall']:.3f} over {overall['cases']} cases -> {outcome.metadata_path}",
            err=True,
        )
        sys.exit(outcome.exit_code)
    if target and suites:
        raise UserError(
            f"{target}: not an adapter folder; give the suites once (TARGET or --suites)"
        )
    _check_suites(target or suites or DEFAULT_SUITES)
    args = [str(target or suites or DEFAULT_SUITES), "-p", "no:cacheprovider"]
    args += ["--assistant-reviewer", reviewer, "--assistant-model-timeout", str(timeout)]
    if endpoint:
        args += ["--assistant-endpoint", endpoint]
    if model:
        args += ["--assistant-model", model]
    if report:
        args += ["--assistant-eval-report", report]
    sys.exit(int(pytest.main([*args, *pytest_args])))


def _check_suites(path) -> None:
    """The plugin collects cases only under a `reviewer_regression/` folder: say so, rather than
    let pytest report that no tests ran."""
    from pathlib import Path

    resolved = Path(path).resolve()
    if not resolved.exists():
        raise UserError(f"{path}: no such suites folder or case file")
    inside = "reviewer_regression" in resolved.parts
    holding = resolved.is_dir() and any(
        (resolved / sub / "reviewer_regression").is_dir() for sub in ("", "evals")
    )
    if not (inside or holding):
        raise UserError(
            f"{path}: not in or above a reviewer_regression/ folder; cases are collected only "
            "from reviewer_regression/<suite>/*.yaml"
        )


@cli.command("metadata")
@click.argument("adapter", type=click.Path(exists=True, file_okay=False))
@text_or_json_option(
    "A summary for people, or {path, valid, problems, notes, metadata_sha256, metadata}."
)
def metadata_command(adapter, fmt) -> None:
    """Show ADAPTER's adapter.metadata.json and check it against the folder.

    Exits 2 when the metadata is missing or invalid (schema code-assistant/adapter-metadata@1),
    1 when it contradicts the folder (another base in adapter_config.json, eval scores of other
    weights, a failed audit, no weights), 0 otherwise. Dataset files missing on this machine are
    notes, not problems.
    """
    import json

    from .adapter_checks import check_adapter_dir
    from .metadata_view import render_metadata

    check = check_adapter_dir(adapter)
    if fmt == "json":
        click.echo(json.dumps(check.to_dict(), indent=2))
    else:
        click.echo(render_metadata(check), nl=False)
    if not check.valid:
        sys.exit(1)


@cli.command("promote")
@click.argument("adapter", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--registry",
    default="adapters/promoted.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The promoted-adapter registry (schema code-assistant/promoted-adapters@1), written "
    "atomically; paths in it are relative to the current directory.",
)
@click.option(
    "--repo",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="Where the thresholds come from ([tool.code-assistant.evals] or .code-assistant.toml).",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1),
    default=0.02,
    show_default=True,
    help="How much a suite's precision or recall may drop below the promoted adapter's "
    "(overall scores may not drop at all).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Promote even though it scores below the promoted adapter (a rollback); needs --reason. "
    "Thresholds and metadata checks are never overridden.",
)
@click.option("--reason", metavar="TEXT", help="Why --force: recorded in the registry.")
def promote_command(adapter, registry, repo, tolerance, force, reason) -> None:
    """Promote ADAPTER for its role (a specialist's name, verifier or style) in the registry.

    Refused (exit 1, with the reasons and a per-suite table) when the eval scores are missing or
    belong to other weights, fall below the configured thresholds, or fall below the adapter
    promoted for the same role: overall precision or recall lower, any suite lower by more than
    --tolerance, or a suite the promoted one was scored on missing or scored on other cases.
    """
    from pathlib import Path

    from ..config import load_config
    from .promote import decide, load_registry, promote, render_comparison

    if force and not (reason or "").strip():
        raise UserError("--force needs --reason TEXT (it is recorded in the registry)")
    document = load_registry(registry)
    evals = load_config(Path(repo)).evals
    decision = decide(adapter, document, evals, tolerance, force=force, root=Path.cwd())
    click.echo(render_comparison(decision), nl=False)
    for note in decision.notes:
        click.echo(f"note: {note}", err=True)
    if not decision.accepted:
        click.echo(
            f"refused: {decision.metadata.name} is not promoted as {decision.key}:", err=True
        )
        for item in decision.reasons:
            click.echo(f"  - {item}", err=True)
        sys.exit(1)
    if decision.already_promoted:
        click.echo(f"{decision.metadata.name} is already the promoted {decision.key}", err=True)
        return
    for item in decision.overridden:
        click.echo(f"forced past: {item}", err=True)
    entry = promote(decision, document, registry, Path.cwd(), reason)
    click.echo(f"promoted {entry['name']} as {decision.key} -> {registry}", err=True)


# --- dataset commands: thin over training/{repo_scan,mine,build_sft,reviewer_sft,audit,pipeline}.py


@cli.command("scan")
@click.argument("repo", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    default="data/raw/repo_chunks.jsonl",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the chunks (JSONL, written atomically).",
)
def scan_command(repo: str, out: str) -> None:
    """Scan REPO's tracked files into symbol chunks (path, language, symbol, lines, text).

    Binaries, vendored and generated code, lock files, dotenv files, keys and anything the strict
    secret scan flags are skipped and counted in the summary.
    """
    from .jsonl import write_jsonl
    from .progress import progress_bar, stage
    from .repo_scan import scan_chunks

    with progress_bar() as bar:
        result = scan_chunks(repo, progress=stage(bar, "scanning"))
    if not result.chunks:
        raise UserError(f"{repo}: no text files to scan ({sum(result.skipped.values())} skipped)")
    target = write_jsonl(out, (c.to_dict() for c in result.chunks))
    click.echo(result.summary(target), err=True)


@cli.command("mine")
@click.argument("repo", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    default="data/curated/candidates.jsonl",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the candidate records (JSONL: instruction/input/output + meta).",
)
@click.option(
    "--since", metavar="DATE", help="Only commits since DATE (2024-05-01) or an age (90 days)."
)
@click.option(
    "--max",
    "max_commits",
    type=click.IntRange(min=1),
    help="Read at most this many commits, newest first.",
)
@click.option(
    "--max-files",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Skip commits changing more files than this (too large to teach from).",
)
@click.option(
    "--max-lines",
    type=click.IntRange(min=1),
    default=400,
    show_default=True,
    help="Skip commits changing more lines than this.",
)
def mine_command(repo, out, since, max_commits, max_files, max_lines) -> None:
    """Mine REPO's git history (from HEAD) into candidate examples with provenance and a quality
    score: commit message -> patch, failing test -> fix, file before -> file after.

    Merges, reverts, WIP messages, bulk formatting, vendored/generated/banned paths, oversized
    commits and anything holding a secret are skipped and counted.
    """
    from .jsonl import write_jsonl
    from .mine import MineOptions, mine
    from .progress import progress_bar, stage

    options = MineOptions(
        since=since, max_commits=max_commits, max_files=max_files, max_changed_lines=max_lines
    )
    with progress_bar() as bar:
        result = mine(repo, options, progress=stage(bar, "mining commits"))
    target = write_jsonl(out, result.candidates)
    click.echo(f"{result.summary()} -> {target}", err=True)


@cli.command("build-sft")
@click.argument("curated", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--train",
    "train_path",
    default="data/sft/train.jsonl",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the training split (chat-format JSONL).",
)
@click.option(
    "--eval",
    "eval_path",
    default="data/sft/eval.jsonl",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the eval split (chat-format JSONL).",
)
@click.option(
    "--eval-fraction",
    type=float,
    default=0.1,
    show_default=True,
    help="Share of records for eval (whole groups move together).",
)
@click.option("--seed", type=int, default=13, show_default=True, help="Seed of the split.")
@click.option(
    "--group-by",
    type=click.Choice(["file", "commit"]),
    default="file",
    show_default=True,
    help="Keep records sharing a file (or a commit) on one side of the split.",
)
@click.option(
    "--max-tokens",
    type=int,
    default=4096,
    show_default=True,
    help="Drop records longer than this (estimated tokens, ~4 characters each).",
)
@click.option(
    "--min-quality",
    type=float,
    default=0.0,
    show_default=True,
    help="Drop records whose meta.quality is below this.",
)
@click.option(
    "--near-threshold",
    type=float,
    default=90.0,
    show_default=True,
    help="rapidfuzz ratio (0-100) at which two records are near duplicates.",
)
@click.option(
    "--stats",
    "stats_path",
    type=click.Path(dir_okay=False),
    help="Where to write the stats report [default: beside TRAIN, *.stats.json].",
)
def build_sft_command(
    curated, train_path, eval_path, eval_fraction, seed, group_by, max_tokens, min_quality,
    near_threshold, stats_path,
) -> None:  # fmt: skip
    """Validate CURATED record files (instruction/input/output or messages), drop empty, oversize
    and duplicate records, split train/eval by group and write chat-format JSONL plus stats."""
    from .build_sft import BuildOptions, build_sft
    from .progress import progress_bar

    options = BuildOptions(
        eval_fraction=eval_fraction,
        seed=seed,
        group_by=group_by,
        max_tokens=max_tokens,
        min_quality=min_quality,
        near_threshold=near_threshold,
    )
    with progress_bar() as bar:
        result = build_sft(curated, train_path, eval_path, options, stats_path, progress=bar)
    click.echo(result.summary(), err=True)


@cli.command("build-reviewer-sft")
@click.argument("cases", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--specialist",
    type=click.Choice(["python", "typescript", "sql", "docker_ci", "tests"]),
    help="Only this specialist's suites [default: every specialist, named in meta.specialist].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Where to write the records [default: data/reviewer/<specialist or all>.jsonl].",
)
def build_reviewer_sft_command(cases, specialist, out) -> None:
    """Turn reviewer cases into SFT records whose answer is the findings JSON.

    CASES are regression fixture folders or YAML files, or JSONL of mined cases (the case mapping
    plus "suite") [default: evals/reviewer_regression]. Cases holding secrets or banned paths are
    skipped and counted.
    """
    from .jsonl import write_jsonl
    from .progress import progress_bar, stage
    from .reviewer_sft import load_cases, reviewer_records

    loaded = load_cases(cases or ["evals/reviewer_regression"])
    with progress_bar() as bar:
        result = reviewer_records(loaded, specialist, progress=stage(bar, "reviewer cases"))
    if not result.records:
        raise UserError(f"no reviewer records for {specialist or 'any specialist'} in the cases")
    target = write_jsonl(
        out or f"data/reviewer/{specialist or 'all'}.jsonl", (r.to_dict() for r in result.records)
    )
    click.echo(f"{result.summary(specialist)} -> {target}", err=True)


@cli.command("audit")
@click.argument("datasets", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Where to write audit.json [default: audit.json beside the first DATASET].",
)
@click.option(
    "--max-tokens",
    type=int,
    default=4096,
    show_default=True,
    help="Records longer than this (estimated tokens) fail as oversize.",
)
@click.option(
    "--near-threshold",
    type=float,
    default=90.0,
    show_default=True,
    help="rapidfuzz ratio (0-100) at which records in different files are near duplicates.",
)
@text_or_json_option("What to print on stdout: a table, or the audit.json document.")
def audit_command(datasets, out, max_tokens, near_threshold, fmt) -> None:
    """Check DATASET files (each one split, e.g. train.jsonl eval.jsonl) for secrets, banned
    paths, near duplicates across the split, empty or oversize records and invalid schema.

    Writes audit.json (schema code-assistant/dataset-audit@1). Exits 1 when any check fails.
    """
    import json
    from pathlib import Path

    from .audit import audit, render_table, summary_line
    from .jsonl import write_json
    from .progress import progress_bar

    with progress_bar() as bar:
        result = audit(datasets, max_tokens, near_threshold, progress=bar)
    target = write_json(out or Path(datasets[0]).with_name("audit.json"), result.document)
    if fmt == "json":
        click.echo(json.dumps(result.document, indent=2))
    else:
        click.echo(render_table(result.document), nl=False)
    click.echo(f"{summary_line(result.document)} -> {target}", err=True)
    if not result.passed:
        sys.exit(1)


@cli.command("build")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The dataset config (JSON, schema code-assistant/dataset-config@1).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Write the outputs here instead of the config's out_dir.",
)
def build_command(config_path, out_dir) -> None:
    """Run the whole chain a dataset config describes: mine and collect sources, filter, build-sft
    and audit. Writes train.jsonl, eval.jsonl, stats.json, audit.json (and candidates.jsonl when
    a git source is mined). Exits 1 when the audit fails."""
    from dataclasses import replace
    from pathlib import Path

    from .dataset_config import load_config
    from .pipeline import run_pipeline
    from .progress import progress_bar

    config = load_config(config_path)
    if out_dir:
        config = replace(config, out_dir=Path(out_dir))
    with progress_bar() as bar:
        result = run_pipeline(config, progress=bar)
    click.echo(result.summary(), err=True)
    if not result.audit.passed:
        sys.exit(1)


# --- train: thin over training/{train_config,train}.py; torch & co. are imported inside train.py

_TRAIN_OVERRIDES = {  # option name -> dotted config key
    "name": "name",
    "output_dir": "output_dir",
    "base_model": "model.base",
    "revision": "model.revision",
    "quantization": "model.quantization",
    "device": "model.device",
    "train_file": "data.train",
    "eval_file": "data.eval",
    "max_seq_length": "data.max_seq_length",
    "epochs": "train.epochs",
    "max_steps": "train.max_steps",
    "learning_rate": "train.learning_rate",
    "batch_size": "train.batch_size",
    "grad_accumulation": "train.grad_accumulation",
    "seed": "train.seed",
}


@cli.command("train")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The training config (YAML, e.g. configs/train.cpu-lora.yaml; keys in docs/training.md).",
)
@click.option(
    "--dry-run",
    "plan_only",
    is_flag=True,
    help="Print the resolved config, parameter counts, token statistics, the audit and the "
    "estimated memory; load no weights, train nothing, write nothing.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue from the latest OUTPUT_DIR/checkpoints/checkpoint-N.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Start over in an OUTPUT_DIR that holds a finished adapter or checkpoints.",
)
@click.option(
    "--skip-audit",
    is_flag=True,
    help="Train even if the dataset audit fails (recorded in the metadata as skipped).",
)
@click.option("--name", help="Adapter name [config: name; default: OUTPUT_DIR's folder name].")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Where the adapter, log, loss curve and checkpoints go [config: output_dir].",
)
@click.option("--base-model", metavar="PATH|ID", help="Base model [config: model.base].")
@click.option("--revision", help="Base model revision (hub branch, tag or commit).")
@click.option(
    "--quantization",
    type=click.Choice(["none", "nf4"]),
    help="none: plain LoRA; nf4: QLoRA through bitsandbytes [config: model.quantization].",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    help="Where to train [config: model.device; auto: CUDA when torch sees one].",
)
@click.option(
    "--train-file", type=click.Path(dir_okay=False), help="Train JSONL [config: data.train]."
)
@click.option(
    "--eval-file", type=click.Path(dir_okay=False), help="Eval JSONL [config: data.eval]."
)
@click.option(
    "--max-seq-length", type=int, help="Tokens per example [config: data.max_seq_length]."
)
@click.option("--epochs", type=float, help="Passes over the data [config: train.epochs].")
@click.option("--max-steps", type=int, help="Optimizer steps; wins over --epochs.")
@click.option(
    "--learning-rate", type=float, help="Peak learning rate [config: train.learning_rate]."
)
@click.option("--batch-size", type=int, help="Per-device batch size [config: train.batch_size].")
@click.option(
    "--grad-accumulation",
    type=int,
    help="Gradient accumulation steps [config: train.grad_accumulation].",
)
@click.option(
    "--seed", type=int, help="Seed of data order and initialisation [config: train.seed]."
)
def train_command(config_path, plan_only, resume, overwrite, skip_audit, **overrides) -> None:
    """Train a LoRA (or nf4 QLoRA) adapter on chat JSONL from build-sft / build-reviewer-sft.

    Audits the train/eval files first (refusing a failed audit unless --skip-audit), then trains
    with transformers + peft + TRL. Writes to OUTPUT_DIR: the adapter (adapter_config.json,
    weights, tokenizer), train_log.jsonl, loss.png, audit.json, checkpoints/ and, last,
    adapter.metadata.json. Ctrl-C stops at the next step with a checkpoint saved (exit 130);
    --resume continues from it. Several GPUs: `accelerate launch --config_file
    configs/accelerate/fsdp.yaml -m code_assistant_lora.training.cli train --config ...`.
    """
    from .train_config import load_config

    config = load_config(
        config_path, {_TRAIN_OVERRIDES[key]: value for key, value in overrides.items()}
    )
    from .train import train
    from .train_dryrun import dry_run
    from .train_preflight import RunOptions

    options = RunOptions(resume=resume, skip_audit=skip_audit, overwrite=overwrite)
    if plan_only:
        click.echo(dry_run(config, options).render(), nl=False)
        return
    result = train(config, options, echo=lambda line: click.echo(line, err=True))
    if result is not None:
        click.echo(result.summary(), err=True)


@cli.command("dashboard")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=7860,
    show_default=True,
    help="Port to serve on.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (only this machine by default; the page can start training).",
)
@click.option(
    "--root",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="The project whose data/, configs/, logs/ and adapters/ the dashboard shows.",
)
def dashboard_command(port: int, host: str, root: str) -> None:
    """Serve the Gradio dashboard: dataset stats and build-sft, the audit, the environment and
    training command, live training runs, eval summaries and adapters side by side.

    Needs the dashboard extra (pip install 'code-assistant-lora[dashboard]'). No share link and
    no telemetry; errors are logged to artifacts/code-assistant/dashboard-errors.log.
    """
    import os

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        from .dashboard.app import serve
    except ImportError as exc:
        raise UserError(
            f"the dashboard needs gradio ({exc.name or exc}): "
            "pip install 'code-assistant-lora[dashboard]'"
        ) from None
    click.echo(f"dashboard for {os.path.abspath(root)} on http://{host}:{port}", err=True)
    try:
        serve(root, host=host, port=port)
    except OSError as exc:  # the port is taken or the host is not an interface of this machine
        raise UserError(f"cannot listen on {host}:{port}: {exc}", exit_code=3) from None


def main(argv: list[str] | None = None) -> None:
    run_command(cli, argv, "code-assistant-train")


if __name__ == "__main__":
    main()
