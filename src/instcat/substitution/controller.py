"""HTTP routes: graded alternatives, and substitution lists."""

from dataclasses import dataclass
from typing import Annotated, Literal

from litestar import Controller, MediaType, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream

from instcat.auth import TOKEN_REQUIRED, Actor, roles
from instcat.common import DEFAULT_PAGE, MAX_PAGE, Page
from instcat.deps import provide_service
from instcat.errors import InvalidInput, problem_responses
from instcat.params import CodeParam, IdPath, Limit, Offset
from instcat.substitution.lists import ListService
from instcat.substitution.schemas import (
    Alternatives,
    CategoryAlternatives,
    ListCriteria,
    ListDiff,
    SubstitutionList,
    SubstitutionListSummary,
)
from instcat.substitution.service import AlternativesService, Window

Rule = Annotated[
    Literal["vendor", "manufacture"],
    QueryParameter(description="vendor: the vendor's home country is CN; manufacture: made in CN"),
]
ListId = IdPath
Lang = Annotated[
    Literal["zh", "en"],
    QueryParameter(description="Language of the `why` sentences: zh (default) or en"),
]
ExcludedLimit = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE, description=f"Excluded products per page, 1–{MAX_PAGE}")
]
ExcludedOffset = Annotated[
    int, QueryParameter(ge=0, le=10_000_000, description="Excluded products to skip")
]
EXPORT_TYPES = {
    "csv": "text/csv",  # the response adds "; charset=utf-8" to text types
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


@dataclass
class ExportOperation(Operation):
    """OpenAPI of the export: its 200 is CSV, XLSX or the list as JSON, as `format` asks."""

    def __post_init__(self) -> None:
        file = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
        # Streamed, but a document all the same.
        ok = (self.responses or {}).get("200")
        if not isinstance(ok, OpenAPIResponse):
            raise TypeError("the export route must declare its 200 response")
        ok.description = "Request fulfilled, document follows"
        ok.content = {
            "text/csv": file,
            EXPORT_TYPES["xlsx"]: file,
            "application/json": OpenAPIMediaType(
                schema=Reference(ref="#/components/schemas/SubstitutionList")
            ),
        }


class AlternativesController(Controller):
    path = "/alternatives"
    tags = ["alternatives"]
    dependencies = {"alternatives": provide_service(AlternativesService)}

    @get("/", responses=problem_responses(404))
    async def get_alternatives(
        self,
        alternatives: NamedDependency[AlternativesService],
        reference: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        category: CodeParam = None,
        domestic_rule: Rule = "vendor",
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
        excluded_limit: ExcludedLimit = DEFAULT_PAGE,
        excluded_offset: ExcludedOffset = 0,
        lang: Lang = "zh",
    ) -> Response[Alternatives | CategoryAlternatives]:
        """Graded domestic candidates for an imported product (`reference`) or a whole category.

        `limit`/`offset` page through each reference's candidates (best first) and
        `excluded_limit`/`excluded_offset` through the products that are not substitutes;
        `candidates_total` and `excluded_total` count them all. Each candidate's `basis`,
        `caveats` and `why` (in `lang`) explain its grade against that reference; the rule
        is described in docs/grading.md.
        """
        if (reference is None) == (category is None):
            raise InvalidInput.field("reference", "give exactly one of reference or category")
        window = Window(limit, offset, excluded_limit, excluded_offset)
        if reference is not None:
            body = await alternatives.for_reference(reference, domestic_rule, window, lang)
        else:
            body = await alternatives.for_category(category or "", domestic_rule, window, lang)
        # Already JSON, encoded once (and possibly cached) by the service; the declared
        # return type is what documents its schema, hence the ignore.
        return Response(body, media_type=MediaType.JSON)  # type: ignore[arg-type]


class SubstitutionListController(Controller):
    path = "/substitution-lists"
    tags = ["substitution lists"]
    dependencies = {"lists": provide_service(ListService)}

    @post(
        "/",
        guards=[roles("reviewer")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 409, 429),
    )
    async def create_list(
        self,
        lists: NamedDependency[ListService],
        actor: NamedDependency[Actor],
        data: JSONBody[ListCriteria],
    ) -> SubstitutionList:
        """Generate a draft list from criteria (reviewer); the answer shows its first entries."""
        return await lists.generate(actor, data)

    @get("/", responses=problem_responses())
    async def list_lists(
        self,
        lists: NamedDependency[ListService],
        actor: NamedDependency[Actor],
        status: Annotated[str | None, QueryParameter(pattern="^(draft|published)$")] = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[SubstitutionListSummary]:
        """Published lists; staff also see drafts."""
        return await lists.list_lists(actor, status, limit, offset)

    @get("/{list_id:int}", responses=problem_responses(404))
    async def get_list(
        self,
        lists: NamedDependency[ListService],
        actor: NamedDependency[Actor],
        list_id: ListId,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
        lang: Lang = "zh",
    ) -> SubstitutionList:
        """A list with a page of its entries (`limit`/`offset`, list order) and their evidence.

        `entry_count` counts every entry; the export has them all. Each `replaces` item's
        `why` sentences are in `lang`.
        """
        return await lists.get(actor, list_id, limit, offset, lang)

    @post(
        "/{list_id:int}/publish",
        guards=[roles("reviewer")],
        security=TOKEN_REQUIRED,
        status_code=200,
        responses=problem_responses(403, 404, 409, 429),
    )
    async def publish_list(
        self, lists: NamedDependency[ListService], actor: NamedDependency[Actor], list_id: ListId
    ) -> SubstitutionList:
        """Publish a draft; from then on it never changes (reviewer)."""
        return await lists.publish(actor, list_id)

    @delete(
        "/{list_id:int}",
        guards=[roles("reviewer")],
        security=TOKEN_REQUIRED,
        status_code=204,
        responses=problem_responses(403, 404, 409, 429),
    )
    async def delete_list(
        self, lists: NamedDependency[ListService], actor: NamedDependency[Actor], list_id: ListId
    ) -> None:
        """Delete a draft (reviewer); published lists are permanent."""
        await lists.delete(actor, list_id)

    @get("/{list_id:int}/diff", responses=problem_responses(404))
    async def diff_lists(
        self,
        lists: NamedDependency[ListService],
        actor: NamedDependency[Actor],
        list_id: ListId,
        against: Annotated[int, QueryParameter(ge=1, le=2**31 - 1)],
        lang: Lang = "zh",
    ) -> ListDiff:
        """Entries added to and removed from `against`, and changed grades.

        Removed and changed items carry `reasons` (docs/grading.md lists the codes).
        """
        return await lists.diff(actor, list_id, against, lang)

    @get(
        "/{list_id:int}/export",
        responses=problem_responses(404),
        operation_class=ExportOperation,
    )
    async def export_list(
        self,
        lists: NamedDependency[ListService],
        actor: NamedDependency[Actor],
        list_id: ListId,
        format: Annotated[Literal["csv", "xlsx", "json"], QueryParameter()] = "json",
    ) -> Stream:
        """Download the list as CSV (UTF-8 with BOM), XLSX or JSON."""
        _summary, body = await lists.export(actor, list_id, format)  # a 404 comes first
        filename = f"substitution-list-{list_id}.{format}"
        return Stream(
            body,
            media_type=EXPORT_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
