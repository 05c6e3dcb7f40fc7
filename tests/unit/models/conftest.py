"""Model-test fixtures: small synthetic viewing histories with taste groups and viewing order."""

from __future__ import annotations

import numpy as np
import pytest

from models.recommenders import Interactions

N_GROUPS, ITEMS_PER_GROUP, USERS_PER_GROUP = 3, 10, 15


def grouped_history(seed: int = 0) -> Interactions:
    """45 viewers in 3 taste groups over 30 items (group g likes items 10g..10g+9, watched
    mostly in that order from a random start), with one stray item from another group each."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for user in range(N_GROUPS * USERS_PER_GROUP):
        group = user // USERS_PER_GROUP
        start = int(rng.integers(0, 4))
        own = group * ITEMS_PER_GROUP + np.arange(start, start + int(rng.integers(5, 7)))
        stray = int(rng.integers(0, N_GROUPS * ITEMS_PER_GROUP))
        seen = np.unique(np.append(own, stray)) if stray not in own else own
        order = np.append(own, seen[~np.isin(seen, own)])  # the stray one comes last
        users += [user] * len(order)
        items += order.tolist()
        times += (1_000 * user + 10 * np.arange(len(order))).tolist()
    return Interactions.build(np.array(users), np.array(items), np.array(times),
                              n_users=N_GROUPS * USERS_PER_GROUP,
                              n_items=N_GROUPS * ITEMS_PER_GROUP)  # fmt: skip


@pytest.fixture(scope="session")
def grouped() -> Interactions:
    return grouped_history()
