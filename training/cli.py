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
