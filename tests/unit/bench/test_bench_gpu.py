"""bench.gpu's chunk timing, and its refusal to run without CUDA."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from artwork.tagging import TaggingSummary
from bench import gpu


def test_the_late_rate_leaves_out_the_read_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    # Start-up 20 s, four chunks drained from the read-ahead in 1 s each, then 10 s a chunk.
    clock = iter([0.0, 20.0, 21.0, 22.0, 23.0, 33.0, 43.0, 53.0, 63.0])
    monkeypatch.setattr(gpu.time, "perf_counter", lambda: next(clock))

    def run(on_chunk) -> TaggingSummary:
        for number in range(8):
            on_chunk(number)
        return TaggingSummary(8 * gpu.CHUNK_SIZE, 0, 0, 63.0, 8 * gpu.CHUNK_SIZE / 63, Path(),
                              Path())  # fmt: skip

    rate = gpu.timed_chunks(run)
    assert rate.first_chunk_s == 20.0
    assert rate.late == pytest.approx(gpu.CHUNK_SIZE / 10)  # chunks 4 → 7, 10 s each
    assert rate.whole == pytest.approx(8 * gpu.CHUNK_SIZE / 63)


def test_fewer_than_four_chunks_have_no_late_rate() -> None:
    summary = TaggingSummary(1, 0, 0, 1.0, 1.0, Path(), Path())
    assert math.isnan(gpu.timed_chunks(lambda on_chunk: (on_chunk(0), summary)[1]).late)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: the bench would run")
def test_without_cuda_it_exits_2_and_writes_nothing(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(gpu, "write_result", lambda *a: pytest.fail("wrote a result"))
    assert gpu.main([]) == 2
    assert "needs a CUDA device" in capsys.readouterr().out
