"""The model side of training: device and dtype, tokenizer, base model (plain or nf4), the LoRA
config and TRL's SFTConfig. torch, transformers, peft and trl are imported inside the functions."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import EXIT_ENVIRONMENT, UserError
from .train_config import TrainConfig
from .train_data import ensure_chat_template


def resolve_device(config: TrainConfig) -> str:
    import torch

    wanted = config.model.device
    if wanted == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if wanted == "cuda":
        raise UserError("model.device cuda: no CUDA device visible to torch", EXIT_ENVIRONMENT)
    return "cpu"


def resolve_compute_dtype(config: TrainConfig, device: str) -> str:
    if config.model.compute_dtype != "auto":
        return config.model.compute_dtype
    if device == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def _torch_dtype(name: str):
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def load_error(config: TrainConfig, exc: Exception) -> UserError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return UserError(f"model.base {config.model.base!r}: cannot load ({first})")


def load_tokenizer(config: TrainConfig):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(config.model.base, revision=config.model.revision)
    except (OSError, ValueError) as exc:
        raise load_error(config, exc) from None
    ensure_chat_template(tokenizer)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _sharded_by_accelerate() -> bool:
    """FSDP or DeepSpeed under `accelerate launch`: they place the weights, not device_map."""
    return any(
        os.environ.get(key, "").lower() == "true"
        for key in ("ACCELERATE_USE_FSDP", "ACCELERATE_USE_DEEPSPEED")
    )


def load_model(config: TrainConfig, device: str, compute_dtype: str):
    """The base model: nf4 through bitsandbytes (then prepared for k-bit training), or plain in
    the compute dtype."""
    from transformers import AutoModelForCausalLM

    dtype = _torch_dtype(compute_dtype)
    kwargs: dict = {"revision": config.model.revision, "dtype": dtype}
    if config.model.quantization == "nf4":
        from transformers import BitsAndBytesConfig

        quantization = {
            "load_in_4bit": True,
            "bnb_4bit_quant_type": "nf4",
            "bnb_4bit_use_double_quant": config.model.double_quant,
            "bnb_4bit_compute_dtype": dtype,
        }
        if _sharded_by_accelerate():
            quantization["bnb_4bit_quant_storage"] = dtype  # FSDP/ZeRO-3 shard uniform dtypes
        kwargs["quantization_config"] = BitsAndBytesConfig(**quantization)
        if device == "cpu":
            kwargs["device_map"] = {"": "cpu"}
        elif not _sharded_by_accelerate():
            kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    try:
        model = AutoModelForCausalLM.from_pretrained(config.model.base, **kwargs)
    except (OSError, ValueError) as exc:
        raise load_error(config, exc) from None
    if config.model.quantization == "nf4":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=config.train.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    model.config.use_cache = False  # the cache is for generation; training only wastes memory
    return model


def lora_config(config: TrainConfig):
    from peft import LoraConfig

    targets = config.lora.target_modules
    return LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=targets if isinstance(targets, str) else list(targets),
        task_type="CAUSAL_LM",
    )


def peft_error(config: TrainConfig, exc: Exception) -> UserError:
    return UserError(f"lora.target_modules: {str(exc).strip().splitlines()[0]}")


def sft_config(config: TrainConfig, device: str, checkpoints: Path, has_eval: bool):
    """TRL's SFTConfig from ours. Argument names that moved between transformers releases
    (gradient -> activation checkpointing, warmup_ratio -> fractional warmup_steps) are picked by
    what this version has."""
    import dataclasses

    from trl import SFTConfig

    names = {f.name for f in dataclasses.fields(SFTConfig)}
    train = config.train
    checkpointing = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    warmup = (
        {"warmup_ratio": train.warmup_ratio}
        if "warmup_ratio" in names
        else {"warmup_steps": train.warmup_ratio}
    )
    return SFTConfig(
        output_dir=str(checkpoints),
        num_train_epochs=train.epochs,
        max_steps=train.max_steps or -1,
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.batch_size,
        gradient_accumulation_steps=train.grad_accumulation,
        learning_rate=train.learning_rate,
        lr_scheduler_type=train.lr_scheduler,
        weight_decay=train.weight_decay,
        max_grad_norm=train.max_grad_norm,
        optim=train.optimizer,
        bf16=train.bf16,
        **{checkpointing: train.gradient_checkpointing},
        **{f"{checkpointing}_kwargs": {"use_reentrant": False}},
        **warmup,
        seed=train.seed,
        data_seed=train.seed,
        logging_steps=train.logging_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=train.eval_steps,
        save_strategy="steps",
        save_steps=train.save_steps,
        save_total_limit=train.save_total_limit,
        report_to=[],
        disable_tqdm=True,
        use_cpu=device == "cpu",
        max_length=config.data.max_seq_length,
        packing=config.data.packing,
        completion_only_loss=config.data.loss == "completion",
    )


def quiet_libraries() -> None:
    """Our progress bar replaces the libraries' own (tokenizing, weight loading)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
