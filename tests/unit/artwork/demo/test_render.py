"""The still renderer: determinism, size, every tag renders, moods show in pixel statistics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from artwork.demo.canvas import Scene
from artwork.demo.draw_objects import OBJECTS
from artwork.demo.layout import place_objects
from artwork.demo.plan import EXPRESSIONS, IMPLIED_OBJECTS, SETTINGS, STILL_SIZE, StillPlan
from artwork.demo.render import render_still
from artwork.vocabulary import default_vocabulary

VOCAB = default_vocabulary()


def plan(
    setting: str = "field",
    objects: tuple[str, ...] = ("person",),
    moods: tuple[str, ...] = (),
    genres: tuple[str, ...] = (),
    expression: str = "neutral",
    seed: int = 7,
) -> StillPlan:
    objects = tuple(dict.fromkeys((*IMPLIED_OBJECTS.get(setting, ()), *objects)))
    return StillPlan(setting, objects, moods, genres, expression, seed)


def pixels(p: StillPlan) -> np.ndarray:
    return np.asarray(render_still(p), dtype=np.float32)


def test_same_plan_same_pixels_other_seed_other_pixels() -> None:
    p = plan(objects=("car", "dog", "sun"), moods=("warm", "tense"), genres=("Action",))
    assert render_still(p).tobytes() == render_still(p).tobytes()
    other = StillPlan(p.setting, p.objects, p.moods, p.genres, p.expression, p.seed + 1)
    assert render_still(other).tobytes() != render_still(p).tobytes()


@pytest.mark.parametrize("size", [STILL_SIZE, (192, 108), (300, 200)])
def test_rgb_image_of_requested_size(size: tuple[int, int]) -> None:
    img = render_still(plan(), size)
    assert img.mode == "RGB" and img.size == size


def test_default_size_is_16_by_9_still_size() -> None:
    assert render_still(plan()).size == STILL_SIZE == (384, 216)


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_renders(setting: str) -> None:
    img = render_still(plan(setting, objects=()))
    assert np.asarray(img).std() > 5  # not a blank frame


@pytest.mark.parametrize("tag", VOCAB.groups["objects"].tags)
def test_every_object_renders(tag: str) -> None:
    assert render_still(plan("field", objects=(tag,), seed=11)).size == STILL_SIZE


def test_every_object_has_a_painter() -> None:
    assert set(OBJECTS) == set(VOCAB.groups["objects"].tags)


@pytest.mark.parametrize(
    ("mood", "setting"),
    list(itertools.product(VOCAB.groups["moods"].tags, ("street", "graveyard"))),
)
def test_every_mood_renders(mood: str, setting: str) -> None:
    assert render_still(plan(setting, objects=("person", "moon"), moods=(mood,))).mode == "RGB"


@pytest.mark.parametrize("genre", VOCAB.groups["genres"].tags)
def test_every_genre_renders(genre: str) -> None:
    assert render_still(plan("desert", objects=("horse", "cactus"), genres=(genre,))).mode == "RGB"


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_every_expression_renders_on_faces_and_figures(expression: str) -> None:
    render_still(plan("room", objects=("face", "person"), expression=expression))


def test_busy_still_with_many_cues_renders() -> None:
    p = plan(
        "sea",
        objects=("face", "boat", "balloon", "explosion"),
        moods=("dark", "cold", "tense"),
        genres=("Thriller", "Film-Noir", "Documentary", "Mystery"),
    )
    assert render_still(p).size == STILL_SIZE


def luminance(a: np.ndarray) -> float:
    return float((a @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).mean())


@pytest.mark.parametrize("setting", ["field", "street", "room"])
def test_dark_is_darker_than_bright(setting: str) -> None:
    dark = luminance(pixels(plan(setting, objects=("person",), moods=("dark",))))
    bright = luminance(pixels(plan(setting, objects=("person",), moods=("bright",))))
    assert dark < 0.6 * bright


@pytest.mark.parametrize("setting", ["field", "snow", "stage"])
def test_warm_is_redder_than_cold(setting: str) -> None:
    def red_minus_blue(mood: str) -> float:
        a = pixels(plan(setting, objects=("house",), moods=(mood,)))
        return float((a[..., 0] - a[..., 2]).mean())

    assert red_minus_blue("warm") > red_minus_blue("cold") + 30


def test_film_noir_is_nearly_grey() -> None:
    a = pixels(plan(objects=("car", "flower"), genres=("Film-Noir",)))
    assert float(np.abs(a - a.mean(axis=2, keepdims=True)).mean()) < 10


def test_thriller_has_black_letterbox_bars() -> None:
    a = pixels(plan(genres=("Thriller",), moods=("bright",)))
    assert a[:10].max() == 0 and a[-10:].max() == 0


@pytest.mark.parametrize("seed", range(40))
def test_layout_boxes_never_overlap(seed: int) -> None:
    rng = np.random.default_rng(seed)
    boxed = [t for t, s in OBJECTS.items() if s.anchor not in ("backdrop", "portrait")]
    tags = [str(t) for t in rng.choice(boxed, 4, replace=False)] + (["face"] if seed % 2 else [])
    size = (768, 432)
    scene = Scene(250, (265, 419))
    safe = (23.0, 17.0, 745.0, 415.0)
    placed = place_objects(tags, OBJECTS, scene, safe, size, 1.2, 250.0, rng)
    assert sorted(p.tag for p in placed) == sorted(tags)
    for a, b in itertools.combinations(placed, 2):
        ax0, ay0, ax1, ay1 = a.box
        bx0, by0, bx1, by1 = b.box
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)
    for p in placed:
        assert safe[0] - 1 <= p.box[0] and p.box[2] <= safe[2] + 1 and p.box[1] >= safe[1] - 1


def test_contact_sheet_of_stills_is_an_image() -> None:
    from artwork.demo.sheet import contact_sheet

    sheet = contact_sheet([(render_still(plan()), "objects: person")], columns=2)
    assert isinstance(sheet, Image.Image)
