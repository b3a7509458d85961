"""Vendors: search, profiles, who may edit them, and optimistic concurrency."""

import json
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "seed"
VENDORS = json.loads((SEED / "vendors.json").read_text(encoding="utf-8"))
PRODUCTS = json.loads((SEED / "products.json").read_text(encoding="utf-8"))


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def vendor_body(slug="gangdong", **overrides):
    body = {
        "slug": slug,
        "name_zh": "天津港东科技股份有限公司",
        "name_en": "Tianjin Gangdong Sci & Tech",
        "country": "CN",
        "founded_year": 1999,
        "city": "Tianjin",
        "website": "https://gangdong.example",
        "service": {"regions": ["天津", "北京"], "response_hours": 24},
        "certifications": ["ISO 9001"],
        "description": "FTIR and UV-Vis maker.",
        "illustrative": True,
    }
    return body | overrides


def create_vendor(api, slug="gangdong", **overrides):
    response = api.post("/vendors", api.admin_token, json=vendor_body(slug, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def slugs(response):
    assert response.status_code == 200, response.text
    return [v["slug"] for v in response.json()["items"]]


# --- search and filters ---------------------------------------------------------------------


def test_vendor_search_by_chinese_name_finds_ciqtek_as_domestic(seeded):
    response = seeded.get("/vendors", params={"q": "国仪"})
    assert slugs(response) == ["ciqtek"]
    [ciqtek] = response.json()["items"]
    assert (ciqtek["country"], ciqtek["domestic"]) == ("CN", True)
    assert ciqtek["name_zh"] == "国仪量子技术（合肥）股份有限公司"


def test_domestic_false_lists_only_foreign_vendors(seeded):
    response = seeded.get("/vendors", params={"domestic": "false", "limit": 200})
    foreign = sorted(v["slug"] for v in VENDORS if v["country"] != "CN")
    assert slugs(response) == foreign
    assert all(v["domestic"] is False and v["country"] != "CN" for v in response.json()["items"])
    assert response.json()["total"] == len(foreign)


def test_domestic_true_lists_only_chinese_vendors(seeded):
    response = seeded.get("/vendors", params={"domestic": "true", "limit": 200})
    assert slugs(response) == sorted(v["slug"] for v in VENDORS if v["country"] == "CN")
    assert all(v["domestic"] is True for v in response.json()["items"])


def test_category_filter_lists_the_vendors_that_make_hplc(seeded):
    response = seeded.get("/vendors", params={"category": "hplc"})
    assert slugs(response) == sorted({p["vendor"] for p in PRODUCTS if p["category"] == "hplc"})


def test_category_filter_includes_subcategories(seeded):
    response = seeded.get("/vendors", params={"category": "em", "limit": 200})
    makers = {p["vendor"] for p in PRODUCTS if p["category"] in ("sem", "tem")}
    assert slugs(response) == sorted(makers)


# --- reading and creating ---------------------------------------------------------------------


def test_vendor_profile_has_an_etag(seeded):
    response = seeded.get("/vendors/ciqtek")
    assert response.status_code == 200
    assert response.headers["etag"]
    body = response.json()
    seed = next(v for v in VENDORS if v["slug"] == "ciqtek")
    assert {k: body[k] for k in ("slug", "name_zh", "name_en", "country", "service")} == {
        k: seed[k] for k in ("slug", "name_zh", "name_en", "country", "service")
    }
    assert body["domestic"] is True


def test_unknown_vendor_is_not_found(seeded):
    assert_problem(seeded.get("/vendors/no-such-vendor"), 404)


def test_admin_creates_a_vendor(api):
    response = api.post("/vendors", api.admin_token, json=vendor_body())
    assert response.status_code == 201, response.text
    assert response.headers["etag"]
    body = response.json()
    assert {k: body[k] for k in vendor_body()} == vendor_body()
    assert body["domestic"] is True
    assert api.get("/vendors/gangdong").json() == body


def test_vendor_slugs_are_unique(api):
    create_vendor(api)
    assert_problem(api.post("/vendors", api.admin_token, json=vendor_body()), 409)


def test_country_must_be_an_iso_code(api):
    problem = assert_problem(
        api.post("/vendors", api.admin_token, json=vendor_body(country="china")), 400
    )
    assert [e["field"] for e in problem["errors"]] == ["country"]
    assert_problem(api.get("/vendors/gangdong"), 404)


def test_only_an_admin_may_create_vendors(api):
    create_vendor(api)
    own = api.user("vendor", vendor="gangdong")
    assert_problem(api.post("/vendors", own, json=vendor_body("other")), 403)
    assert_problem(api.post("/vendors", json=vendor_body("other")), 401)


# --- who may edit ---------------------------------------------------------------------------


def test_vendor_edits_its_own_profile(api):
    create_vendor(api)
    own = api.user("vendor", vendor="gangdong")
    change = {"city": "Beijing", "service": {"regions": ["全国"], "response_hours": 8}}
    response = api.patch("/vendors/gangdong", own, json=change)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["city"], body["service"]) == ("Beijing", change["service"])
    assert body["name_zh"] == vendor_body()["name_zh"]
    assert api.get("/vendors/gangdong").json()["city"] == "Beijing"


def test_vendor_cannot_edit_another_vendors_profile(api):
    create_vendor(api)
    create_vendor(api, "rival", name_zh="对手", name_en="Rival")
    rival = api.user("vendor", vendor="rival")
    assert_problem(api.patch("/vendors/gangdong", rival, json={"city": "Nowhere"}), 403)
    assert api.get("/vendors/gangdong").json()["city"] == "Tianjin"


def test_purchaser_cannot_edit_a_vendor_profile(api):
    create_vendor(api)
    purchaser = api.user("purchaser")
    assert_problem(api.patch("/vendors/gangdong", purchaser, json={"city": "Nowhere"}), 403)
    assert api.get("/vendors/gangdong").json()["city"] == "Tianjin"


def test_anonymous_cannot_edit_a_vendor_profile(api):
    create_vendor(api)
    assert_problem(api.patch("/vendors/gangdong", json={"city": "Nowhere"}), 401)
    assert api.get("/vendors/gangdong").json()["city"] == "Tianjin"


def test_vendor_cannot_change_its_own_country(api):
    create_vendor(api)
    own = api.user("vendor", vendor="gangdong")
    assert_problem(api.patch("/vendors/gangdong", own, json={"country": "DE"}), 403)
    body = api.get("/vendors/gangdong").json()
    assert (body["country"], body["domestic"]) == ("CN", True)


def test_admin_changes_country_and_domestic_follows(api):
    create_vendor(api)
    response = api.patch("/vendors/gangdong", api.admin_token, json={"country": "DE"})
    assert response.status_code == 200, response.text
    assert (response.json()["country"], response.json()["domestic"]) == ("DE", False)
    foreign = api.get("/vendors", params={"domestic": "false"})
    assert slugs(foreign) == ["gangdong"]
    back = api.patch("/vendors/gangdong", api.admin_token, json={"country": "CN"})
    assert (back.json()["country"], back.json()["domestic"]) == ("CN", True)


def test_slug_never_changes(api):
    create_vendor(api)
    problem = assert_problem(
        api.patch("/vendors/gangdong", api.admin_token, json={"slug": "renamed"}), 400
    )
    assert [e["field"] for e in problem["errors"]] == ["slug"]
    assert_problem(api.get("/vendors/renamed"), 404)


def test_patching_an_unknown_vendor_is_not_found(api):
    assert_problem(api.patch("/vendors/no-such", api.admin_token, json={"city": "X"}), 404)


# --- optimistic concurrency -------------------------------------------------------------------


def test_stale_if_match_is_rejected(api):
    create_vendor(api)
    stale = api.get("/vendors/gangdong").headers["etag"]
    assert api.patch("/vendors/gangdong", api.admin_token, json={"city": "A"}).status_code == 200
    response = api.patch(
        "/vendors/gangdong", api.admin_token, json={"city": "B"}, headers={"If-Match": stale}
    )
    assert_problem(response, 412)
    assert api.get("/vendors/gangdong").json()["city"] == "A"


def test_current_if_match_is_accepted_and_gives_a_new_etag(api):
    create_vendor(api)
    current = api.get("/vendors/gangdong").headers["etag"]
    response = api.patch(
        "/vendors/gangdong", api.admin_token, json={"city": "B"}, headers={"If-Match": current}
    )
    assert response.status_code == 200, response.text
    assert response.json()["city"] == "B"
    new = response.headers["etag"]
    assert new != current
    assert api.get("/vendors/gangdong").headers["etag"] == new
