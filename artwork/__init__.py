"""Personalized artwork selection: the domain (catalog, tags, features, events, selection)."""

__version__ = "0.1.0"
