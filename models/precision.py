"""Numeric precision by name: "fp32", "bf16" or "fp16", and "auto" resolved for a device; and
the device names a setting may give ("auto", "cpu", "cuda"; each model resolves "auto" itself).

One rule for every model that runs on a GPU or a CPU (the encoder's inference, ``train_clip``'s
and the neural bandit's autocast): "auto" is bf16 on a GPU that has it, else fp16; on a CPU the
caller says (the encoder measures which of fp32 and bf16 is faster, a small network stays fp32).
torch is imported only by the functions that need it, so a command line or a policy config can
name the precisions without loading it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # what a setting may name
DEVICES = ("auto", "cpu", "cuda")


def torch_dtype(precision: str) -> torch.dtype:
    """The torch dtype of a resolved ``precision`` ("fp32", "bf16" or "fp16")."""
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def resolve(precision: str, device_type: str, cpu_auto: Callable[[], str]) -> str:
    """``precision`` with "auto" resolved for a ``device_type`` ("cuda" or "cpu"); on a CPU
    ``cpu_auto()`` chooses (called only then)."""
    if precision != "auto":
        return precision
    if device_type == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return cpu_auto()


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of a resolved ``precision``; None for fp32 (no autocast)."""
    return None if precision == "fp32" else torch_dtype(precision)
