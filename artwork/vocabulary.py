"""The tag vocabulary (objects, moods, genres) and its CLIP prompts, loaded from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from artwork.errors import InputError

DEFAULT_PATH = Path(__file__).with_name("vocabulary.yaml")
GROUPS = ("objects", "moods", "genres")


@dataclass(frozen=True)
class TagGroup:
    """One group of tags with the prompt templates shared by its tags."""

    name: str
    templates: tuple[str, ...]
    phrases: dict[str, tuple[str, ...]]
    neutral: tuple[str, ...]

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self.phrases)

    def prompts(self, tag: str) -> list[str]:
        """Every (template, phrase) prompt for ``tag``; their text embeddings are averaged."""
        return self._fill(self.phrases[tag])

    def neutral_prompts(self) -> list[str]:
        """The group's neutral prompts: its templates filled with its neutral phrases."""
        return self._fill(self.neutral)

    def _fill(self, phrases: tuple[str, ...]) -> list[str]:
        return [t.format(p) for t in self.templates for p in phrases]


@dataclass(frozen=True)
class Vocabulary:
    """The versioned set of tag groups; tag names are unique across groups."""

    version: int
    groups: dict[str, TagGroup]

    @property
    def genres(self) -> tuple[str, ...]:
        return self.groups["genres"].tags

    @property
    def objects(self) -> tuple[str, ...]:
        return self.groups["objects"].tags

    @property
    def moods(self) -> tuple[str, ...]:
        return self.groups["moods"].tags

    @property
    def tags(self) -> tuple[str, ...]:
        """Every tag, group by group."""
        return tuple(t for group in self.groups.values() for t in group.tags)

    def group_of(self, tag: str) -> str:
        """The group a tag belongs to; raises ``KeyError`` for an unknown tag."""
        for group in self.groups.values():
            if tag in group.phrases:
                return group.name
        raise KeyError(tag)


def load_vocabulary(path: Path | str = DEFAULT_PATH) -> Vocabulary:
    """Read and validate a vocabulary YAML file (groups objects, moods, genres)."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or "groups" not in raw or "version" not in raw:
        raise InputError("expected a mapping with 'version' and 'groups'", file=str(path))
    groups: dict[str, TagGroup] = {}
    seen: set[str] = set()
    for name in GROUPS:
        spec = raw["groups"].get(name)
        if not spec or not all(spec.get(k) for k in ("tags", "templates", "neutral")):
            raise InputError(
                "group needs 'templates', 'neutral' and 'tags'", file=str(path), field=name
            )
        phrases = {}
        for tag, words in spec["tags"].items():
            if tag in seen:
                raise InputError("tag appears twice", file=str(path), field=f"{name}.{tag}")
            if not words or not all(isinstance(w, str) and w for w in words):
                raise InputError("needs a list of phrases", file=str(path), field=f"{name}.{tag}")
            seen.add(tag)
            phrases[tag] = tuple(words)
        groups[name] = TagGroup(name, tuple(spec["templates"]), phrases, tuple(spec["neutral"]))
    extra = set(raw["groups"]) - set(GROUPS)
    if extra:
        raise InputError(f"unknown group(s) {sorted(extra)}", file=str(path), field="groups")
    return Vocabulary(int(raw["version"]), groups)


@cache
def default_vocabulary() -> Vocabulary:
    """The vocabulary shipped with the package."""
    return load_vocabulary(DEFAULT_PATH)


GENRES: tuple[str, ...] = default_vocabulary().genres
