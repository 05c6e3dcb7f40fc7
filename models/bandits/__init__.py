"""Contextual bandit policies with exact propensities: one interface, a registry by name.

policy = make_policy("linucb", d_ctx, d_arm, alpha=0.5, floor=0.01)
choice = policy.choose(context, candidates, seed)      # index, propensity, probabilities
policy.update(FeedbackBatch(contexts, arms, rewards, propensities))
policy.save(folder); same = load_policy(folder)
"""

from models.bandits import baselines, hybrid, linear, neural_linear  # noqa: F401  (they register)
from models.bandits.base import Policy, PolicyConfig
from models.bandits.errors import FeedbackError, PolicyError
from models.bandits.features import FEATURE_MAP, joint_dim, joint_features
from models.bandits.records import Choice, FeedbackBatch
from models.bandits.registry import (
    available_policies,
    load_policy,
    make_policy,
    policy_class,
    register_policy,
)

__all__ = [
    "FEATURE_MAP",
    "Choice",
    "FeedbackBatch",
    "FeedbackError",
    "Policy",
    "PolicyConfig",
    "PolicyError",
    "available_policies",
    "joint_dim",
    "joint_features",
    "load_policy",
    "make_policy",
    "policy_class",
    "register_policy",
]
