"""Data parallelism for models that train with torch: each process's share of a batch, DDP, sums.

Every function acts on torch.distributed's default process group, which a training script
starts (``training.distributed``) before training; outside one, each is the identity, so a
model trains in one process exactly as it would without this module. Within a group, the
processes split every batch and the results equal one process's on the whole batch, up to
floating-point noise: gradients are averaged by ``DistributedDataParallel``, features that a
loss compares across the batch are gathered with their gradients (``gather_rows``), batch
norm uses the whole batch's statistics (``sync_batch_norm``), and sums are all-reduced.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

import torch
import torch.distributed as dist
import torch.distributed._functional_collectives as collective
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")
# torch 2.13 gave the functional collectives gradients and all_gather_single its name; before
# it (a GPU image's torch 2.11, say) the gather with gradients is all_gather_tensor_autograd.
_FUNCTIONAL_AUTOGRAD = hasattr(collective, "all_gather_single")
_gather_with_gradient = (collective.all_gather_single if _FUNCTIONAL_AUTOGRAD
                         else collective.all_gather_tensor_autograd)  # fmt: skip
# DDP's switch for broadcasting buffers before each forward: named broadcast_buffers before 2.14.
_BUFFER_SWITCH = (
    "forward_sync_buffers"
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters
    else "broadcast_buffers"
)


def in_group() -> bool:
    """Whether this process belongs to a started process group."""
    return dist.is_available() and dist.is_initialized()


def rank_and_size() -> tuple[int, int]:
    """This process's rank and the number of processes: (0, 1) outside a group."""
    return (dist.get_rank(), dist.get_world_size()) if in_group() else (0, 1)


def share(n: int) -> slice:
    """This process's contiguous part of ``n`` rows: rows [n·r/W, n·(r+1)/W) for rank r of W."""
    rank, size = rank_and_size()
    return slice(n * rank // size, n * (rank + 1) // size)


def wrap(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` in ``DistributedDataParallel`` inside a group (gradients averaged over the
    processes in backward), else ``module`` itself. Call the result for the forward pass."""
    if not in_group():
        return module
    device = next(module.parameters()).device
    # Buffers need no broadcast before each forward: every process computes the same ones
    # (sync_batch_norm).
    return DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None,
        **{_BUFFER_SWITCH: False},
    )  # fmt: skip


def sum_across(tensor: torch.Tensor) -> torch.Tensor:
    """The elementwise sum of ``tensor`` over the processes (no gradient); ``tensor`` outside
    a group. NCCL reduces on the GPU, so a CPU tensor makes the trip there and back."""
    if not in_group():
        return tensor
    to_gpu = dist.get_backend() == "nccl" and not tensor.is_cuda
    on_device = tensor.cuda() if to_gpu else tensor.clone()  # a copy: the input is left alone
    dist.all_reduce(on_device)
    return on_device.to(tensor.device)


def gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Every process's ``tensor`` concatenated along dim 0, in rank order, keeping gradients:
    backward sends each process the gradient of every process's loss for its own rows (as
    open_clip's ``gather_with_grad``). The processes' tensors must have the same shape."""
    if not in_group():
        return tensor
    return _gather_with_gradient(tensor.contiguous(), 0, dist.group.WORLD)


def broadcast_object(value: T) -> T:
    """Rank 0's ``value`` on every process (for choices that must agree, such as a measured
    precision); ``value`` outside a group."""
    if not in_group():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def sync_batch_norm(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with each batch-norm layer normalising by the statistics of the whole batch
    across the processes: ``torch.nn.SyncBatchNorm`` on a GPU, ``WholeBatchNorm`` on a CPU
    (torch's runs on GPUs only). Parameters and buffers are shared with the old layers, so
    optimizers and state dicts carry over. Outside a group, ``module`` is left as it is."""
    if not in_group():
        return module
    on_gpu = next(module.parameters()).device.type == "cuda"
    return _replace_batch_norm(module, torch.nn.SyncBatchNorm if on_gpu else WholeBatchNorm)


class WholeBatchNorm(_BatchNorm):
    """Batch norm over the whole batch split across processes, for CPUs (gloo).

    In training, mean and variance are all-reduced sums over every process's rows; the
    reductions carry gradients, so backward matches one process normalising the whole batch.
    In evaluation it is plain batch norm on the running statistics.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and in_group()):
            return super().forward(input)
        self._check_input_dim(input)
        shape = (1, -1) + (1,) * (input.dim() - 2)
        dims = [0, *range(2, input.dim())]
        x = input.float()
        count = sum_across(x.new_tensor(float(x.numel() // x.shape[1])))
        mean = _sum_with_gradient(x.sum(dims)) / count
        centred = x - mean.view(shape)
        variance = _sum_with_gradient(centred.square().sum(dims)) / count
        out = centred * torch.rsqrt(variance + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = (self.momentum if self.momentum is not None
                          else 1.0 / float(self.num_batches_tracked))  # fmt: skip
                self.running_mean.lerp_(mean.detach(), factor)
                # The running variance is the unbiased one, as in torch's batch norm.
                self.running_var.lerp_(variance.detach() * count / (count - 1), factor)
        return out.to(input.dtype)


def _sum_with_gradient(tensor: torch.Tensor) -> torch.Tensor:
    # torch's functional collectives (which replace torch.distributed.nn.functional) carry
    # gradients from torch 2.13: the backward of a sum is the sum of every process's gradient.
    if _FUNCTIONAL_AUTOGRAD:
        return collective.all_reduce(tensor, "sum", dist.group.WORLD)
    from torch.distributed.nn.functional import all_reduce  # torch < 2.13

    return all_reduce(tensor, group=dist.group.WORLD)


def _replace_batch_norm(module: torch.nn.Module, kind: type[_BatchNorm]) -> torch.nn.Module:
    if isinstance(module, _BatchNorm) and not isinstance(module, kind):
        replaced = kind(module.num_features, module.eps, module.momentum, module.affine,
                        module.track_running_stats)  # fmt: skip
        if module.affine:
            replaced.weight, replaced.bias = module.weight, module.bias
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            setattr(replaced, name, getattr(module, name))
        replaced.train(module.training)
        return replaced
    for name, child in module.named_children():
        module.add_module(name, _replace_batch_norm(child, kind))
    return module
