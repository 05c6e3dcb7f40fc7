"""The tag model: prompt averaging, zero-shot probabilities, Platt calibration, save and load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.tag_metrics import expected_calibration_error
from models.tags import CARD_FILE, UNCALIBRATED, TagModel, TagModelError

# Prompt → embedding: each word a fixed direction, so every expected value is known exactly.
AXES = {"cat": 0, "kitty": 1, "dog": 2, "dark": 3, "thing": 4, "scene": 5, "mood": 6}


def fake_encode(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), len(AXES)), dtype=np.float32)
    for i, text in enumerate(texts):
        out[i, AXES[text]] = 2.0  # not unit length: the model must normalise
    return out


def make_model(logit_scale: float = 100.0) -> TagModel:
    return TagModel.from_prompts(
        fake_encode,
        tags={"objects": {"cat": ["cat", "kitty"], "dog": ["dog"]}, "moods": {"dark": ["dark"]}},
        neutral_prompts={"objects": ["thing", "scene"], "moods": ["mood"]},
        model_id="fake@1",
        vocabulary_version=3,
        logit_scale=logit_scale,
    )


def unit(*weights: float) -> np.ndarray:
    v = np.array(weights + (0.0,) * (len(AXES) - len(weights)), dtype=np.float32)
    return v / np.linalg.norm(v)


def test_tag_embedding_is_the_normalised_mean_of_its_prompts() -> None:
    model = make_model()
    assert model.tags == ("cat", "dog", "dark")
    assert model.groups == ("objects", "objects", "moods")
    np.testing.assert_allclose(model.tag_embeddings[0], unit(1, 1), atol=1e-6)
    np.testing.assert_allclose(model.neutral_embeddings[0], unit(0, 0, 0, 0, 1, 1), atol=1e-6)


def test_score_is_tag_similarity_minus_its_groups_neutral() -> None:
    model = make_model()
    x = unit(1, 0, 0, 1, 1)  # cat-ish, dark, something
    s = model.scores(x[None])[0]
    neutral_objects = float(x @ unit(0, 0, 0, 0, 1, 1))
    assert s[0] == pytest.approx(float(x @ unit(1, 1)) - neutral_objects, abs=1e-6)
    assert s[1] == pytest.approx(0.0 - neutral_objects, abs=1e-6)
    assert s[2] == pytest.approx(float(x[3]) - 0.0, abs=1e-6)  # moods' neutral is "mood"


def test_uncalibrated_probability_is_the_two_prompt_softmax_and_monotone() -> None:
    model = make_model(logit_scale=50.0)
    scores = np.linspace(-0.2, 0.2, 41)[:, None].repeat(3, axis=1)
    p = model.probabilities_from_scores(scores)
    assert np.all(np.diff(p, axis=0) > 0)
    np.testing.assert_allclose(p[20], 0.5)
    np.testing.assert_allclose(p[:, 0], 1 / (1 + np.exp(-50 * scores[:, 0])), rtol=1e-5)
    assert model.calibration_version == UNCALIBRATED


def synthetic_labels(slope: float, intercept: float, n: int, seed: int = 0):
    """Scores in [−0.1, 0.1] for three tags and labels drawn from σ(slope·s + intercept)."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(-0.1, 0.1, size=(n, 3))
    labels = (rng.random((n, 3)) < 1 / (1 + np.exp(-(slope * scores + intercept)))).astype(int)
    return scores, labels


def test_platt_fit_recovers_a_known_logistic_truth_and_lowers_ece() -> None:
    model = make_model(logit_scale=100.0)  # truth is 25·s − 1: the default is far too sharp
    scores, labels = synthetic_labels(25.0, -1.0, 4000)
    fitted = model.fit_calibration(scores, labels)
    assert fitted.calibrated.all()
    np.testing.assert_allclose(fitted.slopes, 25.0, rtol=0.2)
    np.testing.assert_allclose(fitted.intercepts, -1.0, atol=0.2)
    test_scores, test_labels = synthetic_labels(25.0, -1.0, 4000, seed=1)
    before = expected_calibration_error(test_labels, model.probabilities_from_scores(test_scores))
    after = expected_calibration_error(test_labels, fitted.probabilities_from_scores(test_scores))
    assert after < 0.03 < 0.1 < before
    assert fitted.calibration_version not in (UNCALIBRATED, "")
    assert fitted.fit_calibration(scores, labels).calibration_version == (
        fitted.calibration_version
    )  # the version is a hash of the fitted parameters


def test_tags_with_too_few_labels_keep_the_default() -> None:
    model = make_model(logit_scale=100.0)
    scores, labels = synthetic_labels(25.0, -1.0, 200)
    known = np.ones_like(labels, dtype=bool)
    known[5:, 1] = False  # tag "dog": only 5 known labels
    labels[:, 2] = 1  # tag "dark": no negative
    fitted = model.fit_calibration(scores, labels, known)
    assert fitted.calibrated.tolist() == [True, False, False]
    assert fitted.slopes[1:].tolist() == [100.0, 100.0]
    assert fitted.intercepts[1:].tolist() == [0.0, 0.0]
    assert fitted.label_counts[1].sum() == 5 and fitted.label_counts[2].tolist() == [200, 0]


def test_fit_calibration_checks_its_inputs() -> None:
    model = make_model()
    with pytest.raises(TagModelError, match=r"labels: expected shape \(4, 3\)"):
        model.fit_calibration(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(TagModelError, match="0 or 1"):
        model.fit_calibration(np.zeros((4, 3)), np.full((4, 3), 2))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    scores, labels = synthetic_labels(25.0, -1.0, 500)
    model = make_model().fit_calibration(scores, labels).with_metrics({"ece": 0.012})
    model.save(tmp_path / "tags")
    loaded = TagModel.load(tmp_path / "tags")
    for name in ("tags", "groups", "group_names", "model_id", "vocabulary_version",
                 "calibration_version", "logit_scale", "created_at", "metrics"):  # fmt: skip
        assert getattr(loaded, name) == getattr(model, name), name
    for name in ("tag_embeddings", "neutral_embeddings", "slopes", "intercepts", "label_counts"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    x = np.random.default_rng(0).normal(size=(5, len(AXES)))
    np.testing.assert_array_equal(loaded.probabilities(x), model.probabilities(x))
    card = json.loads((tmp_path / "tags" / CARD_FILE).read_text())
    assert card["kind"] == "tag_model" and card["label_counts"]["cat"]["calibrated"] is True
    files = sorted(p.name for p in (tmp_path / "tags").iterdir())
    assert files == ["tag_model.json", "tag_model.safetensors"]  # no temp files left behind


@pytest.mark.parametrize(
    ("change", "message"),
    [({"kind": "policy"}, "kind is 'policy'"), ({"schema_version": 99}, "schema_version 99"),
     ({"weights_sha256": "0" * 64}, "does not match the card")],
)  # fmt: skip
def test_load_refuses_what_it_cannot_trust(tmp_path: Path, change: dict, message: str) -> None:
    folder = make_model().save(tmp_path / "tags")
    card = json.loads((folder / CARD_FILE).read_text())
    (folder / CARD_FILE).write_text(json.dumps({**card, **change}))
    with pytest.raises(TagModelError, match=message):
        TagModel.load(folder)


def test_load_of_a_folder_without_a_model_says_so(tmp_path: Path) -> None:
    with pytest.raises(TagModelError, match="tag_model.json: missing"):
        TagModel.load(tmp_path)
