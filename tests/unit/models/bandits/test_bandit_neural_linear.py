"""neural_linear beyond the conformance suite: it learns what a linear model cannot, decides
without torch, and reloads exactly after retraining."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from models.bandits import FeedbackBatch, PolicyError, load_policy, make_policy, neural_linear

# Four artworks a ∈ {±1}²; a viewer c ≈ {±1}² plays with probability 0.5 + 0.4·sign(c₀c₁)·a₀,
# a context × context × arm interaction that the bilinear joint features cannot express.
ARMS = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])


def xor_play(name: str, seed: int, rounds: int, **settings: object) -> float:
    """The mean expected reward of the policy's choices over the last quarter of the rounds
    (oracle 0.9, uniform 0.5)."""
    rng = np.random.default_rng(seed)
    contexts = rng.choice([-1.0, 1.0], size=(rounds, 2)) + 0.1 * rng.normal(size=(rounds, 2))
    rate = 0.5 + 0.4 * np.sign(contexts[:, :1] * contexts[:, 1:]) * ARMS[None, :, 0]
    coins = rng.random(rounds)
    policy = make_policy(name, 2, 2, **settings)
    earned = np.empty(rounds)
    for t in range(rounds):
        choice = policy.choose(contexts[t], ARMS, seed=t)
        earned[t] = rate[t, choice.index]
        reward = float(coins[t] < earned[t])
        policy.update(
            FeedbackBatch.of_one(contexts[t], ARMS[choice.index], reward, choice.propensity)
        )
    return float(earned[-rounds // 4 :].mean())


def test_it_learns_an_xor_interaction_that_linucb_cannot() -> None:
    # Observed on seeds 0–2 over 2000 rounds: neural_linear 0.88–0.89, linucb 0.64–0.69.
    for seed in (0, 1):
        neural, linear = xor_play("neural_linear", seed, 2000), xor_play("linucb", seed, 2000)
        assert neural >= 0.84, (seed, neural)
        assert neural >= linear + 0.12, (seed, neural, linear)


def _feedback(rng: np.random.Generator, n: int) -> FeedbackBatch:
    return FeedbackBatch(
        rng.normal(size=(n, 3)), rng.normal(size=(n, 2)), rng.random(n), rng.uniform(0.1, 1, n)
    )


def test_a_reloaded_policy_after_retraining_decides_and_learns_identically(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    policy = make_policy("neural_linear", 3, 2, retrain_every=30, buffer_size=50, device="cpu")
    before = policy.embed(np.ones((1, 12))).copy()
    policy.update(_feedback(rng, 70))  # retrains, wraps the ring buffer
    policy.update(_feedback(rng, 5), importance_weighted=True)  # then Sherman–Morrison rows
    assert not np.array_equal(policy.embed(np.ones((1, 12))), before)
    loaded = load_policy(policy.save(tmp_path / "p"))
    decisions = [(rng.normal(size=3), rng.normal(size=(8, 2))) for _ in range(5)]
    for context, candidates in decisions:
        np.testing.assert_array_equal(
            loaded.distribution(context, candidates), policy.distribution(context, candidates)
        )
    more = _feedback(rng, 40)  # crosses the next retrain on both
    policy.update(more)
    loaded.update(more)
    for context, candidates in decisions:
        np.testing.assert_array_equal(
            loaded.distribution(context, candidates), policy.distribution(context, candidates)
        )


def test_decisions_updates_and_loading_need_no_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # any `import torch` now raises
    rng = np.random.default_rng(1)
    policy = make_policy("neural_linear", 3, 2, retrain_every=100)
    policy.update(_feedback(rng, 20))
    loaded = load_policy(policy.save(tmp_path / "p"))
    context, candidates = rng.normal(size=3), rng.normal(size=(8, 2))
    np.testing.assert_array_equal(
        loaded.distribution(context, candidates), policy.distribution(context, candidates)
    )
    with pytest.raises(ImportError):
        policy.update(_feedback(rng, 80))  # retraining is the one step that needs torch


def test_retraining_stays_on_the_cpu_unless_a_gpu_is_asked_for(monkeypatch) -> None:
    # Measured: the default network retrains faster on a CPU than on an H200 (docs/scaling.md).
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert neural_linear.resolve_device(neural_linear.NeuralLinearConfig().device) == "cpu"
    assert neural_linear.resolve_device("auto") == neural_linear.resolve_device("cuda") == "cuda"


def test_config_is_checked() -> None:
    with pytest.raises(PolicyError, match="device"):
        make_policy("neural_linear", 3, 2, device="tpu")
    with pytest.raises(PolicyError, match="precision"):
        make_policy("neural_linear", 3, 2, precision="fp8")
    with pytest.raises(PolicyError, match="precision = 'fp16': needs a CUDA device"):
        policy = make_policy("neural_linear", 3, 2, retrain_every=10, device="cpu",
                             precision="fp16")  # fmt: skip
        policy.update(_feedback(np.random.default_rng(0), 10))
    with pytest.raises(PolicyError, match="retrain_every"):
        make_policy("neural_linear", 3, 2, retrain_every=0)
    with pytest.raises(PolicyError, match="lr"):
        make_policy("neural_linear", 3, 2, lr=float("inf"))


def _trained_layers(**settings: object) -> dict[str, np.ndarray]:
    policy = make_policy("neural_linear", 3, 2, retrain_every=200, **settings)
    policy.update(_feedback(np.random.default_rng(4), 200))
    assert policy.retrains == 1
    return policy.layers


def test_mixed_precision_retraining_learns_what_fp32_learns() -> None:
    # bf16 autocast on the CPU: the network's products round to 8 bits of mantissa, the loss
    # and Adam's state stay fp32, so the weights end near fp32's and the policy still learns.
    fp32, bf16 = _trained_layers(device="cpu"), _trained_layers(device="cpu", precision="bf16")
    assert any(not np.array_equal(fp32[k], bf16[k]) for k in fp32)  # autocast did run
    for name in fp32:
        np.testing.assert_allclose(bf16[name], fp32[name], atol=0.02, err_msg=name)
    assert xor_play("neural_linear", 0, 1500, device="cpu", precision="bf16") >= 0.84


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16", "auto"])
def test_retrains_on_the_gpu_at_every_precision(precision: str) -> None:
    cpu, gpu = _trained_layers(device="cpu"), _trained_layers(device="cuda", precision=precision)
    for name in cpu:  # the same seeded minibatches; only the arithmetic differs
        atol = 1e-4 if precision == "fp32" else 0.02
        np.testing.assert_allclose(gpu[name], cpu[name], atol=atol, err_msg=name)
