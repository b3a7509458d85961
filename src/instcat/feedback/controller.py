"""HTTP routes of purchaser feedback and its moderation."""

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from instcat.auth import TOKEN_REQUIRED, Actor, roles
from instcat.common import DEFAULT_PAGE
from instcat.deps import provide_service
from instcat.errors import problem_responses
from instcat.feedback.schemas import FeedbackCreate, FeedbackPage, FeedbackRead, ModerationIn
from instcat.feedback.service import FeedbackService
from instcat.params import IdempotencyKey, IdPath, Limit, Offset

StatusFilter = Annotated[
    str | None,
    QueryParameter(pattern="^(pending|published|rejected)$", description="Staff only: state"),
]


class ProductFeedbackController(Controller):
    path = "/products/{product_id:int}/feedback"
    tags = ["feedback"]
    dependencies = {"feedback": provide_service(FeedbackService)}

    @post(
        "/",
        guards=[roles("purchaser")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 404, 409, 422, 429),
    )
    async def create_feedback(
        self,
        feedback: NamedDependency[FeedbackService],
        actor: NamedDependency[Actor],
        product_id: IdPath,
        data: JSONBody[FeedbackCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[FeedbackRead]:
        """Rate a product 1–5 on five dimensions (signed-in purchaser); published after review."""
        outcome = await feedback.create(actor, product_id, data, idempotency_key)
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(outcome.body, status_code=outcome.status, headers=headers)

    @get("/", responses=problem_responses(404))
    async def list_product_feedback(
        self,
        feedback: NamedDependency[FeedbackService],
        actor: NamedDependency[Actor],
        product_id: IdPath,
        status: StatusFilter = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> FeedbackPage:
        """Published feedback on a product with its summary; staff see every state."""
        return await feedback.list_feedback(
            actor, product_id=product_id, status=status, limit=limit, offset=offset
        )


class FeedbackController(Controller):
    path = "/feedback"
    tags = ["feedback"]
    dependencies = {"feedback": provide_service(FeedbackService)}

    @get("/", responses=problem_responses())
    async def list_feedback(
        self,
        feedback: NamedDependency[FeedbackService],
        actor: NamedDependency[Actor],
        status: StatusFilter = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> FeedbackPage:
        """All feedback (staff: the moderation queue with `status=pending`); others: published."""
        return await feedback.list_feedback(
            actor, product_id=None, status=status, limit=limit, offset=offset
        )

    @post(
        "/{feedback_id:int}/moderate",
        guards=[roles("reviewer")],
        security=TOKEN_REQUIRED,
        status_code=200,
        responses=problem_responses(403, 404, 409, 429),
    )
    async def moderate_feedback(
        self,
        feedback: NamedDependency[FeedbackService],
        actor: NamedDependency[Actor],
        feedback_id: IdPath,
        data: JSONBody[ModerationIn],
    ) -> FeedbackRead:
        """Publish or reject pending feedback (reviewer)."""
        return await feedback.moderate(actor, feedback_id, data)
