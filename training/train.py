"""`code-assistant-train train`: a LoRA or QLoRA adapter from chat JSONL, with its metadata.

transformers + peft under TRL's SFTTrainer (chat templates, completion-only loss, packing). Plain
LoRA in fp32 is the CPU path; QLoRA loads the base in bitsandbytes nf4 (double quantization, bf16
compute on CUDA, fp32 on the CPU) behind `prepare_model_for_kbit_training`. Several GPUs or nodes:
run the same command under `accelerate launch` (configs/accelerate/); the Trainer does the rest.

Output layout: the adapter (adapter_config.json, weights, tokenizer) in `output_dir` itself, with
`train_log.jsonl`, `loss.png`, `audit.json` and `checkpoints/checkpoint-N/`.
`adapter.metadata.json` is written last: its presence means the adapter is complete.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .metadata import (
    METADATA_FILE,
    AdapterMetadata,
    code_version,
    dataset_file,
    hardware,
    library_versions,
    save_metadata,
)
from .train_config import TrainConfig
from .train_log import LOG_FILE, PLOT_FILE, TrainLog, plot_loss, read_events
from .train_model import (
    load_model,
    load_tokenizer,
    lora_config,
    peft_error,
    quiet_libraries,
    resolve_compute_dtype,
    resolve_device,
    sft_config,
)
from .train_preflight import (
    CHECKPOINTS,
    Datasets,
    RunOptions,
    audit_summary,
    check_output_dir,
    latest_checkpoint,
    load_datasets,
    refuse_failed_audit,
    run_audit,
)

AUDIT_FILE = "audit.json"
EXIT_INTERRUPTED = 130
Echo = Callable[[str], None]


@dataclass
class TrainResult:
    output_dir: Path
    metadata: AdapterMetadata

    def summary(self) -> str:
        run = self.metadata.training
        losses = f"train loss {run['final_train_loss']:.4f}" if run["final_train_loss"] else ""
        if run.get("final_eval_loss") is not None:
            losses += f", eval loss {run['final_eval_loss']:.4f}"
        return (
            f"trained {self.metadata.name}: {run['steps']} steps in {run['seconds']:.1f}s "
            f"({run['steps_per_second']:.2f} steps/s), {losses} -> {self.output_dir}"
        )


@dataclass
class _Run:
    """What one training call measured."""

    steps: int = 0
    seconds: float = 0.0
    tokens: int = 0
    peak_rss_mib: float = 0.0
    peak_gpu_mib: float | None = None


def _prepare_output_dir(config: TrainConfig, options: RunOptions) -> None:
    """Create it; on --overwrite first drop what the last run left, the metadata first (its
    presence is what marks an adapter complete)."""
    output_dir = config.output_dir
    if options.overwrite and output_dir.is_dir():
        (output_dir / METADATA_FILE).unlink(missing_ok=True)
        shutil.rmtree(output_dir / CHECKPOINTS, ignore_errors=True)
        for name in (LOG_FILE, PLOT_FILE, AUDIT_FILE):
            (output_dir / name).unlink(missing_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _previous_seconds(log_path: Path) -> float:
    """Training time of earlier runs of this output_dir (a resumed run adds to it)."""
    return sum(e.get("seconds", 0.0) for e in read_events(log_path) if e["event"] == "end")


def _end_distributed() -> None:
    """Close the process group on every rank before it exits: a rank that exits with its gloo or
    NCCL group still open can abort ("terminate called without an active exception")."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def _is_main_process() -> bool:
    """Rank 0 of an `accelerate launch` run (or the only process): the one that writes files."""
    return int(os.environ.get("RANK", "0")) == 0


def _audit_or_refuse(config: TrainConfig, options: RunOptions) -> dict | None:
    if options.skip_audit:
        return None
    document = run_audit(config)
    if not document["passed"]:
        refuse_failed_audit(document)
    return document


def _make_trainer(config, device, model, tokenizer, datasets: Datasets, callbacks):
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    from .train_data import training_rows

    def rows(conversations):
        return Dataset.from_list(training_rows(conversations, config.data.loss))

    checkpoints = config.output_dir / CHECKPOINTS
    try:
        trainer = SFTTrainer(
            model=model,
            args=sft_config(config, device, checkpoints, datasets.eval is not None),
            train_dataset=rows(datasets.train),
            eval_dataset=rows(datasets.eval) if datasets.eval else None,
            processing_class=tokenizer,
            peft_config=lora_config(config),
            callbacks=callbacks,
        )
    except ValueError as exc:
        if "target modules" in str(exc).lower():
            raise peft_error(config, exc) from None
        raise
    trainer.remove_callback(PrinterCallback)  # ours prints progress
    return trainer


def _check_answers_fit(config, tokenizer, datasets: Datasets, echo: Echo) -> None:
    """Refuse a run where no answer fits in data.max_seq_length (it would train on nothing), and
    say how many records are lost when only some do not fit."""
    if config.data.loss == "all":
        return
    from .train_data import token_stats

    limit = config.data.max_seq_length
    stats = token_stats(tokenizer, datasets.train, limit)
    if stats.no_answer == stats.records:
        raise UserError(
            f"{config.data.train}: every record's prompt is at least data.max_seq_length={limit} "
            f"tokens (shortest {stats.shortest_prompt}), so no answer would be trained; raise "
            "data.max_seq_length or shorten the prompts"
        )
    if stats.no_answer:
        echo(
            f"warning: {stats.no_answer} of {stats.records} training records have prompts of "
            f"{limit}+ tokens and are skipped (no answer token fits data.max_seq_length={limit})"
        )


def _evaluated_last_step(state) -> bool:
    """From the trainer state, which every rank shares (our log lives on rank 0 only)."""
    return any("eval_loss" in h and h.get("step") == state.global_step for h in state.log_history)


def _stopped(run: _Run, output_dir: Path) -> UserError:
    kept = latest_checkpoint(output_dir)
    where = f"checkpoint {kept}" if kept else "no checkpoint yet"
    return UserError(
        f"training interrupted at step {run.steps} ({where}); rerun with --resume to continue",
        EXIT_INTERRUPTED,
    )


def train(config: TrainConfig, options: RunOptions, echo: Echo) -> TrainResult | None:
    """Audit, train, save the adapter, then write its metadata (None on the processes other than
    the main one of a distributed run). Ctrl-C stops at the next step boundary with a checkpoint
    saved (UserError, exit 130)."""
    resume_from = check_output_dir(config, options)
    datasets = load_datasets(config)
    audit_document = _audit_or_refuse(config, options)
    dataset_files = [dataset_file(config.data.train, "train")]
    if config.data.eval:
        dataset_files.append(dataset_file(config.data.eval, "eval"))

    quiet_libraries()
    from .train_callbacks import ProgressCallback, StepLogCallback, StopCallback, stop_on_sigint

    device = resolve_device(config)
    compute_dtype = resolve_compute_dtype(config, device)
    tokenizer = load_tokenizer(config)
    _check_answers_fit(config, tokenizer, datasets, echo)
    model = load_model(config, device, compute_dtype)

    main = _is_main_process()
    output_dir = config.output_dir
    log_path = output_dir / LOG_FILE
    audit_path = None
    if main:
        _prepare_output_dir(config, options)
        if audit_document is not None:
            from .jsonl import write_json

            audit_path = write_json(output_dir / AUDIT_FILE, audit_document)
    earlier_seconds = _previous_seconds(log_path) if resume_from else 0.0
    log = TrainLog(log_path)
    step_log = StepLogCallback(log, config.to_dict(), str(resume_from) if resume_from else None)
    progress = ProgressCallback()
    stop = StopCallback()
    trainer = _make_trainer(config, device, model, tokenizer, datasets, [step_log, progress, stop])

    run = _Run()
    started = time.perf_counter()
    status = "failed"
    try:
        with stop_on_sigint(stop, echo):
            trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        status = "interrupted" if stop.requested.is_set() else "completed"
        if status == "completed" and datasets.eval and not _evaluated_last_step(trainer.state):
            trainer.evaluate()  # the final eval loss; every rank must call it (a collective)
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        progress.stop()
        run.seconds = time.perf_counter() - started
        run.steps = trainer.state.global_step
        if main:
            log.end(status, run.steps, run.seconds)
            plot_loss(read_events(log_path), output_dir / PLOT_FILE)
    if status == "interrupted":
        raise _stopped(run, output_dir)

    run.tokens = step_log.tokens_seen
    run.peak_rss_mib = _peak_rss_mib()
    if device == "cuda":
        import torch

        run.peak_gpu_mib = torch.cuda.max_memory_allocated() / 2**20
    if trainer.is_fsdp_enabled:
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(output_dir))  # every rank: FSDP and ZeRO-3 gather the weights
    _end_distributed()
    if not main:
        return None
    tokenizer.save_pretrained(str(output_dir))
    run.seconds += earlier_seconds
    audit = audit_summary(audit_document, audit_path)
    metadata = _metadata(
        config, dataset_files, audit, device, compute_dtype, run, log, trainer, resume_from
    )
    save_metadata(output_dir, metadata)
    return TrainResult(output_dir, metadata)


def _metadata(
    config: TrainConfig,
    dataset_files,
    audit: dict,
    device: str,
    compute_dtype: str,
    run: _Run,
    log: TrainLog,
    trainer,
    resume_from: Path | None,
) -> AdapterMetadata:
    args = trainer.args
    hyperparameters = {
        "lora": config.to_dict()["lora"],
        "data": {
            "max_seq_length": config.data.max_seq_length,
            "packing": config.data.packing,
            "loss": config.data.loss,
        },
        "train": config.to_dict()["train"],
        "quantization": config.model.quantization,
        "double_quant": config.model.double_quant,
        "compute_dtype": compute_dtype,
        "effective_batch_size": args.per_device_train_batch_size
        * args.gradient_accumulation_steps
        * args.world_size,
    }
    training_seconds = max(run.seconds, 1e-9)
    return AdapterMetadata(
        name=config.name,
        role=config.adapter.role,
        base_model=config.model.base,
        base_revision=config.model.revision,
        specialist=config.adapter.specialist,
        datasets=list(dataset_files),
        audit=audit,
        hyperparameters=hyperparameters,
        libraries=library_versions(),
        code=code_version(),
        hardware=hardware(device),
        training={
            "seconds": round(run.seconds, 3),
            "steps": run.steps,
            "steps_per_second": round(run.steps / training_seconds, 4),
            "epochs": round(trainer.state.epoch or 0.0, 4),
            "final_train_loss": log.final_train_loss,
            "final_eval_loss": log.final_eval_loss,
            "tokens": run.tokens,
            "tokens_per_second": round(run.tokens / training_seconds, 1),
            "peak_rss_mib": round(run.peak_rss_mib, 1),
            "peak_gpu_memory_mib": round(run.peak_gpu_mib, 1) if run.peak_gpu_mib else None,
            "resumed_from": str(resume_from) if resume_from else None,
            "config": config.source,
        },
    )
