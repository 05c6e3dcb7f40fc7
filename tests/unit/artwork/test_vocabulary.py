"""The tag vocabulary: the shipped YAML loads, prompts are formed, bad files are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from artwork.errors import InputError
from artwork.vocabulary import default_vocabulary, load_vocabulary


def test_shipped_vocabulary_has_the_three_groups_and_movielens_genres() -> None:
    vocab = default_vocabulary()
    assert len(vocab.genres) == 19 and "Film-Noir" in vocab.genres and "IMAX" in vocab.genres
    assert len(vocab.objects) >= 20 and len(vocab.moods) >= 8
    assert vocab.group_of("spaceship") == "objects" and vocab.group_of("tense") == "moods"
    with pytest.raises(KeyError):
        vocab.group_of("unicorn")


def test_prompts_fill_every_template_with_every_phrase() -> None:
    group = default_vocabulary().groups["genres"]
    prompts = group.prompts("Sci-Fi")
    assert len(prompts) == len(group.templates) * len(group.phrases["Sci-Fi"])
    assert "a still from a science fiction movie." in prompts
    neutral = group.neutral_prompts()
    assert neutral and not set(neutral) & set(prompts)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "expected a mapping"),
        ("version: 1\ngroups: {objects: {templates: ['{}'], neutral: [x]}}", "objects"),
        ("version: 1\ngroups:\n  objects: {templates: ['{}'], neutral: [x], tags: {a: []}}",
         "objects.a"),
    ],
)  # fmt: skip
def test_bad_vocabulary_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "vocab.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_vocabulary(path)
