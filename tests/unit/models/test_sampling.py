"""The seeded sampler every decision goes through: reproducible and faithful to its distribution."""

from __future__ import annotations

import numpy as np
from scipy import stats

from models.sampling import sample_index, seed_uniform


def test_the_same_seed_gives_the_same_index() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4])
    assert [sample_index(p, s) for s in range(50)] == [sample_index(p, s) for s in range(50)]


def test_uniforms_are_uniform_over_random_seeds() -> None:
    seeds = np.random.default_rng(0).integers(0, 2**63, size=20_000)
    u = np.array([seed_uniform(int(s)) for s in seeds])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # consecutive seeds (a counter) are as good as random ones
    assert stats.kstest([seed_uniform(s) for s in range(20_000)], "uniform").pvalue > 1e-3


def test_frequencies_match_the_probabilities() -> None:
    p = np.array([0.01, 0.09, 0.5, 0.0, 0.4])
    seeds = np.random.default_rng(1).integers(0, 2**63, size=40_000)
    counts = np.bincount([sample_index(p, int(s)) for s in seeds], minlength=p.size)
    assert counts[3] == 0  # a zero-probability candidate is never drawn
    keep = p > 0
    chi2 = stats.chisquare(counts[keep], p[keep] * len(seeds))
    assert chi2.pvalue > 1e-4


def test_an_unnormalised_distribution_and_one_candidate() -> None:
    assert sample_index(np.array([2.0]), 123) == 0
    p = np.array([1.0, 3.0])
    draws = [sample_index(p, s) for s in range(4000)]
    assert abs(np.mean(draws) - 0.75) < 0.03
