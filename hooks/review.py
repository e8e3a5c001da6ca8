"""The `code-assistant-review` pre-commit hook: review the staged diff, fail on `high` by default.

Arguments from the hook's `args:` pass through to `code-assistant review` (e.g. `--fail-on medium`,
`--skip-rules python.print-left-in-code`). The hook is declared with `pass_filenames: false`: the
staged diff, not a file list, is the input. `--models` also asks the specialists configured in
`[models]` (or set `[review] models = true`); a model that is down or slow never fails the commit
unless `--require-model` is given, and a re-run on the same diff answers from the cache."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from ..cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    cli_main(["review", "--staged", "--repo", ".", *args])


if __name__ == "__main__":
    main()
