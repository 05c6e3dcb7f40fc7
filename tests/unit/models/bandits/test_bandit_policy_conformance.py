"""The conformance suite every registered bandit policy must pass (walks the whole registry)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.bandits import (
    FeedbackBatch,
    Policy,
    PolicyError,
    available_policies,
    load_policy,
    make_policy,
    policy_class,
)

D_CTX, D_ARM = 3, 2
POOL = [f"art{j}" for j in range(6)]


def feedback(rng: np.random.Generator, n: int, propensity: float | None = None) -> FeedbackBatch:
    ids = tuple(POOL[j] for j in rng.integers(0, len(POOL), n))
    propensities = rng.uniform(0.05, 1.0, n) if propensity is None else np.full(n, propensity)
    return FeedbackBatch(
        rng.normal(size=(n, D_CTX)), rng.normal(size=(n, D_ARM)), rng.random(n), propensities, ids
    )


def decision(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ids = [POOL[j % len(POOL)] + ("" if j < len(POOL) else f"-new{j}") for j in range(k)]
    return rng.normal(size=D_CTX), rng.normal(size=(k, D_ARM)), ids


def trained(name: str, **config: object) -> Policy:
    policy = make_policy(name, D_CTX, D_ARM, **config)
    rng = np.random.default_rng(7)
    policy.update(feedback(rng, 40))
    policy.update(feedback(rng, 3), importance_weighted=True)
    return policy


@pytest.fixture(params=available_policies())
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_registry_holds_every_policy_of_the_issue() -> None:
    expected = {
        "uniform",
        "epsilon_greedy",
        "linucb",
        "linucb_hybrid",
        "linucb_disjoint",
        "linucb_artwork",
        "linear_ts",
        "squarecb",
        "beta_ts",
    }
    assert expected <= set(available_policies())


def test_distribution_sums_to_one_and_keeps_the_floor(name: str) -> None:
    policy = trained(name, floor=0.02)
    rng = np.random.default_rng(1)
    for k in range(1, 13):
        context, candidates, ids = decision(rng, k)
        p = policy.distribution(context, candidates, ids)
        assert p.shape == (k,)
        assert abs(p.sum() - 1.0) < 1e-12
        assert (p >= min(0.02, 1.0 / k)).all()


def test_a_floor_above_one_over_k_gives_uniform(name: str) -> None:
    policy = trained(name, floor=0.5)
    context, candidates, ids = decision(np.random.default_rng(2), 4)
    np.testing.assert_allclose(policy.distribution(context, candidates, ids), 0.25, atol=1e-15)


def test_choose_samples_from_the_distribution_and_logs_its_probability(name: str) -> None:
    policy = trained(name, floor=0.05)
    context, candidates, ids = decision(np.random.default_rng(3), 5)
    p = policy.distribution(context, candidates, ids)
    draws = 4000
    counts = np.zeros(5)
    for seed in range(draws):
        choice = policy.choose(context, candidates, seed, ids)
        assert choice.propensity == choice.probabilities[choice.index]
        counts[choice.index] += 1
    np.testing.assert_array_equal(choice.probabilities, p)
    tolerance = 4.5 * np.sqrt(p * (1 - p) / draws) + 1.0 / draws  # binomial, 4.5 sigma
    assert (np.abs(counts / draws - p) <= tolerance).all(), (counts / draws, p)


def test_choice_and_distribution_are_deterministic(name: str) -> None:
    policy, twin = trained(name), trained(name)
    context, candidates, ids = decision(np.random.default_rng(4), 7)
    np.testing.assert_array_equal(
        policy.distribution(context, candidates, ids), twin.distribution(context, candidates, ids)
    )
    first, second = (p.choose(context, candidates, 123, ids) for p in (policy, twin))
    assert (first.index, first.propensity, first.seed) == (second.index, second.propensity, 123)


def test_save_load_round_trip_predicts_identically(name: str, tmp_path: Path) -> None:
    policy = trained(name)
    policy.save(tmp_path / "p")
    loaded = load_policy(tmp_path / "p", d_ctx=D_CTX, d_arm=D_ARM)
    assert type(loaded) is type(policy)
    assert (loaded.name, loaded.version, loaded.config) == (
        policy.name,
        policy.version,
        policy.config,
    )
    assert loaded.n_updates == policy.n_updates == 43
    rng = np.random.default_rng(5)
    for k in (1, 3, 8):
        context, candidates, ids = decision(rng, k)
        np.testing.assert_array_equal(
            loaded.distribution(context, candidates, ids),
            policy.distribution(context, candidates, ids),
        )
    more = feedback(np.random.default_rng(6), 5)
    policy.update(more)
    loaded.update(more)  # the whole state came back, not just what predicts
    context, candidates, ids = decision(rng, 6)
    np.testing.assert_array_equal(
        loaded.distribution(context, candidates, ids), policy.distribution(context, candidates, ids)
    )


def _saved(tmp_path: Path, name: str) -> tuple[Path, dict]:
    folder = trained(name).save(tmp_path / "p")
    return folder, json.loads((folder / "policy.json").read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"kind": "tag_model"}, "kind"),
        ({"schema_version": 99}, "schema_version"),
        ({"version": 99}, "version"),
        ({"policy": "no_such_policy"}, "unknown policy"),
        ({"d_ctx": "three"}, "d_ctx"),
        ({"d_arm": 0}, "d_arm"),
        ({"feature_map": "other/9"}, "feature map"),
        ({"config": {"no_such_setting": 1}}, "config"),
        ({"n_updates": -1}, "n_updates"),
    ],
)
def test_load_refuses_a_mismatched_card(
    name: str, tmp_path: Path, edit: dict, message: str
) -> None:
    folder, card = _saved(tmp_path, name)
    (folder / "policy.json").write_text(json.dumps({**card, **edit}))
    with pytest.raises(PolicyError, match=message):
        load_policy(folder)


# uniform and beta_ts keep no state whose shape depends on the feature dims.
@pytest.mark.parametrize(
    "model_name", [n for n in available_policies() if n not in ("uniform", "beta_ts")]
)
def test_load_refuses_a_card_whose_dims_disagree_with_its_arrays(
    model_name: str, tmp_path: Path
) -> None:
    folder, card = _saved(tmp_path, model_name)
    (folder / "policy.json").write_text(json.dumps({**card, "d_ctx": D_CTX + 1}))
    with pytest.raises(PolicyError, match="has shape"):
        load_policy(folder)


def test_load_refuses_corrupt_files_and_other_dims(name: str, tmp_path: Path) -> None:
    folder, _ = _saved(tmp_path, name)
    with pytest.raises(PolicyError, match="d_arm is 2, expected 5"):
        load_policy(folder, d_arm=5)
    other = next(n for n in available_policies() if n != name)
    with pytest.raises(PolicyError, match=f"expected {other!r}"):
        policy_class(other).load(folder)
    weights = folder / "policy.safetensors"
    weights.write_bytes(weights.read_bytes()[:-3] + b"xyz")
    with pytest.raises(PolicyError, match="does not match the card"):
        load_policy(folder)
    (folder / "policy.json").write_text('{"kind": "bandit_policy", ')
    with pytest.raises(PolicyError, match="not valid JSON"):
        load_policy(folder)
    weights.unlink()
    with pytest.raises(PolicyError, match="missing"):
        load_policy(folder)


def test_update_refuses_batches_that_do_not_fit(name: str) -> None:
    policy = trained(name)
    rng = np.random.default_rng(8)
    with pytest.raises(PolicyError, match="arms has 3 columns"):
        policy.update(
            FeedbackBatch(
                rng.normal(size=(2, D_CTX)),
                rng.normal(size=(2, 3)),
                np.ones(2),
                np.ones(2),
                ("a", "b"),
            )
        )
    with pytest.raises(PolicyError, match="max_weight"):
        policy.update(feedback(rng, 2), importance_weighted=True, max_weight=0.5)
    if policy.needs_arm_ids:
        batch = feedback(rng, 2)
        with pytest.raises(PolicyError, match="arm_ids"):
            policy.update(
                FeedbackBatch(batch.contexts, batch.arms, batch.rewards, batch.propensities)
            )
    assert policy.n_updates == 43


def test_decision_inputs_are_checked(name: str) -> None:
    policy = trained(name)
    context, candidates, ids = decision(np.random.default_rng(9), 3)
    bad = [
        (np.zeros(D_CTX + 1), candidates, ids),
        (context, np.zeros((0, D_ARM)), []),
        (context, np.zeros((3, D_ARM + 1)), ids),
        (context, np.full((3, D_ARM), np.nan), ids),
        (context, candidates, ids[:2]),
    ]
    for args in bad:
        with pytest.raises(PolicyError):
            policy.distribution(*args)
    if policy.needs_arm_ids:
        with pytest.raises(PolicyError, match="arm_ids"):
            policy.distribution(context, candidates)


def test_a_batch_of_decisions_gets_each_decisions_distribution(name: str) -> None:
    rng = np.random.default_rng(11)
    for policy in (make_policy(name, D_CTX, D_ARM), trained(name, floor=0.02)):
        made = [decision(rng, k) for k in (1, 4, 2, 7, 3, 1, 5)]
        contexts = np.stack([m[0] for m in made])
        candidates = np.concatenate([m[1] for m in made])
        ids = [i for m in made for i in m[2]]
        batch = policy.distributions(contexts, candidates, [len(m[2]) for m in made], ids)
        assert [p.shape for p in batch] == [(len(m[2]),) for m in made]
        for p, (context, arms, arm_ids) in zip(batch, made, strict=True):
            np.testing.assert_allclose(p, policy.distribution(context, arms, arm_ids),
                                       rtol=0, atol=1e-12)  # fmt: skip


def test_decisions_between_updates_see_every_update(name: str) -> None:
    asked, twin = trained(name), trained(name)  # same state; only one is asked in between
    rng = np.random.default_rng(14)
    decisions = [decision(rng, 5) for _ in range(40)]
    first = feedback(rng, 10)
    for policy in (asked, twin):
        policy.update(first)
    before = [asked.distribution(*d) for d in decisions]  # whatever a policy keeps from these
    batch = feedback(rng, 200)
    for policy in (asked, twin):
        policy.update(batch)
    after = [asked.distribution(*d) for d in decisions]
    for got, d in zip(after, decisions, strict=True):  # ... is not stale after the update
        np.testing.assert_array_equal(got, twin.distribution(*d))
    if name != "uniform":
        assert any((b != a).any() for b, a in zip(before, after, strict=True))  # it learnt


def test_batch_inputs_are_checked(name: str) -> None:
    policy = trained(name)
    rng = np.random.default_rng(13)
    contexts, arms = rng.normal(size=(2, D_CTX)), rng.normal(size=(5, D_ARM))
    ids = POOL[:5]
    bad = [
        (contexts, arms, [2, 2], ids),  # the counts miss a row
        (contexts, arms, [5], ids),  # one count for two contexts
        (contexts, arms, [5, 0], ids),  # a decision without candidates
        (contexts[:, :-1], arms, [2, 3], ids),
        (contexts, arms[:, :-1], [2, 3], ids),
        (contexts, arms, [2, 3], ids[:4]),
        (contexts, np.full_like(arms, np.inf), [2, 3], ids),
    ]
    for args in bad:
        with pytest.raises(PolicyError):
            policy.distributions(*args)


def test_a_policy_must_give_a_distribution() -> None:
    class Blank(Policy):
        def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
            pass

    with pytest.raises(TypeError, match="neither _base_distribution nor _base_distributions"):
        Blank(D_CTX, D_ARM)


def test_an_importance_weight_counts_like_repeated_rows(name: str) -> None:
    weighted, repeated = make_policy(name, D_CTX, D_ARM), make_policy(name, D_CTX, D_ARM)
    batch = feedback(np.random.default_rng(10), 6, propensity=0.5)
    weighted.update(batch, importance_weighted=True)  # every row counts 1 / 0.5 = 2 times
    repeated.update(batch)
    repeated.update(batch)
    repeated.n_updates = weighted.n_updates  # Monte Carlo policies seed their draws with it
    context, candidates, ids = decision(np.random.default_rng(11), 5)
    np.testing.assert_allclose(
        weighted.distribution(context, candidates, ids),
        repeated.distribution(context, candidates, ids),
        atol=1e-12,
    )


def test_make_policy_refuses_unknown_names_and_settings() -> None:
    with pytest.raises(PolicyError, match="unknown policy 'nope'"):
        make_policy("nope", D_CTX, D_ARM)
    with pytest.raises(PolicyError, match="config fields are floor"):
        make_policy("uniform", D_CTX, D_ARM, alpha=1.0)
    with pytest.raises(PolicyError, match="floor"):
        make_policy("linucb", D_CTX, D_ARM, floor=1.5)
    with pytest.raises(PolicyError, match="epsilon"):
        make_policy("epsilon_greedy", D_CTX, D_ARM, epsilon=float("nan"))
    with pytest.raises(PolicyError, match="d_ctx"):
        make_policy("linucb", 0, D_ARM)


def test_card_fields_join_the_card_and_may_not_replace_its_own(tmp_path: Path) -> None:
    policy = trained("linucb")
    fields = {"training": {"decisions": 43}, "metrics": {"ips": 0.1}}
    card = json.loads((policy.save(tmp_path / "p", card_fields=fields) / "policy.json").read_text())
    assert card["training"] == {"decisions": 43} and card["metrics"] == {"ips": 0.1}
    assert load_policy(tmp_path / "p").n_updates == policy.n_updates
    with pytest.raises(PolicyError, match="n_updates"):
        policy.save(tmp_path / "q", card_fields={"n_updates": 0})
