"""The Gradio layout: five tabs over the pure functions of this package.

Each tab lives in its own module (`tab_data`, `tab_audit`, `tab_environment`, `tab_training`,
`tab_evals`) and shares a `DashboardContext` (context.py). Every handler goes through
`DashboardContext.guarded`: a UserError (a missing file, a malformed record, a config error)
becomes a readable line in the tab's status and a toast; anything unexpected is logged with its
traceback under `artifacts/code-assistant/dashboard-errors.log` and shown as one line, never as
a stack trace. Long actions report through `gr.Progress`; training runs in a subprocess the page
polls with a timer, so nothing waits on it.
"""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr

from .context import ERROR_LOG, DashboardContext
from .run_process import TrainingProcess
from .tab_audit import build_audit_tab, wire_audit_tab
from .tab_data import build_data_tab, wire_data_tab
from .tab_environment import build_environment_tab, wire_environment_tab
from .tab_evals import build_evals_tab, wire_evals_tab
from .tab_training import POLL_SECONDS, build_training_tab, wire_training_tab

__all__ = ["ERROR_LOG", "POLL_SECONDS", "TITLE", "build_app", "serve", "theme"]

TITLE = "code-assistant-lora dashboard"


def theme() -> gr.themes.Base:
    """The default theme with system fonts: no font is fetched from the internet."""
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "monospace"],
    )


def build_app(root: str | Path = ".") -> gr.Blocks:
    """The dashboard over the project at `root` (relative paths typed in the page resolve
    against it)."""
    root = Path(root).resolve()
    process = TrainingProcess()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}\nProject: `{root}`")
        ctx = DashboardContext(
            root=root,
            app=app,
            process=process,
            curated_state=gr.State(None),
            built_state=gr.State([]),
        )
        # Lay out every tab first, then wire the events in the same order: Load (Data) writes
        # into the Audit tab's path box, and the wiring order names the events in the API.
        with gr.Tabs():
            data = build_data_tab(ctx)
            audit = build_audit_tab(ctx)
            environment = build_environment_tab(ctx)
            training = build_training_tab(ctx)
            evals = build_evals_tab(ctx)
        wire_data_tab(ctx, data, audit_paths=audit.paths)
        wire_audit_tab(ctx, audit)
        wire_environment_tab(ctx, environment)
        wire_training_tab(ctx, training)
        wire_evals_tab(ctx, evals)
    return app


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
