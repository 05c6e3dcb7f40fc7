"""The shared name → class registry behind policies and recommenders."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models.registry import Registry


class Base:
    name = ""

    @dataclass
    class Config:
        alpha: float = 1.0


class Oops(Exception):
    pass


def test_register_get_and_configure() -> None:
    registry: Registry[type[Base]] = Registry("thing", Base, Oops)

    @registry.register("a")
    class A(Base):
        pass

    assert A.name == "a" and registry.get("a") is A and registry.names() == ["a"]
    cls, config = registry.configured("a", {"alpha": 2.0})
    assert cls is A and config.alpha == 2.0
    with pytest.raises(Oops, match="its config fields are alpha"):
        registry.configured("a", {"beta": 1})
    with pytest.raises(Oops, match="unknown thing 'b'; available: a"):
        registry.get("b")
    with pytest.raises(Oops, match="already registered"):
        registry.register("a")(type("Other", (Base,), {}))
    with pytest.raises(Oops, match="only Base subclasses"):
        registry.register("c")(int)
