"""What the service loads once at start-up (catalog, history, event store, selector)."""

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
from artwork.selection import Selector, UniformSelector
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
    selector: Selector

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
        log.info(
            "loaded %d titles, %d artwork, %d viewers; event log %s",
            len(catalog.titles), len(catalog.artwork), len(history.viewers), settings.db_path,
        )  # fmt: skip
        return cls(settings, catalog, history, store, UniformSelector())

    def close(self) -> None:
        self.store.close()


def get_service(request: Request) -> ServiceState:
    """The loaded state, for ``Depends``."""
    return request.app.state.service


Service = Annotated[ServiceState, Depends(get_service)]
