"""Implicit-feedback recommenders: one interface, a registry by name.

model = make_recommender("recency_ease", lam=300.0, tau=5.0).fit(Interactions.build(u, i, t))
model.top_k(users, k=10); model.similar_items(item, k=10); model.save(folder)
same = load_recommender(folder)
"""

from models.recommenders import baselines, ease, factors, sequential  # noqa: F401  (they register)
from models.recommenders.base import Recommender, RecommenderConfig, top_items
from models.recommenders.errors import RecommenderError
from models.recommenders.interactions import Interactions
from models.recommenders.registry import (
    available_recommenders,
    load_recommender,
    make_recommender,
    recommender_class,
    register_recommender,
)

__all__ = [
    "Interactions",
    "Recommender",
    "RecommenderConfig",
    "RecommenderError",
    "available_recommenders",
    "load_recommender",
    "make_recommender",
    "recommender_class",
    "register_recommender",
    "top_items",
]
