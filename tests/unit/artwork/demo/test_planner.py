"""The demo catalog's plan: genre frequencies, valid and varied still plans, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np

from artwork.demo.genre_cues import MOVIELENS_GENRE_COUNTS
from artwork.demo.plan import EXCLUSIVE_MOODS, IMPLIED_OBJECTS
from artwork.demo.world import WorldSpec, plan_world


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    a, b = (
        plan_world(WorldSpec(seed=1, titles=10, viewers=5)),
        plan_world(WorldSpec(seed=1, titles=10, viewers=5)),
    )
    c = plan_world(WorldSpec(seed=2, titles=10, viewers=5))
    assert a.plans == b.plans and a.titles == b.titles and a.history == b.history
    assert a.plans != c.plans


def test_genre_frequencies_follow_movielens() -> None:
    world = plan_world(WorldSpec(seed=5, titles=600, viewers=1))
    counts = Counter(g for t in world.titles for g in t.genres)
    ours = np.array([counts[g] for g in MOVIELENS_GENRE_COUNTS], dtype=float)
    theirs = np.array(list(MOVIELENS_GENRE_COUNTS.values()), dtype=float)
    corr = np.corrcoef(ours / ours.sum(), theirs / theirs.sum())[0, 1]
    assert corr > 0.95
    assert counts["Drama"] > counts["Western"]
    genres_per_title = Counter(len(t.genres) for t in world.titles)
    assert set(genres_per_title) <= {1, 2, 3, 4} and genres_per_title[1] > 50


def test_still_plans_are_valid_and_varied() -> None:
    world = plan_world(WorldSpec(seed=9, titles=80, viewers=1))
    stills_per_title = Counter(a.title_id for a in world.artwork)
    assert min(stills_per_title.values()) >= 4 and max(stills_per_title.values()) <= 8
    for plan in world.plans:
        assert 1 <= len(plan.objects) <= 4 and 1 <= len(plan.moods) <= 3
        for implied in IMPLIED_OBJECTS.get(plan.setting, ()):
            assert implied in plan.objects
        for x, y in EXCLUSIVE_MOODS:
            assert not (x in plan.moods and y in plan.moods)
    # Stills of one title differ from each other.
    for title in world.titles[:20]:
        plans = [p for a, p in zip(world.artwork, world.plans, strict=True)
                 if a.title_id == title.title_id]  # fmt: skip
        assert len({(p.setting, p.objects, p.moods) for p in plans}) >= 2
    assert len({p.setting for p in world.plans}) >= 9
    assert len({o for p in world.plans for o in p.objects}) >= 20


def test_history_prefers_titles_viewers_like() -> None:
    world = plan_world(WorldSpec(seed=4, titles=60, viewers=300))
    model = world.response
    title_index = {t: i for i, t in enumerate(model.title_ids)}
    watched, baseline = [], []
    for i in world.history:
        v = model.viewer_index(i.viewer_id)
        match = model.genre_match(v, np.arange(len(model.title_ids)))
        watched.append(match[title_index[i.title_id]])
        baseline.append(match.mean())
    assert np.mean(watched) > np.mean(baseline) + 0.3
