"""NeuralLinear (Riquelme et al. 2018): Thompson sampling on a ridge head over an MLP's features.

A network joint_features(c, a) → ReLU(W₁x + b₁) → ReLU(W₂h + b₂) = z → w·z + b₀ is trained by Adam
on a replay buffer of the last ``buffer_size`` feedback rows, every ``retrain_every`` rows. The
decisions ignore its output layer: they use a Bayesian linear regression on φ = [1, z] (a
``RidgeRegression``, updated by Sherman–Morrison between retrains and recomputed from the buffer
after each), and, like ``linear_ts``, return the Monte Carlo probability that each candidate has
the largest score under s ~ N(Φθ̂, v²·ΦA⁻¹Φᵀ), drawn from a generator seeded by state and inputs.

The network is kept as numpy arrays, so a decision needs no torch; torch is imported only to
retrain, on ``device`` (the CPU by default: measured on an H200, a retrain at the default sizes
took 0.54 s there against 0.23 s on the machine's CPU, its minibatches being too small to fill a
GPU; "auto" picks CUDA when available), in fp32 or under autocast at
``precision`` (bf16, or fp16 with a gradient scaler; "auto" is bf16 on a GPU that has it, else
fp16, and fp32 on a CPU, where a network this small gains nothing). The head is always fitted in
float64 on the trained weights. Importance weights weight the head's
rows and the training loss; a weight counts exactly like repeated rows in the head, but only in
expectation in the network's minibatch training.

In a torch.distributed process group (a script under torchrun, ``models.data_parallel``),
every process is fed the same rows and keeps the same buffer, and a retrain is split: each
process takes its share of every minibatch (DDP averages the gradients, each share's loss
scaled so that the average is the whole minibatch's) and of the buffer's rows for the head,
whose sums ΦᵀWΦ and ΦᵀWy are all-reduced. Every process ends with the policy one process
would have, up to floating-point noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from models.bandits.base import Policy, PolicyConfig, StateReader, gaussian_argmax
from models.bandits.errors import PolicyError
from models.bandits.features import joint_dim, joint_features
from models.bandits.records import FeedbackBatch
from models.bandits.registry import register_policy
from models.bandits.ridge import RidgeRegression
from models.precision import DEVICES, PRECISIONS, autocast_dtype, resolve

if TYPE_CHECKING:  # torch is imported only to retrain
    import torch

LAYERS = ("w1", "b1", "w2", "b2", "w_out", "b_out")


@dataclasses.dataclass(frozen=True, kw_only=True)
class NeuralLinearConfig(PolicyConfig):
    ridge: float = 1.0  # λ, the head's prior precision
    scale: float = 0.3  # v: the head's posterior is N(θ̂, v²A⁻¹)
    draws: int = 256  # Monte Carlo draws per decision
    seed: int = 0  # the network's initial weights, its minibatch order and each decision's draws
    hidden_width: int = 32  # the first hidden layer
    feature_width: int = 16  # the last hidden layer, the head's features (plus a bias)
    lr: float = 0.003  # Adam's learning rate
    epochs: int = 5  # passes over the buffer per retrain
    batch_size: int = 64
    retrain_every: int = 250  # feedback rows between retrains
    buffer_size: int = 4096  # the most recent rows kept to retrain on
    device: str = "cpu"  # where retraining runs: "cpu", "cuda" or "auto" (CUDA if available)
    precision: str = "fp32"  # retraining's arithmetic: "fp32", "bf16", "fp16" or "auto"

    def __post_init__(self) -> None:
        self.require("device", self.device in DEVICES, f"must be one of {DEVICES}")
        self.require("precision", self.precision in PRECISIONS, f"must be one of {PRECISIONS}")
        names = {"device": self.device, "precision": self.precision}
        # The base check takes numbers only; the names here were checked above.
        for name in names:
            object.__setattr__(self, name, None)
        try:
            super().__post_init__()
        finally:
            for name, value in names.items():
                object.__setattr__(self, name, value)
        for name in ("ridge", "lr"):
            self.require(name, getattr(self, name) > 0, "must be > 0")
        self.require("scale", self.scale >= 0, "must be ≥ 0")
        self.require("seed", isinstance(self.seed, int), "must be an int")
        counts = ("draws", "hidden_width", "feature_width", "epochs", "batch_size")
        for name in (*counts, "retrain_every", "buffer_size"):
            value = getattr(self, name)
            self.require(name, isinstance(value, int) and value >= 1, "must be an int ≥ 1")


class ReplayBuffer:
    """The last ``size`` feedback rows (context, arm, reward, weight), in a ring."""

    def __init__(self, size: int, d_ctx: int, d_arm: int) -> None:
        self.size, self.count, self.next = size, 0, 0
        self.contexts = np.zeros((size, d_ctx))
        self.arms = np.zeros((size, d_arm))
        self.rewards = np.zeros(size)
        self.weights = np.zeros(size)

    def add(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        n = min(len(batch), self.size)
        rows = (self.next + np.arange(n)) % self.size
        for store, values in self._columns(batch.contexts, batch.arms, batch.rewards, weights):
            store[rows] = values[-n:]
        self.next = (self.next + n) % self.size
        self.count = min(self.count + len(batch), self.size)

    def ordered(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The kept rows oldest first (so training does not depend on where the ring starts)."""
        order = (self.next - self.count + np.arange(self.count)) % self.size
        return self.contexts[order], self.arms[order], self.rewards[order], self.weights[order]

    def arrays(self) -> dict[str, np.ndarray]:
        names = ("buffer_contexts", "buffer_arms", "buffer_rewards", "buffer_weights")
        return dict(zip(names, self.ordered(), strict=True))

    def restore(self, state: StateReader, count: int) -> None:
        if not (isinstance(count, int) and 0 <= count <= self.size):
            raise PolicyError(f"{state.path}: buffer_rows is {count!r}, expected 0…{self.size}")
        d_ctx, d_arm = self.contexts.shape[1], self.arms.shape[1]
        saved = (
            state.take("buffer_contexts", (count, d_ctx)),
            state.take("buffer_arms", (count, d_arm)),
            state.take("buffer_rewards", (count,)),
            state.take("buffer_weights", (count,)),
        )
        for store, values in self._columns(*saved):
            store[:count] = values
        self.count, self.next = count, count % self.size

    def _columns(self, *values: np.ndarray) -> zip:
        return zip((self.contexts, self.arms, self.rewards, self.weights), values, strict=True)


def resolve_device(device: str) -> str:
    """The torch device to retrain on: CUDA when asked ("cuda"/"auto") and available, else CPU."""
    import torch

    return "cuda" if device != "cpu" and torch.cuda.is_available() else "cpu"


def resolve_precision(precision: str, device: str) -> torch.dtype | None:
    """The autocast dtype for retraining on ``device``, or None for plain fp32. "auto": bf16 on
    a GPU that has it, else fp16; fp32 on a CPU. fp16 on a CPU is refused."""
    if precision == "fp16" and device != "cuda":
        raise PolicyError("NeuralLinearConfig.precision = 'fp16': needs a CUDA device "
                          "(use bf16 or fp32 on the CPU)")  # fmt: skip
    return autocast_dtype(resolve(precision, device, lambda: "fp32"))


@register_policy("neural_linear")
class NeuralLinear(Policy):
    """Thompson sampling over a Bayesian linear head on a retrained MLP (module docstring)."""

    Config = NeuralLinearConfig
    config: NeuralLinearConfig

    def __init__(self, d_ctx: int, d_arm: int, config: NeuralLinearConfig | None = None) -> None:
        super().__init__(d_ctx, d_arm, config)
        cfg, d = self.config, joint_dim(self.d_ctx, self.d_arm)
        rng = np.random.default_rng(cfg.seed)
        self.layers: dict[str, np.ndarray] = {}
        # torch.nn.Linear's default initialisation: U(±1/sqrt(fan_in)) for weights and biases.
        for index, (fan_in, fan_out) in enumerate(
            ((d, cfg.hidden_width), (cfg.hidden_width, cfg.feature_width), (cfg.feature_width, 1))
        ):
            bound = 1.0 / np.sqrt(fan_in)
            weight, bias = LAYERS[2 * index : 2 * index + 2]
            self.layers[weight] = rng.uniform(-bound, bound, (fan_out, fan_in))
            self.layers[bias] = rng.uniform(-bound, bound, fan_out)
        self.head = RidgeRegression(cfg.feature_width + 1, cfg.ridge)
        self.buffer = ReplayBuffer(cfg.buffer_size, self.d_ctx, self.d_arm)
        self.rows_since_retrain = 0
        self.retrains = 0

    def embed(self, joint: np.ndarray) -> np.ndarray:
        """φ = [1, z]: the head's features of joint-feature rows (n, D) → (n, feature_width + 1)."""
        layers = self.layers
        hidden = np.maximum(joint @ layers["w1"].T + layers["b1"], 0.0)
        z = np.maximum(hidden @ layers["w2"].T + layers["b2"], 0.0)
        return np.concatenate((np.ones((len(z), 1)), z), axis=1)

    def _base_distribution(self, context, candidates, arm_ids) -> np.ndarray:
        phi = self.embed(joint_features(context, candidates))
        mean = self.head.predict(phi)
        covariance = (phi @ self.head.covariance) @ phi.T
        rng = self._decision_rng(context, candidates, arm_ids, self.config.seed)
        return gaussian_argmax(mean, covariance, self.config.scale, self.config.draws, rng)

    def _learn(self, batch: FeedbackBatch, weights: np.ndarray) -> None:
        self.buffer.add(batch, weights)
        self.rows_since_retrain += len(batch)
        if self.rows_since_retrain >= self.config.retrain_every:
            self.retrain()
        else:
            phi = self.embed(joint_features(batch.contexts, batch.arms))
            self.head.add(phi, batch.rewards, weights)

    def retrain(self) -> None:
        """Train the network on the buffer (warm-started), then refit the head on its rows."""
        contexts, arms, rewards, weights = self.buffer.ordered()
        joint = joint_features(contexts, arms)
        if len(joint):
            self.layers = train_network(
                self.layers, joint, rewards, weights, self.config, self.retrains
            )
        self.head = fit_head(self.embed, joint, rewards, weights, self.config.ridge)
        self.rows_since_retrain = 0
        self.retrains += 1

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {**self.layers, **self.head.arrays("head_"), **self.buffer.arrays()}

    def _state_card(self) -> dict[str, Any]:
        return {
            "buffer_rows": self.buffer.count,
            "rows_since_retrain": self.rows_since_retrain,
            "retrains": self.retrains,
        }

    def _restore(self, state: StateReader) -> None:
        for name, array in self.layers.items():
            self.layers[name] = state.take(name, array.shape)
        self.head.restore(state, "head_")
        self.buffer.restore(state, state.card.get("buffer_rows"))
        for key in ("rows_since_retrain", "retrains"):
            value = state.card.get(key)
            if not (isinstance(value, int) and value >= 0):
                raise PolicyError(f"{state.path}: card state {key} is {value!r}, expected int ≥ 0")
            setattr(self, key, value)


def fit_head(
    embed: Callable[[np.ndarray], np.ndarray],
    joint: np.ndarray,
    rewards: np.ndarray,
    weights: np.ndarray,
    ridge: float,
) -> RidgeRegression:
    """The ridge head on φ = ``embed(joint)``: A = λI + ΦᵀWΦ, b = ΦᵀWy, refreshed. In a process
    group each process embeds its share of the rows and the sums are all-reduced."""
    from models.data_parallel import in_group, share, sum_across

    rows = share(len(joint))
    phi = embed(joint[rows])
    head = RidgeRegression(phi.shape[1], ridge)
    head.add(phi, rewards[rows], weights[rows])
    if in_group():  # A = λI + Σ_processes (A_p − λI), b = Σ_processes b_p
        import torch

        prior = ridge * np.eye(head.dim)
        sums = sum_across(torch.from_numpy(np.vstack([head.precision - prior, head.moment])))
        head.precision, head.moment = prior + sums[:-1].numpy(), sums[-1].numpy()
    head.refresh()
    return head


def train_network(
    layers: dict[str, np.ndarray],
    joint: np.ndarray,
    rewards: np.ndarray,
    weights: np.ndarray,
    config: NeuralLinearConfig,
    retrain: int,
) -> dict[str, np.ndarray]:
    """``layers`` after ``config.epochs`` epochs of Adam on the weighted squared error
    Σ w_i (f(x_i) − y_i)² / Σ w_i per minibatch; minibatch order is seeded by (seed, retrain).
    In a process group each process computes its share of every minibatch's sum, times the
    number of processes, so that DDP's average of their gradients is the minibatch's."""
    import torch

    from models.data_parallel import rank_and_size, share, wrap

    device = resolve_device(config.device)
    amp = resolve_precision(config.precision, device)
    generator = torch.Generator().manual_seed(
        int(np.random.SeedSequence([config.seed, retrain]).generate_state(1)[0])
    )
    network = _network(layers, device)
    model = wrap(network)
    processes = rank_and_size()[1]
    x, y, w = (
        torch.tensor(a, dtype=torch.float32, device=device) for a in (joint, rewards, weights)
    )
    optimizer = torch.optim.Adam(network.parameters(), lr=config.lr)
    # fp16's narrow range needs the loss scaled (bf16 has fp32's range); a no-op otherwise.
    scaler = torch.amp.GradScaler(device, enabled=amp == torch.float16)
    for _ in range(config.epochs):
        for rows in torch.randperm(len(x), generator=generator).split(config.batch_size):
            rows = rows.to(device)
            mine = rows[share(len(rows))]
            with torch.autocast(device, dtype=amp or torch.float32, enabled=amp is not None):
                predicted = model(x[mine])
            # The error and its sum in fp32 whatever the network ran in.
            loss = (w[mine] * (predicted.float() - y[mine]) ** 2).sum() / w[rows].sum() * processes
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
    return {name: p.detach().cpu().double().numpy() for name, p in network.named_parameters()}


def _network(layers: dict[str, np.ndarray], device: str) -> torch.nn.Module:
    """The MLP of ``layers`` as a torch module on ``device``, for training (float32)."""
    import torch

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for name, value in layers.items():
                tensor = torch.tensor(value, dtype=torch.float32, device=device)
                self.register_parameter(name, torch.nn.Parameter(tensor))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            hidden = torch.relu(x @ self.w1.T + self.b1)
            z = torch.relu(hidden @ self.w2.T + self.b2)
            return (z @ self.w_out.T + self.b_out)[:, 0]

    return Network()
