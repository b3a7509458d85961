"""HTTP routes of trial reports and their review."""

from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from instcat.auth import TOKEN_REQUIRED, Actor, roles
from instcat.common import DEFAULT_PAGE, ETAG_HEADER, Page, etag_for
from instcat.deps import provide_service
from instcat.errors import problem_responses
from instcat.idempotency import Outcome
from instcat.params import IdempotencyKey, IdPath, IfMatch, Limit, Offset, SlugParam
from instcat.trials.schemas import ReviewIn, TrialCreate, TrialRead, TrialSummary, TrialUpdate
from instcat.trials.service import TrialService

StatusFilter = Annotated[
    str | None,
    QueryParameter(
        pattern="^(draft|submitted|accepted|rejected|revision_requested|superseded)$",
        description="Only trials in this state",
    ),
]


def _read_response(result: tuple[TrialRead, int], status_code: int = 200) -> Response[TrialRead]:
    read, row_version = result
    return Response(read, status_code=status_code, headers={"ETag": etag_for(row_version)})


def _outcome_response(outcome: Outcome) -> Response[Any]:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {"ETag": etag_for(1)}
    return Response(outcome.body, status_code=outcome.status, headers=headers)


class TrialController(Controller):
    path = "/trials"
    tags = ["trials"]
    dependencies = {"trials": provide_service(TrialService)}

    @post(
        "/",
        guards=[roles("vendor")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 409, 422, 429),
    )
    async def create_trial(
        self,
        trials: NamedDependency[TrialService],
        actor: NamedDependency[Actor],
        data: JSONBody[TrialCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TrialRead]:
        """Report a trial of one of your products (vendor). Starts as a draft."""
        return _outcome_response(await trials.create(actor, data, idempotency_key))

    @get("/", responses=problem_responses())
    async def list_trials(
        self,
        trials: NamedDependency[TrialService],
        actor: NamedDependency[Actor],
        status: StatusFilter = None,
        product_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        vendor: SlugParam = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[TrialSummary]:
        """Accepted trials for everyone; a vendor also sees its own; reviewers see all."""
        return await trials.list_trials(
            actor, status=status, product_id=product_id, vendor=vendor, limit=limit, offset=offset
        )

    @get("/{trial_id:int}", responses=problem_responses(404), response_headers=ETAG_HEADER)
    async def get_trial(
        self,
        trials: NamedDependency[TrialService],
        actor: NamedDependency[Actor],
        trial_id: IdPath,
    ) -> Response[TrialRead]:
        """A trial with its checks, paired-result statistics and review history."""
        return _read_response(await trials.get(actor, trial_id))

    @patch(
        "/{trial_id:int}",
        guards=[roles("vendor")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 404, 409, 412, 429),
    )
    async def update_trial(
        self,
        trials: NamedDependency[TrialService],
        actor: NamedDependency[Actor],
        trial_id: IdPath,
        data: JSONBody[TrialUpdate],
        if_match: IfMatch = None,
    ) -> Response[TrialRead]:
        """Edit a draft or a trial sent back for revision (owning vendor)."""
        return _read_response(await trials.update(actor, trial_id, data, if_match))

    @post(
        "/{trial_id:int}/submit",
        guards=[roles("vendor")],
        security=TOKEN_REQUIRED,
        status_code=200,
        responses=problem_responses(403, 404, 409, 412, 429),
    )
    async def submit_trial(
        self,
        trials: NamedDependency[TrialService],
        actor: NamedDependency[Actor],
        trial_id: IdPath,
        if_match: IfMatch = None,
    ) -> Response[TrialRead]:
        """Send the trial to the reviewers."""
        return _read_response(await trials.submit(actor, trial_id, if_match))

    @post(
        "/{trial_id:int}/review",
        guards=[roles("reviewer")],
        security=TOKEN_REQUIRED,
        status_code=200,
        responses=problem_responses(403, 404, 409, 412, 429),
    )
    async def review_trial(
        self,
        trials: NamedDependency[TrialService],
        actor: NamedDependency[Actor],
        trial_id: IdPath,
        data: JSONBody[ReviewIn],
        if_match: IfMatch = None,
    ) -> Response[TrialRead]:
        """Accept, reject or request revision of a submitted trial, with a comment (reviewer)."""
        return _read_response(await trials.review(actor, trial_id, data, if_match))

    @post(
        "/{trial_id:int}/amend",
        guards=[roles("vendor")],
        security=TOKEN_REQUIRED,
        status_code=201,
        responses=problem_responses(403, 404, 409, 429),
    )
    async def amend_trial(
        self,
        trials: NamedDependency[TrialService],
        actor: NamedDependency[Actor],
        trial_id: IdPath,
    ) -> Response[TrialRead]:
        """Start a correction of an accepted trial: a new draft version linked to it."""
        return _read_response(await trials.amend(actor, trial_id), 201)
