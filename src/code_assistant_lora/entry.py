"""Running a click command as a program: a UserError becomes one line `PROG: error: ...` and its
exit code, click's own usage errors print as click prints them, `--help`/`--version` exit 0."""

from __future__ import annotations

import sys

import click

from .errors import UserError


def run_command(command: click.Command, argv: list[str] | None, prog_name: str) -> None:
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except UserError as exc:
        click.echo(f"{prog_name}: error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


def text_or_json_option(help: str | None = None):
    """`--format text|json` (stored as `fmt`): a summary for people, or the JSON document."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )
