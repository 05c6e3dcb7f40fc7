"""The service's configuration: one pydantic-settings ``Settings``, read from ``ARTWORK_*``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from artwork.viewer_activity import DEFAULT_TTL_S

MIN_TOKEN_LENGTH = 16


class Settings(BaseSettings):
    """Where the world and the event log are, how to listen, request limits and access.

    ``db`` defaults to ``<world>/events.db``: the log sits beside the catalog and history it
    refers to, so one folder holds one experiment. Point it elsewhere when the world folder is
    read-only or shared, or at PostgreSQL with a URL (``postgresql+psycopg://user@host/db``),
    which is used as is.

    Access: with ``api_token`` set, writes (events, labels) and admin endpoints (reload, the
    labels export) need ``Authorization: Bearer <token>``. Without one (the local demo), writes
    are open and admin endpoints are refused (403) unless ``admin_open`` is set.
    """

    model_config = SettingsConfigDict(env_prefix="ARTWORK_")

    world: Path = Field(description="catalog folder (titles, artwork, optional interactions.csv)")
    db: Path | str | None = Field(
        None,
        description="event log: a SQLite file (default <world>/events.db) or a database URL",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    rows: int = Field(4, ge=1, le=20, description="home page rows when a request gives none")
    per_row: int = Field(10, ge=1, le=50, description="titles per row when a request gives none")
    max_events_per_request: int = Field(500, ge=1)
    policy: str = Field(
        "linucb_artwork",
        description="bandit policy by registry name, fresh (a tag prior decides until it has "
        "learnt), or 'uniform' for pure exploration",
    )
    policy_dir: Path | None = Field(None, description="a saved policy folder; overrides policy")
    recommender: str = Field(
        "recency_ease",
        description="the recommender fitted on the world's history at start-up for the rows "
        "(any of models.recommenders), or 'popular' for popularity and genre rows only",
    )
    recommender_artifact: Path | None = Field(
        None,
        description="a recommender folder saved by `python -m training.train_recommender` (with "
        "--refit-all for serving), loaded at start-up and on reload instead of fitting "
        "`recommender` (titles new to it are scored from their content); a corrupt one, or "
        "one of another catalog, is refused and the previous state serves on",
    )
    tags: Path | None = Field(
        None,
        description="tag store (Parquet) for the features; default <world>/tags.parquet, else "
        "the demo world's truth.csv",
    )
    cold_start_updates: int = Field(200, ge=0, description="updates before a policy replaces "
                                    "the tag prior")  # fmt: skip
    sticky_hours: float = Field(7 * 24.0, ge=0, description="keep an image engaged with this long")
    session_minutes: float = Field(30.0, gt=0, description="a session ends after this idle time")
    rows_cache: int = Field(
        4096,
        ge=0,
        description="home-page rows kept per (viewer, request shape, dismissed "
        "titles): they change only with the models, which a reload replaces; 0 keeps none",
    )
    viewer_cache_s: float | None = Field(
        None, ge=0, description="reuse a viewer's session and engagement read for this long in "
        "the process (events stored here refresh it at once, other processes' once it expires); "
        "0 reads the event store on every request; default 5 with a SQLite file, 0 with a "
        "database URL (several replicas: stickiness must hold at once across them)",
    )  # fmt: skip
    learn_every_s: float = Field(
        60.0, ge=0, description="online learning interval; 0 keeps the policy fixed"
    )
    reward_window_s: float = Field(
        24 * 3600.0, gt=0, description="events after a decision count towards its reward this long"
    )
    learner_dir: Path | None = Field(
        None,
        description="online learner state, one per replica; default <db file>.learner beside a "
        "SQLite file (events.db: events.learner), or <world>/learner with a database URL",
    )
    max_labels_per_request: int = Field(500, ge=1, description="tag labels per POST /v1/labels")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="larger request bodies: 413")
    api_token: SecretStr | None = Field(
        None,
        description="bearer token for writes and admin endpoints (at least 16 characters); "
        "unset: writes are open and admin endpoints closed unless admin_open",
    )
    admin_open: bool = Field(
        False, description="without api_token, open the admin endpoints to anyone (local demo)"
    )
    math_threads: int = Field(
        1,
        ge=1,
        description="threads per BLAS or OpenMP call once serving (start-up fits use every "
        "core): requests already run side by side, and an idle OpenBLAS worker spins on a core "
        "between calls; more only helps a machine with cores to spare",
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="`artwork serve`'s log lines: one JSON object each, or plain text"
    )

    @field_validator("api_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_TOKEN_LENGTH} characters")
        return token

    @field_validator("db", mode="before")
    @classmethod
    def _path_or_url(cls, db: object) -> object:
        """A URL (``scheme://...``) stays text; anything else is a SQLite file's path."""
        if isinstance(db, str) and "://" not in db:
            return Path(db)
        return db

    @model_validator(mode="after")
    def _default_db(self) -> Settings:
        if self.db is None:
            self.db = self.world / "events.db"
        return self

    @property
    def learner_path(self) -> Path:
        """The online learner's state folder (``learner_dir`` after defaulting): beside a SQLite
        event log and named after it (two logs in one folder never share a learner), in the
        world folder for a database server."""
        if self.learner_dir is not None:
            return self.learner_dir
        db = self.db_path
        if isinstance(db, Path):
            return db.with_name(f"{db.stem}.learner")
        return self.world / "learner"

    @property
    def viewer_cache_ttl_s(self) -> float:
        """``viewer_cache_s`` after defaulting: 5 s beside a SQLite file, 0 with a database URL
        (where several replicas may share the store)."""
        if self.viewer_cache_s is not None:
            return self.viewer_cache_s
        return DEFAULT_TTL_S if isinstance(self.db_path, Path) else 0.0

    @property
    def db_path(self) -> Path | str:
        """The event log's path, or its URL (``db`` after defaulting)."""
        assert self.db is not None
        return self.db
