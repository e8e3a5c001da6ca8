"""A rough estimate of the memory one training process needs, for `--dry-run`.

weights: quantizable linear layers at 4.5 bits per parameter for nf4 (4.13 with double
quantization: the block constants are themselves quantized), everything else at the compute
dtype's width; adapter: LoRA weights, gradients and AdamW's two moments in fp32 (16 bytes a
parameter); activations: per layer and token about 17 hidden-size values without gradient
checkpointing (Korthikanti et al. 2022, attention scores left out as SDPA does not keep them),
one hidden-size value per layer plus one layer recomputed with it; logits: batch x sequence x
vocabulary in fp32, twice (values and gradients). Framework overhead (CUDA context, allocator
slack, about 0.5-1 GiB) is not included.
"""

from __future__ import annotations

from dataclasses import dataclass

DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}
NF4_BITS = 4.5
NF4_DOUBLE_QUANT_BITS = 4.127
ADAPTER_BYTES_PER_PARAM = 16
ACTIVATION_VALUES_PER_LAYER = 17


@dataclass(frozen=True)
class ModelShape:
    total_params: int  # the base model's parameters
    quantizable_params: int  # those in linear layers nf4 would quantize
    trainable_params: int  # the adapter's
    hidden_size: int
    num_layers: int
    vocab_size: int


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int
    adapter: int
    activations: int
    logits: int

    @property
    def total(self) -> int:
        return self.weights + self.adapter + self.activations + self.logits

    def to_dict(self) -> dict:
        return {
            "weights": self.weights,
            "adapter": self.adapter,
            "activations": self.activations,
            "logits": self.logits,
            "total": self.total,
        }


def estimate_memory(
    shape: ModelShape,
    *,
    compute_dtype: str,
    quantization: str,
    double_quant: bool,
    batch_size: int,
    seq_length: int,
    gradient_checkpointing: bool,
) -> MemoryEstimate:
    width = DTYPE_BYTES[compute_dtype]
    if quantization == "nf4":
        bits = NF4_DOUBLE_QUANT_BITS if double_quant else NF4_BITS
        rest = shape.total_params - shape.quantizable_params
        weights = int(shape.quantizable_params * bits / 8) + rest * width
    else:
        weights = shape.total_params * width
    tokens = batch_size * seq_length
    if gradient_checkpointing:
        values = tokens * shape.hidden_size * (shape.num_layers + ACTIVATION_VALUES_PER_LAYER)
    else:
        values = tokens * shape.hidden_size * shape.num_layers * ACTIVATION_VALUES_PER_LAYER
    return MemoryEstimate(
        weights=weights,
        adapter=shape.trainable_params * ADAPTER_BYTES_PER_PARAM,
        activations=values * width,
        logits=tokens * shape.vocab_size * 4 * 2,
    )


def human_bytes(count: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, index = float(count), 0
    while value >= 1024 and index < len(units) - 1:
        value, index = value / 1024, index + 1
    return f"{value:.0f} {units[index]}" if index == 0 else f"{value:.1f} {units[index]}"
