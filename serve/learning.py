"""Online learning inside the service: a background loop that learns and hot-swaps the policy.

Every ``learn_every_s`` the loop runs ``OnlineLearner.step`` in a worker thread (it reads the
event store and trains; requests go on meanwhile). When a step saved a new policy version, the
loop loads that saved copy (the learner keeps training its own) and swaps a new selector into
the selection pipeline in one assignment: a request in flight finishes with the selector it
started with. A step or a load that fails is logged and the previous policy keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from artwork.errors import ArtworkError
from artwork.learning import LearnReport, OnlineLearner
from artwork.selection import SelectionPipeline, Selector
from models.bandits import Policy, load_policy
from models.errors import ModelError

log = logging.getLogger(__name__)


class LearningLoop:
    """``learner`` feeding ``pipeline``; ``make_selector`` wraps each new policy version."""

    def __init__(
        self,
        learner: OnlineLearner,
        pipeline: SelectionPipeline,
        make_selector: Callable[[Policy], Selector],
    ) -> None:
        self.learner, self.pipeline, self.make_selector = learner, pipeline, make_selector
        self.last_report: LearnReport | None = None
        self.last_step_at: float | None = None  # when the last step that succeeded ended
        self._stepping = threading.Lock()  # the learner takes one call at a time

    def step(self, now: float) -> LearnReport | None:
        """One learning step and, when it saved a new version, the swap; None when it failed."""
        with self._stepping:
            return self._step(now)

    def _step(self, now: float) -> LearnReport | None:
        try:
            report = self.learner.step(now)
        except (ArtworkError, ModelError) as exc:
            log.error("online learning step failed; the policy is unchanged: %s", exc)
            return None
        self.last_report, self.last_step_at = report, time.time()
        for message in report.rejected:
            log.warning("decision left out of learning: %s", message)
        if report.checkpoint is not None:
            try:
                selector = self.make_selector(load_policy(report.checkpoint))
            except (ArtworkError, ModelError) as exc:
                log.error("could not load %s; keeping %s: %s", report.checkpoint,
                          self.pipeline.selector.version, exc)  # fmt: skip
                return report
            self.pipeline.selector = selector
            log.info("learnt from %d decisions (mean reward %s); now serving %s %s",
                     report.trained, report.mean_reward, selector.name,
                     selector.version)  # fmt: skip
        return report

    async def run(self, every_s: float) -> None:
        """Step every ``every_s`` seconds until cancelled (a backlog is worked off at once)."""
        while True:
            report = await run_in_threadpool(self.step, time.time())
            if report is None or not report.backlog:
                await asyncio.sleep(every_s)
