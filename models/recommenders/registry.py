"""Recommenders by name (timm-style): ``@register_recommender("ease")`` makes a class reachable
from configs and the CLI through ``make_recommender`` and ``load_recommender``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from models.recommenders.base import Recommender
from models.recommenders.errors import RecommenderError

R = TypeVar("R", bound=type[Recommender])
_RECOMMENDERS: dict[str, type[Recommender]] = {}


def register_recommender(name: str) -> Callable[[R], R]:
    """Class decorator: register a ``Recommender`` subclass under ``name`` and set its ``name``."""

    def register(cls: R) -> R:
        if name in _RECOMMENDERS and _RECOMMENDERS[name] is not cls:
            raise RecommenderError(f"recommender {name!r} is already registered")
        if not (isinstance(cls, type) and issubclass(cls, Recommender)):
            raise RecommenderError(f"@register_recommender({name!r}) decorates Recommenders only")
        cls.name = name
        _RECOMMENDERS[name] = cls
        return cls

    return register


def available_recommenders() -> list[str]:
    """The registered recommender names, sorted."""
    return sorted(_RECOMMENDERS)


def recommender_class(name: object) -> type[Recommender]:
    """The class registered as ``name``."""
    if not isinstance(name, str) or name not in _RECOMMENDERS:
        known = ", ".join(available_recommenders())
        raise RecommenderError(f"unknown recommender {name!r}; available: {known}")
    return _RECOMMENDERS[name]


def make_recommender(name: str, **config: Any) -> Recommender:
    """A fresh recommender ``name`` with its config fields set from ``config`` (unknown keys are
    refused)."""
    cls = recommender_class(name)
    try:
        settings = cls.Config(**config)
    except TypeError as exc:
        fields = ", ".join(cls.Config.__dataclass_fields__)
        raise RecommenderError(
            f"recommender {name!r}: {exc}; its config fields are {fields}"
        ) from exc
    return cls(settings)


def load_recommender(folder: Path | str) -> Recommender:
    """Load a saved recommender of whichever registered kind its card names."""
    return Recommender.load(folder)
