"""Bandit features: the versioned schema, shapes, cold viewers, and usefulness on a demo world."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from artwork.demo.genre_cues import image_tags
from artwork.demo.world import WorldPlan, WorldSpec, plan_world
from artwork.errors import InputError, NotFoundError
from artwork.features import (
    SCHEMA,
    FeatureBuilder,
    FeatureSchema,
    quality_from_table,
    tags_from_table,
    tags_from_truth,
)
from artwork.interactions import Interaction, ViewingHistory
from artwork.simulate import catalog_of
from artwork.tag_store import StoreHeader, TagTable


@pytest.fixture(scope="module")
def world() -> WorldPlan:
    return plan_world(WorldSpec(seed=5, titles=60, viewers=300))


@pytest.fixture(scope="module")
def truth(world: WorldPlan) -> dict[str, np.ndarray]:
    return tags_from_truth(
        {a.artwork_id: p for a, p in zip(world.artwork, world.plans, strict=True)}
    )


@pytest.fixture(scope="module")
def builder(world: WorldPlan, truth: dict[str, np.ndarray]) -> FeatureBuilder:
    return FeatureBuilder(
        catalog_of(world.titles, world.artwork), ViewingHistory(world.history), truth
    )


def _images(world: WorldPlan, title_id: str) -> list[str]:
    return [a.artwork_id for a in world.artwork if a.title_id == title_id]


# ---- the schema -------------------------------------------------------------------------------


def test_schema_accepts_itself_and_round_trips_through_a_dict() -> None:
    SCHEMA.check(SCHEMA)
    same = FeatureSchema.from_dict(SCHEMA.to_dict())
    assert same == SCHEMA
    SCHEMA.check(same)
    assert (SCHEMA.d_ctx, SCHEMA.d_arm) == (7, 8)


@pytest.mark.parametrize(
    ("other", "field", "named"),
    [
        (replace(SCHEMA, version=2), "version", "2"),
        (replace(SCHEMA, name="other"), "name", "'other'"),
        (
            replace(SCHEMA, context_fields=SCHEMA.context_fields[:4] + ("genre_love",)
                    + SCHEMA.context_fields[5:]),
            "context_fields[4]", "'genre_love'",
        ),
        (replace(SCHEMA, artwork_fields=SCHEMA.artwork_fields + ("kind",)), "artwork_fields[8]",
         "'kind'"),
        (replace(SCHEMA, artwork_fields=SCHEMA.artwork_fields[:-1]), "artwork_fields[7]",
         "'image_quality'"),
    ],
)  # fmt: skip
def test_a_model_on_another_schema_is_refused_naming_the_field(
    other: FeatureSchema, field: str, named: str
) -> None:
    with pytest.raises(InputError) as caught:
        SCHEMA.check(other)
    assert caught.value.field == field
    assert field in str(caught.value) and named in str(caught.value)


def test_a_malformed_schema_document_names_its_key() -> None:
    doc = SCHEMA.to_dict() | {"context_fields": "device_tv"}
    with pytest.raises(InputError, match="context_fields"):
        FeatureSchema.from_dict(doc)


# ---- per-decision features --------------------------------------------------------------------


def test_shapes_and_flags(world: WorldPlan, builder: FeatureBuilder) -> None:
    title = world.titles[0].title_id
    viewer = world.response.viewer_ids[0]
    images = _images(world, title)
    arms = builder.artwork(viewer, title, images)
    assert arms.shape == (len(images), SCHEMA.d_arm) and np.isfinite(arms).all()
    names = SCHEMA.context_fields
    late_tv = dict(zip(names, builder.context(viewer, title, "tv", 23), strict=True))
    noon_phone = dict(zip(names, builder.context(viewer, title, "mobile", 12), strict=True))
    assert (late_tv["device_tv"], late_tv["late_night"], late_tv["daytime"]) == (1, 1, 0)
    assert (noon_phone["device_handheld"], noon_phone["late_night"], noon_phone["daytime"]) == (
        1, 0, 1,
    )  # fmt: skip
    assert late_tv["genre_match"] == noon_phone["genre_match"] != 0


def test_artwork_flags_follow_the_tags(world: WorldPlan, builder: FeatureBuilder, truth) -> None:
    tags = image_tags()
    column = dict(zip(SCHEMA.artwork_fields, range(SCHEMA.d_arm), strict=True))
    for title in world.titles[:10]:
        images = _images(world, title.title_id)
        arms = builder.artwork("nobody", title.title_id, images)
        x = np.stack([truth[a] for a in images])
        np.testing.assert_array_equal(arms[:, column["face"]], x[:, tags.index("face")])
        scary = np.maximum(x[:, tags.index("dark")], x[:, tags.index("scary")])
        np.testing.assert_array_equal(arms[:, column["dark_or_scary"]], scary)
        assert (arms[:, column["image_quality"]] == 0).all()  # no quality signals given


def test_an_unknown_viewer_gets_neutral_affinities(world: WorldPlan, builder) -> None:
    title = world.titles[3].title_id
    context = builder.context("never-seen", title, "web", 20)
    arms = builder.artwork("never-seen", title, _images(world, title))
    assert context[SCHEMA.context_fields.index("genre_match")] == 0.0
    assert (arms[:, SCHEMA.artwork_fields.index("taste_match")] == 0.0).all()
    assert context[SCHEMA.context_fields.index("recency")] == 1.0


def test_truth_tags_are_the_response_models_tags(world: WorldPlan, truth) -> None:
    model = world.response
    assert model.tags == image_tags()
    stacked = np.stack([truth[a] for a in model.artwork_ids])
    np.testing.assert_array_equal(stacked, model.artwork_tags)


def test_bad_requests_name_what_is_wrong(world: WorldPlan, builder: FeatureBuilder) -> None:
    first, second = world.titles[0].title_id, world.titles[1].title_id
    with pytest.raises(InputError) as caught:
        builder.context("u0001", first, "tv", 24)
    assert caught.value.field == "hour"
    with pytest.raises(NotFoundError, match="nope"):
        builder.artwork("u0001", first, ["nope"])
    with pytest.raises(NotFoundError, match="no-title"):
        builder.context("u0001", "no-title", "tv", 3)
    with pytest.raises(InputError, match="not an image of title"):
        builder.artwork("u0001", first, _images(world, second))


def test_the_tags_an_image_likely_shows_are_its_tags_of_probability_one_half_or_more(
    builder: FeatureBuilder, truth
) -> None:
    ids = sorted(truth)[:20]
    for artwork_id, shown in zip(ids, builder.shown_tags(ids), strict=True):
        row = builder.artwork_tag_row(artwork_id)
        assert shown == tuple((c, float(row[c])) for c in np.flatnonzero(row >= 0.5))
    with pytest.raises(NotFoundError, match="nope"):
        builder.shown_tags([ids[0], "nope"])


def test_bad_tag_vectors_are_refused_naming_the_artwork(world: WorldPlan, truth) -> None:
    bad = dict(truth)
    victim = world.artwork[2].artwork_id
    bad[victim] = np.ones(3)
    with pytest.raises(InputError, match=victim):
        FeatureBuilder(catalog_of(world.titles, world.artwork), ViewingHistory([]), bad)


# ---- usefulness -------------------------------------------------------------------------------


def test_viewers_who_watched_sci_fi_match_a_sci_fi_title_better(world: WorldPlan, truth) -> None:
    sci_fi = [t.title_id for t in world.titles if "Sci-Fi" in t.genres]
    other = [t.title_id for t in world.titles if not {"Sci-Fi"} & set(t.genres)]
    assert len(sci_fi) >= 3 and len(other) >= 3
    history = [Interaction("fan", t, 1_700_000_000 + i, 1.0) for i, t in enumerate(sci_fi[1:])]
    history += [Interaction("other", t, 1_700_000_000 + i, 1.0) for i, t in enumerate(other[:3])]
    features = FeatureBuilder(
        catalog_of(world.titles, world.artwork), ViewingHistory(history), truth
    )
    match = SCHEMA.context_fields.index("genre_match")
    fan = features.context("fan", sci_fi[0], "tv", 21)[match]
    assert fan > features.context("other", sci_fi[0], "tv", 21)[match]


def test_taste_match_tracks_the_hidden_tag_taste(world: WorldPlan, builder) -> None:
    """Across viewers × images, the feature correlates with taste · tags / sqrt(#tags)."""
    model = world.response
    x = model.artwork_tags
    hidden = model.tag_taste @ (x / np.sqrt(np.maximum(x.sum(axis=1, keepdims=True), 1.0))).T
    column = SCHEMA.artwork_fields.index("taste_match")
    ours, theirs = [], []
    for v, viewer in enumerate(model.viewer_ids):
        for title in world.titles[::3]:
            images = _images(world, title.title_id)
            ours.extend(builder.artwork(viewer, title.title_id, images)[:, column])
            theirs.extend(hidden[v, model.artwork_index(images)])
    assert np.corrcoef(ours, theirs)[0, 1] > 0.35


def test_genre_fit_tracks_the_hidden_honesty_of_images(world: WorldPlan, builder) -> None:
    model = world.response
    column = SCHEMA.artwork_fields.index("genre_fit")
    fit = np.concatenate(
        [builder.artwork("u0001", t.title_id, _images(world, t.title_id))[:, column]
         for t in world.titles]
    )  # fmt: skip
    order = model.artwork_index([a for t in world.titles for a in _images(world, t.title_id)])
    assert np.corrcoef(fit, model.fit[order])[0, 1] > 0.5


# ---- tag stores -------------------------------------------------------------------------------


def _tag_table(world: WorldPlan, truth: dict[str, np.ndarray]) -> TagTable:
    tags = tuple(reversed(image_tags())) + ("extra",)
    ids = tuple(a.artwork_id for a in world.artwork)
    rng = np.random.default_rng(0)
    probabilities = np.stack([np.append(truth[a][::-1], 0.5) for a in ids]) * 0.9 + 0.05
    n = len(ids)
    return TagTable(
        path=Path("tags.parquet"),
        header=StoreHeader("demo", 1, "test", tags, ("objects",) * len(tags), 4),
        artwork_ids=ids,
        title_ids=tuple(a.title_id for a in world.artwork),
        embeddings=np.zeros((n, 4), np.float32),
        scores=np.zeros(probabilities.shape, np.float32),
        probabilities=probabilities.astype(np.float32),
        quality={"contrast": rng.random(n), "sharpness_score": rng.random(n)},
    )


def test_tags_from_a_store_follow_the_image_tags_order(world: WorldPlan, truth) -> None:
    table = _tag_table(world, truth)
    tags = tags_from_table(table)
    first = world.artwork[0].artwork_id
    np.testing.assert_allclose(tags[first], truth[first] * 0.9 + 0.05, atol=1e-6)
    features = FeatureBuilder(
        catalog_of(world.titles, world.artwork),
        ViewingHistory(world.history),
        tags,
        quality=quality_from_table(table),
    )
    title = world.titles[0].title_id
    quality = features.artwork("u0001", title, _images(world, title))[:, -1]
    assert np.isfinite(quality).all() and quality.std() > 0


def test_a_store_without_a_needed_tag_is_refused(world: WorldPlan, truth) -> None:
    table = _tag_table(world, truth)
    with pytest.raises(InputError, match="nonexistent"):
        tags_from_table(table, tags=("face", "nonexistent"))
