"""``artwork frames``: stills from a video (three rendered shots) merged into a catalog."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from artwork.catalog import ArtworkCandidate, Title, load_catalog, write_catalog
from artwork.cli import main
from artwork.demo.plan import StillPlan
from artwork.demo.render import render_still

SHOTS = [
    StillPlan("desert", ("horse", "cactus"), ("warm",), ("Western",), "neutral", 1),
    StillPlan("space", ("spaceship", "planet"), ("cold", "dark"), ("Sci-Fi",), "neutral", 2),
    StillPlan("field", ("person", "balloon"), ("bright", "joyful"), ("Children",), "smile", 3),
]


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "t1.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 384, 216, "yuv420p"
        for plan in SHOTS:
            pixels = np.asarray(render_still(plan))
            for _ in range(10):  # two seconds a shot
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_frames_become_catalog_candidates(tmp_path: Path, video: Path) -> None:
    catalog = tmp_path / "catalog"
    (catalog / "images").mkdir(parents=True)
    write_catalog(catalog, [Title("t1", "One", ("Western",))], [])
    broken = tmp_path / "t2.mp4"
    broken.write_bytes(b"not a video at all")

    code = main(["frames", str(video), str(broken), "--out", str(tmp_path / "frames"),
                 "--per-title", "3", "--every", "0.5", "--catalog", str(catalog)])  # fmt: skip

    assert code == 1  # one video could not be read; the other was still processed
    loaded = load_catalog(catalog)
    stills = loaded.candidates("t1")
    assert len(stills) == 3 and {s.kind for s in stills} == {"video_frame"}
    assert all(loaded.image_path(s.artwork_id).is_file() for s in stills)
    assert isinstance(stills[0], ArtworkCandidate)
