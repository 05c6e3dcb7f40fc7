"""EASE (Steck 2019) in closed form, and recency-weighted EASE.

EASE learns item-to-item weights B minimising ‖X − XB‖² + λ‖B‖² with diag(B) = 0:

    P = (XᵀX + λI)⁻¹,   B = I − P·diag(1/diag P)        (item side, an n_items² inverse)

With fewer users than items the same P comes from the Woodbury identity,

    P = (I − Xᵀ M X) / λ,   M = (XXᵀ + λI)⁻¹              (user side, an n_users² inverse)

so B is never formed: x·B = x − (x·P)·diag(1/diag P) with x·P = (x − (xXᵀ) M X) / λ.
The inverse, the fit's O(n³) step, runs on the CPU (SciPy) or, with ``device`` "cuda" (or
"auto" where one is visible), on a GPU through torch, in float64 both ways.
A user's scores are q·B where q is their history row: binary for EASE, and each item weighted
exp(−age/τ) for recency-weighted EASE (age = position counted back from the latest interaction).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from models.precision import DEVICES
from models.recommenders.base import Recommender, RecommenderConfig
from models.recommenders.errors import RecommenderError
from models.recommenders.interactions import Interactions
from models.recommenders.registry import register_recommender

FORMS = ("auto", "item", "user")


@dataclasses.dataclass(frozen=True, eq=False)
class EaseWeights:
    """EASE's B in either form: ``b`` (item side), or ``m`` and ``inv_diag`` with ``x`` (user
    side); ``apply`` and ``rows`` give the same numbers either way."""

    lam: float
    x: sp.csr_matrix
    b: np.ndarray | None = None
    m: np.ndarray | None = None
    inv_diag: np.ndarray | None = None

    @classmethod
    def fit(
        cls, x: sp.csr_matrix, lam: float, form: str = "auto", device: str = "cpu"
    ) -> EaseWeights:
        """Solve for B on the (n_users, n_items) matrix ``x`` in the form asked (auto: the
        smaller inverse), the inverse on ``device``."""
        n_users, n_items = x.shape
        device = solve_device(device)
        item_side = form == "item" or (form == "auto" and n_items <= n_users)
        k = n_items if item_side else n_users
        # Peak: the Gram (or kernel) matrix, its inverse and B (or M's symmetrised copy), each
        # k², and on the user side M·X, dense (n_users, n_items).
        what = f"EASE on {n_users:,} users × {n_items:,} items (a dense {k:,}² inverse)"
        require_memory(8 * (3 * k * k + (0 if item_side else n_users * n_items)), what)
        if item_side:
            gram = (x.T @ x).toarray()
            gram[np.diag_indices_from(gram)] += lam
            p = _inverse(gram, device)
            b = -p / np.diag(p)[None, :]
            b[np.diag_indices_from(b)] = 0.0
            return cls(lam, x, b=b)
        kernel = (x @ x.T).toarray()
        kernel[np.diag_indices_from(kernel)] += lam
        m = _inverse(kernel, device)
        m = (m + m.T) / 2.0
        mx = m @ x  # dense (n_users, n_items)
        diag = (1.0 - np.asarray(x.multiply(mx).sum(axis=0)).ravel()) / lam
        return cls(lam, x, m=m, inv_diag=1.0 / diag)

    def apply(self, q: sp.csr_matrix) -> np.ndarray:
        """q·B for history rows ``q`` (n, n_items): (n, n_items)."""
        if self.b is not None:
            return np.asarray(q @ self.b)
        qx = (q @ self.x.T).toarray() @ self.m  # (n, n_users)
        qp = (q.toarray() - qx @ self.x) / self.lam
        return q.toarray() - qp * self.inv_diag[None, :]

    def rows(self, items: np.ndarray) -> np.ndarray:
        """B[items, :], what each of ``items`` adds to every item's score: (len(items), n_items)."""
        if self.b is not None:
            return self.b[items]
        n_items = self.x.shape[1]
        unit = sp.csr_matrix(
            (np.ones(len(items)), (np.arange(len(items)), items)), shape=(len(items), n_items)
        )
        out = self.apply(unit)
        out[np.arange(len(items)), items] = 0.0
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        if self.b is not None:
            return {"b": self.b}
        return {"m": self.m, "inv_diag": self.inv_diag}

    @classmethod
    def from_arrays(
        cls, x: sp.csr_matrix, lam: float, arrays: dict[str, np.ndarray]
    ) -> EaseWeights:
        """Rebuild from ``arrays`` (as ``arrays()`` wrote them) and the history matrix ``x``."""
        return cls(lam, x, **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})


def require_memory(n_bytes: int, what: str) -> None:
    """Refuse (``RecommenderError``) a fit whose dense arrays need more than the memory this
    machine has available now (Linux's MemAvailable; not checked where it cannot be read)."""
    available = available_memory()
    if available is not None and n_bytes > available:
        raise RecommenderError(
            f"{what} needs about {n_bytes / 2**30:.1f} GiB of memory, and "
            f"{available / 2**30:.1f} GiB is available: keep fewer items (those with the most "
            "interactions), or use als or bpr, whose memory grows with the interactions"
        )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``/proc/meminfo``), or None elsewhere."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def solve_device(device: str) -> str:
    """The device to invert on, "cpu" or "cuda", for ``device`` ("auto": CUDA where torch sees
    one); "cuda" without one is refused."""
    if device == "cpu":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise RecommenderError("EASE device 'cuda': torch sees no CUDA device (use cpu or auto)")
    return "cpu"


def _inverse(a: np.ndarray, device: str) -> np.ndarray:
    """a⁻¹ in float64 (``a`` may be overwritten): SciPy on the CPU, torch on a GPU."""
    if device == "cpu":
        return scipy.linalg.inv(a, overwrite_a=True, check_finite=False)
    import torch

    return torch.linalg.inv(torch.from_numpy(a).to(device)).cpu().numpy()


@dataclasses.dataclass(frozen=True, kw_only=True)
class EaseConfig(RecommenderConfig):
    lam: float = 300.0  # the L2 penalty λ
    form: str = "auto"  # item | user | auto (the smaller inverse): both give the same B
    device: str = "cpu"  # where the inverse runs: cpu | cuda | auto (CUDA where visible)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("lam", self.lam > 0, "must be positive")
        self.require("form", self.form in FORMS, f"must be one of {FORMS}")
        self.require("device", self.device in DEVICES, f"must be one of {DEVICES}")


@register_recommender("ease")
class EASE(Recommender):
    """EASE: scores q·B with q the user's binary history row."""

    Config = EaseConfig
    search_space = {"lam": (100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)}

    def _fit(self, history: Interactions) -> None:
        c = self.config
        self.weights = EaseWeights.fit(history.matrix(), c.lam, c.form, c.device)

    def _query(self, users: np.ndarray) -> sp.csr_matrix:
        """The history rows that B is applied to."""
        return self.fitted_history.matrix()[users]

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.weights.apply(self._query(users))

    def item_similarity(self, items: np.ndarray | list[int]) -> np.ndarray:
        """B's rows: how much having seen each of ``items`` adds to every item's score."""
        return self.weights.rows(self._check_items(items))

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return self.weights.arrays()

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.weights = EaseWeights.from_arrays(
            self.fitted_history.matrix(), self.config.lam, arrays
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecencyEaseConfig(EaseConfig):
    tau: float = 5.0  # history weight exp(−age/τ), age counted in interactions

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require("tau", self.tau > 0, "must be positive")


@register_recommender("recency_ease")
class RecencyEASE(EASE):
    """EASE's B applied to a history row weighted exp(−age/τ): recent viewing counts most."""

    Config = RecencyEaseConfig
    search_space = {"lam": (100.0, 300.0, 600.0, 1000.0), "tau": (2.0, 5.0, 10.0, 20.0)}
    query_params = frozenset({"tau"})

    def _query(self, users: np.ndarray) -> sp.csr_matrix:
        return self.fitted_history.recency_matrix(self.config.tau)[users]
