"""Write a reviewer regression case from a before/after tree, so nobody hand-counts hunk headers.

    python scripts/make_eval_case.py CASE_DIR OUT.yaml

CASE_DIR holds `before/` (files as they were; may be missing for an all-new change), `after/`
(files as the change leaves them; a file missing here is deleted) and `case.yaml` with the
`description`, `expected` (or `must_not_flag: true`) and optional `tags`. The script adds
`files_before` (only files the change touches) and a `diff` with three lines of context, checks
the result loads with the same validator pytest uses, and writes OUT.yaml.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

import yaml


def _texts(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): "\n".join(
            line.rstrip() for line in p.read_text(encoding="utf-8").splitlines()
        )
        + "\n"
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def unified_diff(before: dict[str, str], after: dict[str, str]) -> tuple[str, dict[str, str]]:
    chunks: list[str] = []
    touched: dict[str, str] = {}
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is not None and new is not None:
            touched[path] = old
        lines = list(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=f"a/{path}" if old is not None else "/dev/null",
                tofile=f"b/{path}" if new is not None else "/dev/null",
                n=3,
            )
        )
        chunks.append(f"diff --git a/{path} b/{path}\n")
        if old is None:
            chunks.append("new file mode 100644\n")
        elif new is None:
            chunks.append("deleted file mode 100644\n")
        # blank context lines lose their leading space so YAML can keep the diff as a block
        chunks.extend(line.rstrip() + "\n" for line in lines)
    return "".join(chunks), touched


class _Block(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Block.add_representer(str, _str)


def build_case(case_dir: Path) -> dict:
    meta = yaml.safe_load((case_dir / "case.yaml").read_text(encoding="utf-8")) or {}
    diff, touched = unified_diff(_texts(case_dir / "before"), _texts(case_dir / "after"))
    if not diff:
        raise SystemExit(f"{case_dir}: before/ and after/ are identical")
    case = {"description": meta.pop("description", "")}
    if touched:
        case["files_before"] = touched
    case["diff"] = diff
    case.update(meta)
    return case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    case = build_case(args.case_dir)
    text = yaml.dump(case, Dumper=_Block, sort_keys=False, allow_unicode=True, width=1000)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    from code_assistant_lora.evals.case import CaseError, load_case

    try:
        load_case(args.out)
    except CaseError as exc:
        args.out.unlink()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
