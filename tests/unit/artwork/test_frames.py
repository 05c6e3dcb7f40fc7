"""Frames of a synthetic video: cuts found, black, blurred and duplicate frames dropped, K kept."""

from __future__ import annotations

import csv
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from artwork.catalog import ArtworkCandidate, load_catalog
from artwork.catalog_edit import merge_into_catalog
from artwork.errors import InputError
from artwork.frames import (
    BLACK_BRIGHTNESS,
    FrameCandidate,
    extract_frames,
    frame_candidates,
    frame_distance,
    sample_frames,
    select_frames,
    shot_changes,
)

WIDTH, HEIGHT, FPS, EVERY_S = 320, 180, 10, 0.5
# (start s, end s, what): four sharp scenes, a black slug, a heavily blurred scene, a static
# shot of 3.5 s (seven identical samples) and a pan (frames that differ, colours that do not).
SEGMENTS = [
    (0.0, 1.5, "scene-a"),
    (1.5, 2.5, "black"),
    (2.5, 4.0, "scene-b"),
    (4.0, 5.0, "blurred"),
    (5.0, 8.5, "static"),
    (8.5, 10.0, "pan"),
]
CUTS_S = [start for start, _, _ in SEGMENTS[1:]]
SHARP = {"scene-a", "scene-b", "static", "pan"}


def _scene(seed: int, left: tuple[int, int, int], right: tuple[int, int, int], width: int):
    """A colour gradient with random shapes, a checker texture and thin lines: sharp detail."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, width)[None, :, None]
    image = np.broadcast_to(np.array(left) * (1 - t) + np.array(right) * t, (HEIGHT, width, 3))
    image = np.ascontiguousarray(image, dtype=np.uint8)
    for _ in range(12 * width // WIDTH):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y, r = (int(v) for v in rng.integers((0, 0, 8), (width, HEIGHT, 40)))
        cv2.circle(image, (x, y), r, colour, -1)
        cv2.rectangle(image, (x + r, y), (x + 2 * r, y + r // 2), colour[::-1], -1)
    yy, xx = np.mgrid[0:HEIGHT, 0:width]
    checker = ((xx // 3 + yy // 3) % 2 == 1) & (yy > HEIGHT // 2)
    image[checker] = (image[checker] * 0.6).astype(np.uint8)
    for x in range(0, width, 16):
        cv2.line(image, (x, 0), (x + 30, HEIGHT), (255, 255, 255), 1)
    return image


def _frame(what: str, i: int) -> np.ndarray:
    if what == "black":
        return np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    if what == "blurred":
        return cv2.GaussianBlur(_scene(3, (40, 160, 40), (200, 240, 120), WIDTH), (0, 0), 6)
    if what == "static":
        return _scene(4, (120, 40, 160), (240, 150, 200), WIDTH)
    if what == "pan":
        return _scene(5, (90, 90, 90), (230, 230, 200), 3 * WIDTH)[:, 12 * i : 12 * i + WIDTH]
    seed, left, right = {"scene-a": (1, (200, 30, 30), (250, 200, 40))}.get(
        what, (2, (20, 60, 200), (30, 200, 220))
    )
    image = _scene(seed, left, right, WIDTH)
    cv2.circle(image, (20 + 8 * i, 90), 12, (255, 255, 255), -1)  # a ball crossing the frame
    return image


def _encode(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        for start, end, what in SEGMENTS:
            for i in range(round((end - start) * FPS)):
                frame = av.VideoFrame.from_ndarray(_frame(what, i), format="rgb24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _encode(tmp_path_factory.mktemp("video") / "movie.mp4")


@pytest.fixture(scope="module")
def pool(video: Path) -> list[FrameCandidate]:
    return frame_candidates(video, EVERY_S)


def _segment(time_s: float) -> str:
    return next(what for start, end, what in SEGMENTS if start <= time_s < end)


def test_samples_every_half_second_at_full_size(video: Path) -> None:
    samples = list(sample_frames(video, EVERY_S))
    assert [s.time_s for s in samples] == pytest.approx([i * EVERY_S for i in range(20)])
    assert samples[0].image.shape == (HEIGHT, WIDTH, 3)
    assert next(sample_frames(video, EVERY_S, max_side=160)).image.shape == (90, 160, 3)


def test_shot_changes_are_found_at_the_cuts(video: Path) -> None:
    samples = list(sample_frames(video, EVERY_S))
    found = [samples[i].time_s for i in shot_changes([s.hist for s in samples])]
    assert len(found) == len(CUTS_S)
    for cut, time_s in zip(CUTS_S, found, strict=True):
        assert abs(time_s - cut) <= EVERY_S + 1e-6


def test_black_and_blurred_frames_are_dropped(pool: list[FrameCandidate]) -> None:
    assert pool and {_segment(c.time_s) for c in pool} == SHARP
    assert all(c.quality.brightness >= BLACK_BRIGHTNESS for c in pool)


def test_static_shot_yields_one_frame_and_no_near_duplicates(pool: list[FrameCandidate]) -> None:
    assert sum(_segment(c.time_s) == "static" for c in pool) == 1
    chosen = select_frames(pool, k=10)
    assert 4 < len(chosen) <= 10  # the pan gives a second, different frame of its shot
    for i, a in enumerate(chosen):
        assert all(frame_distance(a, b) >= 1 for b in chosen[i + 1 :])


def test_k_frames_from_different_shots_best_first(pool: list[FrameCandidate]) -> None:
    for k in (1, 2, 4):
        chosen = select_frames(pool, k)
        assert len(chosen) == k
        assert len({_segment(c.time_s) for c in chosen}) == k
        assert len({c.shot for c in chosen}) == k
        assert [c.score for c in chosen] == sorted((c.score for c in chosen), reverse=True)
    assert select_frames(pool, 0) == []


def _catalog(folder: Path) -> Path:
    (folder / "art").mkdir(parents=True)
    Image.new("RGB", (32, 18), "navy").save(folder / "art" / "key.jpg")
    (folder / "titles.csv").write_text("title_id,name,genres\nmovie,The Movie,Drama\n")
    (folder / "artwork.csv").write_text(
        "artwork_id,title_id,path,kind\n"
        "key,movie,art/key.jpg,key_art\n"
        "old,movie,art/gone.jpg,video_frame\n"  # from an earlier run; its file is gone
    )
    return folder


def test_extract_writes_stills_and_merges_into_a_loadable_catalog(
    video: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    stills = extract_frames([video], out, k=3)
    assert [s.artwork_id for s in stills] == ["movie-f00", "movie-f01", "movie-f02"]
    assert all(s.kind == "video_frame" and s.title_id == "movie" for s in stills)
    with Image.open(out / stills[0].path) as image:
        assert image.size == (WIDTH, HEIGHT)
    with open(out / "frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == [s.path for s in stills]
    assert all(_segment(float(r["time_s"])) in SHARP for r in rows)

    catalog_folder = _catalog(tmp_path / "catalog")
    merge_into_catalog(catalog_folder, stills, images_root=out)
    merge_into_catalog(catalog_folder, stills, images_root=out)  # again: replaced, not doubled
    catalog = load_catalog(catalog_folder)
    assert [a.artwork_id for a in catalog.candidates("movie")] == [
        "key",
        "movie-f00",
        "movie-f01",
        "movie-f02",
    ]
    assert catalog.image_path("movie-f02").is_file()


def test_merge_names_an_unknown_title(tmp_path: Path) -> None:
    folder = _catalog(tmp_path)
    stray = ArtworkCandidate("x-f00", "nope", "images/x-f00.jpg", "video_frame")
    with pytest.raises(InputError, match="'nope'") as info:
        merge_into_catalog(folder, [stray])
    assert info.value.field == "title_id"
    assert "old" in (folder / "artwork.csv").read_text()  # untouched


def test_corrupt_video_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(InputError) as info:
        list(sample_frames(corrupt))
    assert info.value.file == str(corrupt)
    errors: list[InputError] = []
    assert extract_frames([corrupt], tmp_path / "out", on_error=errors.append) == []
    assert [e.file for e in errors] == [str(corrupt)]


def test_rerun_replaces_a_titles_stills_and_keeps_other_titles(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    extract_frames([video], out, k=3, title_ids={"movie": "a"})
    extract_frames([video], out, k=3, title_ids={"movie": "b"})
    extract_frames([video], out, k=1, title_ids={"movie": "a"})
    with open(out / "frames.csv", newline="") as f:
        ids = sorted(r["artwork_id"] for r in csv.DictReader(f))
    assert ids == ["a-f00", "b-f00", "b-f01", "b-f02"]
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [
        *(f"{i}.jpg" for i in ids),
        "frames.csv",
    ]  # stale stills removed, no temporary files left


def test_a_title_id_that_cannot_be_a_file_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        extract_frames([tmp_path / "My Movie (2001).mp4"], tmp_path / "out")
    assert info.value.field == "title_id"
