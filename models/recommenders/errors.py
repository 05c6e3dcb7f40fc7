"""The recommenders' exception: everything a recommender refuses, with what to change."""

from __future__ import annotations

from models.errors import ModelError


class RecommenderError(ModelError):
    """A recommender cannot be built, fitted, used or loaded as asked; the message says why."""
