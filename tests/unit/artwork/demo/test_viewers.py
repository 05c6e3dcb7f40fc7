"""Viewer profiles: the public part of each demo viewer, written and read back."""

from __future__ import annotations

import numpy as np
import pytest

from artwork.demo.genre_cues import genre_tag_profile
from artwork.demo.viewers import plan_viewers, read_viewer_profiles, write_viewer_profiles
from artwork.errors import InputError
from artwork.vocabulary import GENRES


def test_profiles_round_trip(tmp_path):
    viewers = plan_viewers(20, GENRES, genre_tag_profile(), np.random.default_rng(0))
    write_viewer_profiles(tmp_path / "viewers.csv", viewers)
    profiles = read_viewer_profiles(tmp_path / "viewers.csv")
    assert list(profiles) == list(viewers.ids)
    assert profiles[viewers.ids[3]] == (viewers.device[3], int(viewers.hour[3]))


@pytest.mark.parametrize(
    ("row", "field"), [("u1,tv,25", "hour"), ("u1,tv,", "hour"), (",tv,3", "viewer_id/device")]
)
def test_a_bad_row_is_named(tmp_path, row, field):
    (tmp_path / "viewers.csv").write_text(f"viewer_id,device,hour\nu0,web,20\n{row}\n")
    with pytest.raises(InputError, match=f"viewers.csv:3: {field}"):
        read_viewer_profiles(tmp_path / "viewers.csv")
