"""A name → class registry (timm-style) shared by the bandit policies and the recommenders."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Classes of one ``base`` by name; errors are raised as ``error`` and say ``kind``."""

    def __init__(self, kind: str, base: type, error: type[Exception]) -> None:
        self.kind, self.base, self.error = kind, base, error
        self._classes: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator: register a subclass of ``base`` under ``name`` and set its ``name``."""

        def register(cls: T) -> T:
            if name in self._classes and self._classes[name] is not cls:
                raise self.error(f"{self.kind} {name!r} is already registered")
            if not (isinstance(cls, type) and issubclass(cls, self.base)):
                raise self.error(f"{self.kind} {name!r}: only {self.base.__name__} subclasses")
            cls.name = name  # type: ignore[attr-defined]
            self._classes[name] = cls
            return cls

        return register

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._classes)

    def get(self, name: object) -> Any:
        """The class registered as ``name``."""
        if not isinstance(name, str) or name not in self._classes:
            known = ", ".join(self.names())
            raise self.error(f"unknown {self.kind} {name!r}; available: {known}")
        return self._classes[name]

    def configured(self, name: str, config: dict[str, Any]) -> tuple[Any, Any]:
        """The class ``name`` and its ``Config`` built from ``config`` (unknown keys refused)."""
        cls = self.get(name)
        try:
            return cls, cls.Config(**config)
        except TypeError as exc:
            fields = ", ".join(cls.Config.__dataclass_fields__)
            raise self.error(
                f"{self.kind} {name!r}: {exc}; its config fields are {fields}"
            ) from exc

    def saved(self, card: Mapping[str, Any], card_path: Path, field: str, cls: type) -> Any:
        """The class a saved card names in ``field``: looked up when ``cls`` is ``base``, else
        ``cls`` itself, which must be the one named; the card's ``version`` must be its."""
        name = card.get(field)
        kind = self.get(name) if cls is self.base else cls
        if name != kind.name:
            raise self.error(f"{card_path}: holds {field} {name!r}, expected {kind.name!r}")
        if card.get("version") != kind.version:
            raise self.error(
                f"{card_path}: saved by {name} version {card.get('version')!r}, "
                f"this code is version {kind.version}"
            )
        return kind
