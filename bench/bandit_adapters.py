"""Vowpal Wabbit and MABWiser behind our ``Policy`` interface, so the simulator runs them as ours.

Every peer gets the same inputs as our policies: the viewer's context c (d_ctx,) and one row a_k
(d_arm,) per eligible candidate, and learns from the same ``FeedbackBatch`` every ``batch_size``
rounds. None keeps our probability floor: each explores as it ships.

- **Vowpal Wabbit** ``--cb_explore_adf`` with ``--squarecb``, ``--epsilon 0.05`` or ``--cover 4``
  (otherwise VW's defaults). One multi-line example per decision: ``shared |s c…`` and one
  ``|a a…`` line per candidate, crossed by ``-q sa``, so VW's linear terms plus interactions are
  the same bias + c + a + c⊗a as our ``joint_features``. The distribution is VW's pmf (float32,
  renormalised in float64), the propensity the sampled entry of it. VW learns from the whole
  decision (all candidates), so the adapter keeps each decision's example until its feedback row
  arrives, and labels the chosen line with cost = −reward and that propensity.
- **MABWiser** ``LinUCB`` and ``LinTS`` (their defaults: α = 1, λ = 1). MABWiser's linear
  policies keep one ridge model per arm over the context only; arms = artwork ids would leave
  the artwork features unseen and, since MABWiser scores *every* arm on every call, costs
  6–15 ms per decision with the demo world's ~1,200 artworks. So MABWiser gets one arm whose
  "context" is each candidate's joint feature vector ``joint_features(c, a_k)``: it scores the K
  candidates with ``predict_expectations`` (LinTS draws a coefficient vector per candidate) and
  the policy puts all mass on the best (ties split). MABWiser exposes no propensities, so the
  logged one is that of its argmax, 1; the benchmark needs none of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.bandits import (
    Choice,
    FeedbackBatch,
    Policy,
    PolicyConfig,
    PolicyError,
    joint_dim,
    joint_features,
)
from models.bandits.base import argmax_distribution

VW_EXPLORATION = {
    "vw_squarecb": "--squarecb",
    "vw_epsilon": "--epsilon 0.05",
    "vw_cover": "--cover 4",
}
MABWISER_POLICIES = {"mabwiser_linucb": "LinUCB", "mabwiser_lints": "LinTS"}
PEERS = (*VW_EXPLORATION, *MABWISER_POLICIES)
MABWISER_ARM = "score"


def peer_library(name: str) -> str:
    """The package that peer ``name`` runs on."""
    return "vowpalwabbit" if name in VW_EXPLORATION else "mabwiser"


def make_peer(name: str, d_ctx: int, d_arm: int, seed: int) -> Policy:
    """A fresh peer ``name`` (one of ``PEERS``) seeded with ``seed``; ImportError without it."""
    if name in VW_EXPLORATION:
        return VowpalWabbitPolicy(name, d_ctx, d_arm, VW_EXPLORATION[name], seed)
    if name in MABWISER_POLICIES:
        return MabwiserPolicy(name, d_ctx, d_arm, MABWISER_POLICIES[name], seed)
    raise PolicyError(f"unknown peer {name!r}; peers: {', '.join(PEERS)}")


class PeerPolicy(Policy):
    """A library's learner under our interface: no floor, named per instance, never saved."""

    def __init__(self, name: str, d_ctx: int, d_arm: int) -> None:
        super().__init__(d_ctx, d_arm, PolicyConfig(floor=0.0))
        self.name = name  # shadows the registry's class-level name: peers are not registered

    def save(self, folder: Path | str) -> Path:
        raise PolicyError(f"{self.name}: a benchmark peer, its library's state is not saved")


class VowpalWabbitPolicy(PeerPolicy):
    """``vowpalwabbit.Workspace("--cb_explore_adf EXPLORATION -q sa")`` (see the module doc)."""

    def __init__(self, name: str, d_ctx: int, d_arm: int, exploration: str, seed: int) -> None:
        import vowpalwabbit

        super().__init__(name, d_ctx, d_arm)
        self.arguments = f"--cb_explore_adf {exploration} -q sa --random_seed {seed}"
        self.workspace = vowpalwabbit.Workspace(self.arguments, quiet=True)
        self._context_names = [f"c{i}:" for i in range(self.d_ctx)]
        self._arm_names = [f"a{i}:" for i in range(self.d_arm)]
        self._example: list[str] = []  # the last decision's, kept by choose until its feedback
        self._pending: deque[tuple[list[str], int, float, np.ndarray]] = deque()

    def _base_distribution(self, context, candidates, arm_ids) -> np.ndarray:
        self._example = [f"shared |s {_features(self._context_names, context)}"]
        self._example += [f"|a {_features(self._arm_names, arm)}" for arm in candidates]
        pmf = np.asarray(self.workspace.predict(self._example), dtype=np.float64)
        return pmf / pmf.sum()

    def choose(
        self,
        context: np.ndarray,
        candidates: np.ndarray,
        seed: int,
        arm_ids: Sequence[str] | None = None,
    ) -> Choice:
        """Our ``choose``, remembering the decision's example for the feedback to come."""
        choice = super().choose(context, candidates, seed, arm_ids)
        chosen = np.asarray(candidates, dtype=np.float64)[choice.index].copy()
        self._pending.append((self._example, choice.index, choice.propensity, chosen))
        return choice

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        # VW weighs each row by 1 / propensity itself; ``weights`` (all 1 here) are not used.
        for arm, reward in zip(batch.arms, batch.rewards, strict=True):
            if not self._pending:
                raise PolicyError(f"{self.name}: feedback for a decision it did not make")
            example, index, propensity, chosen = self._pending.popleft()
            if not np.array_equal(arm, chosen):
                raise PolicyError(f"{self.name}: feedback rows must follow the decisions' order")
            labelled = list(example)
            labelled[index + 1] = f"0:{0.0 - reward:g}:{propensity!r} {example[index + 1]}"
            self.workspace.learn(labelled)


def _features(names: list[str], values: np.ndarray) -> str:
    """VW's text features ``name:value`` (zeros left out, as VW would drop them)."""
    return " ".join(f"{n}{v:.9g}" for n, v in zip(names, values.tolist(), strict=True) if v)


class MabwiserPolicy(PeerPolicy):
    """MABWiser ``LinUCB`` or ``LinTS`` over one arm scored on the joint features (module doc)."""

    def __init__(self, name: str, d_ctx: int, d_arm: int, learning_policy: str, seed: int) -> None:
        from mabwiser.mab import MAB, LearningPolicy

        super().__init__(name, d_ctx, d_arm)
        self.mab = MAB([MABWISER_ARM], getattr(LearningPolicy, learning_policy)(), seed=seed)
        # MABWiser predicts only after a fit; an all-zero row adds nothing to A = λI or b = 0.
        self.mab.fit([MABWISER_ARM], [0.0], np.zeros((1, joint_dim(self.d_ctx, self.d_arm))))

    def _base_distribution(self, context, candidates, arm_ids) -> np.ndarray:
        expectations = self.mab.predict_expectations(joint_features(context, candidates))
        if isinstance(expectations, dict):  # MABWiser unwraps a single row's answer
            expectations = [expectations]
        return argmax_distribution(np.array([e[MABWISER_ARM] for e in expectations]))

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        contexts = joint_features(batch.contexts, batch.arms)
        self.mab.partial_fit([MABWISER_ARM] * len(batch), batch.rewards, contexts)
