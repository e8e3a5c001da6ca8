"""What the dashboard's tabs share: the project root, path resolution, the error guard, the GPU
count, the training subprocess and the cross-tab `gr.State`s.

Every handler goes through `DashboardContext.guarded`: a UserError (a missing file, a malformed
record, a config error) becomes a readable line in the tab's status and a toast; anything
unexpected is logged with its traceback under `ERROR_LOG` (relative to the root) and shown as one
line, never as a stack trace.
"""

from __future__ import annotations

import functools
import re
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import gradio as gr
import pandas as pd

from ...errors import UserError
from . import launch
from .run_process import TrainingProcess

ERROR_LOG = Path("artifacts") / "code-assistant" / "dashboard-errors.log"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def escape(text: str) -> str:
    """`text` with Markdown's special characters backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def error(message: str) -> str:
    """A status line for an error."""
    return f"**Error:** {escape(message)}"


def frame(rows: list, headers: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=headers)


@dataclass
class DashboardContext:
    """State and helpers shared by the tab builders of one `build_app` call."""

    root: Path
    app: gr.Blocks
    process: TrainingProcess
    curated_state: gr.State  # the loaded dataset_view.CuratedFile (Data tab), or None
    built_state: gr.State  # the paths the last build-sft wrote (Data tab -> Audit tab)
    _gpus: list[int] = field(default_factory=list)  # counted once, on first need (imports torch)

    def gpu_count(self) -> int:
        if not self._gpus:
            self._gpus.append(launch.gpu_count())
        return self._gpus[0]

    def resolve(self, text: str) -> Path:
        """A path typed in the page: relative paths resolve against the project root."""
        path = Path(str(text).strip()).expanduser()
        return path if path.is_absolute() else self.root / path

    def guarded(self, outputs: int, status: int = 0):
        """Turn errors into a status line (at position `status` of the outputs) and a toast;
        the other outputs stay as they were."""
        root = self.root

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
                out[status] = error(message)
                return tuple(out) if outputs > 1 else out[0]

            return run

        return wrap
