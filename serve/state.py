"""What the service loads at start-up and on each reload (catalog, history, selection)."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from artwork.catalog import Catalog, load_catalog
from artwork.demo.viewers import read_viewer_profiles
from artwork.errors import ArtifactError
from artwork.event_store import EventStore
from artwork.features import FeatureBuilder
from artwork.interactions import ViewingHistory, load_history
from artwork.learning import OnlineLearner
from artwork.personal_rows import personal_rows
from artwork.policy_selection import PolicySelector, catalog_features
from artwork.rewards import RewardPolicy
from artwork.rows import Row
from artwork.selection import SelectionConfig, SelectionPipeline, Selector, UniformSelector
from artwork.title_ranker import TitleRanker
from artwork.vocabulary import default_vocabulary
from models.bandits import Policy, PolicyError, load_policy, make_policy
from models.bandits.base import read_card
from serve.learning import LearningLoop
from serve.settings import Settings

log = logging.getLogger(__name__)

HISTORY_FILE = "interactions.csv"
VIEWERS_FILE = "viewers.csv"


@dataclass(frozen=True)
class ServiceState:
    """Everything a request needs, built in the lifespan and kept on ``app.state.service``.

    Frozen: a reload builds a new one and swaps it in whole.
    """

    settings: Settings
    catalog: Catalog
    history: ViewingHistory
    store: EventStore
    selection: SelectionPipeline
    learning: LearningLoop | None = None  # None: the policy is fixed
    ranker: TitleRanker | None = None  # None: popularity and genre rows
    label_tags: frozenset[str] = frozenset(default_vocabulary().tags)  # tags people may label
    loaded_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        def rows(*args: Any) -> tuple[Row, ...]:
            return tuple(personal_rows(self.catalog, self.history, self.ranker, *args))

        # Rows are a pure function of this state and the request: kept, the busiest viewers'
        # pages skip the recommender (~0.9 ms of a ~5 ms page on the demo world).
        object.__setattr__(self, "_rows", functools.lru_cache(self.settings.rows_cache)(rows))

    def home_rows(
        self,
        viewer_id: str,
        n_rows: int,
        per_row: int,
        *,
        disliked: frozenset[str],
        hour: int | None,
        device: str | None,
        genres: tuple[str, ...],
    ) -> tuple[Row, ...]:
        """``personal_rows`` for this state's catalog, history and ranker, from an LRU cache of
        ``settings.rows_cache`` pages, keyed by the hour and device as far as the ranker sees
        them (its context re-ranker's hour bucket, a device it knows): a viewer's page at 21:00
        and at 22:00 is the same page."""
        if self.ranker is None:  # popularity and genre rows: no context at all
            hour, device = None, None
        else:
            hour, device = self.ranker.canonical_context(hour, device)
        return self._rows(viewer_id, n_rows, per_row, disliked, hour, device, genres)

    @classmethod
    def load(cls, settings: Settings, store: EventStore | None = None) -> ServiceState:
        """Load the world folder and the policy, and open the event store unless ``store`` (an
        open one, which a reload keeps using) is given; errors name the file at fault."""
        world = Path(settings.world)
        if not world.is_dir():
            raise ArtifactError(f"{world}: world folder not found")
        catalog = load_catalog(world)
        history_file = world / HISTORY_FILE
        if history_file.is_file():
            history = load_history(history_file, catalog.titles)
        else:
            log.info("%s: no %s; every viewer is new", world, HISTORY_FILE)
            history = ViewingHistory(())
        owned = store is None  # a store this call opens, it closes again if loading fails
        store = EventStore(settings.db_path) if store is None else store
        profiles = world / VIEWERS_FILE  # the viewers' usual device and hour, when known
        config = SelectionConfig(
            sticky_s=settings.sticky_hours * 3600, session_gap_s=settings.session_minutes * 60,
            activity_ttl_s=settings.viewer_cache_ttl_s,
            usual_context=read_viewer_profiles(profiles) if profiles.is_file() else {},
        )  # fmt: skip
        try:
            if settings.policy_dir is None and settings.policy == "uniform":
                pipeline = SelectionPipeline(catalog, UniformSelector(), store, config)
                learning = None
            else:
                pipeline, learning = _policy_selection(settings, catalog, history, store, config)
            ranker = _title_ranker(settings, catalog, history, pipeline.selector, config)
        except BaseException:
            if owned:
                store.close()
            raise
        selector = pipeline.selector
        log.info(
            "loaded %d titles, %d artwork, %d viewers; policy %s %s%s; event log %s",
            len(catalog.titles), len(catalog.artwork), len(history.viewers), selector.name,
            selector.version, ", learning online" if learning else "", store.location,
        )  # fmt: skip
        return cls(settings, catalog, history, store, pipeline, learning, ranker=ranker)

    @property
    def policy_source(self) -> str:
        """Where the serving policy comes from: learner, policy_dir, fresh or uniform."""
        if self.learning is not None:
            return "learner"
        if self.settings.policy_dir is not None:
            return "policy_dir"
        return "uniform" if self.settings.policy == "uniform" else "fresh"

    @property
    def features(self) -> FeatureBuilder | None:
        """The serving policy's features (image tags included); None for the uniform policy."""
        selector = self.selection.selector
        return selector.features if isinstance(selector, PolicySelector) else None

    def offline_estimates(self) -> dict | None:
        """The off-policy estimates on the saved policy's card (``train_bandit`` writes them);
        None for a fresh policy or a card without them."""
        if self.learning is not None:
            folder: Path | None = self.learning.learner.policy_folder
        else:
            folder = self.settings.policy_dir
        if folder is None:
            return None
        try:
            metrics = read_card(Path(folder))[0].get("metrics")
        except PolicyError as exc:  # changed on disk since it was loaded: say so, serve on
            log.warning("no offline estimates: %s", exc)
            return None
        return metrics.get("off_policy") if isinstance(metrics, dict) else None

    def close(self) -> None:
        self.store.close()


def _policy_selection(
    settings: Settings,
    catalog: Catalog,
    history: ViewingHistory,
    store: EventStore,
    config: SelectionConfig,
) -> tuple[SelectionPipeline, LearningLoop | None]:
    """A (saved or fresh) policy over the catalog's features and, when ``learn_every_s`` > 0,
    the online learner that keeps improving it (resuming from ``learner_dir``)."""
    world = Path(settings.world)
    tags = settings.tags or (world / "tags.parquet")
    features = catalog_features(
        catalog, history, tags=tags if tags.is_file() or settings.tags else None,
        truth=world / "truth.csv",
    )  # fmt: skip
    if settings.policy_dir is not None:
        policy = load_policy(settings.policy_dir)
    else:
        policy = make_policy(settings.policy, features.d_ctx, features.d_arm)

    def selector(p: Policy) -> PolicySelector:
        return PolicySelector(p, features, cold_start_updates=settings.cold_start_updates)

    if settings.learn_every_s <= 0:
        return SelectionPipeline(catalog, selector(policy), store, config), None
    learner = OnlineLearner(store, features, policy,
                            RewardPolicy(window_s=settings.reward_window_s),
                            settings.learner_path)  # fmt: skip
    pipeline = SelectionPipeline(catalog, selector(load_policy(learner.policy_folder)), store,
                                 config)  # fmt: skip
    return pipeline, LearningLoop(learner, pipeline, selector)


def _title_ranker(
    settings: Settings,
    catalog: Catalog,
    history: ViewingHistory,
    selector: Selector,
    config: SelectionConfig,
) -> TitleRanker | None:
    """The rows' recommender: loaded from ``recommender_artifact``, else fitted on the history
    (with the viewers' usual devices for the context re-ranker), or none for 'popular'."""
    path = settings.recommender_artifact
    if path is None and settings.recommender == "popular":
        return None
    started = time.perf_counter()
    features = selector.features if isinstance(selector, PolicySelector) else None
    artwork_ids = list(catalog.artwork)
    tags = (dict(zip(artwork_ids, features.artwork_tags(artwork_ids), strict=True))
            if features is not None and artwork_ids else None)  # fmt: skip
    if path is not None:
        ranker = TitleRanker.load(catalog, path, tags)
        log.info("recommender %s loaded from %s in %.2f s", ranker.model.name, path,
                 time.perf_counter() - started)  # fmt: skip
        return ranker
    devices = {viewer: device for viewer, (device, _) in config.usual_context.items()}
    fitted = TitleRanker.fit(catalog, history, settings.recommender, tags, devices)
    log.info("recommender %s fitted in %.2f s", settings.recommender,
             time.perf_counter() - started)  # fmt: skip
    return fitted


async def get_service(request: Request) -> ServiceState:
    """The loaded state, for ``Depends`` (async: a lookup needs no worker thread)."""
    return request.app.state.service


Service = Annotated[ServiceState, Depends(get_service)]
