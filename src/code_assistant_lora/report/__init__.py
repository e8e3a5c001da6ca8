"""Reports: the review.json document and its renderings (github, sarif, text), written atomically."""

from .review_json import REVIEW_SCHEMA, review_document
from .writer import write_atomic

FORMATS = ("json", "github", "sarif", "text")


def render(document: dict, fmt: str, color: bool = False) -> str:
    """The review document rendered in one of FORMATS."""
    if fmt == "json":
        import json

        return json.dumps(document, indent=2) + "\n"
    if fmt == "github":
        from .github import render_github

        return render_github(document)
    if fmt == "sarif":
        import json

        from .sarif import sarif_document

        return json.dumps(sarif_document(document), indent=2) + "\n"
    if fmt == "text":
        from .text import render_text

        return render_text(document, color=color)
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["FORMATS", "REVIEW_SCHEMA", "render", "review_document", "write_atomic"]
