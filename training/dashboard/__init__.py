"""The Gradio dashboard (`code-assistant-train dashboard`): the data, training and evaluation
workflow in a browser.

Pure data functions, one concept per module (no gradio import):
`dataset_view` (a curated file's counts, length histograms, record pages), `build_view`
(build-sft and the files it wrote), `audit_view` (audit rows, secrets masked), `masking`,
`evals_view` (eval summary tables and chart rows), `adapters_view` (metadata side by side,
regressions against the promoted adapter), `training_log` (a run's train_log.jsonl),
`launch` and `environment_view` (the training command for this machine), `run_process` (a
training subprocess) and `discovery`. Only `app` (the layout, `build_app`, `serve`) imports
gradio.
"""
