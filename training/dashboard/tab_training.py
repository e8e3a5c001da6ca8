"""The "Training" tab: show the command a config runs, start and stop it in a subprocess, and
follow a run folder's `train_log.jsonl` with a timer, so nothing waits on the run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import gradio as gr
import pandas as pd

from ...errors import UserError
from ..environment import CPU_CONFIG, accelerate_config, training_command
from ..train_config import load_config
from . import launch, training_log
from .context import DashboardContext

POLL_SECONDS = 2.0


@dataclass
class TrainingTab:
    config_choice: gr.Dropdown
    refresh_configs: gr.Button
    command_info: gr.Markdown
    start_button: gr.Button
    stop_button: gr.Button
    status: gr.Markdown
    run_choice: gr.Dropdown
    follow_button: gr.Button
    run_progress: gr.Markdown
    loss_plot: gr.LinePlot
    run_output: gr.Textbox
    timer: gr.Timer


def build_training_tab(ctx: DashboardContext) -> TrainingTab:
    with gr.Tab("Training", id="training"):
        with gr.Row():
            config_choice = gr.Dropdown(
                choices=launch.find_configs(ctx.root),
                label="Training config",
                allow_custom_value=True,
                scale=3,
            )
            refresh_configs = gr.Button("Refresh", size="sm")
        command_info = gr.Markdown(elem_id="command-info")
        with gr.Row():
            start_button = gr.Button("Start training", variant="primary")
            stop_button = gr.Button("Stop", variant="stop")
        status = gr.Markdown()
        with gr.Row():
            run_choice = gr.Dropdown(
                choices=training_log.find_runs(ctx.root),
                label="Run folder to follow (holds train_log.jsonl)",
                allow_custom_value=True,
                scale=3,
            )
            follow_button = gr.Button("Follow", size="sm")
        run_progress = gr.Markdown(elem_id="run-progress")
        loss_plot = gr.LinePlot(x="step", y="loss", color="series", label="Loss")
        run_output = gr.Textbox(label="Process output (last lines)", lines=8, max_lines=8)
        timer = gr.Timer(POLL_SECONDS, active=False)
    return TrainingTab(
        config_choice, refresh_configs, command_info, start_button, stop_button, status,
        run_choice, follow_button, run_progress, loss_plot, run_output, timer,
    )  # fmt: skip


def wire_training_tab(ctx: DashboardContext, tab: TrainingTab) -> None:
    _wire_launch(ctx, tab)
    _wire_follow(ctx, tab)


def _wire_launch(ctx: DashboardContext, tab: TrainingTab) -> None:
    root = ctx.root

    @ctx.guarded(1)
    def describe_config(config):
        if not config:
            return ""
        settings = load_config(ctx.resolve(config))
        count = ctx.gpu_count()
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

    tab.config_choice.input(describe_config, tab.config_choice, tab.command_info)
    tab.refresh_configs.click(
        lambda: (
            gr.Dropdown(choices=launch.find_configs(root)),
            gr.Dropdown(choices=training_log.find_runs(root)),
        ),
        None,
        [tab.config_choice, tab.run_choice],
    )

    @ctx.guarded(3)
    def start(config):
        if not config:
            raise UserError("pick a training config first")
        settings = load_config(ctx.resolve(config))
        count = ctx.gpu_count()
        command = training_command(str(config), count, accelerate_config(root))
        if count == 0 and launch.needs_gpu(settings):
            raise UserError(
                f"{config} needs a CUDA GPU and none is visible: run "
                f"`{launch.shell_line(command)}` on a GPU machine, or pick {CPU_CONFIG}"
            )
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        output = root / "artifacts" / "code-assistant" / "dashboard" / f"train-{stamp}.log"
        state = ctx.process.start(launch.runnable_command(command), root, output)
        status = f"**started** pid {state.pid}: `{launch.shell_line(command)}` (output: `{output}`)"
        return status, str(launch.run_folder(settings, root)), gr.Timer(active=True)

    tab.start_button.click(start, tab.config_choice, [tab.status, tab.run_choice, tab.timer])

    def stop():
        state = ctx.process.stop()
        if state.pid is None:
            return "No run started from this dashboard."
        return f"**stopped** pid {state.pid} (exit code {state.returncode})"

    tab.stop_button.click(stop, None, tab.status)


def _wire_follow(ctx: DashboardContext, tab: TrainingTab) -> None:
    process = ctx.process

    @ctx.guarded(5, status=0)
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
        log = training_log.read_log(ctx.resolve(run_dir)) if run_dir else None
        if log is None:
            text = f"no {training_log.LOG_FILE} in `{run_dir}` yet" if run_dir else "no run folder"
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

    poll_outputs = [tab.run_progress, tab.loss_plot, tab.run_output, tab.timer, tab.status]
    tab.timer.tick(poll, tab.run_choice, poll_outputs)
    tab.follow_button.click(
        lambda run_dir: (*poll(run_dir)[:3], gr.Timer(active=True), gr.skip()),
        tab.run_choice,
        poll_outputs,
    )
