"""The demo world's response model: how likely a viewer clicks an image, and then truly watches.

For viewer v, title t, image a, in context (device, hour):

    genre_match  m = mean over t's genres of v's genre taste
    appeal       u = v's tag taste · a's tags / sqrt(#tags)           (objects and moods)
    fit          r = cos(a's tags, the tag profile of t's genres)     (is the image honest?)
    P(click)              = σ(b_c + w_m·m + w_u·u + w_q·q_t + s_a + context(v, a))
    P(quality play|click) = σ(b_p + v_m·m + v_q·q_t − v_r·(1 − r))
    P(quality play)       = P(click) · P(quality play | click)

``s_a`` is a hidden per-image salience (faces and strong expressions catch the eye) that raises
clicks but not viewing, and an image whose tags do not fit its title attracts viewers who then
leave: both make "bait" images, clicked but not watched. The context term rewards close-up faces
on small screens, wide vistas on TVs, dark images late at night and bright ones by day.

An outcome (``Response.outcome``) turns two uniforms u_c, u_p ∈ [0, 1) into what the viewer did:
clicked = u_c < P(click); quality play = clicked and u_p < q, q = P(quality play | click); and the
share of ``WATCH_CAP_MINUTES`` watched, w, is 0 without a click and otherwise reuses u_p, which
given the click is uniform on [0, q) for a quality play and on [q, 1) otherwise:

    quality play      w = b + (1 − b)·(1 − u_p / q)       uniform on (b, 1]
    click, no q. play w = b·(u_p − q) / (1 − q)           uniform on [0, b)

with the quality-play bar b = ``QUALITY_PLAY_MINUTES`` / ``WATCH_CAP_MINUTES`` (the service's
``RewardPolicy`` defaults), so w ≥ b exactly when the play is a quality play, and
E[w] = P(click)·b/2 + P(quality play)/2.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from artwork.errors import ArtifactError

KIND = "demo_response_model"
VERSION = 1
DEVICES = ("tv", "mobile", "web", "tablet")
VISTA_TAGS = ("mountain", "city", "planet", "castle")  # wide shots that suit a big screen
WATCH_CAP_MINUTES = 60.0  # minutes watched that count as all of a title (w = 1)
QUALITY_PLAY_MINUTES = 10.0  # a play at least this long is a quality play


@dataclass(frozen=True)
class ResponseParams:
    """Coefficients of the response model (see the module docstring)."""

    click_bias: float = -3.3
    click_genre: float = 0.9
    click_appeal: float = 0.9
    click_quality: float = 0.3
    play_bias: float = 0.4
    play_genre: float = 1.2
    play_quality: float = 0.6
    play_misfit: float = 3.0
    face_on_mobile: float = 0.5
    vista_on_tv: float = 0.3
    dark_late: float = 0.3
    bright_daytime: float = 0.3


@dataclass(frozen=True)
class Response:
    """Probabilities for each image asked about."""

    click: np.ndarray
    play_given_click: np.ndarray

    @property
    def quality_play(self) -> np.ndarray:
        return self.click * self.play_given_click

    def outcome(self, index: int, u_click: float, u_play: float) -> Outcome:
        """What the viewer does after seeing image ``index``, from two uniforms in [0, 1) (see
        the module docstring)."""
        clicked = bool(u_click < self.click[index])
        q = float(self.play_given_click[index])
        played = clicked and u_play < q
        bar = QUALITY_PLAY_MINUTES / WATCH_CAP_MINUTES
        if not clicked:
            watched = 0.0
        elif played:
            watched = bar + (1.0 - bar) * (1.0 - u_play / q)
        else:
            watched = bar * (u_play - q) / (1.0 - q)
        return Outcome(clicked, played, watched)


@dataclass(frozen=True)
class Outcome:
    """A viewer's response to one image: a click, a quality play, and ``watched``, the minutes
    watched / ``WATCH_CAP_MINUTES`` in [0, 1] (≥ the quality-play bar just for a quality play)."""

    clicked: bool
    quality_play: bool
    watched: float


@dataclass
class ResponseModel:
    """Hidden truth of the demo world: viewers' tastes, titles' quality, images' tags and salience.

    Arrays are indexed by the id tuples; ``tags`` names the columns of tag arrays, ``genres`` of
    genre arrays.
    """

    genres: tuple[str, ...]
    tags: tuple[str, ...]
    viewer_ids: tuple[str, ...]
    viewer_device: tuple[str, ...]
    viewer_hour: np.ndarray  # (V,) int, usual hour of viewing
    viewer_cluster: np.ndarray  # (V,) int, the taste archetype a viewer was drawn from
    genre_taste: np.ndarray  # (V, G)
    tag_taste: np.ndarray  # (V, T)
    title_ids: tuple[str, ...]
    title_genres: np.ndarray  # (Ti, G) 0/1
    title_quality: np.ndarray  # (Ti,)
    artwork_ids: tuple[str, ...]
    artwork_title: np.ndarray  # (A,) int index into title_ids
    artwork_tags: np.ndarray  # (A, T) 0/1
    salience: np.ndarray  # (A,)
    genre_profile: np.ndarray  # (G, T) how likely each genre's stills show each tag
    params: ResponseParams = field(default_factory=ResponseParams)

    def __post_init__(self) -> None:
        self._viewer = {v: i for i, v in enumerate(self.viewer_ids)}
        self._artwork = {a: i for i, a in enumerate(self.artwork_ids)}
        self._tag = {t: i for i, t in enumerate(self.tags)}
        self.fit = self._fit()

    def viewer_index(self, viewer_id: str) -> int:
        """Row of a viewer; ``KeyError`` naming the id when unknown."""
        return self._viewer[viewer_id]

    def artwork_index(self, artwork_ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Rows of these artworks; ``KeyError`` naming the first unknown id."""
        return np.array([self._artwork[a] for a in artwork_ids], dtype=np.int64)

    def genre_match(self, viewer: int, titles: np.ndarray) -> np.ndarray:
        """Mean genre taste of a viewer over each title's genres."""
        g = self.title_genres[titles]
        return (g @ self.genre_taste[viewer]) / np.maximum(g.sum(axis=1), 1.0)

    def respond(
        self,
        viewer_id: str,
        artwork_ids: list[str] | tuple[str, ...],
        device: str | None = None,
        hour: int | None = None,
    ) -> Response:
        """P(click) and P(quality play | click) of each image for this viewer and context.

        ``device`` and ``hour`` default to the viewer's usual ones.
        """
        v = self.viewer_index(viewer_id)
        a = self.artwork_index(artwork_ids)
        device = self.viewer_device[v] if device is None else device
        hour = int(self.viewer_hour[v]) if hour is None else hour
        if device not in DEVICES:
            raise ValueError(f"device: unknown {device!r} (known: {DEVICES})")
        if not 0 <= hour <= 23:
            raise ValueError(f"hour: out of range 0..23: {hour}")
        p = self.params
        titles = self.artwork_title[a]
        x = self.artwork_tags[a]
        match = self.genre_match(v, titles)
        appeal = (x @ self.tag_taste[v]) / np.sqrt(np.maximum(x.sum(axis=1), 1.0))
        quality = self.title_quality[titles]
        logit_click = (
            p.click_bias
            + p.click_genre * match
            + p.click_appeal * appeal
            + p.click_quality * quality
            + self.salience[a]
            + self._context(x, device, hour)
        )
        logit_play = (
            p.play_bias + p.play_genre * match + p.play_quality * quality
            - p.play_misfit * (1.0 - self.fit[a])
        )  # fmt: skip
        return Response(_sigmoid(logit_click), _sigmoid(logit_play))

    def _context(self, x: np.ndarray, device: str, hour: int) -> np.ndarray:
        p, col = self.params, self._tag
        bonus = np.zeros(len(x))
        if device in ("mobile", "tablet"):
            bonus += p.face_on_mobile * x[:, col["face"]]
        if device == "tv":
            vista = [col[t] for t in VISTA_TAGS if t in col]
            bonus += p.vista_on_tv * (x[:, vista].sum(axis=1) > 0)
        if hour >= 22 or hour < 4:
            bonus += p.dark_late * np.maximum(x[:, col["dark"]], x[:, col["scary"]])
        elif 7 <= hour < 18:
            bonus += p.bright_daytime * np.maximum(x[:, col["bright"]], x[:, col["joyful"]])
        return bonus

    def _fit(self) -> np.ndarray:
        """Cosine between each image's tags and the mean tag profile of its title's genres."""
        g = self.title_genres[self.artwork_title]
        expected = (g @ self.genre_profile) / np.maximum(g.sum(axis=1, keepdims=True), 1.0)
        num = (self.artwork_tags * expected).sum(axis=1)
        den = np.linalg.norm(self.artwork_tags, axis=1) * np.linalg.norm(expected, axis=1)
        return num / np.maximum(den, 1e-9)

    # --- persistence ---------------------------------------------------------------------------

    def to_json(self) -> str:
        """A deterministic JSON document (floats rounded to 4 decimals)."""
        doc = {"kind": KIND, "version": VERSION, "params": asdict(self.params)}
        for name in _FIELDS:
            value = getattr(self, name)
            doc[name] = np.round(value, 4).tolist() if isinstance(value, np.ndarray) else value
        return json.dumps(doc, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> ResponseModel:
        """Read a model written by ``to_json``; checks kind and version."""
        doc = json.loads(text)
        if doc.get("kind") != KIND or doc.get("version") != VERSION:
            raise ArtifactError(
                f"{source}: expected kind {KIND!r} version {VERSION}, "
                f"found {doc.get('kind')!r} version {doc.get('version')!r}"
            )
        values = {}
        for name in _FIELDS:
            raw = doc[name]
            values[name] = tuple(raw) if name in _TUPLES else np.asarray(raw)
        return cls(**values, params=ResponseParams(**doc["params"]))

    def save(self, path: Path | str) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path: Path | str) -> ResponseModel:
        path = Path(path)
        if not path.is_file():
            raise ArtifactError(f"{path}: response model not found")
        return cls.from_json(path.read_text(), source=str(path))


_TUPLES = ("genres", "tags", "viewer_ids", "viewer_device", "title_ids", "artwork_ids")
_FIELDS = (
    *_TUPLES, "viewer_hour", "viewer_cluster", "genre_taste", "tag_taste", "title_genres",
    "title_quality", "artwork_title", "artwork_tags", "salience", "genre_profile",
)  # fmt: skip


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
