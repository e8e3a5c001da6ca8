"""The "Environment" tab: the `doctor` report (torch, devices, nf4) and its advice."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from . import environment_view
from .context import DashboardContext, frame


@dataclass
class EnvironmentTab:
    check_button: gr.Button
    status: gr.Markdown
    table: gr.Dataframe
    advice: gr.Markdown


def build_environment_tab(ctx: DashboardContext) -> EnvironmentTab:
    with gr.Tab("Environment", id="environment"):
        check_button = gr.Button("Check the environment (doctor)", variant="primary")
        status = gr.Markdown()
        table = gr.Dataframe(
            headers=["item", "value"], label="doctor", interactive=False, wrap=True
        )
        advice = gr.Markdown()
    return EnvironmentTab(check_button, status, table, advice)


def wire_environment_tab(ctx: DashboardContext, tab: EnvironmentTab) -> None:
    @ctx.guarded(3)
    def check_environment(progress=gr.Progress()):  # noqa: B008 (the gradio idiom)
        from ..environment import describe_environment

        progress(0, desc="importing torch, probing devices, checking nf4")
        report = describe_environment(ctx.root)
        count = report.get("torch", {}).get("device_count", 0)
        return (
            f"{count} CUDA device(s) visible.",
            frame(environment_view.report_rows(report), ["item", "value"]),
            environment_view.advice_markdown(report["recommendation"]),
        )

    tab.check_button.click(check_environment, None, [tab.status, tab.table, tab.advice])
