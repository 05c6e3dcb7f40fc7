"""The models' own exception base (models/ imports nothing of artwork/, so it has its own)."""


class ModelError(Exception):
    """A model cannot be built, loaded, fitted or used as asked; the message says what to change."""
