"""Array helpers of the request path: the same values as numpy's own operations."""

from __future__ import annotations

import numpy as np

from models.arrays import FEW_ROWS, row_dots, take_rows


def test_take_rows_equals_fancy_indexing_for_few_and_many_rows() -> None:
    matrix = np.arange(60.0 * 3).reshape(60, 3)
    for rows in ([4], [7, 2, 7], list(range(FEW_ROWS + 5)), np.array([3, 1])):
        got = take_rows(matrix, rows)
        np.testing.assert_array_equal(got, matrix[rows])
        got[0, 0] = -1.0  # a copy, never a view of the matrix
    assert matrix.min() == 0.0


def test_row_dots_are_the_same_bits_for_a_row_alone_and_in_a_batch() -> None:
    rng = np.random.default_rng(0)
    rows, vector = rng.normal(size=(300, 72)), rng.normal(size=72)
    batch = row_dots(rows, vector)
    np.testing.assert_allclose(batch, rows @ vector, rtol=1e-12)
    assert all(row_dots(rows[i : i + 1], vector)[0] == batch[i] for i in range(len(rows)))
    np.testing.assert_allclose(row_dots(rows, rows), (rows * rows).sum(axis=1))
