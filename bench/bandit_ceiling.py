"""How far a learner with our features could go at best: full-information ceilings (issue 5).

A bandit sees one noisy reward per round. Here a ridge regression instead sees, for the first
``fit`` rounds of seed 0, the *expected* quality-play rate of every candidate (the simulator's
truth, no noise), fitted on its logarithm, and then picks the argmax in the next ``score`` rounds.
Its share of the oracle there bounds what any policy over the same model class can reach:

    features            vec([1, c] ⊗ [1, a]), the joint map of every linear policy
    + artwork           and one intercept per artwork (``linucb_artwork``'s model)
    + viewer × tags     and one weight per (viewer, image tag), a viewer's own twist on image
                        tastes that no history feature carries (no policy of ours has it)

The gap between the rows says what each hidden part of the world (an image's salience, a
viewer's personal taste) costs a model that cannot see it.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import lsqr

from artwork.features import FeatureBuilder
from artwork.simulate import SimulationConfig, SimWorld, draw_rounds
from models.bandits import joint_features

FIT_ROUNDS, SCORE_ROUNDS = 20_000, 10_000
RIDGE = 1.0  # ridge of the dense fits; the sparse viewer fit uses lsqr's damp
VIEWER_DAMP = 3.0


def ceilings(
    world: SimWorld, features: FeatureBuilder, fit: int = FIT_ROUNDS, score: int = SCORE_ROUNDS
) -> dict[str, float]:
    """{model: share of the oracle over the scored rounds} for the three models above."""
    rounds = draw_rounds(world, SimulationConfig(rounds=fit + score, seed=0), features=features)
    viewer_row = {v: i for i, v in enumerate(sorted(set(rounds.viewer_ids)))}
    viewers = np.array([viewer_row[v] for v in rounds.viewer_ids])
    mask, truth = rounds.mask, rounds.quality_play
    n, k_max = mask.shape
    dense = np.stack([joint_features(rounds.contexts[i], rounds.arms[i]) for i in range(n)])
    artwork_ids = sorted({a for ids in rounds.arm_ids for a in ids})
    column = {a: j for j, a in enumerate(artwork_ids)}
    artwork = np.full(mask.shape, -1)
    tags = np.zeros((n, k_max, len(features.tags)))
    for i, ids in enumerate(rounds.arm_ids):
        artwork[i, : len(ids)] = [column[a] for a in ids]
        tags[i, : len(ids)] = features.artwork_tags(ids)
    fit_rows, score_rows = np.arange(n) < fit, np.arange(n) >= fit
    target = np.log(np.maximum(truth, 1e-6))

    def design(rows: np.ndarray, blocks: tuple[str, ...]) -> sparse.csr_matrix:
        keep = mask & rows[:, None]
        parts = [sparse.csr_matrix(dense[keep])]
        if "artwork" in blocks:
            ones = np.ones(keep.sum())
            parts.append(sparse.csr_matrix(
                (ones, (np.arange(ones.size), artwork[keep])), shape=(ones.size, len(column))
            ))  # fmt: skip
        if "viewer" in blocks:
            t = len(features.tags)
            owner = np.broadcast_to(viewers[:, None], mask.shape)[keep]
            cols = owner[:, None] * t + np.arange(t)[None, :]
            rows_ = np.repeat(np.arange(owner.size), t)
            parts.append(sparse.csr_matrix(
                (tags[keep].ravel(), (rows_, cols.ravel())),
                shape=(owner.size, (viewers.max() + 1) * t),
            ))  # fmt: skip
        return sparse.hstack(parts).tocsr()

    out = {}
    for name, blocks, damp in (
        ("features", (), np.sqrt(RIDGE)),
        ("features+artwork", ("artwork",), np.sqrt(RIDGE)),
        ("features+artwork+viewer_tags", ("artwork", "viewer"), VIEWER_DAMP),
    ):
        x = design(fit_rows, blocks)
        theta = lsqr(x, target[mask & fit_rows[:, None]], damp=damp, atol=1e-10, btol=1e-10,
                     iter_lim=5000)[0]  # fmt: skip
        scores = np.full(mask.shape, -np.inf)
        scores[mask & score_rows[:, None]] = design(score_rows, blocks) @ theta
        scored = truth[score_rows]
        picked = scored[np.arange(scored.shape[0]), scores[score_rows].argmax(axis=1)]
        out[name] = float(picked.sum() / scored.max(axis=1).sum())
    return out


def print_ceilings(found: dict[str, float]) -> None:
    """A small table of ``ceilings``' output."""
    print(f"\nfull-information ceilings (fit on {FIT_ROUNDS:,} rounds' truth, scored on the next "
          f"{SCORE_ROUNDS:,}; seed 0):")  # fmt: skip
    for name, share in found.items():
        print(f"  {name:<32} {share:6.1%} of the oracle")
