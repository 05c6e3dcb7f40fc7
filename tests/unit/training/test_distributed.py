"""torchrun's environment, read once: a single process without it, named errors when it is wrong."""

from __future__ import annotations

import pytest
import torch

from training.distributed import SINGLE, LaunchError, Processes, process_group

TORCHRUN = {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4"}


def test_without_torchrun_it_is_one_process_that_joins_no_group() -> None:
    assert Processes.from_environment({"PATH": "/bin"}) == SINGLE
    assert SINGLE.main and SINGLE.world_size == 1 and not SINGLE.launched
    with process_group(SINGLE, torch.device("cpu")) as device:
        assert device == torch.device("cpu")
        assert not torch.distributed.is_initialized()


def test_torchrun_variables_give_the_place() -> None:
    processes = Processes.from_environment(TORCHRUN)
    assert processes == Processes(rank=3, local_rank=1, world_size=4, launched=True)
    assert not processes.main


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RANK": "0"}, "LOCAL_RANK, WORLD_SIZE not"),
        ({**TORCHRUN, "WORLD_SIZE": "four"}, "WORLD_SIZE is 'four'"),
        ({**TORCHRUN, "RANK": "4"}, "RANK 4, LOCAL_RANK 1, WORLD_SIZE 4"),
        ({**TORCHRUN, "LOCAL_RANK": "-1"}, "LOCAL_RANK -1"),
    ],
    ids=["partial", "not-an-integer", "rank-too-large", "negative-local-rank"],
)
def test_a_wrong_environment_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(LaunchError, match=message):
        Processes.from_environment(env)
