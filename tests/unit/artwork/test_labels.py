"""Tag labels from a world's truth and from people, applied in order; bad rows named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artwork.errors import InputError, InputErrors
from artwork.labels import human_labels, load_labels, write_human_labels

TAGS = ("car", "gun", "dark", "Action")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_truth_knows_every_tag_and_people_override_it(tmp_path: Path) -> None:
    truth = _write(tmp_path / "truth.csv",
                   "artwork_id,title_id,setting,expression,objects,moods,genres\n"
                   "a1,t1,street,neutral,car,dark,Action\n"
                   "a2,t1,street,neutral,car|gun,,Action\n"
                   "zz,t9,street,neutral,car,dark,Action\n")  # fmt: skip
    people = _write(tmp_path / "people.csv", "artwork_id,tag,label\na1,car,0\na3,gun,1\n")
    labels = load_labels([truth, people], ["a1", "a2", "a3"], TAGS)
    np.testing.assert_array_equal(labels.labels, [[0, 0, 1, 1], [1, 1, 0, 1], [0, 1, 0, 0]])
    np.testing.assert_array_equal(labels.known, [[1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 0, 0]])
    assert labels.counts() == {"known": 9, "positive": 6}


def test_bad_rows_are_reported_with_line_and_field(tmp_path: Path) -> None:
    people = _write(tmp_path / "people.csv",
                    "artwork_id,tag,label\na1,unicorn,1\na1,car,yes\na1,gun,1\n")  # fmt: skip
    with pytest.raises(InputErrors) as info:
        load_labels([people], ["a1"], TAGS)
    messages = [str(e) for e in info.value.errors]
    assert messages[0].startswith("people.csv:2: tag: unknown tag 'unicorn'")
    assert messages[1].startswith("people.csv:3: label: expected 0 or 1")


def test_unrecognised_file_is_refused(tmp_path: Path) -> None:
    other = _write(tmp_path / "other.csv", "id,whatever\n1,2\n")
    with pytest.raises(InputError, match="expected columns"):
        load_labels([other], ["a1"], TAGS)


def test_human_labels_name_each_bad_item_and_field() -> None:
    items = [
        {"artwork_id": "a1", "tag": "car", "label": 1},
        {"artwork_id": "nope", "tag": "car", "label": 1},
        {"artwork_id": "a1", "tag": "unicorn", "label": 0},
        {"artwork_id": "a1", "tag": "car", "label": 2},
        {"artwork_id": "a1", "tag": "car", "label": True},
    ]
    with pytest.raises(InputErrors) as info:
        human_labels(items, artwork_ids={"a1"}, tags=TAGS)
    assert [e.field for e in info.value.errors] == [
        "labels[1].artwork_id", "labels[2].tag", "labels[3].label", "labels[4].label",
    ]  # fmt: skip
    with pytest.raises(InputErrors, match="at most 1 per batch"):
        human_labels(items[:2], artwork_ids={"a1"}, tags=TAGS, max_labels=1)


def test_written_human_labels_are_what_load_labels_reads(tmp_path: Path) -> None:
    labels = human_labels(
        [{"artwork_id": "a1", "tag": "car", "label": 1},
         {"artwork_id": "a,2", "tag": "dark", "label": 0}],
        artwork_ids={"a1", "a,2"}, tags=TAGS,
    )  # fmt: skip
    path = write_human_labels(tmp_path / "out" / "labels.csv", labels)
    assert path.read_text().splitlines()[0] == "artwork_id,tag,label"
    read = load_labels([path], ["a1", "a,2"], TAGS)
    np.testing.assert_array_equal(read.labels, [[1, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(read.known, [[1, 0, 0, 0], [0, 0, 1, 0]])
