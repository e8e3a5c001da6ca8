"""`train --dry-run`: everything a run would check and resolve (config, device, parameter counts,
token statistics, the audit, an estimate of the memory) without loading weights or writing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .train_config import TrainConfig
from .train_data import FALLBACK_CHAT_TEMPLATE, TokenStats, token_stats
from .train_memory import MemoryEstimate, ModelShape, estimate_memory, human_bytes
from .train_model import (
    load_error,
    load_tokenizer,
    lora_config,
    peft_error,
    quiet_libraries,
    resolve_compute_dtype,
    resolve_device,
)
from .train_preflight import RunOptions, check_output_dir, load_datasets, run_audit


@dataclass
class DryRun:
    config: TrainConfig
    device: str
    compute_dtype: str
    shape: ModelShape
    memory: MemoryEstimate
    stats: dict[str, TokenStats]
    audit: dict | None
    resume_from: Path | None
    template_added: bool

    def render(self) -> str:
        import yaml

        shape = self.shape
        share = 100 * shape.trainable_params / max(shape.total_params, 1)
        lines = ["# resolved config", yaml.safe_dump(self.config.to_dict(), sort_keys=False)]
        lines.append(f"device: {self.device} (compute {self.compute_dtype})")
        if self.template_added:
            lines.append("chat template: none in the tokenizer, using the fallback template")
        lines.append(
            f"parameters: {shape.total_params:,} total, {shape.trainable_params:,} trainable "
            f"({share:.3f}%)"
        )
        for split, stats in self.stats.items():
            lines.append(
                f"{split}: {stats.records} records, {stats.tokens_total:,} tokens "
                f"(mean {stats.tokens_mean:.1f}, max {stats.tokens_max}), "
                f"{stats.answer_tokens:,} answer tokens, "
                f"{stats.truncated} truncated at {self.config.data.max_seq_length}, "
                f"{stats.no_answer} with no answer token inside it"
            )
        memory = self.memory
        lines.append(
            f"estimated memory per process: {human_bytes(memory.total)} (weights "
            f"{human_bytes(memory.weights)}, adapter+optimizer {human_bytes(memory.adapter)}, "
            f"activations {human_bytes(memory.activations)}, logits {human_bytes(memory.logits)}; "
            "framework overhead not included)"
        )
        if self.audit is None:
            lines.append("audit: skipped (--skip-audit)")
        else:
            from .audit import summary_line

            lines.append(summary_line(self.audit))
        if self.resume_from:
            lines.append(f"would resume from {self.resume_from}")
        lines.append(
            f"would write the adapter to {self.config.output_dir} (dry run: nothing written)"
        )
        return "\n".join(lines) + "\n"


def model_shape(config: TrainConfig) -> ModelShape:
    """Parameter counts from the model's config alone: the model is built on the meta device, so
    no weights are read and no memory is spent."""
    import torch
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        model_config = AutoConfig.from_pretrained(config.model.base, revision=config.model.revision)
    except (OSError, ValueError) as exc:
        raise load_error(config, exc) from None
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config)
    total = sum(p.numel() for p in model.parameters())
    quantizable = sum(
        module.weight.numel()
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and not name.endswith("lm_head")
    )
    try:
        trainable, _ = get_peft_model(model, lora_config(config)).get_nb_trainable_parameters()
    except ValueError as exc:
        raise peft_error(config, exc) from None
    text = (
        model_config.get_text_config() if hasattr(model_config, "get_text_config") else model_config
    )
    return ModelShape(
        total_params=total,
        quantizable_params=quantizable,
        trainable_params=trainable,
        hidden_size=text.hidden_size,
        num_layers=text.num_hidden_layers,
        vocab_size=text.vocab_size,
    )


def dry_run(config: TrainConfig, options: RunOptions) -> DryRun:
    """Everything a run would check and resolve, without loading weights or writing a file."""
    resume_from = check_output_dir(config, options)
    datasets = load_datasets(config)
    audit_document = None if options.skip_audit else run_audit(config)
    device = resolve_device(config)
    compute_dtype = resolve_compute_dtype(config, device)
    quiet_libraries()
    tokenizer = load_tokenizer(config)
    template_added = tokenizer.chat_template == FALLBACK_CHAT_TEMPLATE
    stats = {"train": token_stats(tokenizer, datasets.train, config.data.max_seq_length)}
    if datasets.eval:
        stats["eval"] = token_stats(tokenizer, datasets.eval, config.data.max_seq_length)
    shape = model_shape(config)
    memory = estimate_memory(
        shape,
        compute_dtype=compute_dtype,
        quantization=config.model.quantization,
        double_quant=config.model.double_quant,
        batch_size=config.train.batch_size,
        seq_length=min(config.data.max_seq_length, stats["train"].tokens_max)
        if not config.data.packing
        else config.data.max_seq_length,
        gradient_checkpointing=config.train.gradient_checkpointing,
    )
    return DryRun(
        config,
        device,
        compute_dtype,
        shape,
        memory,
        stats,
        audit_document,
        resume_from,
        template_added,
    )
