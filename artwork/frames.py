"""Candidate stills from videos: sample frames, find shots, drop bad ones, keep the best diverse K.

Pipeline per video, in one sequential decode with bounded memory:
sample a frame every ``every_s`` seconds → a new shot starts where the colour histogram of two
consecutive samples differs by more than ``SHOT_CUT_DISTANCE`` → black frames (mean luma below
``BLACK_BRIGHTNESS`` and RMS contrast below ``BLACK_CONTRAST``) and blurred frames (sharpness
below ``BLUR_FLOOR``, or below ``BLUR_RELATIVE`` × the video's median) are dropped → a
near-duplicate of a pooled frame (``frame_distance < 1``) replaces it only when better → the
pool keeps at most ``per_shot`` frames per shot and ``POOL_SIZE`` frames in all.
``select_frames`` then picks K per title.

Written files (``extract_frames``): ``out/images/{title_id}-f{n:02d}.jpg`` (n = rank, best
first) and ``out/frames.csv`` with columns ``FRAME_FIELDS`` (paths relative to ``out``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from artwork.catalog import ArtworkCandidate, artwork_row
from artwork.errors import InputError
from artwork.quality import QualitySignals, quality_signals
from artwork.tables import read_table, write_atomically, write_table

log = logging.getLogger(__name__)

# Artwork is shown up to hero size; larger frames are scaled down so that a pool of frames
# stays in memory (1280×720 RGB is 2.7 MB, POOL_SIZE of them ~260 MB).
MAX_SIDE = 1280
# Pool of candidates kept per video while decoding: enough for K ≤ 12 from ~50 shots.
POOL_SIZE = 96
# One still per shot first, so K stills show K moments; a second one where shots are few.
PER_SHOT = 2
# HSV histogram (hue × saturation × value bins); value bins make fades and cuts to black count.
HIST_BINS = (12, 4, 4)
# Bhattacharyya distance of consecutive samples' histograms (0 same, 1 disjoint): a pan or a
# moving subject measured ≤ 0.25 and cuts between scenes 0.8–1 on our test footage; 0.4 sits
# between, nearer the motion side because a missed cut costs less than a split shot.
SHOT_CUT_DISTANCE = 0.4
# Mean Rec.601 luma below ~15/255: fades, black slugs, credits on black.
BLACK_BRIGHTNESS = 0.06
# A dark scene is not a black frame: a night sky with stars and a lit ship has mean luma ~0.06
# but RMS contrast ~0.08, a black slug (even with a small logo or noise) stays under 0.03.
BLACK_CONTRAST = 0.03
# Laplacian variance at tile size (see artwork.quality): in-focus photos 0.003–0.03, a σ = 4 px
# blur of a 512 px photo 0.0002. The floor catches hopeless frames on any footage; the relative
# test catches motion blur and focus pulls on footage that is soft (animation, grain) overall.
BLUR_FLOOR = 0.0003
BLUR_RELATIVE = 0.3
# Near-duplicate: grey 32×18 thumbnails differ by under 4 % of the luma range on average AND
# histograms are closer than 0.25: same composition, same colours (a static shot, a slow pan).
THUMB_SIZE = (32, 18)
DUP_THUMB_MAD = 0.04
DUP_HIST_DISTANCE = 0.25
# Score = Σ weight · term, each term 0..1: sharpness_score, contrast / 0.25 (a well-exposed
# photo), colourfulness / 60 ("quite colourful" per Hasler & Süsstrunk), face share / 0.03
# (a medium close-up); faces weigh most: Netflix's 2016 artwork study found faces draw viewers.
SCORE_WEIGHTS = {"sharpness": 0.3, "contrast": 0.2, "colourfulness": 0.15, "faces": 0.35}
CONTRAST_FULL = 0.25
COLOURFULNESS_FULL = 60.0
FACE_SHARE_FULL = 0.03
# Greedy max-min: value = score + DIVERSITY_WEIGHT · min(1, distance to nearest chosen / 3);
# 3 × the duplicate distance counts as "clearly different", so beyond it quality decides.
DIVERSITY_WEIGHT = 0.5
DIVERSITY_SATURATION = 3.0
JPEG_QUALITY = 92  # visually lossless for artwork, a third of the size of 100
FRAME_FIELDS = ("artwork_id", "title_id", "path", "kind", "video", "time_s", "shot", "score")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # ids become file names


@dataclass(frozen=True)
class SampledFrame:
    """One decoded frame: RGB image (long side ≤ max_side), grey thumbnail, HSV histogram."""

    time_s: float
    image: np.ndarray = field(repr=False)
    thumb: np.ndarray = field(repr=False)
    hist: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class FrameCandidate:
    """A frame that may become a still: its video, time, shot index, image, quality and score."""

    video: str
    time_s: float
    shot: int
    image: np.ndarray = field(repr=False, compare=False)
    quality: QualitySignals
    score: float
    thumb: np.ndarray = field(repr=False, compare=False)
    hist: np.ndarray = field(repr=False, compare=False)


def sample_frames(
    video_path: Path | str,
    every_s: float = 0.5,
    max_side: int = MAX_SIDE,
    progress: bool = False,
) -> Iterator[SampledFrame]:
    """Decode ``video_path`` sequentially and yield the first frame at or after each k·every_s.

    Raises ``InputError`` naming the file when it cannot be opened or decoded.
    """
    if every_s <= 0:
        raise InputError(f"must be > 0, got {every_s}", field="every_s")
    if max_side < 1:
        raise InputError(f"must be ≥ 1, got {max_side}", field="max_side")
    name = str(video_path)
    try:
        container = av.open(name)
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"cannot open video: {exc}", file=name) from exc
    with container:
        if not container.streams.video:
            raise InputError("no video stream", file=name)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 25)
        total = stream.frames or None  # 0 where the container does not say
        hidden = None if progress else True  # None: shown on a terminal only
        bar = tqdm(total=total, desc=Path(name).name, unit="frame", leave=False, disable=hidden)
        next_s, size = 0.0, None
        try:
            for index, frame in enumerate(container.decode(stream)):
                bar.update()
                time_s = frame.time if frame.time is not None else index / rate
                if time_s < next_s - 1e-6:
                    continue
                next_s = (math.floor(time_s / every_s + 1e-6) + 1) * every_s
                size = size or _fit(frame.width, frame.height, max_side)
                rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                yield _describe(time_s, rgb)
        except av.FFmpegError as exc:
            raise InputError(f"cannot decode video: {exc}", file=name) from exc
        finally:
            bar.close()


def hist_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two normalised histograms: sqrt(1 − Σ sqrt(a·b)), 0..1."""
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def shot_changes(hists: Sequence[np.ndarray], threshold: float = SHOT_CUT_DISTANCE) -> list[int]:
    """Indices i of samples that start a shot: hist_distance(hists[i - 1], hists[i]) > threshold."""
    return [i for i in range(1, len(hists)) if hist_distance(hists[i - 1], hists[i]) > threshold]


def frame_distance(a: SampledFrame | FrameCandidate, b: SampledFrame | FrameCandidate) -> float:
    """max(thumbnail MAD / DUP_THUMB_MAD, hist distance / DUP_HIST_DISTANCE); < 1: duplicate."""
    mad = float(np.abs(a.thumb - b.thumb).mean())
    return max(mad / DUP_THUMB_MAD, hist_distance(a.hist, b.hist) / DUP_HIST_DISTANCE)


def frame_score(quality: QualitySignals) -> float:
    """Σ SCORE_WEIGHTS · term (0..1); the face term counts 0 when faces were not looked for."""
    terms = {
        "sharpness": quality.sharpness_score,
        "contrast": min(1.0, quality.contrast / CONTRAST_FULL),
        "colourfulness": min(1.0, quality.colourfulness / COLOURFULNESS_FULL),
        "faces": min(1.0, (quality.largest_face_share or 0.0) / FACE_SHARE_FULL),
    }
    return sum(SCORE_WEIGHTS[name] * value for name, value in terms.items())


def frame_candidates(
    video_path: Path | str,
    every_s: float = 0.5,
    max_side: int = MAX_SIDE,
    per_shot: int = PER_SHOT,
    progress: bool = False,
) -> list[FrameCandidate]:
    """The pool of usable frames of one video (see module docstring), in time order."""
    video = str(video_path)
    pool: list[FrameCandidate] = []
    sharpness_seen: list[float] = []
    shot, previous = 0, None
    for sample in sample_frames(video_path, every_s, max_side, progress):
        if previous is not None and hist_distance(previous.hist, sample.hist) > SHOT_CUT_DISTANCE:
            shot += 1
        previous = sample
        quick = quality_signals(sample.image, detect_faces=False)
        if quick.brightness < BLACK_BRIGHTNESS and quick.contrast < BLACK_CONTRAST:
            continue
        sharpness_seen.append(quick.sharpness)
        if quick.sharpness < BLUR_FLOOR:
            continue
        twins = [c for c in pool if frame_distance(c, sample) < 1]
        # Near-duplicates share their faces, so the face-free score decides between them and
        # face detection, the costly part, runs only on frames that enter the pool.
        if any(frame_score(_faceless(c.quality)) >= frame_score(quick) for c in twins):
            continue
        quality = quality_signals(sample.image)
        score = frame_score(quality)
        candidate = FrameCandidate(
            video, sample.time_s, shot, sample.image, quality, score, sample.thumb, sample.hist
        )
        pool = [c for c in pool if all(c is not t for t in twins)] + [candidate]
        same_shot = [c for c in pool if c.shot == shot]
        if len(same_shot) > per_shot:
            pool.remove(min(same_shot, key=lambda c: c.score))
        if len(pool) > POOL_SIZE:
            pool.remove(min(pool, key=lambda c: c.score))
    if not sharpness_seen:
        return []
    floor = BLUR_RELATIVE * float(np.median(sharpness_seen))
    return sorted((c for c in pool if c.quality.sharpness >= floor), key=lambda c: c.time_s)


def select_frames(
    candidates: Sequence[FrameCandidate], k: int, per_shot: int = PER_SHOT
) -> list[FrameCandidate]:
    """At most k frames, best first: one per shot, then up to ``per_shot``; greedy max-min.

    Each step takes the allowed candidate maximising score + DIVERSITY_WEIGHT ·
    min(1, d / DIVERSITY_SATURATION), d = frame_distance to the nearest chosen frame; a
    near-duplicate of a chosen frame (d < 1) is never taken.
    """
    if k < 0:
        raise InputError(f"must be ≥ 0, got {k}", field="k")
    chosen: list[FrameCandidate] = []
    taken: dict[tuple[str, int], int] = {}
    for cap in range(1, per_shot + 1):
        while len(chosen) < k:
            best, best_value = None, -math.inf
            for c in candidates:
                if any(c is x for x in chosen) or taken.get((c.video, c.shot), 0) >= cap:
                    continue
                nearest = min((frame_distance(c, x) for x in chosen), default=math.inf)
                if nearest < 1:
                    continue
                value = c.score + DIVERSITY_WEIGHT * min(1.0, nearest / DIVERSITY_SATURATION)
                if value > best_value:
                    best, best_value = c, value
            if best is None:
                break
            chosen.append(best)
            taken[(best.video, best.shot)] = taken.get((best.video, best.shot), 0) + 1
    return sorted(chosen, key=lambda c: -c.score)


def extract_frames(
    videos: Sequence[Path],
    out: Path,
    k: int = 6,
    title_ids: Mapping[str, str] | None = None,
    *,
    every_s: float = 0.5,
    max_side: int = MAX_SIDE,
    on_error: Callable[[InputError], None] | None = None,
) -> list[ArtworkCandidate]:
    """Write the best diverse k stills of each title's videos to ``out``; return them.

    ``title_ids`` maps a video's file stem to its title id (default: the stem itself); videos
    of one title are pooled. A video that cannot be read is passed to ``on_error`` (default:
    logged as a warning) and skipped. ``out/frames.csv`` keeps rows of other titles.
    """
    by_title: dict[str, list[Path]] = {}
    for video in map(Path, videos):
        title_id = (title_ids or {}).get(video.stem, video.stem)
        if not _SAFE_ID.fullmatch(title_id):
            message = f"not usable in a file name: {title_id!r}"
            raise InputError(message, file=str(video), field="title_id")
        by_title.setdefault(title_id, []).append(video)
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    written: list[ArtworkCandidate] = []
    rows: list[dict[str, str]] = []
    redone: set[str] = set()
    for title_id, paths in by_title.items():
        pool: list[FrameCandidate] = []
        for video in paths:
            try:
                pool += frame_candidates(video, every_s, max_side, progress=True)
            except InputError as exc:
                (on_error or _log_error)(exc)
        if not pool:
            continue  # nothing usable: earlier stills of this title stay as they were
        redone.add(title_id)
        for stale in (out / "images").glob(f"{title_id}-f[0-9][0-9].jpg"):
            stale.unlink()
        for n, frame in enumerate(select_frames(pool, k)):
            still = _write_still(out, f"{title_id}-f{n:02d}", title_id, frame)
            written.append(still)
            rows.append(_frame_row(still, frame))
    frames_csv = out / "frames.csv"
    _, earlier = read_table(frames_csv) if frames_csv.exists() else ([], [])
    kept = [r for r in earlier if r.get("title_id") not in redone]
    write_table(frames_csv, list(FRAME_FIELDS), kept + rows)
    return written


# --- frames --------------------------------------------------------------------------------


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _describe(time_s: float, rgb: np.ndarray) -> SampledFrame:
    small = cv2.resize(rgb, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    thumb = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    hsv = cv2.cvtColor(cv2.resize(rgb, (128, 72), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256])
    hist = (hist / max(float(hist.sum()), 1.0)).astype(np.float32)
    return SampledFrame(float(time_s), rgb, thumb, hist)


def _faceless(quality: QualitySignals) -> QualitySignals:
    return replace(quality, faces_count=None, largest_face_share=None, face_boxes=None)


def _write_still(
    out: Path, artwork_id: str, title_id: str, frame: FrameCandidate
) -> ArtworkCandidate:
    """Save a frame as ``out/images/{artwork_id}.jpg``; the still candidate it becomes."""
    still = ArtworkCandidate(artwork_id, title_id, f"images/{artwork_id}.jpg", "video_frame")
    image = Image.fromarray(frame.image)
    write_atomically(out / still.path, lambda p: image.save(p, "JPEG", quality=JPEG_QUALITY))
    return still


def _frame_row(still: ArtworkCandidate, frame: FrameCandidate) -> dict[str, str]:
    """A ``frames.csv`` row: the still's catalog fields, then where it came from and its score."""
    where = {"video": frame.video, "time_s": f"{frame.time_s:.3f}", "shot": str(frame.shot)}
    return {**artwork_row(still, FRAME_FIELDS[:4]), **where, "score": f"{frame.score:.4f}"}


def _log_error(error: InputError) -> None:
    log.warning("skipped: %s", error)
