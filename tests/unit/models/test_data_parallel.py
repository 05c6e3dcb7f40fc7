"""Data parallelism helpers: the identity outside a process group; inside one (of one process,
gloo, in this process), whole-batch norm computes what torch's batch norm does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
import torch.distributed as dist
import torch.distributed._functional_collectives as collective
from torch.nn.parallel import DistributedDataParallel

from models import data_parallel
from models.data_parallel import (
    WholeBatchNorm,
    broadcast_object,
    gather_rows,
    rank_and_size,
    share,
    sum_across,
    sync_batch_norm,
    wrap,
)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())


OLDER = pytest.param(
    "torch<2.13",  # the older name is deprecated from 2.14, where it is the same gather
    marks=[pytest.mark.filterwarnings("ignore:.*all_gather_tensor_autograd:FutureWarning"),
           pytest.mark.filterwarnings("ignore:.*nn.functional.all_reduce:FutureWarning")],
)  # fmt: skip


@pytest.fixture(params=["torch>=2.13", OLDER])
def group_of_one(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A gloo group of this one process; with the collectives torch 2.13 and later have, or
    those the helpers fall back to before it (an older name, torch.distributed.nn's sum)."""
    if not (dist.is_available() and dist.is_gloo_available()):
        pytest.skip("needs torch.distributed with gloo")
    if request.param == "torch<2.13":
        monkeypatch.setattr(data_parallel, "_FUNCTIONAL_AUTOGRAD", False)
        monkeypatch.setattr(data_parallel, "_gather_with_gradient",
                            collective.all_gather_tensor_autograd)  # fmt: skip
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


def test_outside_a_group_everything_is_the_identity() -> None:
    model, tensor = _model(), torch.arange(6.0)
    assert rank_and_size() == (0, 1) and share(10) == slice(0, 10)
    assert wrap(model) is model and sync_batch_norm(model) is model
    assert type(model[1]) is torch.nn.BatchNorm2d
    assert gather_rows(tensor) is tensor and sum_across(tensor) is tensor
    assert broadcast_object("bf16") == "bf16"


def test_whole_batch_norm_matches_torch_batch_norm(group_of_one: None) -> None:
    plain, synced = _model(), sync_batch_norm(_model())
    assert isinstance(synced[1], WholeBatchNorm)
    assert isinstance(wrap(synced), DistributedDataParallel)
    x = torch.randn(5, 3, 8, 8)
    for _ in range(2):  # two steps: running statistics accumulate alike
        outputs = [model(x) for model in (plain, synced)]
        for out in outputs:
            out.square().mean().backward()
        torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-5, atol=1e-5)
    for (name, a), b in zip(plain.named_parameters(), synced.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-6, msg=name)
    assert plain.state_dict().keys() == synced.state_dict().keys()
    for name, value in plain.state_dict().items():
        torch.testing.assert_close(synced.state_dict()[name], value, rtol=1e-5, atol=1e-6)
    plain.eval(), synced.eval()
    torch.testing.assert_close(synced(x), plain(x))


def test_sums_and_gathers_in_a_group(group_of_one: None) -> None:
    tensor = torch.arange(4.0, requires_grad=True)
    assert rank_and_size() == (0, 1) and share(7) == slice(0, 7)
    gathered = gather_rows(tensor)
    (gathered * 2).sum().backward()
    torch.testing.assert_close(tensor.grad, torch.full((4,), 2.0))
    total = sum_across(tensor.detach())
    torch.testing.assert_close(total, tensor.detach())
    assert total is not tensor
