"""`python -m code_assistant_lora.build_sft CURATED.jsonl --train T --eval E`: the original
toolkit's form of `code-assistant-train build-sft` (same options, same outputs, same exit codes)."""

from __future__ import annotations

from .entry import run_command


def main(argv: list[str] | None = None) -> None:
    from .training.cli import build_sft_command

    run_command(build_sft_command, argv, "build_sft")


if __name__ == "__main__":
    main()
