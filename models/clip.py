"""One factory for CLIP encoders: open_clip names with pretrained tags, checkpoints, local folders.

Where the weights come from (``EncoderSpec``):

- ``model="demo"``: the small encoder this project trains on its demo world (``models/weights``);
- ``model="local-dir:PATH"``: a folder with ``open_clip_config.json`` (``model_cfg`` and
  ``preprocess_cfg``) and ``open_clip_model.safetensors`` — the format ``save_encoder`` writes;
- ``model=NAME`` (any open_clip architecture, or a path to an architecture JSON) with
  ``pretrained=TAG`` (downloaded by open_clip where there is a network) or ``pretrained=FILE``
  (safetensors, or a torch file read with ``weights_only=True``); ``pretrained=None`` gives
  random weights (for speed measurements only).

Preprocessing comes from the model's own config or its tag; a bare checkpoint file must say
where its preprocessing comes from (``preprocess_from=TAG`` or an ``open_clip_config.json``
beside it): it is never silently defaulted. Every encoder carries a ``model_id``
(name + weights hash) that goes into every output made with it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import open_clip
import torch
from safetensors.torch import save_file

from models.artifacts import file_sha256, write_atomically
from models.errors import ModelError
from models.precision import DEVICES, PRECISIONS, resolve, torch_dtype

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).with_name("weights") / "demo-clip"
CONFIG_FILE = "open_clip_config.json"
WEIGHTS_FILE = "open_clip_model.safetensors"
REQUIRED_PREPROCESS = ("size", "mean", "std", "interpolation", "resize_mode")


class EncoderError(ModelError):
    """The encoder cannot be loaded as asked; the message says what to change."""


@dataclass(frozen=True)
class EncoderSpec:
    """Which encoder to load, on which device, at which precision."""

    model: str = "demo"
    pretrained: str | None = None
    device: str = "auto"
    precision: str = "auto"
    preprocess_from: str | None = None  # a pretrained tag whose preprocessing a file should use

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise EncoderError(f"device: {self.device!r} is not one of {DEVICES}")
        if self.precision not in PRECISIONS:
            raise EncoderError(f"precision: {self.precision!r} is not one of {PRECISIONS}")


@dataclass
class ClipEncoder:
    """A loaded CLIP model with the preprocessing and tokenizer that belong to it."""

    model: torch.nn.Module
    preprocess: Callable[[Any], torch.Tensor]
    tokenizer: Callable[[list[str]], torch.Tensor]
    preprocess_cfg: dict[str, Any]
    model_id: str
    device: torch.device
    precision: str
    embed_dim: int = field(init=False)

    def __post_init__(self) -> None:
        # Inference runs with the weights themselves in the chosen precision: autocast would
        # cast every weight at every call (on a CPU with native bf16, 33 img/s against 88 for
        # ViT-B-32), and nothing here needs fp32 master weights.
        self.model.to(self.dtype).eval()
        self.embed_dim = (
            int(self.model.text_projection.shape[-1])
            if hasattr(self.model, "text_projection") and self.model.text_projection is not None
            else int(self.model.visual.output_dim)
        )

    @property
    def dtype(self) -> torch.dtype:
        return torch_dtype(self.precision)

    @torch.inference_mode()
    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """L2-normalised float32 embeddings of a preprocessed batch (N, 3, H, W)."""
        pixels = pixels.to(self.device, dtype=self.dtype, non_blocking=True)
        features = self.model.encode_image(pixels)
        return torch.nn.functional.normalize(features.float(), dim=-1)

    @torch.inference_mode()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """L2-normalised float32 embeddings of texts."""
        tokens = self.tokenizer(texts).to(self.device)
        features = self.model.encode_text(tokens)
        return torch.nn.functional.normalize(features.float(), dim=-1)


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; ``cuda`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise EncoderError("device: cuda was asked for but no CUDA GPU is available")
    return torch.device(device)


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto``: bf16 (or fp16) on a GPU; on a CPU whichever of fp32 and bf16 it runs faster."""
    if precision == "fp16" and device.type == "cpu":
        raise EncoderError("precision: fp16 is not supported on the CPU (use bf16 or fp32)")
    return resolve(precision, device.type, fastest_cpu_precision)


@cache
def fastest_cpu_precision() -> str:
    """Time a transformer-sized matrix multiply in fp32 and bf16 and return the faster one.

    Some CPUs have native bf16 (AMX, AVX512-BF16), others emulate it several times slower than
    fp32, so the choice is measured, once per process.
    """
    rates = {name: matmul_gflops(torch_dtype(name)) for name in ("fp32", "bf16")}
    best = max(rates, key=rates.get)
    log.info("CPU matmul GFLOP/s: %s -> %s", {k: round(v, 1) for k, v in rates.items()}, best)
    return best


def matmul_gflops(dtype: torch.dtype, n: int = 768, m: int = 3072, repeats: int = 5) -> float:
    """Measured rate of (n×n)·(n×m) matrix multiplies at ``dtype`` on the CPU, in GFLOP/s."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, m, dtype=dtype)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n * n * m / best / 1e9


def load_encoder(spec: EncoderSpec = EncoderSpec()) -> ClipEncoder:
    """Load the encoder ``spec`` names, on its device and precision, in eval mode."""
    device = resolve_device(spec.device)
    precision = resolve_precision(spec.precision, device)
    name, source = spec.model, spec.model
    if name == "demo":
        if not (DEMO_DIR / WEIGHTS_FILE).is_file():
            raise EncoderError(
                f"the demo encoder is not in {DEMO_DIR}; train it with "
                "`python -m training.train_clip` or pass --clip-model"
            )
        name = f"local-dir:{DEMO_DIR}"
    if name.endswith(".json") and Path(name).is_file():
        open_clip.add_model_config(name)
        name = Path(name).stem

    kwargs: dict[str, Any] = {}
    if name.startswith("local-dir:"):
        folder = Path(name.removeprefix("local-dir:"))
        config = _read_config(folder / CONFIG_FILE)
        checkpoint = folder / WEIGHTS_FILE
        if not checkpoint.is_file():
            raise EncoderError(f"{folder}: no {WEIGHTS_FILE} beside {CONFIG_FILE}")
        kwargs["pretrained"] = None
        preprocess_cfg = config["preprocess_cfg"]
        source = f"{folder.name}@{file_digest(checkpoint)}"
    elif name not in open_clip.list_models():
        raise EncoderError(f"model: unknown open_clip architecture {name!r}")
    elif spec.pretrained is None:
        log.warning("%s with random weights: only fit for speed measurements", name)
        preprocess_cfg = _preprocess_of_tag(name, spec.preprocess_from) if spec.preprocess_from \
            else None  # fmt: skip
        source = f"{name}@random"
    elif Path(spec.pretrained).is_file():
        checkpoint = Path(spec.pretrained)
        preprocess_cfg = _preprocess_for_file(name, checkpoint, spec.preprocess_from)
        kwargs["pretrained"] = str(checkpoint)
        source = f"{name}@{file_digest(checkpoint)}"
    elif spec.pretrained in open_clip.list_pretrained_tags_by_model(name):
        preprocess_cfg = _preprocess_of_tag(name, spec.pretrained)
        kwargs["pretrained"] = spec.pretrained
        source = f"{name}@{spec.pretrained}"
    else:
        tags = open_clip.list_pretrained_tags_by_model(name)
        raise EncoderError(
            f"pretrained: {spec.pretrained!r} is neither a file nor a tag of {name} "
            f"(tags: {', '.join(tags) or 'none'})"
        )

    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            name,
            device=device,
            weights_only=True,
            **_preprocess_kwargs(preprocess_cfg),
            **kwargs,
        )
    except RuntimeError as exc:
        raise EncoderError(f"could not load {name} ({spec.pretrained}): {exc}") from exc
    if source.endswith("@random"):
        # Random weights differ at every load: the id must say which ones made an output.
        source = f"{source}-{_state_digest(model)}"
    tokenizer = open_clip.get_tokenizer(name)
    final_cfg = dict(getattr(model.visual, "preprocess_cfg", preprocess_cfg or {}))
    return ClipEncoder(model, preprocess, tokenizer, final_cfg, source, device, precision)


def save_encoder(
    model: torch.nn.Module,
    model_cfg: dict[str, Any],
    preprocess_cfg: dict[str, Any],
    folder: Path | str,
    half: bool = False,
) -> Path:
    """Write ``model`` in the local-dir format that ``load_encoder`` (and open_clip) read.

    ``half`` stores float tensors as fp16 to halve the file; they load back as fp32.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    missing = [k for k in REQUIRED_PREPROCESS if k not in preprocess_cfg]
    if missing:
        raise EncoderError(f"preprocess_cfg: missing {missing}")
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    write_atomically(folder / WEIGHTS_FILE, lambda tmp: save_file(state, str(tmp)))
    config = {"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}
    text = json.dumps(config, indent=1, sort_keys=True) + "\n"
    write_atomically(folder / CONFIG_FILE, lambda tmp: tmp.write_text(text))
    return folder


def file_digest(path: Path, length: int = 12) -> str:
    """The first ``length`` hex digits of a file's SHA-256."""
    return file_sha256(path)[:length]


def _state_digest(model: torch.nn.Module, length: int = 12) -> str:
    digest = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:length]


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise EncoderError(f"{path}: missing")
    config = json.loads(path.read_text())
    if "model_cfg" not in config:
        raise EncoderError(f"{path}: model_cfg missing")
    missing = [k for k in REQUIRED_PREPROCESS if k not in config.get("preprocess_cfg", {})]
    if missing:
        raise EncoderError(f"{path}: preprocess_cfg lacks {', '.join(missing)}")
    return config


def _preprocess_of_tag(name: str, tag: str) -> dict[str, Any]:
    cfg = open_clip.get_pretrained_cfg(name, tag)
    if not cfg:
        raise EncoderError(f"preprocess_from: {tag!r} is not a pretrained tag of {name}")
    return {k: cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in cfg}


def _preprocess_for_file(name: str, checkpoint: Path, tag: str | None) -> dict[str, Any]:
    if tag is not None:
        return _preprocess_of_tag(name, tag)
    beside = checkpoint.with_name(CONFIG_FILE)
    if beside.is_file():
        return _read_config(beside)["preprocess_cfg"]
    raise EncoderError(
        f"{checkpoint}: a checkpoint file does not say how images were preprocessed; "
        f"put an {CONFIG_FILE} with preprocess_cfg beside it, or name the pretrained tag "
        f"whose preprocessing it uses (preprocess_from, e.g. one of "
        f"{', '.join(open_clip.list_pretrained_tags_by_model(name)) or 'none known'})"
    )


def _preprocess_kwargs(cfg: dict[str, Any] | None) -> dict[str, Any]:
    if not cfg:
        return {}
    names = {"mean": "image_mean", "std": "image_std", "interpolation": "image_interpolation",
             "resize_mode": "image_resize_mode"}  # fmt: skip
    return {names[k]: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()
            if k in names}  # fmt: skip
