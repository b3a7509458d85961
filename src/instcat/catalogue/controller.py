"""HTTP routes of the catalogue: categories, market figures, vendors, products."""

from typing import Annotated, Any, TypeVar

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from instcat.auth import TOKEN_REQUIRED, Actor, roles
from instcat.catalogue.categories import CategoryService
from instcat.catalogue.market import MarketFigureService
from instcat.catalogue.market_schemas import MarketFigureCreate, MarketFigureRead
from instcat.catalogue.products import ProductService
from instcat.catalogue.schemas import (
    CategoryCreate,
    CategoryDetail,
    CategoryRead,
    CategoryUpdate,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VendorCreate,
    VendorRead,
    VendorUpdate,
)
from instcat.catalogue.search import SearchCriteria
from instcat.catalogue.vendors import VendorService
from instcat.common import DEFAULT_PAGE, ETAG_HEADER, Page, etag_for
from instcat.deps import provide_service
from instcat.errors import problem_responses
from instcat.params import (
    CodeParam,
    CodePath,
    Domestic,
    IdPath,
    IfMatch,
    Limit,
    Offset,
    Search,
    SlugParam,
    SlugPath,
)

_Read = TypeVar("_Read", VendorRead, ProductRead)


def _with_etag(read: _Read, status_code: int = 200) -> Response[_Read]:
    return Response(read, status_code=status_code, headers={"ETag": etag_for(read.version)})


class CategoryController(Controller):
    path = "/categories"
    tags = ["categories"]
    dependencies = {
        "categories": provide_service(CategoryService),
        "figures": provide_service(MarketFigureService),
    }

    @get("/", responses=problem_responses())
    async def list_categories(
        self,
        categories: NamedDependency[CategoryService],
        q: Search = None,
        parent: CodeParam = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[CategoryRead]:
        """Search categories by name, alias, abbreviation or pinyin; filter by parent."""
        return await categories.list_categories(q, parent, limit, offset)

    @get("/{code:str}", responses=problem_responses(404))
    async def get_category(
        self, categories: NamedDependency[CategoryService], code: CodePath
    ) -> Response[CategoryDetail]:
        """A category with its spec definitions and latest market figure per metric."""
        body = await categories.detail_json(code)
        # Already the JSON of the detail; the declared return type documents its schema.
        return Response(body)  # type: ignore[arg-type]

    @get("/{code:str}/market", responses=problem_responses(404))
    async def get_category_market(
        self,
        figures: NamedDependency[MarketFigureService],
        code: CodePath,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[MarketFigureRead]:
        """The whole series of market figures of a category, newest year first."""
        return await figures.market_series(code, limit, offset)

    @post(
        "/",
        guards=[roles("admin")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 409, 429),
    )
    async def create_category(
        self,
        categories: NamedDependency[CategoryService],
        actor: NamedDependency[Actor],
        data: JSONBody[CategoryCreate],
    ) -> CategoryRead:
        """Add a category with its spec definitions (admin)."""
        return await categories.create(actor, data)

    @patch(
        "/{code:str}",
        guards=[roles("admin")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 404, 409, 429),
        description=(
            "A `parent` that would put the category under itself (a cycle in the category "
            "tree) is a 400 when the tree as the request first reads it shows the cycle, and "
            "a 409 when the cycle only appears because another change to the tree committed "
            "while the request waited to lock the tree: the tree changed meanwhile, so reload "
            "and retry. No cycle is ever stored."
        ),
    )
    async def update_category(
        self,
        categories: NamedDependency[CategoryService],
        actor: NamedDependency[Actor],
        code: CodePath,
        data: JSONBody[CategoryUpdate],
    ) -> CategoryRead:
        """Change a category (admin); `specs` replaces the list."""
        return await categories.update(actor, code, data)


class MarketFigureController(Controller):
    path = "/market-figures"
    tags = ["market figures"]
    dependencies = {"figures": provide_service(MarketFigureService)}

    @post(
        "/",
        guards=[roles("admin")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 404, 429),
    )
    async def create_market_figure(
        self,
        figures: NamedDependency[MarketFigureService],
        actor: NamedDependency[Actor],
        data: JSONBody[MarketFigureCreate],
    ) -> MarketFigureRead:
        """Add a market figure with its source (admin). Figures are kept as a series."""
        return await figures.create_figure(actor, data)


class VendorController(Controller):
    path = "/vendors"
    tags = ["vendors"]
    dependencies = {"vendors": provide_service(VendorService)}

    @get("/", responses=problem_responses())
    async def list_vendors(
        self,
        vendors: NamedDependency[VendorService],
        q: Search = None,
        domestic: Domestic = None,
        category: CodeParam = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[VendorRead]:
        """Search vendors; `domestic` filters by home country CN; `category` by what they make."""
        return await vendors.list_vendors(q, domestic, category, limit, offset)

    @get("/{slug:str}", responses=problem_responses(404), response_headers=ETAG_HEADER)
    async def get_vendor(
        self, vendors: NamedDependency[VendorService], slug: SlugPath
    ) -> Response[VendorRead]:
        """A vendor profile, with its ETag."""
        return _with_etag(await vendors.get(slug))

    @post(
        "/",
        guards=[roles("admin")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 409, 429),
    )
    async def create_vendor(
        self,
        vendors: NamedDependency[VendorService],
        actor: NamedDependency[Actor],
        data: JSONBody[VendorCreate],
    ) -> Response[VendorRead]:
        """Add a vendor (admin)."""
        return _with_etag(await vendors.create(actor, data), 201)

    @patch(
        "/{slug:str}",
        guards=[roles("vendor")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 404, 409, 412, 429),
    )
    async def update_vendor(
        self,
        vendors: NamedDependency[VendorService],
        actor: NamedDependency[Actor],
        slug: SlugPath,
        data: JSONBody[VendorUpdate],
        if_match: IfMatch = None,
    ) -> Response[VendorRead]:
        """Edit a vendor profile (admin, or the vendor itself except `country`)."""
        return _with_etag(await vendors.update(actor, slug, data, if_match))


class ProductController(Controller):
    path = "/products"
    tags = ["products"]
    dependencies = {"products": provide_service(ProductService)}

    @get(
        "/",
        responses=problem_responses(),
        description=(
            "Spec filters: `spec.<key>.gte|lte|eq=<number>` and `spec.<key>.includes=a,b` "
            "(all listed values present). `category` includes subcategories."
        ),
    )
    async def list_products(
        self,
        request: Request[Any, Any, Any],
        products: NamedDependency[ProductService],
        q: Search = None,
        category: CodeParam = None,
        vendor: SlugParam = None,
        domestic: Domestic = None,
        status: Annotated[str | None, QueryParameter(pattern="^(active|discontinued)$")] = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Response[Page[ProductRead]]:
        """Search and filter products, including by spec values."""
        criteria = SearchCriteria(
            q=q,
            category=category,
            vendor=vendor,
            domestic=domestic,
            status=status,
            spec_params=tuple(request.query_params.multi_items()),
            limit=limit,
            offset=offset,
        )
        body = await products.search_json(criteria)
        # Already the JSON of the Page; the declared return type documents its schema.
        return Response(body)  # type: ignore[arg-type]

    @get("/{product_id:int}", responses=problem_responses(404), response_headers=ETAG_HEADER)
    async def get_product(
        self, products: NamedDependency[ProductService], product_id: IdPath
    ) -> Response[ProductRead]:
        """A product, with its ETag."""
        return _with_etag(await products.get(product_id))

    @post(
        "/",
        guards=[roles("vendor")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 409, 429),
    )
    async def create_product(
        self,
        products: NamedDependency[ProductService],
        actor: NamedDependency[Actor],
        data: JSONBody[ProductCreate],
    ) -> Response[ProductRead]:
        """Add a product (its vendor, or admin); specs are checked against the category."""
        return _with_etag(await products.create(actor, data), 201)

    @patch(
        "/{product_id:int}",
        guards=[roles("vendor")],
        security=TOKEN_REQUIRED,
        responses=problem_responses(403, 404, 409, 412, 429),
    )
    async def update_product(
        self,
        products: NamedDependency[ProductService],
        actor: NamedDependency[Actor],
        product_id: IdPath,
        data: JSONBody[ProductUpdate],
        if_match: IfMatch = None,
    ) -> Response[ProductRead]:
        """Edit a product (its vendor, or admin)."""
        return _with_etag(await products.update(actor, product_id, data, if_match))
