"""What a still shows: the plan a renderer draws and the ground truth it is labelled with."""

from __future__ import annotations

from dataclasses import dataclass

from artwork.vocabulary import default_vocabulary

STILL_SIZE = (384, 216)  # 16:9, the smallest size the demo world renders

# Backgrounds a still is set in. A setting draws ground, sky and light only: any vocabulary
# object it implies is listed in IMPLIED_OBJECTS and added to the plan's objects, so that the
# truth names everything a viewer can see.
SETTINGS = (
    "space", "desert", "street", "field", "forest", "sea",
    "stage", "room", "snow", "battlefield", "graveyard",
)  # fmt: skip
IMPLIED_OBJECTS = {"street": ("city",), "forest": ("tree",)}

# How the people in a still look; derived from its moods by the planner.
EXPRESSIONS = ("smile", "sad", "scared", "angry", "neutral", "love")

# Mood pairs that cannot hold together in one still.
EXCLUSIVE_MOODS = (("dark", "bright"), ("warm", "cold"), ("joyful", "melancholic"),
                   ("calm", "tense"), ("calm", "scary"), ("joyful", "scary"))  # fmt: skip


@dataclass(frozen=True)
class StillPlan:
    """Everything a still shows. ``objects``, ``moods`` and ``genres`` are its truth labels.

    - every object in ``objects`` is drawn, visible and unoccluded; no other vocabulary object is;
    - ``moods`` are carried by palette, light, contrast and composition (and faces);
    - ``genres`` are the title's genres; the renderer uses them for style cues
      (Film-Noir: greyscale with hard shadows; Animation: flat colours with outlines; ...);
    - ``expression`` is the face of every person and face drawn.
    """

    setting: str
    objects: tuple[str, ...]
    moods: tuple[str, ...]
    genres: tuple[str, ...]
    expression: str
    seed: int

    def __post_init__(self) -> None:
        vocab = default_vocabulary()
        if self.setting not in SETTINGS:
            raise ValueError(f"setting: unknown {self.setting!r}")
        for group, values in (("objects", self.objects), ("moods", self.moods),
                              ("genres", self.genres)):  # fmt: skip
            known = vocab.groups[group].tags
            for value in values:
                if value not in known:
                    raise ValueError(f"{group}: unknown tag {value!r}")
            if len(set(values)) != len(values):
                raise ValueError(f"{group}: repeated tag in {values}")
        for obj in IMPLIED_OBJECTS.get(self.setting, ()):
            if obj not in self.objects:
                raise ValueError(f"objects: setting {self.setting!r} implies {obj!r}")
        for a, b in EXCLUSIVE_MOODS:
            if a in self.moods and b in self.moods:
                raise ValueError(f"moods: {a!r} and {b!r} exclude each other")
        if self.expression not in EXPRESSIONS:
            raise ValueError(f"expression: unknown {self.expression!r}")
