"""The demo world a benchmark runs on: a given folder, or one built once into a cache folder."""

from __future__ import annotations

import logging
from pathlib import Path

from artwork.demo.world import DemoWorld, WorldSpec, build_world, load_world

LOG = logging.getLogger("bench")
DEFAULT_WORLD = WorldSpec(seed=7)  # ``artwork demo build``'s defaults


def cached_world(folder: Path | None, work: Path, spec: WorldSpec = DEFAULT_WORLD) -> DemoWorld:
    """The world in ``folder``; by default ``spec``'s, built into ``work`` on first use."""
    if folder is None:
        folder = work / f"world-{spec.seed}"
        if not (folder / "world.json").is_file():
            LOG.info("building the demo world (seed %d) into %s", spec.seed, folder)
            build_world(folder, spec, force=True)
    return load_world(folder)
