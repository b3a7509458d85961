"""Problem documents, input validation, tokens, users and the audit trail."""

import pytest

PROBLEM_FIELDS = {"type", "title", "status", "detail"}
HUGE = 10**30


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) >= PROBLEM_FIELDS
    assert body["status"] == status
    assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail"))
    return body


def error_fields(response):
    body = assert_problem(response, 400)
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    return [e["field"] for e in body["errors"]]


def vendor_body(slug="gangdong", **overrides):
    body = {"slug": slug, "name_zh": "天津港东", "name_en": "Gangdong", "country": "CN"}
    return body | overrides


def create_vendor(api, slug="gangdong"):
    response = api.post("/vendors", api.admin_token, json=vendor_body(slug))
    assert response.status_code == 201, response.text
    return response.json()


def create_user(api, role, vendor=None, name=None):
    body = {"name": name or f"{role} user", "role": role, "vendor": vendor}
    response = api.post("/users", api.admin_token, json=body)
    assert response.status_code == 201, response.text
    return response.json()


# --- problem documents ------------------------------------------------------------------------


def provoke_400(api):
    return api.get("/vendors", params={"limit": 0})


def provoke_401(api):
    return api.get("/vendors", "ic_not_a_real_token")


def provoke_403(api):
    return api.post("/vendors", api.user("purchaser"), json=vendor_body())


def provoke_404(api):
    return api.get("/vendors/nobody")


def provoke_409(api):
    create_vendor(api)
    return api.post("/vendors", api.admin_token, json=vendor_body())


def provoke_412(api):
    create_vendor(api)
    return api.patch(
        "/vendors/gangdong", api.admin_token, json={"city": "X"}, headers={"If-Match": '"999"'}
    )


PROVOKERS = [
    (400, provoke_400),
    (401, provoke_401),
    (403, provoke_403),
    (404, provoke_404),
    (409, provoke_409),
    (412, provoke_412),
]


@pytest.mark.parametrize(("status", "provoke"), PROVOKERS)
def test_every_error_is_a_problem_document(api, status, provoke):
    assert_problem(provoke(api), status)


def test_malformed_json_is_a_bad_request(api):
    response = api.post(
        "/vendors",
        api.admin_token,
        content=b'{"slug": "gangdong",',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 400)
    assert_problem(api.get("/vendors/gangdong"), 404)


def test_wrong_types_are_listed_field_by_field(api):
    body = vendor_body(name_zh=5, founded_year="long ago")
    response = api.post("/vendors", api.admin_token, json=body)
    assert sorted(error_fields(response)) == ["founded_year", "name_zh"]


def test_an_unknown_body_field_is_rejected_not_ignored(api):
    response = api.post("/vendors", api.admin_token, json=vendor_body(domestic=True))
    assert error_fields(response) == ["domestic"]
    assert_problem(api.get("/vendors/gangdong"), 404)


@pytest.mark.parametrize("path", ["/categories", "/vendors", "/products", "/audit"])
@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 201}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset")],
)
def test_page_bounds_are_enforced(api, path, params, field):
    response = api.get(path, api.admin_token, params=params)
    assert error_fields(response) == [field]


def test_the_largest_page_is_allowed(api):
    response = api.get("/vendors", params={"limit": 200})
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 200, "offset": 0}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/vendors", vendor_body(name_zh="港\x00东"), "name_zh"),
        ("/users", {"name": "a\x00b", "role": "purchaser"}, "name"),
        ("/categories", {"code": "ftir", "name_zh": "红外", "name_en": "FT\x00IR"}, "name_en"),
    ],
)
def test_a_nul_character_in_a_name_is_rejected(api, path, body, field):
    assert error_fields(api.post(path, api.admin_token, json=body)) == [field]


def test_a_huge_year_is_rejected(api):
    response = api.post("/vendors", api.admin_token, json=vendor_body(founded_year=HUGE))
    assert error_fields(response) == ["founded_year"]
    raw = b'{"slug": "gangdong", "name_zh": "a", "name_en": "b", "country": "CN", "founded_year": 1'
    raw += b"0" * 400 + b"}"
    response = api.post(
        "/vendors", api.admin_token, content=raw, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)
    assert_problem(api.get("/vendors/gangdong"), 404)


# --- tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/categories", "/vendors", "/products", "/categories/nmr"])
def test_a_bad_token_on_a_public_route_is_401_not_anonymous(seeded, path):
    response = seeded.get(path, "ic_not_a_real_token")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic xxx", "Bearer", "Bearer ", "Token abc"])
def test_an_authorization_header_that_is_not_a_bearer_token_is_401(api, header):
    response = api.get("/vendors", headers={"Authorization": header})
    assert_problem(response, 401)
    assert "www-authenticate" in response.headers


def test_a_revoked_token_is_401_afterwards(api):
    reviewer = create_user(api, "reviewer")
    assert api.get("/audit", reviewer["token"]).status_code == 200
    response = api.post(f"/users/{reviewer['id']}/revoke", api.admin_token)
    assert response.status_code == 204
    assert_problem(api.get("/audit", reviewer["token"]), 401)
    assert_problem(api.get("/vendors", reviewer["token"]), 401)


def test_revoking_an_unknown_user_is_not_found(api):
    assert_problem(api.post("/users/999999/revoke", api.admin_token), 404)


# --- users --------------------------------------------------------------------------------------


def test_creating_a_user_returns_its_token_once(api):
    create_vendor(api)
    user = create_user(api, "vendor", vendor="gangdong", name="港东 sales")
    assert set(user) >= {"id", "name", "role", "vendor", "token"}
    assert (user["name"], user["role"], user["vendor"]) == ("港东 sales", "vendor", "gangdong")
    assert isinstance(user["id"], int) and user["token"]
    response = api.patch("/vendors/gangdong", user["token"], json={"city": "Tianjin"})
    assert response.status_code == 200, response.text
    trail = api.get("/audit", api.admin_token, params={"entity": "user"})
    assert user["token"] not in trail.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "no vendor", "role": "vendor"},
        {"name": "unknown vendor", "role": "vendor", "vendor": "nobody"},
        {"name": "buyer", "role": "purchaser", "vendor": "gangdong"},
        {"name": "boss", "role": "admin", "vendor": "gangdong"},
    ],
)
def test_only_vendor_users_belong_to_a_vendor(api, body):
    create_vendor(api)
    assert error_fields(api.post("/users", api.admin_token, json=body)) == ["vendor"]


@pytest.mark.parametrize("role", ["reviewer", "vendor", "purchaser"])
def test_only_an_admin_creates_users(api, role):
    create_vendor(api)
    token = api.user(role, vendor="gangdong" if role == "vendor" else None)
    response = api.post("/users", token, json={"name": "x", "role": "admin"})
    assert_problem(response, 403)


def test_anonymous_cannot_create_users(api):
    assert_problem(api.post("/users", json={"name": "x", "role": "admin"}), 401)


# --- audit --------------------------------------------------------------------------------------


def test_audit_lists_the_writes_newest_first_with_their_actor(api):
    reviewer = create_user(api, "reviewer", name="审核员 Li")
    create_vendor(api)
    vendor_user = create_user(api, "vendor", vendor="gangdong", name="港东 sales")
    api.patch("/vendors/gangdong", vendor_user["token"], json={"city": "Tianjin"})
    response = api.get("/audit", reviewer["token"])
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(e["action"], e["entity"]) for e in items] == [
        ("update", "vendor"),
        ("create", "user"),
        ("create", "vendor"),
        ("create", "user"),
    ]
    assert [e["at"] for e in items] == sorted((e["at"] for e in items), reverse=True)
    assert all(e["at"].endswith("Z") for e in items)
    assert items[0]["actor"] == {"id": vendor_user["id"], "name": "港东 sales", "role": "vendor"}
    assert {k: items[1]["actor"][k] for k in ("name", "role")} == {
        "name": "test admin",
        "role": "admin",
    }
    assert items[1]["entity_id"] == vendor_user["id"]


def test_audit_filters_by_entity_entity_id_and_actor(api):
    reviewer = create_user(api, "reviewer")
    vendor = create_vendor(api)
    create_vendor(api, "other")
    vendor_user = create_user(api, "vendor", vendor="gangdong")
    api.patch("/vendors/gangdong", vendor_user["token"], json={"city": "Tianjin"})
    by_entity = api.get("/audit", reviewer["token"], params={"entity": "vendor"}).json()
    assert [(e["action"], e["entity"]) for e in by_entity["items"]] == [
        ("update", "vendor"),
        ("create", "vendor"),
        ("create", "vendor"),
    ]
    assert by_entity["total"] == 3
    params = {"entity": "vendor", "entity_id": vendor["id"]}
    one = api.get("/audit", reviewer["token"], params=params).json()["items"]
    assert [e["action"] for e in one] == ["update", "create"]
    mine = api.get("/audit", reviewer["token"], params={"actor": vendor_user["id"]}).json()
    assert [(e["action"], e["entity"]) for e in mine["items"]] == [("update", "vendor")]


def test_audit_entity_filter_must_be_a_known_entity(api):
    assert error_fields(api.get("/audit", api.admin_token, params={"entity": "vendors"})) == [
        "entity"
    ]


@pytest.mark.parametrize("role", ["purchaser", "vendor"])
def test_audit_is_for_staff_only(api, role):
    create_vendor(api)
    token = api.user(role, vendor="gangdong" if role == "vendor" else None)
    assert_problem(api.get("/audit", token), 403)
    assert_problem(api.get("/audit"), 401)


# --- never a 500 --------------------------------------------------------------------------------

PROBES = [
    ("GET", "/products/99999999999999999999", {}, {404, 400}),
    ("GET", "/products/9999999999", {}, {404, 400}),
    ("PATCH", "/products/99999999999999999999", {"json": {"name": "x"}}, {404, 400}),
    ("POST", "/users/99999999999999/revoke", {}, {404, 400}),
    ("GET", "/audit", {"params": {"entity_id": HUGE}}, {200, 400}),
    ("GET", "/audit", {"params": {"actor": HUGE}}, {200, 400}),
    ("GET", "/vendors/ciq%00tek", {}, {404, 400}),
    ("GET", "/categories/nm%00r", {}, {404, 400}),
    ("GET", "/categories/nm%00r/market", {}, {404, 400}),
    ("PATCH", "/vendors/ciq%00tek", {"json": {"city": "x"}}, {404, 400}),
    ("GET", "/vendors", {"params": {"q": "国\x00仪"}}, {200, 400}),
    ("GET", "/products", {"params": {"q": "LC\x00660"}}, {200, 400}),
    ("GET", "/categories", {"params": {"q": "核\x00磁"}}, {200, 400}),
    ("GET", "/categories", {"params": {"parent": "e\x00m"}}, {404, 400}),
    ("GET", "/products", {"params": {"vendor": "han\x00on"}}, {200, 400}),
    ("GET", "/products", {"params": {"category": "hp\x00lc"}}, {400}),
    ("GET", "/products", {"params": {"spec.detectors.includes": "U\x00V"}}, {200, 400}),
    ("GET", "/products", {"params": {"spec.magnet_type.eq": "perm\x00anent"}}, {200, 400}),
    ("GET", "/products", {"params": {"spec.max_pressure_bar.gte": "1e999"}}, {400}),
    ("GET", "/categories", {"params": {"q": "%_\\'\""}}, {200}),
    ("GET", "/vendors", {"params": {"limit": HUGE}}, {400}),
    ("GET", "/vendors", {"params": {"offset": HUGE}}, {400}),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "statuses"), PROBES)
def test_odd_input_never_causes_a_server_error(seeded, method, path, kwargs, statuses):
    response = seeded.request(method, path, seeded.admin_token, **kwargs)
    assert response.status_code < 500, response.text
    assert response.status_code in statuses, response.text
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
