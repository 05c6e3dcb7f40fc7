"""Benchmarks: each runs its baseline and ours in one run, writing bench/results/NAME.json."""
