"""The event store benchmark's measurement on a tiny load."""

from __future__ import annotations

from bench.event_store import measure


def test_both_commit_modes_store_every_write_and_report_a_rate(tmp_path):
    for name, max_batch in (("per_write", 1), ("group", 256)):
        assert measure(tmp_path / name / "events.db", 3, 4, max_batch, name) > 0
