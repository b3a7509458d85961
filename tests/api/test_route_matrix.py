"""The rest of the authorization matrix: catalogue administration, users, lists and reads.

(Trials, feedback, vendor profiles and products: test_trial_permissions.py.) Every route
the app serves appears in one of the two matrices; a denied write changes nothing."""

import json

import pytest

from tests.conftest import Api

ROLES = ("anonymous", "purchaser", "owner", "other", "reviewer", "admin")
OK_READ = (200,) * 6
ADMIN_201 = (401, 403, 403, 403, 403, 201)
ADMIN_200 = (401, 403, 403, 403, 403, 200)
STAFF_ONLY = (401, 403, 403, 403, 200, 200)

# route name → (method, path template, body, expected status per role in ROLES order)
MATRIX = {
    "list categories": ("GET", "/categories", None, OK_READ),
    "get a category": ("GET", "/categories/hplc", None, OK_READ),
    "category market series": ("GET", "/categories/hplc/market", None, OK_READ),
    "create a category": ("POST", "/categories", "category", ADMIN_201),
    "edit a category": ("PATCH", "/categories/hplc", "category_patch", ADMIN_200),
    "add a market figure": ("POST", "/market-figures", "figure", ADMIN_201),
    "list vendors": ("GET", "/vendors", None, OK_READ),
    "get a vendor": ("GET", "/vendors/hanon", None, OK_READ),
    "create a vendor": ("POST", "/vendors", "vendor", ADMIN_201),
    "list products": ("GET", "/products", None, OK_READ),
    "get a product": ("GET", "/products/{product}", None, OK_READ),
    "list trials": ("GET", "/trials", None, OK_READ),
    "list feedback": ("GET", "/feedback", None, OK_READ),
    "product feedback": ("GET", "/products/{product}/feedback", None, OK_READ),
    "alternatives": ("GET", "/alternatives?reference={reference}", None, OK_READ),
    "create a user": ("POST", "/users", "user", ADMIN_201),
    "revoke a user": ("POST", "/users/{victim}/revoke", None, (401, 403, 403, 403, 403, 204)),
    "read the audit trail": ("GET", "/audit", None, STAFF_ONLY),
    "generate a list": ("POST", "/substitution-lists", "list", (401, 403, 403, 403, 201, 201)),
    "list lists": ("GET", "/substitution-lists", None, OK_READ),
    "get a draft list": ("GET", "/substitution-lists/{draft}", None,
                         (404, 404, 404, 404, 200, 200)),
    "get a published list": ("GET", "/substitution-lists/{published}", None, OK_READ),
    "publish a draft": ("POST", "/substitution-lists/{draft}/publish", None, STAFF_ONLY),
    "delete a draft": ("DELETE", "/substitution-lists/{draft}", None,
                       (401, 403, 403, 403, 204, 204)),
    "diff two lists": ("GET", "/substitution-lists/{published}/diff?against={published}", None,
                       OK_READ),
    "export a list": ("GET", "/substitution-lists/{published}/export?format=csv", None, OK_READ),
}  # fmt: skip

BODIES = {
    "category": {"code": "icp-ms", "name_zh": "电感耦合等离子体质谱仪", "name_en": "ICP-MS"},
    "category_patch": {"aliases": ["HPLC", "液相"]},
    "figure": {
        "category": "hplc", "year": 2025, "metric": "vendor_count", "value": 40, "unit": "vendors",
        "source": {"publication": "Example", "title": "Example survey"},
    },
    "vendor": {"slug": "new-maker", "name_zh": "新厂", "name_en": "New Maker", "country": "CN"},
    "user": {"name": "new purchaser", "role": "purchaser"},
    "list": {"label": "matrix list", "categories": ["hplc"]},
}  # fmt: skip

INTERNAL_FIELDS = ("token_hash", "search_text", "row_version", "request_hash", "password")


@pytest.fixture
def world(seeded: Api) -> dict:
    tokens = {
        "anonymous": None,
        "purchaser": seeded.user("purchaser"),
        "owner": seeded.user("vendor", vendor="hanon"),
        "other": seeded.user("vendor", vendor="elite"),
        "reviewer": seeded.user("reviewer"),
        "admin": seeded.admin_token,
    }
    reviewer = tokens["reviewer"]
    draft = seeded.post("/substitution-lists", reviewer, json={"label": "draft"}).json()["id"]
    published = seeded.post("/substitution-lists", reviewer, json={"label": "pub"}).json()["id"]
    seeded.post(f"/substitution-lists/{published}/publish", reviewer)
    products = seeded.get("/products", params={"category": "hplc", "limit": 200}).json()["items"]
    victim = seeded.post("/users", seeded.admin_token, json={"name": "v", "role": "purchaser"})
    return {
        "tokens": tokens,
        "ids": {
            "draft": draft,
            "published": published,
            "product": products[0]["id"],
            "reference": next(p["id"] for p in products if not p["domestic"]),
            "victim": victim.json()["id"],
        },
    }


def _snapshot(api: Api) -> str:
    """Everything a denied write could have touched, as the admin sees it."""
    admin = api.admin_token
    parts = [
        api.get(path, admin).json()
        for path in ("/categories?limit=200", "/vendors?limit=200", "/substitution-lists",
                     "/audit?limit=200", "/categories/hplc/market")
    ]  # fmt: skip
    return json.dumps(parts, sort_keys=True)


@pytest.mark.parametrize("route", list(MATRIX))
def test_route_matrix(seeded: Api, world: dict, route: str) -> None:
    method, template, body_name, expected = MATRIX[route]
    for role, status in zip(ROLES, expected, strict=True):
        path = template.format(**world["ids"])
        before = _snapshot(seeded) if method != "GET" and status >= 400 else None
        body = BODIES.get(body_name) if body_name else None
        response = seeded.request(method, path, world["tokens"][role], json=body)
        assert response.status_code == status, (route, role, response.text)
        if before is not None:
            assert _snapshot(seeded) == before, (route, role, "a denied write changed data")
        for field in INTERNAL_FIELDS:
            assert field not in response.text, (route, role, field)
        if status < 300 and method != "GET":
            # Undo a success so the next role meets the same state.
            _reset(seeded, route, world)


def _reset(api: Api, route: str, world: dict) -> None:
    """Recreate what a successful write consumed, so every role meets the same state."""
    reviewer = world["tokens"]["reviewer"]
    if route in ("publish a draft", "delete a draft"):
        world["drafts"] = world.get("drafts", 0) + 1
        label = f"draft {world['drafts']}"
        created = api.post("/substitution-lists", reviewer, json={"label": label})
        world["ids"]["draft"] = created.json()["id"]
    elif route == "generate a list":
        BODIES["list"] = {**BODIES["list"], "label": BODIES["list"]["label"] + "+"}
    elif route == "create a category":
        BODIES["category"] = {**BODIES["category"], "code": BODIES["category"]["code"] + "x"}
    elif route == "create a vendor":
        BODIES["vendor"] = {**BODIES["vendor"], "slug": BODIES["vendor"]["slug"] + "x"}
    elif route == "revoke a user":
        created = api.post("/users", api.admin_token, json={"name": "v", "role": "purchaser"})
        world["ids"]["victim"] = created.json()["id"]


def test_every_served_route_is_in_a_matrix(seeded: Api) -> None:
    from tests.api import test_trial_permissions

    spec = seeded.client.get("/schema/openapi.json").json()
    served = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered_paths = {t.split("?")[0] for _m, t, _b, _e in MATRIX.values()}
    trial_routes = {
        "/api/v1/trials",
        "/api/v1/trials/{trial_id}",
        "/api/v1/feedback/{feedback_id}/moderate",
    }
    missing = [
        (method, path)
        for method, path in served
        if path.startswith("/api/v1")
        and not any(_same_route(path, "/api/v1" + c) for c in covered_paths)
        and not path.startswith("/api/v1/trials")
        and path not in trial_routes
        and not (path.startswith("/api/v1/products") and method in ("POST", "PATCH"))
        and not (path.startswith("/api/v1/vendors/") and method == "PATCH")
    ]
    assert test_trial_permissions.MATRIX  # the other half of the matrix
    assert missing == []


def _same_route(template: str, concrete: str) -> bool:
    a, b = template.strip("/").split("/"), concrete.strip("/").split("/")
    return len(a) == len(b) and all(
        x == y or x.startswith("{") or y.startswith("{") for x, y in zip(a, b, strict=True)
    )
