"""The "Data" tab: load a curated JSONL file, its statistics, a paged record browser and
build-sft.

`build_data_tab` lays the tab out; `wire_data_tab` attaches its handlers. They are two steps
because Load also fills the Audit tab's path box, which is laid out after this tab, and because
the order in which events are wired names them in the API (`load`, `load_1`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from ...errors import UserError
from . import build_view, dataset_view
from .context import DashboardContext, escape, frame


@dataclass
class DataTab:
    found: gr.Dropdown
    curated_path: gr.Textbox
    load_button: gr.Button
    status: gr.Markdown
    task_table: gr.Dataframe
    task_plot: gr.BarPlot
    language_plot: gr.BarPlot
    record_hist: gr.BarPlot
    answer_hist: gr.BarPlot
    previous_page: gr.Button
    page_number: gr.Number
    next_page: gr.Button
    page_info: gr.Markdown
    records_table: gr.Dataframe
    record_number: gr.Number
    record_code: gr.Code
    eval_fraction: gr.Slider
    seed: gr.Number
    group_by: gr.Radio
    out_dir: gr.Textbox
    build_button: gr.Button
    build_status: gr.Markdown
    build_files: gr.Dataframe
    build_dropped: gr.Dataframe


# ==================================================================== layout


def build_data_tab(ctx: DashboardContext) -> DataTab:
    with gr.Tab("Data", id="data"):
        return DataTab(**_loader(ctx), **_statistics(), **_record_browser(), **_build_section(ctx))


def _loader(ctx: DashboardContext) -> dict:
    with gr.Row():
        found = gr.Dropdown(
            choices=dataset_view.find_jsonl(ctx.root),
            label="JSONL files under data/",
            value=None,
            scale=2,
        )
        curated_path = gr.Textbox(
            label="Curated file",
            placeholder="data/curated/candidates.jsonl",
            elem_id="curated-path",
            scale=3,
        )
        load_button = gr.Button("Load", variant="primary", elem_id="load-button")
    status = gr.Markdown(elem_id="data-status")
    return {
        "found": found,
        "curated_path": curated_path,
        "load_button": load_button,
        "status": status,
    }


def _statistics() -> dict:
    task_table = gr.Dataframe(
        label="Records per task type and language",
        interactive=False,
        elem_id="task-table",
    )
    with gr.Row():
        task_plot = gr.BarPlot(
            x="task", y="records", label="Records per task type", y_lim=[0, None]
        )
        language_plot = gr.BarPlot(
            x="language", y="records", label="Records per language", y_lim=[0, None]
        )
    with gr.Row():
        record_hist = gr.BarPlot(
            x="tokens",
            y="records",
            label="Record length (estimated tokens)",
            y_lim=[0, None],
        )
        answer_hist = gr.BarPlot(
            x="tokens",
            y="records",
            label="Answer length (estimated tokens)",
            y_lim=[0, None],
        )
    return {
        "task_table": task_table,
        "task_plot": task_plot,
        "language_plot": language_plot,
        "record_hist": record_hist,
        "answer_hist": answer_hist,
    }


def _record_browser() -> dict:
    gr.Markdown("### Records (secrets masked)")
    with gr.Row():
        previous_page = gr.Button("◀ Previous", size="sm")
        page_number = gr.Number(value=1, precision=0, label="Page", minimum=1)
        next_page = gr.Button("Next ▶", size="sm")
        page_info = gr.Markdown()
    records_table = gr.Dataframe(
        headers=dataset_view.PAGE_HEADERS,
        interactive=False,
        wrap=True,
        elem_id="records-table",
    )
    record_number = gr.Number(value=1, precision=0, label="Record # (or click a row)", minimum=1)
    record_code = gr.Code(language="json", label="Record", elem_id="record-json")
    return {
        "previous_page": previous_page,
        "page_number": page_number,
        "next_page": next_page,
        "page_info": page_info,
        "records_table": records_table,
        "record_number": record_number,
        "record_code": record_code,
    }


def _build_section(ctx: DashboardContext) -> dict:
    gr.Markdown("### build-sft")
    with gr.Row():
        eval_fraction = gr.Slider(0.0, 0.5, value=0.1, step=0.05, label="Eval fraction")
        seed = gr.Number(value=13, precision=0, label="Seed")
        group_by = gr.Radio(["file", "commit"], value="file", label="Group by")
        out_dir = gr.Textbox(
            value=str(ctx.root / "data" / "sft"),
            label="Output folder",
            elem_id="build-out-dir",
        )
    build_button = gr.Button("Run build-sft", variant="primary", elem_id="build-button")
    build_status = gr.Markdown(elem_id="build-status")
    build_files = gr.Dataframe(
        headers=build_view.FILE_HEADERS,
        label="Files written",
        interactive=False,
        elem_id="build-files",
    )
    build_dropped = gr.Dataframe(
        headers=["reason", "records"], label="Dropped records", interactive=False
    )
    return {
        "eval_fraction": eval_fraction,
        "seed": seed,
        "group_by": group_by,
        "out_dir": out_dir,
        "build_button": build_button,
        "build_status": build_status,
        "build_files": build_files,
        "build_dropped": build_dropped,
    }


# ==================================================================== handlers


def wire_data_tab(ctx: DashboardContext, tab: DataTab, audit_paths: gr.Textbox) -> None:
    """Attach the tab's handlers; Load also writes the loaded path into `audit_paths`."""
    _wire_load(ctx, tab, audit_paths)
    _wire_browser(ctx, tab)
    _wire_build(ctx, tab)


def _page_outputs(curated: dataset_view.CuratedFile | None, number, record):
    if curated is None:
        raise UserError("no file loaded: enter a curated file and press Load")
    page = dataset_view.record_page(curated, number or 1)
    shown = record if record else page.first + 1
    return (
        page.number,
        f"page {page.number} of {page.pages} ({curated.count} records)",
        frame(page.rows, dataset_view.PAGE_HEADERS),
        shown,
        dataset_view.record_json(curated, shown),
    )


def _summary_line(curated: dataset_view.CuratedFile, stats: dict) -> str:
    return (
        f"**{curated.count} records** in `{curated.path}`: "
        f"{len(stats['by_task'])} task types, {len(stats['by_language'])} languages, "
        f"~{stats['total_tokens']} tokens (median {stats['tokens']['p50']}, "
        f"p95 {stats['tokens']['p95']}, max {stats['tokens']['max']})"
    )


def _length_histograms(records: list) -> list[gr.BarPlot]:
    histograms = []
    for part in ("record", "answer"):
        rows = dataset_view.length_histogram(dataset_view.lengths(records, part))
        histograms.append(gr.BarPlot(value=pd.DataFrame(rows), sort=[r["tokens"] for r in rows]))
    return histograms


def _wire_load(ctx: DashboardContext, tab: DataTab, audit_paths: gr.Textbox) -> None:
    @ctx.guarded(14, status=1)
    def load(path: str):
        curated = dataset_view.load_curated(ctx.resolve(path))
        records = [record for _, record in curated.records]
        stats = dataset_view.summary(curated)
        table = dataset_view.task_language_rows(records)
        status = _summary_line(curated, stats)
        if curated.invalid:
            message = f"{len(curated.invalid)} malformed line(s): build-sft will refuse this file"
            gr.Warning(message)
            listed = "\n".join(f"- {escape(line)}" for line in dataset_view.invalid_lines(curated))
            status += f"\n\n**{message}:**\n{listed}"
        return (
            curated,
            status,
            frame(table[1:], table[0]),
            pd.DataFrame(dataset_view.count_rows(records, "task")),
            pd.DataFrame(dataset_view.count_rows(records, "language")),
            *_length_histograms(records),
            *_page_outputs(curated, 1, 1),
            curated.path,
            curated.path,
        )

    load_outputs = [
        ctx.curated_state, tab.status, tab.task_table, tab.task_plot, tab.language_plot,
        tab.record_hist, tab.answer_hist, tab.page_number, tab.page_info, tab.records_table,
        tab.record_number, tab.record_code, tab.curated_path, audit_paths,
    ]  # fmt: skip
    tab.load_button.click(load, tab.curated_path, load_outputs)
    tab.curated_path.submit(load, tab.curated_path, load_outputs)
    tab.found.input(load, tab.found, load_outputs)


def _wire_browser(ctx: DashboardContext, tab: DataTab) -> None:
    curated_state = ctx.curated_state
    page_view = [
        tab.page_number, tab.page_info, tab.records_table, tab.record_number, tab.record_code,
    ]  # fmt: skip

    @ctx.guarded(6, status=5)
    def turn_page(curated, number, step: int):
        return (*_page_outputs(curated, int(number or 1) + step, None), gr.skip())

    for button, step in ((tab.previous_page, -1), (tab.next_page, 1)):
        button.click(
            _stepper(turn_page, step),
            [curated_state, tab.page_number],
            [*page_view, tab.status],
        )
    tab.page_number.submit(
        _stepper(turn_page, 0), [curated_state, tab.page_number], [*page_view, tab.status]
    )

    @ctx.guarded(2, status=1)
    def show_record(curated, number):
        if curated is None:
            raise UserError("no file loaded: enter a curated file and press Load")
        return dataset_view.record_json(curated, number or 1), gr.skip()

    tab.record_number.submit(
        show_record, [curated_state, tab.record_number], [tab.record_code, tab.status]
    )

    def pick_row(curated, event: gr.SelectData):
        if curated is None or not event.row_value:
            return gr.skip(), gr.skip()
        position = int(event.row_value[0])
        return position, dataset_view.record_json(curated, position)

    tab.records_table.select(pick_row, curated_state, [tab.record_number, tab.record_code])


def _stepper(handler, step: int):
    """`handler(curated, number, step)` as a two-input event handler."""

    def run(curated, number):
        return handler(curated, number, step)

    return run


def _wire_build(ctx: DashboardContext, tab: DataTab) -> None:
    @ctx.guarded(4)
    def build(path, target, fraction, seed_value, grouping, progress=gr.Progress()):  # noqa: B008 (the gradio idiom)
        progress(0, desc="reading records")
        view = build_view.run_build(
            str(ctx.resolve(path)) if str(path).strip() else "",
            str(ctx.resolve(target)) if str(target).strip() else "",
            fraction,
            int(seed_value if seed_value is not None else 13),
            grouping,
            progress=lambda label, done, total: progress(
                (done, total) if total else None, desc=label
            ),
        )
        status = f"**build-sft done:** {escape(view.result.summary())}"
        gr.Info("build-sft wrote train.jsonl, eval.jsonl and train.stats.json")
        return (
            status,
            frame(view.files, build_view.FILE_HEADERS),
            frame(view.dropped, ["reason", "records"]),
            view.paths,
        )

    tab.build_button.click(
        build,
        [tab.curated_path, tab.out_dir, tab.eval_fraction, tab.seed, tab.group_by],
        [tab.build_status, tab.build_files, tab.build_dropped, ctx.built_state],
    )
