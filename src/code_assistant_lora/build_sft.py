"""`python -m code_assistant_lora.build_sft CURATED.jsonl --train T --eval E`: the original
toolkit's form of `code-assistant-train build-sft` (same options, same outputs, same exit codes)."""

from __future__ import annotations

import sys

import click

from .errors import UserError


def main(argv: list[str] | None = None) -> None:
    from .training.cli import build_sft_command

    try:
        build_sft_command.main(args=argv, prog_name="build_sft", standalone_mode=False)
    except UserError as exc:
        click.echo(f"build_sft: error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
