"""HTTP request and response models; their shapes are the contract in DESIGN.md."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from artwork.catalog import Catalog
from artwork.records import EVENT_TYPES, MAX_EVENT_ID_LENGTH, Decision
from artwork.rows import Row

if TYPE_CHECKING:
    from serve.state import ServiceState


class ArtworkOut(BaseModel):
    """The artwork shown for one title, with the decision that chose it."""

    artwork_id: str
    image_url: str
    decision_id: str
    propensity: float = Field(description="probability the policy gave this artwork")
    policy: str
    policy_version: str
    why: str

    @staticmethod
    def document(decision: Decision, why: str, image_url: Callable[[str], str]) -> dict[str, Any]:
        """The artwork object of one decision as JSON-ready data in this model's shape (also
        ``GET /v1/artwork``'s body)."""
        return {
            "artwork_id": decision.artwork_id, "image_url": image_url(decision.artwork_id),
            "decision_id": decision.decision_id, "propensity": decision.propensity,
            "policy": decision.policy, "policy_version": decision.policy_version, "why": why,
        }  # fmt: skip


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

    @staticmethod
    def document(
        user_id: str,
        rows: Sequence[Row],
        decisions: Sequence[Sequence[Decision]],
        catalog: Catalog,
        explain: Callable[[Sequence[Decision]], list[str]],
        image_url: Callable[[str], str],
    ) -> dict[str, Any]:
        """The page as JSON-ready data in this model's shape: each row's titles paired with
        their decisions (same order); ``explain`` gives the "why" sentences of a list of
        decisions. Not validated again: every value comes from checked records, and building
        then dumping the models cost a tenth of the page's time (tests validate the pages)."""
        whys = iter(explain([d for row_decisions in decisions for d in row_decisions]))
        titles = catalog.titles
        return {
            "user_id": user_id,
            "rows": [
                {"name": row.name, "reason": row.reason, "titles": [
                    {"title_id": d.title_id, "name": titles[d.title_id].name,
                     "artwork": ArtworkOut.document(d, next(whys), image_url)}
                    for d in row_decisions
                ]}
                for row, row_decisions in zip(rows, decisions, strict=True)
            ],
        }  # fmt: skip


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


class LabelIn(BaseModel):
    """A person's judgement of one tag on one artwork."""

    model_config = ConfigDict(extra="forbid")

    artwork_id: str = Field(max_length=128)
    tag: str = Field(max_length=64, description="a tag of the vocabulary (objects, moods, genres)")
    label: Annotated[int, Field(strict=True, ge=0, le=1, description="1: shows it, 0: does not")]


class LabelsRequest(BaseModel):
    """``POST /v1/labels``: a batch stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    labels: list[LabelIn]


class LabelsAccepted(BaseModel):
    accepted: int = Field(description="labels stored by this request")


class PolicyOut(BaseModel):
    """The serving policy; ``serving`` is who decides now (``tag_prior`` while it is cold)."""

    name: str
    serving: str
    version: str
    n_updates: int | None = Field(description="feedback rows learnt from (None: no model)")
    cold: bool
    feature_schema: dict[str, Any] | None
    source: str = Field(description="learner, policy_dir, fresh or uniform")
    offline_estimates: dict[str, Any] | None = Field(
        description="off-policy estimates from the saved policy's card, when it has them"
    )


class LastStepOut(BaseModel):
    at: float = Field(description="when it ended, Unix seconds")
    trained: int
    forced: int = Field(description="decisions no policy chose (sticky): passed over")
    default_rewards: int
    mean_reward: float | None
    late_events: int
    after_training: int
    rejected: int
    backlog: bool


class LearnerOut(BaseModel):
    """The online learner's committed state and its last step."""

    checkpoint: str
    store_id: str | None = Field(description="the event store it learns from (its id)")
    watermark: tuple[float, str] | None = Field(description="last decision learnt: (time, id)")
    event_position: int
    trained: int
    forced: int = Field(description="decisions no policy chose (sticky): passed over")
    rejected: int
    late_events: int
    after_training: int
    every_s: float
    last_step: LastStepOut | None


class PoliciesResponse(BaseModel):
    """``GET /v1/policies`` (and a reload's answer): what is served, and how it learns."""

    policy: PolicyOut
    learning: LearnerOut | None
    loaded_at: float = Field(description="when this state was loaded, Unix seconds")

    @classmethod
    def build(cls, state: ServiceState) -> PoliciesResponse:
        selector = state.selection.selector.describe()
        policy = PolicyOut(
            name=selector.name, serving=selector.serving, version=selector.version,
            n_updates=selector.n_updates, cold=selector.cold,
            feature_schema=dict(selector.feature_schema) if selector.feature_schema else None,
            source=state.policy_source, offline_estimates=state.offline_estimates(),
        )  # fmt: skip
        return cls(policy=policy, learning=_learner(state), loaded_at=state.loaded_at)


def _learner(state: ServiceState) -> LearnerOut | None:
    loop = state.learning
    if loop is None:
        return None
    learner, report = loop.learner.state, loop.last_report
    last = None
    if report is not None and loop.last_step_at is not None:
        last = LastStepOut(
            at=loop.last_step_at, trained=report.trained, forced=report.forced,
            default_rewards=report.default_rewards,
            mean_reward=report.mean_reward, late_events=report.late_events,
            after_training=report.after_training, rejected=len(report.rejected),
            backlog=report.backlog,
        )  # fmt: skip
    return LearnerOut(
        checkpoint=loop.learner.policy_folder.name, store_id=learner.store_id,
        watermark=learner.watermark,
        event_position=learner.event_position, trained=learner.trained,
        forced=learner.forced, rejected=learner.rejected, late_events=learner.late_events,
        after_training=learner.after_training, every_s=state.settings.learn_every_s,
        last_step=last,
    )  # fmt: skip


class StatusOut(BaseModel):
    status: str


class ViewersResponse(BaseModel):
    viewers: list[str]


class ErrorItem(BaseModel):
    field: str | None
    message: str


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: a summary and, for bad input, one item per problem."""

    detail: str
    errors: list[ErrorItem] = []
