"""The "Evals & adapters" tab: the eval summaries under `logs/` and the adapters compared with
the promoted registry."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from . import adapters_view, evals_view
from .context import DashboardContext, escape, frame


@dataclass
class EvalsTab:
    overview: gr.Dataframe
    summary_choice: gr.Dropdown
    summary_info: gr.Markdown
    summary_table: gr.Dataframe
    precision_plot: gr.BarPlot
    recall_plot: gr.BarPlot
    adapters_root: gr.Textbox
    promoted_path: gr.Textbox
    scan_button: gr.Button
    adapters_status: gr.Markdown
    adapters_table: gr.HTML
    regressions_table: gr.Dataframe


def build_evals_tab(ctx: DashboardContext) -> EvalsTab:
    root = ctx.root
    with gr.Tab("Evals & adapters", id="evals"):
        gr.Markdown("### Eval summaries (`logs/eval-*.json`)")
        summaries = evals_view.find_summaries(root / "logs")
        overview = gr.Dataframe(
            headers=evals_view.OVERVIEW_HEADERS,
            label="All summaries",
            interactive=False,
            elem_id="evals-overview",
        )
        summary_choice = gr.Dropdown(
            choices=summaries,
            value=summaries[-1] if summaries else None,
            label="Summary",
            allow_custom_value=True,
        )
        summary_info = gr.Markdown()
        summary_table = gr.Dataframe(interactive=False, label="Per suite")
        with gr.Row():
            precision_plot = gr.BarPlot(
                x="suite", y="value", label="Precision per suite", y_lim=[0, 1]
            )
            recall_plot = gr.BarPlot(x="suite", y="value", label="Recall per suite", y_lim=[0, 1])
        gr.Markdown("### Adapters")
        with gr.Row():
            adapters_root = gr.Textbox(
                value=str(root / "adapters"), label="Search for adapters under"
            )
            promoted_path = gr.Textbox(
                value=str(root / adapters_view.PROMOTED_FILE),
                label="Promoted registry",
            )
            scan_button = gr.Button("Compare adapters", variant="primary")
        adapters_status = gr.Markdown(elem_id="adapters-status")
        adapters_table = gr.HTML(elem_id="adapters-table")
        regressions_table = gr.Dataframe(
            headers=adapters_view.REGRESSION_HEADERS,
            label="Regressions against the promoted adapter",
            interactive=False,
        )
    return EvalsTab(
        overview, summary_choice, summary_info, summary_table, precision_plot, recall_plot,
        adapters_root, promoted_path, scan_button, adapters_status, adapters_table,
        regressions_table,
    )  # fmt: skip


def wire_evals_tab(ctx: DashboardContext, tab: EvalsTab) -> None:
    _wire_summaries(ctx, tab)
    _wire_adapters(ctx, tab)


def _wire_summaries(ctx: DashboardContext, tab: EvalsTab) -> None:
    @ctx.guarded(5, status=1)
    def show_summary(path):
        overview = frame(
            evals_view.overview_rows(evals_view.find_summaries(ctx.root / "logs")),
            evals_view.OVERVIEW_HEADERS,
        )
        if not path:
            return (
                overview,
                "No eval summaries under logs/ yet.",
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )
        document = evals_view.load_summary(ctx.resolve(path))
        headers, rows = evals_view.summary_table(document)
        chart = pd.DataFrame(evals_view.chart_rows(document))
        return (
            overview,
            evals_view.describe(document),
            frame(rows, headers),
            chart[chart.metric == "precision"],
            chart[chart.metric == "recall"],
        )

    summary_outputs = [
        tab.overview, tab.summary_info, tab.summary_table, tab.precision_plot, tab.recall_plot,
    ]  # fmt: skip
    tab.summary_choice.input(show_summary, tab.summary_choice, summary_outputs)
    ctx.app.load(show_summary, tab.summary_choice, summary_outputs)


def _wire_adapters(ctx: DashboardContext, tab: EvalsTab) -> None:
    @ctx.guarded(3)
    def compare(search_root, registry):
        adapters = adapters_view.find_adapters(ctx.resolve(search_root))
        promoted = adapters_view.load_promoted(ctx.resolve(registry))
        comparison = adapters_view.compare(adapters, promoted, ctx.root)
        unreadable = [a for a in adapters if a.error]
        lines = [
            f"**{len(adapters)} adapter(s)** under `{search_root}`; "
            f"{len(promoted)} promoted role(s); {len(comparison.regressions)} regression(s)."
        ]
        lines += [f"- unreadable: {escape(a.error)}" for a in unreadable]
        if not promoted:
            lines.append("No promoted registry yet: nothing to compare against.")
        return (
            "\n".join(lines),
            adapters_view.comparison_html(comparison),
            frame([r.to_row() for r in comparison.regressions], adapters_view.REGRESSION_HEADERS),
        )

    tab.scan_button.click(
        compare,
        [tab.adapters_root, tab.promoted_path],
        [tab.adapters_status, tab.adapters_table, tab.regressions_table],
    )
