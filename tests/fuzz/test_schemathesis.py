"""Schema-driven fuzzing: Schemathesis against the app's own OpenAPI document.

Every operation of the document the app serves at /schema/openapi.json is a test, once per
role (anonymous, purchaser, vendor "hanon", reviewer, admin) and once per database (SQLite,
PostgreSQL), on a fresh copy of the bundled data (plus a draft and a published
substitution list where a route works on lists). Each response goes through every
Schemathesis check that applies; `excluded_checks` says which do not, and why
(docs/reliability.md, "Fuzzing", keeps the same list).

Two phases run:
- fuzzing, for every role: random requests, valid and invalid, INSTCAT_FUZZ_EXAMPLES per
  operation (default 10; e.g. INSTCAT_FUZZ_EXAMPLES=500 for a long local run);
- coverage, for one role per operation: Schemathesis' systematic cases (boundary values,
  each parameter and property made invalid in turn, missing required parts, wrong content
  types, undeclared methods). It runs with the least privileged role the route lets in
  (anonymous on public routes): the cases are about the request, not about who sends it,
  and for roles the route's guard turns away every one of them would get the same 401/403.

Generation is deterministic (`derandomize=True`: the seed is derived from each test's
name), so a failure reproduces on the next run.
"""

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi import checks as openapi_checks

from instcat.app import create_app
from instcat.config import Settings
from tests.conftest import Api

# Slow tier (fuzzing: hundreds of generated requests): left out of scripts/test --fast.
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("INSTCAT_FUZZ_EXAMPLES", "10"))
ROLES = ["anonymous", "purchaser", "vendor", "reviewer", "admin"]
VENDOR_SLUG = "hanon"
# Stands in for every path parameter in a probe: valid, and names nothing that exists.
PROBE_ID = str(2**31 - 1)

# The document the app serves (tests/api/test_openapi.py keeps api_spec/openapi.json equal).
schema = schemathesis.openapi.from_asgi(
    "/schema/openapi.json", create_app(Settings(database_url="sqlite://", write_rate_per_minute=0))
)

# Requests answered and 5xx among them, per database kind (printed at the end of the run).
STATS: dict[str, Counter[str]] = {}


# --- checks that do not apply, each with the reason (keep docs/reliability.md in step) --------

ALWAYS_EXCLUDED: list[CheckFunction] = [
    # positive_data_acceptance: a schema-valid request must not get a 400. The contract
    # makes some schema-valid requests a 400 on purpose, and JSON Schema cannot say so:
    # cross-field rules (exactly one of `reference`/`category`, `ended_on` >= `started_on`,
    # a spec's direction must fit its kind, `scope` when `category` is null), rules that
    # depend on stored data (spec keys of the product's category, unknown vendor or
    # category codes in a body), and "may not be null" on PATCH fields that are optional.
    openapi_checks.positive_data_acceptance,
]


def _methods_on_path(path: str) -> int:
    return sum(1 for method in schema.raw_schema["paths"][path] if method != "parameters")


def excluded_checks(path: str) -> list[CheckFunction]:
    excluded = list(ALWAYS_EXCLUDED)
    if _methods_on_path(path) > 1:
        # allow_header_conformance: Litestar 2.x answers OPTIONS on a path with several
        # handlers with the methods of one of them only (litestar-org/litestar#4169, fixed
        # in 3.x); its 405 answers carry the full, correct Allow list.
        excluded.append(openapi_checks.allow_header_conformance)
    return excluded


# --- the app under test -----------------------------------------------------------------------


class CountingApp:
    """The app, counting the requests it answers and the 5xx among them."""

    def __init__(self, app: Litestar, stats: Counter[str]) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Any, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.stats["requests"] += 1
                if message["status"] >= 500:
                    self.stats["5xx"] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


# Building the app is the slow part of a test's setup; the database it points at is the
# same for every test of a kind (emptied and refilled by `seeded`), so one app per kind.
# Schemathesis starts its lifespan for each test and ends it after, so each test gets a
# fresh engine all the same.
_APPS: dict[str, CountingApp] = {}


def app_for(settings: Settings) -> CountingApp:
    key = settings.model_dump_json()
    # The write rate limiter keeps per-user buckets in the app: with it on, a fresh app.
    if key not in _APPS or settings.write_rate_per_minute > 0:
        kind = "postgresql" if settings.database_url.startswith("postgresql") else "sqlite"
        _APPS[key] = CountingApp(create_app(settings), STATS.setdefault(kind, Counter()))
    return _APPS[key]


@dataclass
class Target:
    app: CountingApp
    # The bearer token of the role under test (None: anonymous).
    token: str | None = None
    # Whether this test runs the coverage phase (see `coverage_role`).
    coverage: bool = True


# The target of the test that is running (tests run one at a time).
CURRENT: list[Target] = []


@schema.auth(refresh_interval=None, retry_on=[])
class RoleToken:
    """The role's token, through Schemathesis' own auth: a negative case that drops the
    Authorization header then really goes without it, and ignored_auth knows the token is
    a valid one (and probes the route without it and with a bad one)."""

    def get(self, case: schemathesis.Case, context: Any) -> str | None:
        return CURRENT[-1].token if CURRENT else None

    def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def role_token(api: Api, role: str) -> str | None:
    """A new user's token for `role` (none for anonymous)."""
    if role == "anonymous":
        return None
    return api.user(role, vendor=VENDOR_SLUG if role == "vendor" else None)


# (operation, role) → whether the route's guard lets the role in; it depends on the code only.
_ADMITTED: dict[tuple[str, str], bool] = {}


def admitted(api: Api, label: str, role: str, token: str | None = None) -> bool:
    """One probe without a body, with ids that exist nowhere: guards run before the body is
    read, so a 401/403 here means the route turns the role away whatever the request."""
    if (label, role) not in _ADMITTED:
        token = token or role_token(api, role)
        method, path = label.split(" ", 1)
        for parameter in schema[path][method].path_parameters:
            path = path.replace("{" + parameter.name + "}", PROBE_ID)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status = api.client.request(method, path, headers=headers).status_code
        _ADMITTED[(label, role)] = status not in (401, 403)
    return _ADMITTED[(label, role)]


def coverage_role(api: Api, label: str) -> str:
    """The role that runs an operation's coverage phase: the least privileged one the route
    admits (anonymous for public routes). The systematic cases are about the request, not
    about who sends it, and the other roles' guards would refuse every one of them."""
    return next(role for role in ROLES if admitted(api, label, role))


@pytest.fixture
def target(
    request: pytest.FixtureRequest, role: str, seeded: Api, settings: Settings
) -> Iterator[Target]:
    """The app on a fresh copy of the bundled data, and the token of `role`."""
    label = request.node.operation_label
    if "/substitution-lists" in label and label != "POST /api/v1/substitution-lists":
        # The bundled data has no lists: list 1 is a draft, list 2 is published.
        for name in ("fuzz draft", "fuzz published"):
            made = seeded.post("/substitution-lists", seeded.admin_token, json={"label": name})
            assert made.status_code == 201, made.text
        published = seeded.post(
            f"/substitution-lists/{made.json()['id']}/publish", seeded.admin_token
        )
        assert published.status_code == 200, published.text
    target = Target(app_for(settings), token=role_token(seeded, role))
    admitted(seeded, label, role, target.token)
    target.coverage = coverage_role(seeded, label) == role
    CURRENT.append(target)
    yield target
    CURRENT.remove(target)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The data is set up once per operation, role and database, not once per example.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api(case: schemathesis.Case, target: Target) -> None:
    if case.meta is not None and case.meta.phase.name == "coverage":
        if not target.coverage:
            return
        # Coverage cases are built when the tests are collected, before any token exists;
        # give them the role's token now, unless the case is about leaving it out.
        if not schema.is_security_param_negated(case):
            context = schemathesis.AuthContext(operation=case.operation, app=case.operation.app)
            schema.auth.set(case, context)
    case.call_and_validate(app=target.app, excluded_checks=excluded_checks(case.operation.path))
