"""Policies by name (timm-style): ``@register_policy("linucb")`` makes a class reachable from
configs and the CLI through ``make_policy`` and ``load_policy``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from models.bandits.base import Policy
from models.bandits.errors import PolicyError

P = TypeVar("P", bound=type[Policy])
_POLICIES: dict[str, type[Policy]] = {}


def register_policy(name: str) -> Callable[[P], P]:
    """Class decorator: register a ``Policy`` subclass under ``name`` and set its ``name``."""

    def register(cls: P) -> P:
        if name in _POLICIES and _POLICIES[name] is not cls:
            raise PolicyError(f"policy {name!r} is already registered ({_POLICIES[name]})")
        if not (isinstance(cls, type) and issubclass(cls, Policy)):
            raise PolicyError(f"@register_policy({name!r}) decorates Policy subclasses only")
        cls.name = name
        _POLICIES[name] = cls
        return cls

    return register


def available_policies() -> list[str]:
    """The registered policy names, sorted."""
    return sorted(_POLICIES)


def policy_class(name: object) -> type[Policy]:
    """The class registered as ``name``."""
    if not isinstance(name, str) or name not in _POLICIES:
        raise PolicyError(f"unknown policy {name!r}; available: {', '.join(available_policies())}")
    return _POLICIES[name]


def make_policy(name: str, d_ctx: int, d_arm: int, **config: Any) -> Policy:
    """A fresh policy ``name`` for contexts of d_ctx and candidates of d_arm features, with its
    config fields set from ``config`` (unknown keys are refused)."""
    cls = policy_class(name)
    try:
        settings = cls.Config(**config)
    except TypeError as exc:
        fields = ", ".join(cls.Config.__dataclass_fields__)
        raise PolicyError(f"policy {name!r}: {exc}; its config fields are {fields}") from exc
    return cls(d_ctx, d_arm, settings)


def load_policy(
    folder: Path | str, *, d_ctx: int | None = None, d_arm: int | None = None
) -> Policy:
    """Load a saved policy of whichever registered kind its card names (see ``Policy.load``)."""
    return Policy.load(folder, d_ctx=d_ctx, d_arm=d_arm)
