"""Policies by name (timm-style): ``@register_policy("linucb")`` makes a class reachable from
configs and the CLI through ``make_policy`` and ``load_policy``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.bandits.base import Policy
from models.bandits.errors import PolicyError
from models.registry import Registry

POLICIES: Registry[type[Policy]] = Registry("policy", Policy, PolicyError)
register_policy = POLICIES.register
available_policies = POLICIES.names


def policy_class(name: object) -> type[Policy]:
    """The class registered as ``name``."""
    return POLICIES.get(name)


def make_policy(name: str, d_ctx: int, d_arm: int, **config: Any) -> Policy:
    """A fresh policy ``name`` for contexts of d_ctx and candidates of d_arm features, with its
    config fields set from ``config`` (unknown keys are refused)."""
    cls, settings = POLICIES.configured(name, config)
    return cls(d_ctx, d_arm, settings)


def load_policy(
    folder: Path | str, *, d_ctx: int | None = None, d_arm: int | None = None
) -> Policy:
    """Load a saved policy of whichever registered kind its card names (see ``Policy.load``)."""
    return Policy.load(folder, d_ctx=d_ctx, d_arm=d_arm)
