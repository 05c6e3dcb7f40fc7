"""Bandit features: the viewer's context and each candidate artwork's, under a versioned schema.

A policy crosses the two through the outer product of [1, context] and [1, artwork] (see
``models.bandits.features``), so both are small and each field means something on its own.
Schema ``artwork_selector`` version 1:

context (d_ctx = 7), one row per decision
    device_handheld   1 if the device is a phone or a tablet (small screens favour close faces)
    device_tv         1 if the device is a TV (big screens favour wide vistas)
    late_night        1 if the local hour is 22:00–03:59 (dark, scary images)
    daytime           1 if the local hour is 07:00–17:59 (bright, joyful images)
    genre_match       the viewer's genre affinity · the title's genres / #genres, divided by its
                      standard deviation over viewers × titles (0 for a viewer without history)
    history_size      log(1 + the viewer's viewings), standardised over viewers with history
                      and clipped to ±3 (a viewer without history gets the low end: no history)
    recency           log(1 + days since the viewer's last viewing) / log(1 + 365), clipped to
                      [0, 1]; days count back from ``now`` (by default the history's last event);
                      1 for a viewer without history

artwork (d_arm = 8), one row per candidate
    taste_match       the viewer's tag affinity · the image's tags / sqrt(Σ tags), divided by its
                      standard deviation over viewers × images (0 for a viewer without history)
    face              P(face)                                      (image tags: objects + moods)
    people            max(P(person), P(face))
    vista             max P over mountain, city, planet, castle
    dark_or_scary     max(P(dark), P(scary))
    bright_or_joyful  max(P(bright), P(joyful))
    genre_fit         cosine of the image's tags with the mean tags of the stills of *other*
                      titles of the same genres (how honestly it shows its title), standardised
                      over the catalog; an image that misrepresents its title is bait
    image_quality     standardised (z(contrast) + z(sharpness_score)) from the tag store's quality
                      signals, clipped to ±3; 0 when no quality signals are given

Affinities come from the viewing history, each viewing weighted by the fraction watched w and
centred on the catalog, with a prior weight k (``prior_weight``) that shrinks short histories:

    genre affinity  g_v = Σ_i w_i (G_{t_i} − Ḡ) / (Σ_i w_i + k)     G_t: the title's 0/1 genres
    tag affinity    u_v = Σ_i w_i (M_{t_i} − M̄) / (Σ_i w_i + k)     M_t: mean tags of its stills

Artwork tags are a mapping artwork_id → probabilities over ``image_tags()``: calibrated ones
from a tag store (``tags_from_table``) or the demo world's truth labels, 0/1 (``tags_from_truth``).
Everything per viewer and per artwork is computed once, vectorised, when the builder is made, so
building one decision's features costs microseconds.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import zip_longest
from typing import Any

import numpy as np

from artwork.catalog import Catalog
from artwork.demo.genre_cues import image_tags
from artwork.demo.plan import StillPlan
from artwork.errors import InputError, NotFoundError
from artwork.interactions import ViewingHistory
from artwork.tag_store import TagTable
from artwork.vocabulary import GENRES
from models.arrays import row_dots, take_rows

log = logging.getLogger(__name__)

HANDHELD_DEVICES = ("mobile", "tablet")
VISTA_TAGS = ("mountain", "city", "planet", "castle")
RECENCY_HORIZON_DAYS = 365.0
Z_CLIP = 3.0
SCHEMA_KEY = "feature_schema"  # the decision-context key that names the features it was made on
STATS_VIEWERS = 2000  # viewers sampled (the first ones) to estimate a match's spread


@dataclass(frozen=True)
class FeatureSchema:
    """The name, version and ordered fields of the features a model was trained on."""

    name: str
    version: int
    context_fields: tuple[str, ...]
    artwork_fields: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.name}/v{self.version}"

    @property
    def d_ctx(self) -> int:
        return len(self.context_fields)

    @property
    def d_arm(self) -> int:
        return len(self.artwork_fields)

    def check(self, other: FeatureSchema) -> None:
        """Raise ``InputError`` naming the first field where ``other`` (e.g. the schema a model
        was trained on) differs from this one."""
        pairs = [("name", self.name, other.name), ("version", self.version, other.version)]
        for attr in ("context_fields", "artwork_fields"):
            both = zip_longest(getattr(self, attr), getattr(other, attr))
            pairs += [(f"{attr}[{i}]", mine, theirs) for i, (mine, theirs) in enumerate(both)]
        for field, mine, theirs in pairs:
            if mine != theirs:
                raise InputError(
                    f"feature schema {other.key} does not match {self.key}: "
                    f"expected {mine!r}, found {theirs!r}",
                    field=field,
                )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, for model cards."""
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> FeatureSchema:
        """Read ``to_dict``'s output; ``InputError`` naming a missing or malformed key."""
        for key, ok in (
            ("name", lambda v: isinstance(v, str)),
            ("version", lambda v: isinstance(v, int)),
            ("context_fields", _names),
            ("artwork_fields", _names),
        ):
            if not ok(doc.get(key)):
                raise InputError(f"malformed value {doc.get(key)!r}", field=key)
        return cls(
            doc["name"], doc["version"], tuple(doc["context_fields"]), tuple(doc["artwork_fields"])
        )


SCHEMA = FeatureSchema(
    name="artwork_selector",
    version=1,
    context_fields=(
        "device_handheld", "device_tv", "late_night", "daytime",
        "genre_match", "history_size", "recency",
    ),
    artwork_fields=(
        "taste_match", "face", "people", "vista", "dark_or_scary", "bright_or_joyful",
        "genre_fit", "image_quality",
    ),
)  # fmt: skip


# ---- artwork tags from their sources ----------------------------------------------------------


def tags_from_table(table: TagTable, tags: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Each artwork's calibrated probabilities over ``tags`` (default ``image_tags()``)."""
    tags = tuple(image_tags() if tags is None else tags)
    columns = {t: i for i, t in enumerate(table.tags)}
    missing = [t for t in tags if t not in columns]
    if missing:
        raise InputError(f"tag store lacks tags {missing}", file=str(table.path), field="tags")
    probabilities = np.asarray(table.probabilities, dtype=np.float64)[:, [columns[t] for t in tags]]
    return dict(zip(table.artwork_ids, probabilities, strict=True))


def quality_from_table(table: TagTable) -> dict[str, float]:
    """Each artwork's raw image quality, z(contrast) + z(sharpness_score) over the store
    (missing values count as average)."""
    total = np.zeros(len(table.artwork_ids))
    for column in ("contrast", "sharpness_score"):
        total += _zscore(np.asarray(table.quality[column], dtype=np.float64))
    return dict(zip(table.artwork_ids, total.tolist(), strict=True))


def tags_from_truth(
    truth: Mapping[str, StillPlan], tags: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Each artwork's truth labels (objects and moods of its plan) as 0/1 over ``tags``."""
    tags = tuple(image_tags() if tags is None else tags)
    return {
        artwork_id: np.array([t in plan.objects or t in plan.moods for t in tags], np.float64)
        for artwork_id, plan in truth.items()
    }


# ---- the builder ------------------------------------------------------------------------------


class FeatureBuilder:
    """Context and artwork features for decisions over one catalog (see the module docstring)."""

    def __init__(
        self,
        catalog: Catalog,
        history: ViewingHistory,
        artwork_tags: Mapping[str, np.ndarray],
        *,
        tags: Sequence[str] | None = None,
        quality: Mapping[str, float] | None = None,
        now: int | None = None,
        prior_weight: float = 1.0,
    ) -> None:
        if not prior_weight > 0:
            raise InputError(f"must be > 0, got {prior_weight!r}", field="prior_weight")
        self.schema = SCHEMA  # the code below computes exactly these fields
        self.tags = tuple(image_tags() if tags is None else tags)
        self._tag_column = {t: i for i, t in enumerate(self.tags)}
        for name in ("face", "person", "dark", "scary", "bright", "joyful", *VISTA_TAGS):
            if name not in self._tag_column:
                raise InputError(f"tag {name!r} is required by the features", field="tags")

        # Titles and artwork.
        self._title_ids = tuple(catalog.titles)
        self._title = {t: i for i, t in enumerate(self._title_ids)}
        genre_column = {g: i for i, g in enumerate(GENRES)}
        self._genres = np.zeros((len(self._title_ids), len(GENRES)))
        for i, title in enumerate(catalog.titles.values()):
            self._genres[i, [genre_column[g] for g in title.genres if g in genre_column]] = 1.0
        self._artwork_ids = tuple(catalog.artwork)
        self._artwork = {a: i for i, a in enumerate(self._artwork_ids)}
        self._artwork_title = np.array(
            [self._title[a.title_id] for a in catalog.artwork.values()], dtype=np.int64
        )
        self._x = self._tag_matrix(artwork_tags)
        self._x_scaled = self._x / np.sqrt(np.maximum(self._x.sum(axis=1, keepdims=True), 1.0))

        self._genre_shares = self._genres / np.maximum(self._genres.sum(1, keepdims=True), 1.0)

        # Viewers' affinities, sizes and recency from the history.
        self._viewers(history, now, prior_weight)
        sample = slice(0, min(self._unknown, STATS_VIEWERS))  # viewers with history
        self._genre_scale = _spread(self._genre_affinity[sample] @ self._genre_shares.T)
        self._taste_scale = _spread(self._tag_affinity[sample] @ self._x_scaled.T)
        self._static = self._static_artwork_features(quality)

    # ---- the two per-decision calls -----------------------------------------------------------

    @property
    def d_ctx(self) -> int:
        return self.schema.d_ctx

    @property
    def d_arm(self) -> int:
        return self.schema.d_arm

    def context(self, viewer_id: str, title_id: str, device: str, hour: int) -> np.ndarray:
        """The context row (d_ctx,) of a decision for ``viewer_id`` about ``title_id``."""
        return self.contexts(viewer_id, [title_id], [device], [hour])[0]

    def contexts(
        self,
        viewer_id: str,
        title_ids: Sequence[str],
        devices: Sequence[str],
        hours: Sequence[int],
    ) -> np.ndarray:
        """The context rows (n, d_ctx) of n decisions for ``viewer_id`` (a page), decision i
        about ``title_ids[i]`` on ``devices[i]`` at ``hours[i]``."""
        n = len(title_ids)
        if not len(devices) == len(hours) == n:
            raise InputError(f"{len(devices)} devices and {len(hours)} hours for {n} titles",
                             field="devices")  # fmt: skip
        flags = []  # the device and hour columns, each checked
        for device, hour in zip(devices, hours, strict=True):
            if (
                isinstance(hour, bool)
                or not isinstance(hour, int | np.integer)
                or not 0 <= hour <= 23
            ):
                raise InputError(f"expected an hour 0..23, found {hour!r}", field="hour")
            if not isinstance(device, str):
                raise InputError(f"expected a device name, found {device!r}", field="device")
            flags.append((device in HANDHELD_DEVICES, device == "tv", hour >= 22 or hour < 4,
                          7 <= hour < 18))  # fmt: skip
        titles = np.fromiter((self._title_index(t) for t in title_ids), np.int64, n)
        v = self._viewer.get(viewer_id, self._unknown)
        out = np.empty((n, self.d_ctx))
        out[:, :4] = flags
        out[:, 4] = row_dots(take_rows(self._genre_shares, titles), self._genre_affinity[v])
        out[:, 4] /= self._genre_scale
        out[:, 5] = self._history_size[v]
        out[:, 6] = self._recency[v]
        return out

    def artwork(self, viewer_id: str, title_id: str, artwork_ids: Sequence[str]) -> np.ndarray:
        """The feature rows (K, d_arm) of a title's candidate artworks, for this viewer."""
        return self.artworks(viewer_id, [title_id], artwork_ids, [len(artwork_ids)])

    def artworks(
        self,
        viewer_id: str,
        title_ids: Sequence[str],
        artwork_ids: Sequence[str],
        counts: Sequence[int],
    ) -> np.ndarray:
        """The feature rows (N, d_arm) of several titles' candidates for this viewer (a page):
        ``artwork_ids`` title after title, ``counts[i]`` of them images of ``title_ids[i]``."""
        titles = np.fromiter((self._title_index(t) for t in title_ids), np.int64, len(title_ids))
        try:
            rows = np.fromiter((self._artwork[a] for a in artwork_ids), np.int64, len(artwork_ids))
        except KeyError as exc:
            raise NotFoundError(f"unknown artwork {exc.args[0]!r}") from None
        if rows.size == 0:
            raise InputError("no candidates", field="artwork_ids")
        if len(counts) != titles.size or sum(counts) != rows.size:
            raise InputError(f"counts {list(counts)} do not split {rows.size} candidates among "
                             f"{titles.size} titles", field="counts")  # fmt: skip
        expected = np.repeat(titles, counts)
        wrong = np.flatnonzero(self._artwork_title[rows] != expected)
        if wrong.size:
            i = int(wrong[0])
            raise InputError(
                f"artwork {artwork_ids[i]!r} is not an image of title "
                f"{self._title_ids[expected[i]]!r}",
                field="artwork_ids",
            )
        v = self._viewer.get(viewer_id, self._unknown)
        out = take_rows(self._static, rows)
        out[:, 0] = row_dots(take_rows(self._x_scaled, rows), self._tag_affinity[v])
        out[:, 0] /= self._taste_scale
        return out

    def taste(self, viewer_id: str) -> np.ndarray:
        """The viewer's tag affinity u_v (len(tags),); for a viewer without history, the mean
        over viewers with one (what most viewers like)."""
        v = self._viewer.get(viewer_id)
        return (self._tag_affinity[v] if v is not None else self._mean_taste).copy()

    def artwork_tag_row(self, artwork_id: str) -> np.ndarray:
        """The tag probabilities (len(tags),) of one artwork (a read-only view)."""
        try:
            row = self._x[self._artwork[artwork_id]]
        except KeyError:
            raise NotFoundError(f"unknown artwork {artwork_id!r}") from None
        row.flags.writeable = False
        return row

    def artwork_tags(self, artwork_ids: Sequence[str]) -> np.ndarray:
        """The tag probabilities (K, len(tags)) the features use for these artworks."""
        try:
            return take_rows(self._x, [self._artwork[a] for a in artwork_ids])
        except KeyError as exc:
            raise NotFoundError(f"unknown artwork {exc.args[0]!r}") from None

    def shown_tags(self, artwork_ids: Sequence[str]) -> list[tuple[tuple[int, float], ...]]:
        """For each artwork, (tag column, probability) of the tags it likely shows (p ≥ 0.5),
        in vocabulary order (found once per builder: the tags are fixed)."""
        shown = self._shown
        try:
            return [shown[self._artwork[a]] for a in artwork_ids]
        except KeyError as exc:
            raise NotFoundError(f"unknown artwork {exc.args[0]!r}") from None

    @functools.cached_property
    def _shown(self) -> list[tuple[tuple[int, float], ...]]:
        return [tuple((c, p) for c, p in enumerate(row) if p >= 0.5) for row in self._x.tolist()]

    # ---- set-up -------------------------------------------------------------------------------

    def _title_index(self, title_id: str) -> int:
        try:
            return self._title[title_id]
        except KeyError:
            raise NotFoundError(f"unknown title {title_id!r}") from None

    def _tag_matrix(self, artwork_tags: Mapping[str, np.ndarray]) -> np.ndarray:
        x = np.zeros((len(self._artwork_ids), len(self.tags)))
        missing = 0
        for i, artwork_id in enumerate(self._artwork_ids):
            vector = artwork_tags.get(artwork_id)
            if vector is None:
                missing += 1  # untagged (e.g. unreadable) images stay selectable, tagless
                continue
            vector = np.asarray(vector, dtype=np.float64)
            if vector.shape != (len(self.tags),) or not ((vector >= 0) & (vector <= 1)).all():
                raise InputError(
                    f"expected {len(self.tags)} tag probabilities in [0, 1], found shape "
                    f"{vector.shape} with values {np.round(vector, 3).tolist()[:8]}",
                    field=f"artwork_tags[{artwork_id!r}]",
                )
            x[i] = vector
        if missing:
            log.warning("%d of %d artworks have no tags; their tag features are 0", missing,
                        len(self._artwork_ids))  # fmt: skip
        return x

    def _viewers(self, history: ViewingHistory, now: int | None, prior_weight: float) -> None:
        """Per viewer: genre and tag affinities, history size, recency; one extra zero row
        (index ``self._unknown``) stands for any viewer without history."""
        rows = [i for i in history.interactions if i.title_id in self._title]
        skipped = len(history.interactions) - len(rows)
        if skipped:
            log.warning("%d viewings of titles outside the catalog are ignored", skipped)
        viewer_ids = tuple(dict.fromkeys(i.viewer_id for i in rows))
        self._viewer = {v: k for k, v in enumerate(viewer_ids)}
        self._unknown = len(viewer_ids)
        n = len(viewer_ids) + 1
        v = np.fromiter((self._viewer[i.viewer_id] for i in rows), np.int64, len(rows))
        t = np.fromiter((self._title[i.title_id] for i in rows), np.int64, len(rows))
        w = np.fromiter((i.watched for i in rows), np.float64, len(rows))
        stamp = np.fromiter((i.timestamp for i in rows), np.float64, len(rows))

        # Title tag profiles M_t (titles without stills get the catalog mean: no evidence).
        counts = np.bincount(self._artwork_title, minlength=len(self._title_ids)).astype(float)
        sums = np.zeros((len(self._title_ids), len(self.tags)))
        np.add.at(sums, self._artwork_title, self._x)
        has_art = counts > 0
        profile_mean = (
            sums[has_art].sum(axis=0) / counts[has_art].sum() if has_art.any() else sums[0] * 0
        )
        profile = np.where(has_art[:, None], sums / np.maximum(counts, 1.0)[:, None], profile_mean)
        self._title_tag_sums, self._title_counts = sums, counts

        total = np.bincount(v, weights=w, minlength=n) + prior_weight
        self._genre_affinity = _weighted_rows(v, w, self._genres[t] - self._genres.mean(0), n)
        self._genre_affinity /= total[:, None]
        self._tag_affinity = _weighted_rows(v, w, profile[t] - profile_mean, n) / total[:, None]
        with_history = self._tag_affinity[: self._unknown]  # the mean: what most viewers like
        self._mean_taste = (
            with_history.mean(axis=0) if len(with_history) else np.zeros(len(self.tags))
        )

        size = np.log1p(np.bincount(v, minlength=n).astype(float))
        known = size[:-1]
        mean, sd = (known.mean(), known.std()) if known.size else (0.0, 1.0)
        self._history_size = np.clip((size - mean) / (sd if sd > 0 else 1.0), -Z_CLIP, Z_CLIP)
        reference = float(now) if now is not None else (stamp.max() if stamp.size else 0.0)
        last = np.full(n, -np.inf)
        np.maximum.at(last, v, stamp)
        days = np.maximum(reference - last, 0.0) / 86_400.0
        self._recency = np.clip(np.log1p(days) / np.log1p(RECENCY_HORIZON_DAYS), 0.0, 1.0)

    def _static_artwork_features(self, quality: Mapping[str, float] | None) -> np.ndarray:
        """Every artwork feature that does not depend on the viewer (column 0 is filled later)."""
        x, col = self._x, self._tag_column
        out = np.zeros((len(self._artwork_ids), self.d_arm))
        out[:, 1] = x[:, col["face"]]
        out[:, 2] = np.maximum(x[:, col["person"]], x[:, col["face"]])
        out[:, 3] = x[:, [col[t] for t in VISTA_TAGS]].max(axis=1)
        out[:, 4] = np.maximum(x[:, col["dark"]], x[:, col["scary"]])
        out[:, 5] = np.maximum(x[:, col["bright"]], x[:, col["joyful"]])
        out[:, 6] = _zscore(self._genre_fit())
        if quality is not None:
            raw = np.array([quality.get(a, np.nan) for a in self._artwork_ids], dtype=np.float64)
            out[:, 7] = np.clip(_zscore(raw), -Z_CLIP, Z_CLIP)
        return out

    def _genre_fit(self) -> np.ndarray:
        """cos(x_a, E_t) with E_t the mean over t's genres of the mean tags of the stills of the
        other titles of that genre (of all its titles when t is the genre's only one)."""
        genre_sums = self._genres.T @ self._title_tag_sums  # (G, T)
        genre_counts = self._genres.T @ self._title_counts  # (G,)
        loo_sums = genre_sums[None] - self._title_tag_sums[:, None]  # (Ti, G, T)
        loo_counts = genre_counts[None] - self._title_counts[:, None]  # (Ti, G)
        alone = loo_counts <= 0
        loo_sums[alone] = np.broadcast_to(genre_sums, loo_sums.shape)[alone]
        loo_counts = np.where(alone, genre_counts[None], loo_counts)
        per_genre = loo_sums / np.maximum(loo_counts, 1.0)[..., None]
        expected = np.einsum("tg,tgk->tk", self._genre_shares, per_genre)[self._artwork_title]
        num = (self._x * expected).sum(axis=1)
        den = np.linalg.norm(self._x, axis=1) * np.linalg.norm(expected, axis=1)
        return num / np.maximum(den, 1e-9)


def _weighted_rows(rows: np.ndarray, weights: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Σ weights[i] · values[i] grouped by ``rows``: (n, values.shape[1])."""
    out = np.zeros((n, values.shape[1]))
    np.add.at(out, rows, weights[:, None] * values)
    return out


def _names(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _spread(values: np.ndarray) -> float:
    """The standard deviation of ``values``, or 1 when there is none (no history)."""
    sd = float(values.std()) if values.size else 0.0
    return sd if sd > 1e-12 else 1.0


def _zscore(values: np.ndarray) -> np.ndarray:
    """(v − mean) / sd over the finite entries; non-finite entries become 0 (average)."""
    finite = np.isfinite(values)
    out = np.zeros_like(values, dtype=np.float64)
    if finite.any():
        sd = values[finite].std()
        out[finite] = (values[finite] - values[finite].mean()) / (sd if sd > 1e-12 else 1.0)
    return out
