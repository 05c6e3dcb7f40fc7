"""Quality signals on scikit-image's photographs: exposure, sharpness, colour, faces, validation."""

from __future__ import annotations

import json
import pickle

import cv2
import numpy as np
import pytest
from skimage import data

from artwork.errors import ArtworkError, InputError
from artwork.quality import QualitySignals, quality_signals


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def test_astronaut_has_one_face_on_her_face(astronaut: np.ndarray) -> None:
    q = quality_signals(astronaut)
    assert q.faces_count == 1 and len(q.face_boxes) == 1
    x, y, w, h = q.face_boxes[0]
    assert x < 220 < x + w and y < 110 < y + h  # her face is centred near (220, 110)
    assert q.largest_face_share == pytest.approx(w * h / (512 * 512))


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket"])
def test_no_human_face_in_coffee_cat_or_rocket(name: str) -> None:
    assert quality_signals(getattr(data, name)()).faces_count == 0


def test_two_people_side_by_side_give_two_faces(astronaut: np.ndarray) -> None:
    # scikit-image bundles no group photo; the astronaut beside her mirror image stands in.
    q = quality_signals(np.hstack([astronaut, astronaut[:, ::-1]]))
    assert q.faces_count == 2
    centres = sorted(x + w / 2 for x, _, w, _ in q.face_boxes)
    assert centres[0] < 512 < centres[1]


def test_darkened_copy_is_darker(astronaut: np.ndarray) -> None:
    dark = (astronaut * 0.5).astype(np.uint8)
    assert quality_signals(dark).brightness < quality_signals(astronaut).brightness - 0.15


def test_blurred_copy_is_less_sharp() -> None:
    coffee = data.coffee()
    sharp = quality_signals(coffee, detect_faces=False)
    blurred = quality_signals(cv2.GaussianBlur(coffee, (0, 0), 3), detect_faces=False)
    assert blurred.sharpness < 0.2 * sharp.sharpness
    assert blurred.sharpness_score < sharp.sharpness_score
    assert 0 < blurred.sharpness_score < 1


def test_grey_copy_has_no_colourfulness(astronaut: np.ndarray) -> None:
    grey = np.repeat(cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert quality_signals(grey).colourfulness < 1e-6
    assert quality_signals(astronaut).colourfulness > 30  # "moderately colourful" or more


@pytest.mark.parametrize("name", ["astronaut", "retina"])
def test_sharpness_barely_depends_on_image_size(name: str) -> None:
    image = getattr(data, name)()
    size = 1024 if name == "astronaut" else 706
    other = cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)
    ratio = (
        quality_signals(other, detect_faces=False).sharpness
        / quality_signals(image, detect_faces=False).sharpness
    )
    assert 0.75 < ratio < 1.33  # the Laplacian variance at native size changes 4–10×


def test_size_aspect_and_bounds_of_a_16_by_9_frame() -> None:
    q = quality_signals(np.full((180, 320, 3), 128, np.uint8))
    assert (q.width, q.height) == (320, 180)
    assert q.aspect == pytest.approx(16 / 9)
    assert q.brightness == pytest.approx(128 / 255, abs=1e-3)
    assert q.contrast == pytest.approx(0, abs=1e-6) and q.sharpness == pytest.approx(0, abs=1e-9)


def test_without_face_search_the_face_fields_are_none(astronaut: np.ndarray) -> None:
    q = quality_signals(astronaut, detect_faces=False)
    assert q.faces_count is None and q.largest_face_share is None and q.face_boxes is None


def test_signals_serialise_to_json_and_pickle(astronaut: np.ndarray) -> None:
    q = quality_signals(astronaut)
    row = json.loads(json.dumps(q.to_dict()))
    assert row["faces_count"] == 1 and len(row["face_boxes"][0]) == 4
    assert pickle.loads(pickle.dumps(q)) == q
    assert isinstance(q, QualitySignals)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((10, 10, 3), np.float32),
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((0, 10, 3), np.uint8),
        [[0, 0, 0]],
    ],
    ids=["float", "grey", "rgba", "empty", "list"],
)
def test_bad_images_are_rejected_naming_the_field(bad: object) -> None:
    with pytest.raises(InputError) as info:
        quality_signals(bad)  # type: ignore[arg-type]
    assert info.value.field == "image"


def test_an_opencv_without_haar_cascades_is_named(monkeypatch) -> None:
    import threading

    from artwork import quality

    monkeypatch.setattr(quality, "_cascades", threading.local())  # nothing cached
    monkeypatch.delattr(quality.cv2, "CascadeClassifier")
    with pytest.raises(ArtworkError, match=r"no Haar cascades.*opencv-python-headless>=4.10,<5"):
        quality.check_face_detector()
