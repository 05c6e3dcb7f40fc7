"""The ``artwork`` command: the one composition root; each subcommand imports what it needs."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from artwork.errors import ArtworkError
from models.errors import ModelError
from models.precision import DEVICES, PRECISIONS

log = logging.getLogger("artwork")


def main(argv: list[str] | None = None) -> int:
    """Run the ``artwork`` command line; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    # Our own packages log at INFO; libraries (open_clip logs to the root logger) only warn,
    # unless --verbose. ``serve`` installs its own handler (JSON lines, written in batches).
    if not getattr(args, "own_logging", False):
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    for package in ("artwork", "models", "serve"):
        logging.getLogger(package).setLevel(logging.DEBUG if args.verbose else logging.INFO)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (ArtworkError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="artwork", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(title="commands")

    demo = commands.add_parser("demo", help="the synthetic demo world").add_subparsers()
    build = demo.add_parser("build", help="generate a deterministic demo world")
    build.add_argument("--out", type=Path, required=True, help="folder to write the world to")
    build.add_argument("--seed", type=int, default=7)
    build.add_argument("--titles", type=int, default=200)
    build.add_argument("--viewers", type=int, default=1000)
    build.add_argument("--workers", type=int, default=0, help="render processes (0: all cores)")
    build.add_argument("--force", action="store_true", help="replace an existing folder")
    build.set_defaults(run=_demo_build)

    sheet = demo.add_parser("sheet", help="a contact sheet of stills with their truth tags")
    sheet.add_argument("world", type=Path)
    sheet.add_argument("--out", type=Path, required=True, help="PNG file to write")
    sheet.add_argument("--count", type=int, default=36, help="how many stills")
    sheet.add_argument("--columns", type=int, default=6)
    sheet.add_argument("--seed", type=int, default=0, help="which stills are picked")
    sheet.add_argument("--tags", type=Path, default=None, help="tag store: show predicted tags")
    sheet.set_defaults(run=_demo_sheet)

    tag = commands.add_parser("tag", help="CLIP embeddings, tag probabilities and quality")
    tag.add_argument("catalog", type=Path, help="catalog folder")
    tag.add_argument("--out", type=Path, required=True, help="Parquet file (resumable)")
    tag.add_argument("--clip-model", default="demo", help="demo, an open_clip name, local-dir:")
    tag.add_argument("--clip-pretrained", default=None, help="pretrained tag or checkpoint file")
    tag.add_argument("--preprocess-from", default=None, help="tag whose preprocessing a file uses")
    tag.add_argument("--device", default="auto", choices=DEVICES)
    tag.add_argument("--precision", default="auto", choices=PRECISIONS)
    tag.add_argument("--batch-size", type=int, default=64)
    tag.add_argument(
        "--engine",
        default="local",
        choices=("local", "ray"),
        help="local: this machine; ray: Ray Data, on a cluster or a local Ray",
    )
    tag.add_argument(
        "--address",
        default=None,
        help="ray: the cluster to join (ray.init address); none: a local Ray",
    )
    tag.add_argument(
        "--workers",
        type=int,
        default=2,
        help="local: decoding processes; ray: actors in the tagging pool",
    )
    tag.add_argument(
        "--cpus-per-worker",
        type=float,
        default=1.0,
        help="ray: CPUs each actor reserves (its torch threads)",
    )
    tag.add_argument("--chunk-size", type=int, default=512, help="images per committed chunk")
    tag.add_argument("--tags-model", type=Path, default=None, help="calibrated tag model folder")
    tag.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "artwork",
                     help="where uncalibrated tag models are kept per encoder")  # fmt: skip
    tag.add_argument("--float16", action="store_true", help="store embeddings as float16")
    tag.add_argument("--restart", action="store_true", help="discard earlier output, tag again")
    tag.set_defaults(run=_tag)

    frames = commands.add_parser("frames", help="candidate stills from videos")
    frames.add_argument("videos", type=Path, nargs="+", help="video files; title id = file stem")
    frames.add_argument("--out", type=Path, required=True, help="folder for the kept stills")
    frames.add_argument("--per-title", type=int, default=6, help="stills kept per video")
    frames.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    frames.add_argument("--catalog", type=Path, default=None, help="merge into this catalog")
    frames.set_defaults(run=_frames)

    sim = commands.add_parser("simulate", help="replay demo viewers against a bandit policy")
    sim.add_argument("--world", type=Path, required=True, help="demo world folder")
    sim.add_argument("--policy", default="linucb", help="a registered policy name")
    sim.add_argument("--rounds", type=int, default=20_000)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--candidates-min", type=int, default=4)
    sim.add_argument("--candidates-max", type=int, default=8)
    rewards = ("quality_play", "quality_play_pm", "watch_minutes", "click")  # simulate.REWARDS
    sim.add_argument("--reward", default="quality_play", choices=rewards, help="reward coding")
    sim.add_argument("--batch-size", type=int, default=50, help="rounds between policy updates")
    sim.add_argument("--tags", type=Path, default=None, help="tag store: features from its tags")
    sim.add_argument("--movielens", type=Path, default=None, help="ml-latest-small: its users")
    sim.add_argument("--out", type=Path, default=None, help="learning-curve PNG")
    sim.set_defaults(run=_simulate)

    serve = commands.add_parser("serve", help="serve rows and artwork over HTTP")
    serve.add_argument("--world", type=Path, required=True, help="catalog or demo world folder")
    serve.add_argument("--db", default=None, help="event store: SQLite file or database URL")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve, own_logging=True)

    labels = commands.add_parser("labels", help="people's tag labels").add_subparsers()
    export = labels.add_parser("export", help="the event store's labels as a human labels CSV "
                               "(artwork_id,tag,label) for training/calibrate_tags.py")  # fmt: skip
    export.add_argument("--db", type=_store_location, required=True,
                        help="event store: SQLite file or database URL")  # fmt: skip
    export.add_argument("--out", type=Path, required=True, help="CSV file to write")
    export.set_defaults(run=_labels_export)
    return parser


def _demo_build(args: argparse.Namespace) -> int:
    from artwork.demo.world import WorldSpec, build_world

    spec = WorldSpec(seed=args.seed, titles=args.titles, viewers=args.viewers)
    out = build_world(args.out, spec, workers=args.workers, force=args.force)
    log.info("demo world written to %s", out)
    return 0


def _demo_sheet(args: argparse.Namespace) -> int:
    from artwork.demo.sheet import world_sheet
    from artwork.tag_store import read_tags

    tags = read_tags(args.tags) if args.tags else None
    sheet = world_sheet(args.world, args.count, args.seed, args.columns, tags)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    log.info("contact sheet written to %s", args.out)
    return 0


def _tag(args: argparse.Namespace) -> int:
    from artwork.errors import InputError
    from artwork.tagging import default_tag_model_dir, load_tag_model, tag_catalog
    from models.clip import EncoderSpec

    if args.engine == "local" and args.address is not None:
        raise InputError("a cluster address needs --engine ray", field="--address")

    spec = EncoderSpec(
        model=args.clip_model,
        pretrained=args.clip_pretrained,
        device=args.device,
        precision=args.precision,
        preprocess_from=args.preprocess_from,
    )
    tags_dir = args.tags_model or default_tag_model_dir(spec)
    options = {
        "batch_size": args.batch_size,
        "chunk_size": args.chunk_size,
        "embedding_dtype": "float16" if args.float16 else "float32",
        "restart": args.restart,
        "cache_dir": args.cache_dir,
    }
    tag_model = load_tag_model(tags_dir) if tags_dir else None
    if args.engine == "ray":
        from artwork.tagging_ray import RayCluster, tag_catalog_ray

        cluster = RayCluster(args.address, args.workers, args.cpus_per_worker)
        summary = tag_catalog_ray(args.catalog, args.out, spec, tag_model, cluster=cluster,
                                  **options)  # fmt: skip
    else:
        summary = tag_catalog(args.catalog, args.out, spec, tag_model, workers=args.workers,
                              **options)  # fmt: skip
    print(
        f"tagged {summary.tagged}, already done {summary.skipped}, unreadable {summary.failed}"
        f" (see {summary.errors}) in {summary.elapsed_s:.1f} s"
        f" ({summary.images_per_s:.1f} img/s) -> {summary.out}"
    )
    return 1 if summary.failed else 0


def _frames(args: argparse.Namespace) -> int:
    from artwork.catalog_edit import merge_into_catalog
    from artwork.errors import InputError
    from artwork.frames import extract_frames

    failed: list[InputError] = []

    def report(error: InputError) -> None:
        log.warning("skipped: %s", error)
        failed.append(error)

    stills = extract_frames(
        args.videos, args.out, k=args.per_title, every_s=args.every, on_error=report
    )
    if args.catalog is not None:
        merge_into_catalog(args.catalog, stills, images_root=args.out)
    log.info("%d stills from %d videos", len(stills), len(args.videos) - len(failed))
    return 1 if failed else 0


def _simulate(args: argparse.Namespace) -> int:
    from artwork.simulate import simulate_command
    from artwork.simulate_report import format_summary

    summary = simulate_command(
        args.world,
        args.policy,
        args.rounds,
        tags=args.tags,
        movielens=args.movielens,
        out=args.out,
        seed=args.seed,
        candidates_min=args.candidates_min,
        candidates_max=args.candidates_max,
        reward=args.reward,
        batch_size=args.batch_size,
    )
    print(format_summary(summary))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from serve.app import run
    from serve.settings import Settings

    overrides = {"db": args.db} if args.db else {}
    run(Settings(world=args.world, host=args.host, port=args.port, **overrides))
    return 0


def _labels_export(args: argparse.Namespace) -> int:
    from artwork.errors import ArtifactError
    from artwork.event_store import EventStore
    from artwork.labels import write_human_labels

    if isinstance(args.db, Path) and not args.db.is_file():
        raise ArtifactError(f"{args.db}: no event store there")
    with EventStore(args.db) as store:
        labels = store.latest_labels()
    write_human_labels(args.out, labels)
    print(f"wrote {len(labels)} labels to {args.out}")
    return 0


def _store_location(text: str) -> Path | str:
    """``--db``: a database URL as is, else a SQLite file's path (``event_store.store_location``,
    without importing SQLAlchemy to parse arguments)."""
    return text if "://" in text else Path(text)


if __name__ == "__main__":
    sys.exit(main())
