"""Image quality signals of an artwork candidate: size, exposure, sharpness, colour and faces.

All signals but the size and the face boxes are measured on a *working image*: the input
resized (area-averaged down, bilinear up) to a fixed pixel budget of 384×216, the size of a
home-row tile. A signal then describes the picture as a viewer sees it on the page: a
1920×1080 frame and its 384×216 thumbnail get the same numbers, and sharpness of one image at
two sizes above the budget agrees within ~25 % (at native size it differs 4–10×). An image
smaller than the budget is upscaled and reads softer, as it will look on the page.

Luma is Rec.601, ``Y' = 0.299 R' + 0.587 G' + 0.114 B'`` on the gamma-encoded values scaled
to 0..1 (what OpenCV's RGB→grey does), not linear luminance.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from artwork.errors import ArtworkError, InputError

# A home-row tile (384×216): signals describe the image at the size it is shown, and the
# budget keeps the cost per image nearly flat from thumbnails to 4K frames.
WORKING_PIXELS = 384 * 216
# Sharpness of a typical in-focus photo at tile size is 0.003–0.03 (Laplacian variance of
# luma in 0..1); a Gaussian blur of σ = 2 px on a 512 px photo brings it to 0.0005–0.0013.
# K at the soft end of in-focus makes sharpness_score ≥ 0.5 for in-focus images.
SHARPNESS_HALF = 0.003
# Haar cascade settings, checked on scikit-image's photos: scale step 1.1 and 5 neighbours find
# the astronaut's face (and 2, 3, 4 in strips of her photo) and nothing on coffee, chelsea,
# rocket, motorcycle, hubble, retina; a step of 1.15–1.2 or 6 neighbours start to miss faces.
# 24 px is the cascade's own window, the smallest face it finds: ~11 % of a 16:9 tile's
# height. 32 px would save ~30 % of the time but lose the faces of a 2×2 group.
FACE_SCALE_STEP = 1.1
FACE_MIN_NEIGHBOURS = 5
FACE_MIN_SIDE = 24
FACE_CASCADE_FILE = "haarcascade_frontalface_default.xml"

FaceBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class QualitySignals:
    """Quality signals of one image; see the module docstring for the working image.

    brightness: mean luma, 0..1.  contrast: RMS contrast, the standard deviation of luma, 0..0.5.
    sharpness: variance of the 4-neighbour Laplacian of luma (0..1) on the working image;
    sharpness_score = s / (s + SHARPNESS_HALF), 0..1.
    colourfulness: Hasler & Süsstrunk (2003) M on 0..255 RGB: rg = R − G, yb = (R + G)/2 − B,
    M = sqrt(σ_rg² + σ_yb²) + 0.3·sqrt(μ_rg² + μ_yb²); 0 is grey, ~33 moderately, ~59 quite,
    ≥ 82 highly colourful.
    faces_count, largest_face_share (largest face box area / image area) and face_boxes
    (x, y, w, h in input pixels) are ``None`` when faces were not looked for.
    """

    width: int
    height: int
    aspect: float
    brightness: float
    contrast: float
    sharpness: float
    sharpness_score: float
    colourfulness: float
    faces_count: int | None = None
    largest_face_share: float | None = None
    face_boxes: tuple[FaceBox, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values for Parquet/JSON; face boxes become lists ``[x, y, w, h]``."""
        row = asdict(self)
        if self.face_boxes is not None:
            row["face_boxes"] = [list(box) for box in self.face_boxes]
        return row


def quality_signals(image: np.ndarray, *, detect_faces: bool = True) -> QualitySignals:
    """Measure an RGB uint8 image (H×W×3); ``detect_faces=False`` skips the costly face search."""
    image = _checked(image)
    height, width = image.shape[:2]
    work = working_image(image)
    grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    luma = grey.astype(np.float32) / 255.0
    mean, std = cv2.meanStdDev(luma)
    sharpness = float(cv2.Laplacian(luma, cv2.CV_32F, ksize=1).var())
    faces: dict[str, Any] = {}
    if detect_faces:
        scale_back = width / work.shape[1], height / work.shape[0]
        boxes = tuple(_scaled(box, scale_back) for box in _detect_faces(grey))
        largest = max((w * h for _, _, w, h in boxes), default=0)
        faces = {
            "faces_count": len(boxes),
            "largest_face_share": min(1.0, largest / (width * height)),
            "face_boxes": boxes,
        }
    return QualitySignals(
        width=width,
        height=height,
        aspect=width / height,
        brightness=float(mean[0, 0]),
        contrast=float(std[0, 0]),
        sharpness=sharpness,
        sharpness_score=sharpness / (sharpness + SHARPNESS_HALF),
        colourfulness=colourfulness(work),
        **faces,
    )


def working_image(image: np.ndarray) -> np.ndarray:
    """The image resized to ``WORKING_PIXELS`` pixels, keeping its aspect ratio."""
    height, width = image.shape[:2]
    scale = math.sqrt(WORKING_PIXELS / (width * height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


def colourfulness(image: np.ndarray) -> float:
    """Hasler & Süsstrunk's M = sqrt(σ_rg² + σ_yb²) + 0.3·sqrt(μ_rg² + μ_yb²) of RGB 0..255."""
    r, g, b = (image[..., c].astype(np.float32) for c in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    spread = math.sqrt(float(rg.var()) + float(yb.var()))
    offset = math.hypot(float(rg.mean()), float(yb.mean()))
    return spread + 0.3 * offset


def _checked(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise InputError(f"expected a numpy array, got {type(image).__name__}", field="image")
    if image.dtype != np.uint8:
        raise InputError(f"expected dtype uint8, got {image.dtype}", field="image")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"expected shape (H, W, 3) RGB, got {image.shape}", field="image")
    return np.ascontiguousarray(image)  # OpenCV rejects flipped or strided views


def _scaled(box: np.ndarray, scale: tuple[float, float]) -> FaceBox:
    x, y, w, h = (int(v) for v in box)
    sx, sy = scale
    return round(x * sx), round(y * sy), round(w * sx), round(h * sy)


_cascades = threading.local()  # a cascade is neither picklable nor safe to share across threads


def check_face_detector() -> None:
    """Load this thread's face cascade now: ``ArtworkError`` when OpenCV cannot give one."""
    _face_cascade()


def _face_cascade() -> Any:
    """This thread's Haar cascade, loaded on first use."""
    cascade = getattr(_cascades, "frontal", None)
    if cascade is None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise ArtworkError(
                f"OpenCV {cv2.__version__} has no Haar cascades (version 5 dropped them): "
                "install opencv-python-headless>=4.10,<5"
            )
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + FACE_CASCADE_FILE)
        if cascade.empty():
            raise ArtworkError(f"OpenCV could not load its bundled {FACE_CASCADE_FILE}")
        _cascades.frontal = cascade
    return cascade


def _detect_faces(grey: np.ndarray) -> np.ndarray:
    """Face boxes (x, y, w, h) on a grey image, from this thread's Haar cascade."""
    cascade = _face_cascade()
    found = cascade.detectMultiScale(
        grey,
        scaleFactor=FACE_SCALE_STEP,
        minNeighbors=FACE_MIN_NEIGHBOURS,
        minSize=(FACE_MIN_SIDE, FACE_MIN_SIDE),
    )
    return np.asarray(found, dtype=np.int64).reshape(-1, 4)
