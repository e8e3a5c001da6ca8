"""The "Audit" tab: audit dataset files (one split per file), by default the last build-sft
output of the Data tab."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from . import audit_view
from .context import DashboardContext, escape, frame


@dataclass
class AuditTab:
    paths: gr.Textbox
    use_build: gr.Button
    audit_button: gr.Button
    status: gr.Markdown
    checks: gr.Dataframe
    violations: gr.Dataframe


def build_audit_tab(ctx: DashboardContext) -> AuditTab:
    with gr.Tab("Audit", id="audit"):
        paths = gr.Textbox(
            label="Dataset files to audit (one per line: each file is one split)",
            lines=3,
            elem_id="audit-paths",
        )
        with gr.Row():
            use_build = gr.Button("Use the last build-sft output")
            audit_button = gr.Button("Run audit", variant="primary", elem_id="audit-button")
        status = gr.Markdown(elem_id="audit-status")
        checks = gr.Dataframe(
            headers=["check", "failures", "status"], label="Checks", interactive=False
        )
        violations = gr.Dataframe(
            headers=audit_view.VIOLATION_HEADERS,
            label="Violations",
            interactive=False,
            wrap=True,
            elem_id="audit-violations",
        )
    return AuditTab(paths, use_build, audit_button, status, checks, violations)


def wire_audit_tab(ctx: DashboardContext, tab: AuditTab) -> None:
    tab.use_build.click(
        lambda built: "\n".join(built) if built else gr.skip(), ctx.built_state, tab.paths
    )

    @ctx.guarded(3)
    def run_audit(text, progress=gr.Progress()):  # noqa: B008 (the gradio idiom)
        paths = [str(ctx.resolve(p)) for p in audit_view.parse_paths(text or "")]
        progress(0, desc="auditing")
        view = audit_view.run_audit(
            paths,
            progress=lambda label, done, total: progress(
                (done, total) if total else None, desc=label
            ),
        )
        verdict, _, detail = view.summary.partition(": ")  # "audit FAILED: 13 records ..."
        status = f"**{escape(verdict)}**: {escape(detail)} (audit.json: `{view.path}`)"
        return (
            status,
            frame(view.checks, ["check", "failures", "status"]),
            frame(view.violations, audit_view.VIOLATION_HEADERS),
        )

    tab.audit_button.click(run_audit, tab.paths, [tab.status, tab.checks, tab.violations])
