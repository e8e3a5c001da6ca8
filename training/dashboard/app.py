"""The Gradio layout: five tabs over the pure functions of this package.

Every handler goes through `_guarded`: a UserError (a missing file, a malformed record, a config
error) becomes a readable line in the tab's status and a toast; anything unexpected is logged with
its traceback under `artifacts/code-assistant/dashboard-errors.log` and shown as one line, never
as a stack trace. Long actions report through `gr.Progress`; training runs in a subprocess the
page polls with a timer, so nothing waits on it.
"""

from __future__ import annotations

import functools
import os
import re
import traceback
from datetime import datetime, timezone
from pathlib import Path

import gradio as gr
import pandas as pd

from ...errors import UserError
from ..environment import CPU_CONFIG, accelerate_config, training_command
from ..train_config import load_config
from . import (
    adapters_view,
    audit_view,
    build_view,
    dataset_view,
    environment_view,
    evals_view,
    launch,
    training_log,
)
from .run_process import TrainingProcess

TITLE = "code-assistant-lora dashboard"
POLL_SECONDS = 2.0
ERROR_LOG = Path("artifacts") / "code-assistant" / "dashboard-errors.log"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def theme() -> gr.themes.Base:
    """The default theme with system fonts: no font is fetched from the internet."""
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "monospace"],
    )


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _error(message: str) -> str:
    return f"**Error:** {_escape(message)}"


def _frame(rows: list, headers: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=headers)


def build_app(root: str | Path = ".") -> gr.Blocks:
    """The dashboard over the project at `root` (relative paths typed in the page resolve
    against it)."""
    root = Path(root).resolve()
    process = TrainingProcess()
    gpus: list[int] = []  # counted once, on first need (it imports torch)

    def gpu_count() -> int:
        if not gpus:
            gpus.append(launch.gpu_count())
        return gpus[0]

    def resolve(text: str) -> Path:
        path = Path(str(text).strip()).expanduser()
        return path if path.is_absolute() else root / path

    def guarded(outputs: int, status: int = 0):
        """Turn errors into a status line (at position `status` of the outputs) and a toast;
        the other outputs stay as they were."""

        def wrap(handler):
            @functools.wraps(handler)
            def run(*args, **kwargs):
                try:
                    return handler(*args, **kwargs)
                except UserError as exc:
                    message = exc.message
                except Exception as exc:  # the edge: log the traceback, show one line
                    log = root / ERROR_LOG
                    log.parent.mkdir(parents=True, exist_ok=True)
                    with open(log, "a", encoding="utf-8") as handle:
                        handle.write(f"--- {datetime.now(timezone.utc).isoformat()}\n")
                        handle.write(traceback.format_exc())
                    message = f"unexpected {type(exc).__name__} (details in {log})"
                gr.Warning(message)
                out = [gr.skip()] * outputs
                out[status] = _error(message)
                return tuple(out) if outputs > 1 else out[0]

            return run

        return wrap

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}\nProject: `{root}`")
        curated_state = gr.State(None)
        built_state = gr.State([])
        with gr.Tabs():
            # ---------------------------------------------------------------- Data
            with gr.Tab("Data", id="data"):
                with gr.Row():
                    found = gr.Dropdown(
                        choices=dataset_view.find_jsonl(root),
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
                data_status = gr.Markdown(elem_id="data-status")
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
                record_number = gr.Number(
                    value=1, precision=0, label="Record # (or click a row)", minimum=1
                )
                record_code = gr.Code(language="json", label="Record", elem_id="record-json")
                gr.Markdown("### build-sft")
                with gr.Row():
                    eval_fraction = gr.Slider(0.0, 0.5, value=0.1, step=0.05, label="Eval fraction")
                    seed = gr.Number(value=13, precision=0, label="Seed")
                    group_by = gr.Radio(["file", "commit"], value="file", label="Group by")
                    out_dir = gr.Textbox(
                        value=str(root / "data" / "sft"),
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

            # ---------------------------------------------------------------- Audit
            with gr.Tab("Audit", id="audit"):
                audit_paths = gr.Textbox(
                    label="Dataset files to audit (one per line: each file is one split)",
                    lines=3,
                    elem_id="audit-paths",
                )
                with gr.Row():
                    use_build = gr.Button("Use the last build-sft output")
                    audit_button = gr.Button("Run audit", variant="primary", elem_id="audit-button")
                audit_status = gr.Markdown(elem_id="audit-status")
                audit_checks = gr.Dataframe(
                    headers=["check", "failures", "status"], label="Checks", interactive=False
                )
                audit_table = gr.Dataframe(
                    headers=audit_view.VIOLATION_HEADERS,
                    label="Violations",
                    interactive=False,
                    wrap=True,
                    elem_id="audit-violations",
                )

            # ---------------------------------------------------------------- Environment
            with gr.Tab("Environment", id="environment"):
                env_button = gr.Button("Check the environment (doctor)", variant="primary")
                env_status = gr.Markdown()
                env_table = gr.Dataframe(
                    headers=["item", "value"], label="doctor", interactive=False, wrap=True
                )
                env_advice = gr.Markdown()

            # ---------------------------------------------------------------- Training
            with gr.Tab("Training", id="training"):
                with gr.Row():
                    config_choice = gr.Dropdown(
                        choices=launch.find_configs(root),
                        label="Training config",
                        allow_custom_value=True,
                        scale=3,
                    )
                    refresh_configs = gr.Button("Refresh", size="sm")
                command_info = gr.Markdown(elem_id="command-info")
                with gr.Row():
                    start_button = gr.Button("Start training", variant="primary")
                    stop_button = gr.Button("Stop", variant="stop")
                train_status = gr.Markdown()
                with gr.Row():
                    run_choice = gr.Dropdown(
                        choices=training_log.find_runs(root),
                        label="Run folder to follow (holds train_log.jsonl)",
                        allow_custom_value=True,
                        scale=3,
                    )
                    follow_button = gr.Button("Follow", size="sm")
                run_progress = gr.Markdown(elem_id="run-progress")
                loss_plot = gr.LinePlot(x="step", y="loss", color="series", label="Loss")
                run_output = gr.Textbox(label="Process output (last lines)", lines=8, max_lines=8)
                timer = gr.Timer(POLL_SECONDS, active=False)

            # ---------------------------------------------------------------- Evals & adapters
            with gr.Tab("Evals & adapters", id="evals"):
                gr.Markdown("### Eval summaries (`logs/eval-*.json`)")
                summaries = evals_view.find_summaries(root / "logs")
                evals_overview = gr.Dataframe(
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
                    recall_plot = gr.BarPlot(
                        x="suite", y="value", label="Recall per suite", y_lim=[0, 1]
                    )
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

        # ==================================================================== handlers: Data
        def page_outputs(curated: dataset_view.CuratedFile | None, number, record):
            if curated is None:
                raise UserError("no file loaded: enter a curated file and press Load")
            page = dataset_view.record_page(curated, number or 1)
            shown = record if record else page.first + 1
            return (
                page.number,
                f"page {page.number} of {page.pages} ({curated.count} records)",
                _frame(page.rows, dataset_view.PAGE_HEADERS),
                shown,
                dataset_view.record_json(curated, shown),
            )

        @guarded(14, status=1)
        def load(path: str):
            curated = dataset_view.load_curated(resolve(path))
            records = [record for _, record in curated.records]
            stats = dataset_view.summary(curated)
            table = dataset_view.task_language_rows(records)
            status = (
                f"**{curated.count} records** in `{curated.path}`: "
                f"{len(stats['by_task'])} task types, {len(stats['by_language'])} languages, "
                f"~{stats['total_tokens']} tokens (median {stats['tokens']['p50']}, "
                f"p95 {stats['tokens']['p95']}, max {stats['tokens']['max']})"
            )
            if curated.invalid:
                message = (
                    f"{len(curated.invalid)} malformed line(s): build-sft will refuse this file"
                )
                gr.Warning(message)
                listed = "\n".join(
                    f"- {_escape(line)}" for line in dataset_view.invalid_lines(curated)
                )
                status += f"\n\n**{message}:**\n{listed}"
            histograms = []
            for part in ("record", "answer"):
                rows = dataset_view.length_histogram(dataset_view.lengths(records, part))
                histograms.append(
                    gr.BarPlot(value=pd.DataFrame(rows), sort=[r["tokens"] for r in rows])
                )
            return (
                curated,
                status,
                _frame(table[1:], table[0]),
                pd.DataFrame(dataset_view.count_rows(records, "task")),
                pd.DataFrame(dataset_view.count_rows(records, "language")),
                *histograms,
                *page_outputs(curated, 1, 1),
                curated.path,
                curated.path,
            )

        load_outputs = [
            curated_state, data_status, task_table, task_plot, language_plot, record_hist,
            answer_hist, page_number, page_info, records_table, record_number, record_code,
            curated_path, audit_paths,
        ]  # fmt: skip
        load_button.click(load, curated_path, load_outputs)
        curated_path.submit(load, curated_path, load_outputs)
        found.input(load, found, load_outputs)

        page_view = [page_number, page_info, records_table, record_number, record_code]

        @guarded(6, status=5)
        def turn_page(curated, number, step: int):
            return (*page_outputs(curated, int(number or 1) + step, None), gr.skip())

        for button, step in ((previous_page, -1), (next_page, 1)):
            button.click(
                _stepper(turn_page, step),
                [curated_state, page_number],
                [*page_view, data_status],
            )
        page_number.submit(
            _stepper(turn_page, 0), [curated_state, page_number], [*page_view, data_status]
        )

        @guarded(2, status=1)
        def show_record(curated, number):
            if curated is None:
                raise UserError("no file loaded: enter a curated file and press Load")
            return dataset_view.record_json(curated, number or 1), gr.skip()

        record_number.submit(
            show_record, [curated_state, record_number], [record_code, data_status]
        )

        def pick_row(curated, event: gr.SelectData):
            if curated is None or not event.row_value:
                return gr.skip(), gr.skip()
            position = int(event.row_value[0])
            return position, dataset_view.record_json(curated, position)

        records_table.select(pick_row, curated_state, [record_number, record_code])

        @guarded(4)
        def build(path, target, fraction, seed_value, grouping, progress=gr.Progress()):  # noqa: B008 (the gradio idiom)
            progress(0, desc="reading records")
            view = build_view.run_build(
                str(resolve(path)) if str(path).strip() else "",
                str(resolve(target)) if str(target).strip() else "",
                fraction,
                int(seed_value if seed_value is not None else 13),
                grouping,
                progress=lambda label, done, total: progress(
                    (done, total) if total else None, desc=label
                ),
            )
            status = f"**build-sft done:** {_escape(view.result.summary())}"
            gr.Info("build-sft wrote train.jsonl, eval.jsonl and train.stats.json")
            return (
                status,
                _frame(view.files, build_view.FILE_HEADERS),
                _frame(view.dropped, ["reason", "records"]),
                view.paths,
            )

        build_button.click(
            build,
            [curated_path, out_dir, eval_fraction, seed, group_by],
            [build_status, build_files, build_dropped, built_state],
        )

        # ==================================================================== handlers: Audit
        use_build.click(
            lambda built: "\n".join(built) if built else gr.skip(), built_state, audit_paths
        )

        @guarded(3)
        def run_audit(text, progress=gr.Progress()):  # noqa: B008 (the gradio idiom)
            paths = [str(resolve(p)) for p in audit_view.parse_paths(text or "")]
            progress(0, desc="auditing")
            view = audit_view.run_audit(
                paths,
                progress=lambda label, done, total: progress(
                    (done, total) if total else None, desc=label
                ),
            )
            verdict, _, detail = view.summary.partition(": ")  # "audit FAILED: 13 records ..."
            status = f"**{_escape(verdict)}**: {_escape(detail)} (audit.json: `{view.path}`)"
            return (
                status,
                _frame(view.checks, ["check", "failures", "status"]),
                _frame(view.violations, audit_view.VIOLATION_HEADERS),
            )

        audit_button.click(run_audit, audit_paths, [audit_status, audit_checks, audit_table])

        # ==================================================================== handlers: Environment
        @guarded(3)
        def check_environment(progress=gr.Progress()):  # noqa: B008 (the gradio idiom)
            from ..environment import describe_environment

            progress(0, desc="importing torch, probing devices, checking nf4")
            report = describe_environment(root)
            count = report.get("torch", {}).get("device_count", 0)
            return (
                f"{count} CUDA device(s) visible.",
                _frame(environment_view.report_rows(report), ["item", "value"]),
                environment_view.advice_markdown(report["recommendation"]),
            )

        env_button.click(check_environment, None, [env_status, env_table, env_advice])

        # ==================================================================== handlers: Training
        @guarded(1)
        def describe_config(config):
            if not config:
                return ""
            settings = load_config(resolve(config))
            count = gpu_count()
            command = training_command(str(config), count, accelerate_config(root))
            lines = [
                f"Command on this machine ({count} CUDA device(s)):",
                "",
                "```bash",
                launch.shell_line(command),
                "```",
                "",
                f"Writes to `{launch.run_folder(settings, root)}`.",
            ]
            if count == 0 and launch.needs_gpu(settings):
                lines += ["", f"This config needs a CUDA GPU (QLoRA); here, pick `{CPU_CONFIG}`."]
            return "\n".join(lines)

        config_choice.input(describe_config, config_choice, command_info)
        refresh_configs.click(
            lambda: (
                gr.Dropdown(choices=launch.find_configs(root)),
                gr.Dropdown(choices=training_log.find_runs(root)),
            ),
            None,
            [config_choice, run_choice],
        )

        @guarded(3)
        def start(config):
            if not config:
                raise UserError("pick a training config first")
            settings = load_config(resolve(config))
            count = gpu_count()
            command = training_command(str(config), count, accelerate_config(root))
            if count == 0 and launch.needs_gpu(settings):
                raise UserError(
                    f"{config} needs a CUDA GPU and none is visible: run "
                    f"`{launch.shell_line(command)}` on a GPU machine, or pick {CPU_CONFIG}"
                )
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            output = root / "artifacts" / "code-assistant" / "dashboard" / f"train-{stamp}.log"
            state = process.start(launch.runnable_command(command), root, output)
            status = (
                f"**started** pid {state.pid}: `{launch.shell_line(command)}` (output: `{output}`)"
            )
            return status, str(launch.run_folder(settings, root)), gr.Timer(active=True)

        start_button.click(start, config_choice, [train_status, run_choice, timer])

        def stop():
            state = process.stop()
            if state.pid is None:
                return "No run started from this dashboard."
            return f"**stopped** pid {state.pid} (exit code {state.returncode})"

        stop_button.click(stop, None, train_status)

        @guarded(5, status=0)
        def poll(run_dir):
            state = process.state()
            output = process.output_tail()
            process_line = ""
            if state.pid is not None:
                process_line = (
                    f"process {state.pid}: running"
                    if state.running
                    else f"process {state.pid}: exited with code {state.returncode}"
                )
            log = training_log.read_log(resolve(run_dir)) if run_dir else None
            if log is None:
                text = (
                    f"no {training_log.LOG_FILE} in `{run_dir}` yet" if run_dir else "no run folder"
                )
                keep = state.running
                return (
                    "  \n".join(filter(None, [text, process_line])),
                    gr.skip(),
                    output,
                    gr.Timer(active=keep),
                    gr.skip(),
                )
            text = training_log.progress_markdown(training_log.progress(log))
            keep = state.running or log.end is None
            points = training_log.loss_points(log)
            plot = pd.DataFrame(points) if points else gr.skip()
            return (
                "  \n".join(filter(None, [text, process_line])),
                plot,
                output,
                gr.Timer(active=keep),
                gr.skip(),
            )

        poll_outputs = [run_progress, loss_plot, run_output, timer, train_status]
        timer.tick(poll, run_choice, poll_outputs)
        follow_button.click(
            lambda run_dir: (*poll(run_dir)[:3], gr.Timer(active=True), gr.skip()),
            run_choice,
            poll_outputs,
        )

        # ==================================================================== handlers: Evals
        @guarded(5, status=1)
        def show_summary(path):
            overview = _frame(
                evals_view.overview_rows(evals_view.find_summaries(root / "logs")),
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
            document = evals_view.load_summary(resolve(path))
            headers, rows = evals_view.summary_table(document)
            chart = pd.DataFrame(evals_view.chart_rows(document))
            return (
                overview,
                evals_view.describe(document),
                _frame(rows, headers),
                chart[chart.metric == "precision"],
                chart[chart.metric == "recall"],
            )

        summary_outputs = [evals_overview, summary_info, summary_table, precision_plot, recall_plot]
        summary_choice.input(show_summary, summary_choice, summary_outputs)
        app.load(show_summary, summary_choice, summary_outputs)

        @guarded(3)
        def compare(search_root, registry):
            adapters = adapters_view.find_adapters(resolve(search_root))
            promoted = adapters_view.load_promoted(resolve(registry))
            comparison = adapters_view.compare(adapters, promoted, root)
            unreadable = [a for a in adapters if a.error]
            lines = [
                f"**{len(adapters)} adapter(s)** under `{search_root}`; "
                f"{len(promoted)} promoted role(s); {len(comparison.regressions)} regression(s)."
            ]
            lines += [f"- unreadable: {_escape(a.error)}" for a in unreadable]
            if not promoted:
                lines.append("No promoted registry yet: nothing to compare against.")
            return (
                "\n".join(lines),
                adapters_view.comparison_html(comparison),
                _frame(
                    [r.to_row() for r in comparison.regressions], adapters_view.REGRESSION_HEADERS
                ),
            )

        scan_button.click(
            compare,
            [adapters_root, promoted_path],
            [adapters_status, adapters_table, regressions_table],
        )
    return app


def _stepper(handler, step: int):
    """`handler(curated, number, step)` as a two-input event handler."""

    def run(curated, number):
        return handler(curated, number, step)

    return run


def serve(root: str | Path, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Start the dashboard on host:port, with no share link and no telemetry. With
    `block=False` it returns the running app (call `.close()` to stop it)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    app = build_app(root)
    app.queue(default_concurrency_limit=2)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        show_error=False,
        quiet=not block,
        ssr_mode=False,
        mcp_server=False,
        theme=theme(),
    )
    return app
