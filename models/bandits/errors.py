"""The bandit policies' exceptions: one base for everything a policy refuses."""

from __future__ import annotations

from models.errors import ModelError


class PolicyError(ModelError):
    """A policy cannot be built, used, updated or loaded as asked; the message says why."""


class FeedbackError(PolicyError):
    """A logged feedback row is unusable; ``row`` and ``field`` say which (``row`` is None when
    the problem is the batch's shape rather than one row)."""

    def __init__(self, message: str, *, row: int | None, field: str) -> None:
        super().__init__(message)
        self.row = row
        self.field = field
