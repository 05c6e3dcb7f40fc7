"""What the service loads once at start-up (catalog, history, event store, selection)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from artwork.catalog import Catalog, load_catalog
from artwork.errors import ArtifactError
from artwork.event_store import EventStore
from artwork.interactions import ViewingHistory, load_history
from artwork.learning import OnlineLearner
from artwork.policy_selection import PolicySelector, catalog_features
from artwork.rewards import RewardPolicy
from artwork.selection import SelectionConfig, SelectionPipeline, UniformSelector
from models.bandits import Policy, load_policy, make_policy
from serve.learning import LearningLoop
from serve.settings import Settings

log = logging.getLogger(__name__)

HISTORY_FILE = "interactions.csv"


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

    @classmethod
    def load(cls, settings: Settings) -> ServiceState:
        """Load the world folder and open the event store; errors name the file at fault."""
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
        store = EventStore(settings.db_path)
        config = SelectionConfig(sticky_s=settings.sticky_hours * 3600,
                                 session_gap_s=settings.session_minutes * 60)  # fmt: skip
        if settings.policy_dir is None and settings.policy == "uniform":
            pipeline, learning = SelectionPipeline(catalog, UniformSelector(), store, config), None
        else:
            pipeline, learning = _policy_selection(settings, catalog, history, store, config)
        selector = pipeline.selector
        log.info(
            "loaded %d titles, %d artwork, %d viewers; policy %s %s%s; event log %s",
            len(catalog.titles), len(catalog.artwork), len(history.viewers), selector.name,
            selector.version, ", learning online" if learning else "", settings.db_path,
        )  # fmt: skip
        return cls(settings, catalog, history, store, pipeline, learning)

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


def get_service(request: Request) -> ServiceState:
    """The loaded state, for ``Depends``."""
    return request.app.state.service


Service = Annotated[ServiceState, Depends(get_service)]
