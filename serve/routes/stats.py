"""``GET /v1/stats``: what the admin page draws (tag coverage, take rates, learning curve)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response

from artwork.admin_stats import AdminSummary, admin_summary
from artwork.rewards import RewardPolicy
from serve.state import Service

router = APIRouter(prefix="/v1", tags=["admin"])


@router.get("/stats", response_model=AdminSummary)
def stats(service: Service, response: Response) -> AdminSummary:
    """Tag coverage per title (None when the policy loads no features), each artwork's take rate
    and bait index, and the mean reward over time; a read, open like the others."""
    rewards = RewardPolicy(window_s=service.settings.reward_window_s)
    response.headers["Cache-Control"] = "no-store"
    return admin_summary(service.store, service.catalog, service.features, rewards, time.time())
