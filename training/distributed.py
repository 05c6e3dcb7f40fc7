"""A training script's place among torchrun's processes: the group it joins, its device, who writes.

    torchrun --standalone --nproc_per_node N -m training.train_clip ...      # one machine
    torchrun --nnodes M --nproc_per_node N --rdzv_backend c10d \\
        --rdzv_endpoint HOST:PORT -m training.train_clip ...                 # M machines

torchrun starts the processes and tells each its place in RANK, LOCAL_RANK and WORLD_SIZE
(read once, by ``Processes.from_environment``). ``process_group`` joins them, with NCCL on
GPUs (process ``LOCAL_RANK`` on ``cuda:LOCAL_RANK``) or gloo on CPUs, and leaves at the end
after a barrier, so that no process exits while rank 0 still writes. Rank 0 (``main``) alone
writes files, logs and progress bars. Started without torchrun, a script is one process and
joins no group. The splitting of work itself is ``models.data_parallel``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported only to join a group: policies may train without it
    import torch

TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE")


class LaunchError(RuntimeError):
    """torchrun's environment is incomplete or inconsistent; the message names the variable."""


@dataclass(frozen=True)
class Processes:
    """This process's place: ``rank`` of ``world_size``, ``local_rank`` on its machine."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    launched: bool = False  # started by torchrun (then it joins a group, even of one)

    @property
    def main(self) -> bool:
        """Whether this process writes the files, logs and progress bars."""
        return self.rank == 0

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Processes:
        """Read torchrun's variables from ``env`` (the process environment by default); a
        single process when none is set."""
        env = os.environ if env is None else env
        present = [name for name in TORCHRUN_VARIABLES if name in env]
        if not present:
            return cls()
        if len(present) < len(TORCHRUN_VARIABLES):
            missing = sorted(set(TORCHRUN_VARIABLES) - set(present))
            raise LaunchError(f"{', '.join(present)} set but {', '.join(missing)} not: "
                              "start the script with torchrun, or set none of them")  # fmt: skip
        values = {}
        for name in TORCHRUN_VARIABLES:
            try:
                values[name] = int(env[name])
            except ValueError:
                raise LaunchError(f"{name} is {env[name]!r}, expected an integer") from None
        rank, local_rank, world_size = (values[n] for n in TORCHRUN_VARIABLES)
        if not (world_size >= 1 and 0 <= rank < world_size and 0 <= local_rank <= rank):
            raise LaunchError(f"RANK {rank}, LOCAL_RANK {local_rank}, WORLD_SIZE {world_size}: "
                              "expected 0 ≤ LOCAL_RANK ≤ RANK < WORLD_SIZE")  # fmt: skip
        return cls(rank, local_rank, world_size, launched=True)


SINGLE = Processes()


@contextmanager
def process_group(
    processes: Processes, device: torch.device | None
) -> Iterator[torch.device | None]:
    """Join torchrun's process group for the block and yield this process's device.

    ``device`` is the one the run asked for: on ``cuda`` the group uses NCCL and the process
    gets ``cuda:LOCAL_RANK``; on ``cpu`` (or None), gloo. Outside torchrun, yields ``device``
    and joins nothing. Leaving the block normally waits for every process (a barrier), then leaves.
    """
    if not processes.launched:
        yield device
        return
    import torch
    import torch.distributed as dist

    if not dist.is_available():
        raise LaunchError("this torch build has no torch.distributed: run without torchrun")
    if device is not None and device.type == "cuda":
        if processes.local_rank >= torch.cuda.device_count():
            raise LaunchError(f"LOCAL_RANK {processes.local_rank}: this machine has "
                              f"{torch.cuda.device_count()} GPU(s); use --nproc_per_node "
                              "at most that")  # fmt: skip
        device = torch.device("cuda", processes.local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        dist.init_process_group("gloo")
    try:
        yield device
        dist.barrier()
    finally:
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every process of the group gets here; nothing outside a group."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
