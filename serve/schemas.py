"""HTTP request and response models; their shapes are the contract in DESIGN.md."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from artwork.catalog import Catalog
from artwork.records import EVENT_TYPES, MAX_EVENT_ID_LENGTH, Decision
from artwork.rows import Row


class ArtworkOut(BaseModel):
    """The artwork shown for one title, with the decision that chose it."""

    artwork_id: str
    image_url: str
    decision_id: str
    propensity: float = Field(description="probability the policy gave this artwork")
    policy: str
    policy_version: str
    why: str

    @classmethod
    def build(
        cls, decision: Decision, why: Callable[[Decision], str], image_url: Callable[[str], str]
    ) -> ArtworkOut:
        """The artwork object of one decision (also ``GET /v1/artwork``'s body)."""
        return cls(
            artwork_id=decision.artwork_id,
            image_url=image_url(decision.artwork_id),
            decision_id=decision.decision_id,
            propensity=decision.propensity,
            policy=decision.policy,
            policy_version=decision.policy_version,
            why=why(decision),
        )


class TitleOut(BaseModel):
    title_id: str
    name: str
    artwork: ArtworkOut


class RowOut(BaseModel):
    name: str
    reason: str
    titles: list[TitleOut]


class HomeResponse(BaseModel):
    """``GET /v1/home``: rows of titles, each with its chosen artwork."""

    user_id: str
    rows: list[RowOut]

    @classmethod
    def build(
        cls,
        user_id: str,
        rows: Sequence[Row],
        decisions: Sequence[Sequence[Decision]],
        catalog: Catalog,
        why: Callable[[Decision], str],
        image_url: Callable[[str], str],
    ) -> HomeResponse:
        """Pair each row's titles with their decisions (same order)."""
        return cls(
            user_id=user_id,
            rows=[
                RowOut(
                    name=row.name,
                    reason=row.reason,
                    titles=[
                        TitleOut(
                            title_id=d.title_id,
                            name=catalog.titles[d.title_id].name,
                            artwork=ArtworkOut.build(d, why, image_url),
                        )
                        for d in row_decisions
                    ],
                )
                for row, row_decisions in zip(rows, decisions, strict=True)
            ],
        )


class EventIn(BaseModel):
    """One feedback event as a client sends it; the domain record checks its meaning."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(
        max_length=MAX_EVENT_ID_LENGTH, description="client-generated idempotency key"
    )
    decision_id: str
    type: str = Field(description=f"one of {', '.join(EVENT_TYPES)}")
    value: float | None = Field(
        None, description="seconds for watch_seconds (required); default 1.0 for other types"
    )
    time: float | None = Field(None, description="Unix seconds; default: when it was received")


class EventsRequest(BaseModel):
    """``POST /v1/events``: a batch stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn]


class EventsAccepted(BaseModel):
    accepted: int = Field(description="events stored by this request")
    duplicates: int = Field(description="events whose event_id was already stored")


class ViewersResponse(BaseModel):
    viewers: list[str]


class ErrorItem(BaseModel):
    field: str | None
    message: str


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: a summary and, for bad input, one item per problem."""

    detail: str
    errors: list[ErrorItem] = []
