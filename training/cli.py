"""`code-assistant-train`: dataset building and adapter training (commands land with their issues).

Heavy libraries (torch, transformers, peft, bitsandbytes) are imported inside commands only."""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="code-assistant-train")
def cli() -> None:
    """Build SFT datasets from a repository and train LoRA/QLoRA adapters."""


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def doctor(fmt: str) -> None:
    """Report the training environment: Python, torch, CUDA devices, bitsandbytes, peft, transformers."""
    from .environment import describe_environment

    report = describe_environment()
    if fmt == "json":
        import json

        click.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        click.echo(f"{key:<16} {value}")


@cli.command("eval")
@click.argument("suites", default="evals/reviewer_regression", type=click.Path(exists=True))
@click.option(
    "--reviewer",
    type=click.Choice(["rules", "model", "both"]),
    default="rules",
    show_default=True,
    help="What to score: the deterministic rules, a model endpoint, or both merged.",
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
def evaluate(suites, reviewer, endpoint, model, report, timeout, pytest_args) -> None:
    """Run the reviewer regression suites through the pytest plugin and print per-suite scores.

    SUITES is the regression folder or one suite (default evals/reviewer_regression). Extra
    arguments after `--` go to pytest (e.g. `-- -k sql -n 4`). Exits with pytest's code: 0 when
    every case passes and every threshold holds.
    """
    try:
        import pytest
    except ImportError:
        raise UserError("eval needs pytest: pip install 'code-assistant-lora[train]'") from None
    args = [str(suites), "-p", "no:cacheprovider", "--assistant-reviewer", reviewer]
    args += ["--assistant-model-timeout", str(timeout)]
    if endpoint:
        args += ["--assistant-endpoint", endpoint]
    if model:
        args += ["--assistant-model", model]
    if report:
        args += ["--assistant-eval-report", report]
    sys.exit(int(pytest.main([*args, *pytest_args])))


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="code-assistant-train", standalone_mode=False)
    except UserError as exc:
        click.echo(f"code-assistant-train: error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
