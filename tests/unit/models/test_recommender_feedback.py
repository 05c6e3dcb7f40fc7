"""Dislikes, "Because you watched X", viewer clusters, the ranking metrics and ours's sequence."""

from __future__ import annotations

import numpy as np
import pytest

from models.recommenders import Interactions, RecommenderError, make_recommender
from models.recommenders.clusters import cluster_viewers
from models.recommenders.dislikes import penalise_dislikes
from models.recommenders.metrics import ndcg_at_k, ranking_report, recall_at_k


def test_a_dislike_removes_the_title_and_lowers_similar_ones() -> None:
    scores = np.array([1.0, 0.9, 0.8, 0.7, 0.0])
    similarity = np.array([[1.0, 0.6, 0.0, -0.5, 0.3]])  # item 0 disliked: 1 most like it
    out = penalise_dislikes(scores, [0], similarity, strength=0.5)
    assert out[0] == -np.inf
    np.testing.assert_allclose(out[1:], [0.9 - 0.5, 0.8, 0.7, 0.0 - 0.5 * 0.5])
    np.testing.assert_array_equal(penalise_dislikes(scores, [], np.zeros((0, 5))), scores)
    with pytest.raises(RecommenderError, match="shape"):
        penalise_dislikes(scores, [0, 1], similarity)


def test_recommend_with_dislikes_on_a_fitted_model(grouped: Interactions) -> None:
    model = make_recommender("recency_ease").fit(grouped)
    user = 0  # group 0: items 0..9
    items, scores = model.recommend(user, k=30)
    disliked = int(items[0])
    after_items, after_scores = model.recommend(user, k=30, disliked=[disliked])
    assert disliked not in after_items
    before = dict(zip(items.tolist(), scores, strict=True))
    after = dict(zip(after_items.tolist(), after_scores, strict=True))
    similarity = model.item_similarity([disliked])[0]
    neighbour = max(after, key=lambda i: similarity[i])
    unrelated = [i for i in after if similarity[i] <= 0]
    assert after[neighbour] < before[neighbour]
    assert unrelated and all(after[i] == before[i] for i in unrelated)


def test_viewers_like_you_come_from_taste_clusters(grouped: Interactions) -> None:
    model = make_recommender("als", factors=8).fit(grouped)
    clusters = cluster_viewers(model, n_clusters=3, seed=0)
    groups = np.arange(grouped.n_users) // 15
    # each taste group lands (almost) whole in one cluster
    purity = sum(np.bincount(clusters.labels[groups == g]).max() for g in range(3))
    assert purity >= 0.9 * grouped.n_users
    favourites = clusters.favourites(0, 5, seen=grouped.of(0))
    assert len(favourites) and not np.isin(favourites, grouped.of(0)).any()
    assert (favourites[:2] < 10).all()  # the group's own titles first
    with pytest.raises(RecommenderError, match="n_clusters"):
        cluster_viewers(model, n_clusters=0)


def test_ranking_metrics_by_hand() -> None:
    top = np.array([[3, 1, 2] + list(range(10, 27)), [5, 6, 7] + list(range(30, 47))])
    relevant = [np.array([1, 2]), np.array([9])]
    ideal = 1 + 1 / np.log2(3)
    np.testing.assert_allclose(ndcg_at_k(top, relevant, 10),
                               [(1 / np.log2(3) + 1 / np.log2(4)) / ideal, 0.0])  # fmt: skip
    np.testing.assert_allclose(recall_at_k(top, relevant, 20), [1.0, 0.0])
    report = ranking_report(top, relevant, n_items=100)
    assert report.users == 2 and report.coverage_at_10 == 0.2
    assert report.ndcg_at_10_se > 0


def test_ours_follows_the_viewing_order() -> None:
    # Viewers watch pairs k → k+1. Having watched only 2, co-viewing ties 1 and 3; order says 3.
    starts = np.arange(36) % 6
    users = np.append(np.repeat(np.arange(36), 2), 36)
    items = np.append(np.stack([starts, starts + 1], axis=1).ravel(), 2)
    history = Interactions.build(users, items, np.append(np.tile([0, 1], 36), 0), n_items=8)
    ease = make_recommender("recency_ease").fit(history).score([36])[0]
    assert ease[1] == pytest.approx(ease[3])
    model = make_recommender("sequence_ease", min_count=1).fit(history)
    assert model.recommend(36, k=1)[0][0] == 3


def test_ours_without_frequent_items_is_recency_weighted_ease(grouped: Interactions) -> None:
    ours = make_recommender("sequence_ease", min_count=10**6).fit(grouped)
    recent = make_recommender("recency_ease").fit(grouped)
    np.testing.assert_array_equal(ours.top_k([0, 1], 5), recent.top_k([0, 1], 5))
    assert len(ours.similar_items(3, 4)[0]) == 4
