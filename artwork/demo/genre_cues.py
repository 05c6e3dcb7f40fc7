"""How each genre looks in the demo world: its settings, likely objects and moods, its frequency.

These tables are the demo world's ground truth about genres. The planner draws stills from them
and the response model uses them to judge whether an image represents its title.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artwork.vocabulary import default_vocabulary

# Number of movies per genre in MovieLens ml-latest-small (movies.csv, 9,742 movies), so that the
# demo catalog's genre frequencies follow MovieLens'.
MOVIELENS_GENRE_COUNTS = {
    "Drama": 4361, "Comedy": 3756, "Thriller": 1894, "Action": 1828, "Romance": 1596,
    "Adventure": 1263, "Crime": 1199, "Sci-Fi": 980, "Horror": 978, "Fantasy": 779,
    "Children": 664, "Animation": 611, "Mystery": 573, "Documentary": 440, "War": 382,
    "Musical": 334, "Western": 167, "IMAX": 158, "Film-Noir": 87,
}  # fmt: skip
# How many genres a MovieLens movie has (1..5+), as probabilities; the demo caps it at 4.
MOVIELENS_GENRES_PER_TITLE = {1: 0.293, 2: 0.330, 3: 0.240, 4: 0.137}


@dataclass(frozen=True)
class GenreCues:
    """What stills of one genre tend to show: settings, and probabilities of objects and moods."""

    settings: tuple[str, ...]
    objects: dict[str, float]
    moods: dict[str, float]


GENRE_CUES: dict[str, GenreCues] = {
    "Action": GenreCues(
        ("street", "desert", "battlefield"),
        {"car": 0.5, "gun": 0.45, "explosion": 0.5, "person": 0.5, "city": 0.2},
        {"tense": 0.6, "warm": 0.3, "dark": 0.2},
    ),
    "Adventure": GenreCues(
        ("desert", "forest", "sea", "snow", "field"),
        {"mountain": 0.4, "horse": 0.25, "boat": 0.3, "sword": 0.2, "person": 0.5, "sun": 0.3},
        {"warm": 0.5, "bright": 0.4, "joyful": 0.3},
    ),
    "Animation": GenreCues(
        ("field", "forest", "sea", "space"),
        {"dog": 0.35, "balloon": 0.3, "flower": 0.3, "house": 0.25, "sun": 0.3, "face": 0.3},
        {"bright": 0.6, "joyful": 0.6},
    ),
    "Children": GenreCues(
        ("field", "room", "forest"),
        {"balloon": 0.45, "dog": 0.4, "house": 0.3, "flower": 0.3, "sun": 0.3, "person": 0.3},
        {"bright": 0.6, "joyful": 0.6, "calm": 0.2},
    ),
    "Comedy": GenreCues(
        ("room", "street", "field"),
        {"face": 0.5, "person": 0.5, "dog": 0.2, "balloon": 0.2, "car": 0.15},
        {"bright": 0.6, "joyful": 0.7, "warm": 0.3},
    ),
    "Crime": GenreCues(
        ("street", "room"),
        {"gun": 0.55, "car": 0.4, "person": 0.4, "face": 0.3, "city": 0.3},
        {"dark": 0.6, "tense": 0.5, "cold": 0.3},
    ),
    "Documentary": GenreCues(
        ("field", "sea", "snow", "desert", "forest"),
        {"mountain": 0.35, "horse": 0.2, "dog": 0.2, "tree": 0.3, "flower": 0.25, "boat": 0.2},
        {"calm": 0.6, "bright": 0.3},
    ),
    "Drama": GenreCues(
        ("room", "street", "field", "sea"),
        {"face": 0.6, "person": 0.5, "house": 0.3},
        {"melancholic": 0.55, "calm": 0.3, "warm": 0.2},
    ),
    "Fantasy": GenreCues(
        ("forest", "field", "snow"),
        {"castle": 0.5, "sword": 0.35, "horse": 0.3, "moon": 0.3, "mountain": 0.25},
        {"bright": 0.3, "romantic": 0.15, "warm": 0.2, "calm": 0.2},
    ),
    "Film-Noir": GenreCues(
        ("street", "room"),
        {"person": 0.5, "gun": 0.35, "car": 0.3, "face": 0.4, "moon": 0.2},
        {"dark": 0.7, "tense": 0.4, "melancholic": 0.3},
    ),
    "Horror": GenreCues(
        ("graveyard", "forest", "room"),
        {"ghost": 0.5, "skull": 0.45, "moon": 0.35, "face": 0.35, "house": 0.3},
        {"dark": 0.7, "scary": 0.8, "cold": 0.3},
    ),
    "IMAX": GenreCues(
        ("space", "snow", "sea", "desert"),
        {"mountain": 0.45, "planet": 0.3, "spaceship": 0.25, "sun": 0.25},
        {"bright": 0.4, "calm": 0.3, "cold": 0.2},
    ),
    "Musical": GenreCues(
        ("stage", "street"),
        {"music_note": 0.75, "person": 0.55, "face": 0.2},
        {"joyful": 0.6, "bright": 0.4, "warm": 0.4, "romantic": 0.2},
    ),
    "Mystery": GenreCues(
        ("street", "room", "forest", "graveyard"),
        {"moon": 0.4, "house": 0.35, "person": 0.4, "face": 0.3},
        {"dark": 0.6, "tense": 0.3, "cold": 0.4},
    ),
    "Romance": GenreCues(
        ("field", "street", "sea", "room"),
        {"heart": 0.55, "flower": 0.45, "face": 0.45, "person": 0.5, "sun": 0.2},
        {"romantic": 0.8, "warm": 0.5, "bright": 0.2},
    ),
    "Sci-Fi": GenreCues(
        ("space", "street", "snow"),
        {"spaceship": 0.6, "planet": 0.55, "person": 0.3, "explosion": 0.15},
        {"cold": 0.6, "dark": 0.35, "tense": 0.3},
    ),
    "Thriller": GenreCues(
        ("street", "room", "forest"),
        {"gun": 0.35, "face": 0.45, "car": 0.3, "person": 0.35},
        {"tense": 0.8, "dark": 0.5, "cold": 0.3},
    ),
    "War": GenreCues(
        ("battlefield", "snow", "field"),
        {"explosion": 0.5, "gun": 0.45, "person": 0.5},
        {"tense": 0.6, "dark": 0.3, "melancholic": 0.3},
    ),
    "Western": GenreCues(
        ("desert",),
        {"horse": 0.6, "cactus": 0.6, "gun": 0.35, "person": 0.45, "sun": 0.35},
        {"warm": 0.7, "bright": 0.3},
    ),
}


def image_tags() -> tuple[str, ...]:
    """The tags an image is described by in the response model: objects, then moods."""
    vocab = default_vocabulary()
    return vocab.objects + vocab.moods


def genre_tag_profile() -> np.ndarray:
    """Matrix (genres × image tags): how likely each genre's stills show each tag."""
    vocab = default_vocabulary()
    tags = image_tags()
    profile = np.zeros((len(vocab.genres), len(tags)))
    for g, genre in enumerate(vocab.genres):
        cues = GENRE_CUES[genre]
        for t, tag in enumerate(tags):
            profile[g, t] = cues.objects.get(tag, cues.moods.get(tag, 0.0))
    return profile
