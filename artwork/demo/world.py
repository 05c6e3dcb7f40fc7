"""Builds and loads the demo world: a catalog folder plus the hidden truth that simulators use.

A world folder holds (same seed → byte-identical files):

    titles.csv, artwork.csv, images/*.jpg   the catalog (see ``artwork.catalog``)
    truth.csv           each still's setting, expression, objects, moods and genres
    viewers.csv         each viewer's id, usual device and hour
    interactions.csv    past viewing (see ``artwork.interactions``)
    response_model.json hidden tastes and the click / quality-play model
    world.json          kind, version, seed, sizes and the SHA-256 of every other file
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm import tqdm

from artwork.catalog import ArtworkCandidate, Catalog, Title, load_catalog, write_catalog
from artwork.demo.genre_cues import genre_tag_profile, image_tags
from artwork.demo.plan import STILL_SIZE, StillPlan
from artwork.demo.planner import plan_stills, plan_titles
from artwork.demo.response import ResponseModel
from artwork.demo.viewers import Viewers, plan_viewers, write_viewer_profiles
from artwork.errors import ArtifactError, InputError
from artwork.interactions import Interaction, ViewingHistory, load_history, write_history
from artwork.vocabulary import default_vocabulary

KIND = "demo_world"
VERSION = 1
JPEG_QUALITY = 90
HISTORY_END = 1_767_225_600  # 2026-01-01T00:00:00Z: past viewing ends here
HISTORY_DAYS = 180
TRUTH_COLUMNS = ("artwork_id", "title_id", "setting", "expression", "objects", "moods", "genres")


@dataclass(frozen=True)
class WorldSpec:
    """What to build: the seed and the sizes."""

    seed: int = 7
    titles: int = 200
    viewers: int = 1000
    min_stills: int = 4
    max_stills: int = 8

    def __post_init__(self) -> None:
        for name in ("titles", "viewers", "min_stills"):
            if getattr(self, name) < 1:
                raise InputError("must be at least 1", field=name)
        if self.max_stills < self.min_stills:
            raise InputError("must be at least min_stills", field="max_stills")


@dataclass(frozen=True)
class DemoWorld:
    """A loaded world: its catalog, history and hidden truth."""

    root: Path
    spec: WorldSpec
    catalog: Catalog
    history: ViewingHistory
    response: ResponseModel
    truth: dict[str, StillPlan]


@dataclass(frozen=True)
class WorldPlan:
    """Everything a world holds except the rendered pixels."""

    spec: WorldSpec
    titles: list[Title]
    artwork: list[ArtworkCandidate]
    plans: list[StillPlan]
    viewers: Viewers
    response: ResponseModel
    history: list[Interaction]


def plan_world(spec: WorldSpec) -> WorldPlan:
    """Draw titles, still plans, viewers, the response model and past viewing from the seed."""
    streams = np.random.SeedSequence(spec.seed).spawn(5)
    rng_titles, rng_stills, rng_viewers, rng_hidden, rng_history = map(
        np.random.default_rng, streams
    )
    titles = plan_titles(spec.titles, rng_titles)
    artwork: list[ArtworkCandidate] = []
    plans: list[StillPlan] = []
    for title in titles:
        for j, plan in enumerate(plan_stills(title, rng_stills, spec.min_stills, spec.max_stills)):
            artwork_id = f"{title.title_id}-a{j + 1}"
            artwork.append(ArtworkCandidate(artwork_id, title.title_id, f"images/{artwork_id}.jpg"))
            plans.append(plan)
    profile = genre_tag_profile()
    viewers = plan_viewers(spec.viewers, default_vocabulary().genres, profile, rng_viewers)
    response = _response_model(titles, artwork, plans, viewers, profile, rng_hidden)
    history = simulate_history(response, rng_history)
    return WorldPlan(spec, titles, artwork, plans, viewers, response, history)


def build_world(out: Path | str, spec: WorldSpec, workers: int = 0, force: bool = False) -> Path:
    """Generate a world into ``out`` (atomically: a temporary folder renamed at the end).

    ``workers`` processes render the stills (0 = one per CPU core). An existing ``out`` is an
    error unless ``force``.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError("folder exists and is not empty (use --force)", file=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    world = plan_world(spec)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "images").mkdir()
        _render_all(tmp, world.artwork, world.plans, workers)
        write_catalog(tmp, world.titles, world.artwork)
        _write_truth(tmp / "truth.csv", world.artwork, world.plans)
        write_viewer_profiles(tmp / "viewers.csv", world.viewers)
        world.response.save(tmp / "response_model.json")
        write_history(tmp / "interactions.csv", world.history)
        _write_manifest(tmp, spec)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def load_world(folder: Path | str) -> DemoWorld:
    """Load a world folder written by ``build_world``; checks its kind and version."""
    root = Path(folder)
    manifest_path = root / "world.json"
    if not manifest_path.is_file():
        raise ArtifactError(f"{root}: not a demo world (world.json missing)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("kind") != KIND or manifest.get("version") != VERSION:
        raise ArtifactError(
            f"{manifest_path}: expected kind {KIND!r} version {VERSION}, found "
            f"{manifest.get('kind')!r} version {manifest.get('version')!r}; rebuild the world"
        )
    catalog = load_catalog(root)
    return DemoWorld(
        root=root,
        spec=WorldSpec(**manifest["spec"]),
        catalog=catalog,
        history=load_history(root / "interactions.csv", catalog.titles),
        response=ResponseModel.load(root / "response_model.json"),
        truth=read_truth(root / "truth.csv"),
    )


def read_truth(path: Path | str) -> dict[str, StillPlan]:
    """Each artwork's plan (its truth labels) from ``truth.csv``; the seed is not stored (0)."""
    truth = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            truth[row["artwork_id"]] = StillPlan(
                setting=row["setting"],
                objects=_split(row["objects"]),
                moods=_split(row["moods"]),
                genres=_split(row["genres"]),
                expression=row["expression"],
                seed=0,
            )
    return truth


def _split(cell: str) -> tuple[str, ...]:
    return tuple(cell.split("|")) if cell else ()


def simulate_history(model: ResponseModel, rng: np.random.Generator) -> list[Interaction]:
    """Past viewing: each viewer watched titles they like more often, and more of them.

    Per viewer: n ~ lognormal (median 15, at least 1); titles drawn without replacement with
    P ∝ exp(1.5·genre_match + 0.8·quality); watched ~ Beta with mean σ(1.2·match + 0.5·quality).
    """
    n_titles = len(model.title_ids)
    all_titles = np.arange(n_titles)
    out = []
    for v, viewer_id in enumerate(model.viewer_ids):
        n = int(min(max(1, round(rng.lognormal(np.log(15), 0.8))), max(1, n_titles // 2)))
        match = model.genre_match(v, all_titles)
        score = 1.5 * match + 0.8 * model.title_quality
        p = np.exp(score - score.max())
        picked = rng.choice(n_titles, size=n, replace=False, p=p / p.sum())
        days = np.sort(rng.uniform(0, HISTORY_DAYS, size=n).astype(int))
        for t, day in zip(picked, days, strict=True):
            mean = 1.0 / (1.0 + np.exp(-(1.2 * match[t] + 0.5 * model.title_quality[t])))
            watched = rng.beta(4 * mean + 0.5, 4 * (1 - mean) + 0.5)
            hour = int(np.clip(round(rng.normal(model.viewer_hour[v], 1.0)), 0, 23))
            second = int(rng.integers(0, 3600))
            timestamp = HISTORY_END - (HISTORY_DAYS - day) * 86_400 + hour * 3600 + second
            out.append(Interaction(viewer_id, model.title_ids[t], timestamp, round(watched, 3)))
    return out


# --- building blocks ---------------------------------------------------------------------------


def _render_one(job: tuple[StillPlan, str]) -> str:
    from artwork.demo.render import render_still  # the renderer is only needed when building

    plan, path = job
    render_still(plan, STILL_SIZE).save(path, "JPEG", quality=JPEG_QUALITY)
    return path


def _render_all(
    root: Path, artwork: list[ArtworkCandidate], plans: list[StillPlan], workers: int
) -> None:
    jobs = [(plan, str(root / a.path)) for a, plan in zip(artwork, plans, strict=True)]
    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(jobs), desc="rendering stills", unit="img", disable=None)
    if workers == 1:
        for job in jobs:
            _render_one(job)
            bar.update()
    else:
        with get_context("spawn").Pool(workers) as pool:
            for _ in pool.imap_unordered(_render_one, jobs, chunksize=8):
                bar.update()
    bar.close()


def _write_truth(path: Path, artwork: list[ArtworkCandidate], plans: list[StillPlan]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRUTH_COLUMNS)
        for a, p in zip(artwork, plans, strict=True):
            w.writerow([a.artwork_id, a.title_id, p.setting, p.expression,
                        "|".join(p.objects), "|".join(p.moods), "|".join(p.genres)])  # fmt: skip


def _response_model(
    titles: list[Title],
    artwork: list[ArtworkCandidate],
    plans: list[StillPlan],
    viewers: Viewers,
    profile: np.ndarray,
    rng: np.random.Generator,
) -> ResponseModel:
    genres, tags = default_vocabulary().genres, image_tags()
    title_index = {t.title_id: i for i, t in enumerate(titles)}
    title_genres = np.array([[g in t.genres for g in genres] for t in titles], dtype=float)
    artwork_tags = np.array(
        [[tag in p.objects or tag in p.moods for tag in tags] for p in plans], dtype=float
    )
    has_face = np.array([("face" in p.objects) for p in plans], dtype=float)
    has_people = np.array([("face" in p.objects or "person" in p.objects) for p in plans])
    strong = np.array([p.expression in ("scared", "smile", "love", "angry") for p in plans])
    salience = rng.normal(0.0, 0.35, len(plans)) + 0.25 * has_face + 0.15 * (has_people & strong)
    return ResponseModel(
        genres=genres,
        tags=tags,
        viewer_ids=viewers.ids,
        viewer_device=viewers.device,
        viewer_hour=viewers.hour,
        viewer_cluster=viewers.cluster,
        genre_taste=viewers.genre_taste,
        tag_taste=viewers.tag_taste,
        title_ids=tuple(t.title_id for t in titles),
        title_genres=title_genres,
        title_quality=np.round(rng.normal(0.0, 0.5, len(titles)), 4),
        artwork_ids=tuple(a.artwork_id for a in artwork),
        artwork_title=np.array([title_index[a.title_id] for a in artwork]),
        artwork_tags=artwork_tags,
        salience=np.round(salience, 4),
        genre_profile=profile,
    )


def _write_manifest(root: Path, spec: WorldSpec) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    manifest = {
        "kind": KIND,
        "version": VERSION,
        "spec": spec.__dict__,
        "still_size": list(STILL_SIZE),
        "vocabulary_version": default_vocabulary().version,
        "files": {str(p.relative_to(root)): _sha256(p) for p in files},
    }
    (root / "world.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_hashes(root: Path | str, names: Iterable[str] | None = None) -> dict[str, str]:
    """SHA-256 of every file in a world folder (or of ``names``), for determinism checks."""
    root = Path(root)
    paths = [root / n for n in names] if names else sorted(root.rglob("*"))
    return {str(p.relative_to(root)): _sha256(p) for p in paths if p.is_file()}
