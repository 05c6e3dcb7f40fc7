"""Recommenders by name (timm-style): ``@register_recommender("ease")`` makes a class reachable
from configs and the CLI through ``make_recommender`` and ``load_recommender``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.recommenders.base import Recommender
from models.recommenders.errors import RecommenderError
from models.registry import Registry

RECOMMENDERS: Registry[type[Recommender]] = Registry("recommender", Recommender, RecommenderError)
register_recommender = RECOMMENDERS.register
available_recommenders = RECOMMENDERS.names


def recommender_class(name: object) -> type[Recommender]:
    """The class registered as ``name``."""
    return RECOMMENDERS.get(name)


def make_recommender(name: str, **config: Any) -> Recommender:
    """A fresh recommender ``name`` with its config fields set from ``config`` (unknown keys are
    refused)."""
    cls, settings = RECOMMENDERS.configured(name, config)
    return cls(settings)


def load_recommender(folder: Path | str) -> Recommender:
    """Load a saved recommender of whichever registered kind its card names."""
    return Recommender.load(folder)
