"""Plans the demo catalog: titles with MovieLens-like genres and what each still shows."""

from __future__ import annotations

import numpy as np

from artwork.catalog import Title
from artwork.demo.genre_cues import (
    GENRE_CUES,
    MOVIELENS_GENRE_COUNTS,
    MOVIELENS_GENRES_PER_TITLE,
)
from artwork.demo.plan import EXCLUSIVE_MOODS, IMPLIED_OBJECTS, StillPlan
from artwork.vocabulary import default_vocabulary

MAX_OBJECTS = 4
MAX_MOODS = 3
OFF_TONE_RATE = 0.12  # share of stills whose moods come from another genre (candidate "bait")
STRAY_OBJECT_RATE = 0.08  # share of stills with one object unrelated to the title's genres
SECONDARY_GENRE_WEIGHT = 0.6

_ADJECTIVES = (
    "Silent", "Crimson", "Hidden", "Last", "Golden", "Broken", "Midnight", "Electric", "Wild",
    "Frozen", "Burning", "Lonely", "Secret", "Endless", "Iron", "Velvet", "Distant", "Lucky",
    "Savage", "Gentle", "Hollow", "Neon", "Paper", "Scarlet", "Quiet", "Restless", "Shattered",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Frontier", "Garden", "Empire", "Signal", "Orchard", "Witness", "Horizon",
    "Kingdom", "Station", "Letter", "Season", "Mirror", "Voyage", "Promise", "Canyon", "Shadow",
    "Carnival", "Legacy", "Island", "Engine", "Melody", "Verdict", "Outpost", "Lantern", "Tide",
)  # fmt: skip
_MATURITY_BY_GENRE = {
    "Children": "G", "Animation": "PG", "Horror": "R", "Crime": "R", "War": "R",
    "Thriller": "R", "Film-Noir": "PG-13",
}  # fmt: skip


def plan_titles(n: int, rng: np.random.Generator) -> list[Title]:
    """``n`` titles with unique names, years 1950–2025 and 1–4 MovieLens-distributed genres."""
    genres = list(MOVIELENS_GENRE_COUNTS)
    weights = np.array([MOVIELENS_GENRE_COUNTS[g] for g in genres], dtype=float)
    weights /= weights.sum()
    counts = np.array(list(MOVIELENS_GENRES_PER_TITLE))
    count_p = np.array(list(MOVIELENS_GENRES_PER_TITLE.values()))
    count_p /= count_p.sum()
    order = {g: i for i, g in enumerate(default_vocabulary().genres)}
    titles, used_names = [], set()
    for i in range(n):
        k = int(rng.choice(counts, p=count_p))
        picked = rng.choice(len(genres), size=k, replace=False, p=weights)
        # The first genre is the title's main one; the rest are kept in vocabulary order.
        main, rest = genres[picked[0]], sorted((genres[j] for j in picked[1:]), key=order.get)
        title_genres = (main, *rest)
        name = _unique_name(rng, used_names)
        year = int(rng.integers(1950, 2026))
        maturity = next((_MATURITY_BY_GENRE[g] for g in title_genres if g in _MATURITY_BY_GENRE),
                        "PG-13")  # fmt: skip
        titles.append(Title(f"t{i + 1:04d}", name, title_genres, year, maturity))
    return titles


def plan_stills(
    title: Title, rng: np.random.Generator, min_n: int = 4, max_n: int = 8
) -> list[StillPlan]:
    """Between ``min_n`` and ``max_n`` varied still plans for a title."""
    n = int(rng.integers(min_n, max_n + 1))
    return [plan_still(title.genres, rng) for _ in range(n)]


def plan_still(genres: tuple[str, ...], rng: np.random.Generator) -> StillPlan:
    """One still for a title of these genres: a setting, objects, moods and an expression."""
    vocab = default_vocabulary()
    # Which genre the still leans on: the main genre most often.
    lean_w = np.array([1.0] + [SECONDARY_GENRE_WEIGHT] * (len(genres) - 1))
    lean = genres[int(rng.choice(len(genres), p=lean_w / lean_w.sum()))]
    setting = str(rng.choice(GENRE_CUES[lean].settings))
    weight = {g: (1.0 if g == lean else SECONDARY_GENRE_WEIGHT) for g in genres}

    object_p = _union_probability(genres, weight, "objects")
    objects = [o for o in object_p if rng.random() < object_p[o]]
    if rng.random() < STRAY_OBJECT_RATE:
        objects.append(str(rng.choice(vocab.objects)))
    objects = _cap(list(dict.fromkeys(objects)), object_p, MAX_OBJECTS, rng)
    for implied in IMPLIED_OBJECTS.get(setting, ()):
        if implied not in objects:
            objects = [implied, *objects[: MAX_OBJECTS - 1]]
    if not objects:
        objects = [max(object_p, key=object_p.get)]

    mood_genres = genres
    if rng.random() < OFF_TONE_RATE:
        mood_genres = (str(rng.choice([g for g in vocab.genres if g not in genres])),)
        weight = {mood_genres[0]: 1.0}
    mood_p = _union_probability(mood_genres, weight, "moods")
    moods = [m for m in mood_p if rng.random() < mood_p[m]]
    moods = _resolve_exclusive(moods, mood_p)
    moods = _cap(moods, mood_p, MAX_MOODS, rng) or [max(mood_p, key=mood_p.get)]

    return StillPlan(
        setting=setting,
        objects=tuple(o for o in vocab.objects if o in objects),
        moods=tuple(m for m in vocab.moods if m in moods),
        genres=tuple(genres),
        expression=_expression(moods, rng),
        seed=int(rng.integers(0, 2**31 - 1)),
    )


def _union_probability(
    genres: tuple[str, ...], weight: dict[str, float], group: str
) -> dict[str, float]:
    """P(tag) when each genre independently brings it: 1 − Π(1 − w_g · p_g(tag))."""
    miss: dict[str, float] = {}
    for genre in genres:
        for tag, p in getattr(GENRE_CUES[genre], group).items():
            miss[tag] = miss.get(tag, 1.0) * (1.0 - weight[genre] * p)
    return {tag: 1.0 - m for tag, m in miss.items()}


def _cap(tags: list[str], p: dict[str, float], limit: int, rng: np.random.Generator) -> list[str]:
    """At most ``limit`` tags, keeping likelier ones more often (random key weighted by p)."""
    if len(tags) <= limit:
        return tags
    keys = [rng.random() ** (1.0 / max(p.get(t, 0.05), 0.05)) for t in tags]
    keep = sorted(range(len(tags)), key=lambda i: -keys[i])[:limit]
    return [tags[i] for i in sorted(keep)]


def _resolve_exclusive(moods: list[str], p: dict[str, float]) -> list[str]:
    """Drop the less likely mood of every exclusive pair that was drawn together."""
    kept = list(moods)
    for a, b in EXCLUSIVE_MOODS:
        if a in kept and b in kept:
            kept.remove(b if p.get(a, 0) >= p.get(b, 0) else a)
    return kept


def _expression(moods: list[str], rng: np.random.Generator) -> str:
    if "scary" in moods:
        return "scared"
    if "tense" in moods:
        return str(rng.choice(["angry", "scared"]))
    for mood, face in (("romantic", "love"), ("melancholic", "sad"), ("joyful", "smile")):
        if mood in moods:
            return face
    return str(rng.choice(["neutral", "smile"]))


def _unique_name(rng: np.random.Generator, used: set[str]) -> str:
    base = f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    name, sequel = base, 2
    while name in used:
        name, sequel = f"{base} {sequel}", sequel + 1
    used.add(name)
    return name
