"""Two array helpers for the request path, where how numpy computes matters, not only what.

``take_rows``: numpy's fancy indexing of rows gives up the GIL on every call, whatever the size;
in the service a commit thread is often waiting for the GIL, so each such call hands it over
and the request waits to get it back. A few rows are copied one by one instead.

``row_dots``: ``rows @ vector`` through BLAS rounds a row differently in batches of different
sizes (and on different CPUs); summing each row's products alike makes a decision's numbers the
same bits on a page as alone, so a policy seeded by them draws the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FEW_ROWS = 16  # ``take_rows`` copies up to this many rows one at a time


def take_rows(matrix: np.ndarray, rows: Sequence[int] | np.ndarray) -> np.ndarray:
    """``matrix[rows]``, a new array (a few rows copied one at a time: see the module)."""
    if 0 < len(rows) <= FEW_ROWS:
        return np.array([matrix[i] for i in rows])
    return matrix[rows]


def row_dots(rows: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Each row's dot product with ``other`` (a vector, or rows of the same shape), summed
    alike however many rows there are: (n,)."""
    return (rows * other).sum(axis=1)
