"""Products: spec filters, search, and writes checked against the category's spec definitions."""

import json
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "seed"
PRODUCTS = json.loads((SEED / "products.json").read_text(encoding="utf-8"))
VENDORS = {v["slug"]: v for v in json.loads((SEED / "vendors.json").read_text(encoding="utf-8"))}
HPLC = [p for p in PRODUCTS if p["category"] == "hplc"]


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def found(response):
    """The (vendor, model) pairs of a product page, checked to be complete."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return sorted((p["vendor"], p["model"]) for p in body["items"])


def expected(products):
    return sorted((p["vendor"], p["model"]) for p in products)


def pressure(p):
    return p["specs"].get("max_pressure_bar")


def product_body(**overrides):
    body = {
        "vendor": "hanon",
        "category": "hplc",
        "model": "LC-900",
        "name": "Hanon LC-900 UHPLC system",
        "specs": {"max_pressure_bar": 900, "detectors": ["UV", "DAD"], "solvent_channels": 4},
        "made_in": "CN",
        "launch_year": 2024,
        "status": "active",
        "price_band": "¥300–500k",
        "illustrative": True,
    }
    return body | overrides


def create_product(api, token, **overrides):
    response = api.post("/products", token, json=product_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


# --- spec filters -------------------------------------------------------------------------------


@pytest.mark.parametrize("bound", [400, 600, 660, 1000])
def test_spec_filter_gte_keeps_products_at_or_above_the_bound(seeded, bound):
    response = seeded.get("/products", params={"spec.max_pressure_bar.gte": bound})
    wanted = [p for p in HPLC if pressure(p) is not None and pressure(p) >= bound]
    assert wanted
    assert found(response) == expected(wanted)


@pytest.mark.parametrize("bound", [400, 600, 700])
def test_spec_filter_lte_keeps_products_at_or_below_the_bound(seeded, bound):
    response = seeded.get(
        "/products", params={"category": "hplc", "spec.max_pressure_bar.lte": bound}
    )
    wanted = [p for p in HPLC if pressure(p) is not None and pressure(p) <= bound]
    assert found(response) == expected(wanted)


def test_spec_filter_eq_and_a_range_combine(seeded):
    eq = seeded.get("/products", params={"spec.max_pressure_bar.eq": 600})
    assert found(eq) == expected([p for p in HPLC if pressure(p) == 600])
    between = seeded.get(
        "/products", params={"spec.max_pressure_bar.gte": 440, "spec.max_pressure_bar.lte": 700}
    )
    wanted = [p for p in HPLC if pressure(p) is not None and 440 <= pressure(p) <= 700]
    assert found(between) == expected(wanted)


def test_spec_filter_includes_needs_every_listed_value(seeded):
    response = seeded.get(
        "/products", params={"category": "hplc", "spec.detectors.includes": "FLD,ELSD"}
    )
    wanted = [p for p in HPLC if {"FLD", "ELSD"} <= set(p["specs"].get("detectors", []))]
    assert wanted
    assert found(response) == expected(wanted)


def test_unknown_spec_key_is_rejected_naming_the_parameter(seeded):
    response = seeded.get(
        "/products", params={"category": "hplc", "spec.field_strength_mhz.gte": 1}
    )
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["spec.field_strength_mhz.gte"]


def test_spec_filter_value_must_be_a_number(seeded):
    response = seeded.get("/products", params={"spec.max_pressure_bar.gte": "high"})
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["spec.max_pressure_bar.gte"]


def test_includes_applies_to_set_specs_only(seeded):
    response = seeded.get("/products", params={"spec.max_pressure_bar.includes": "600"})
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["spec.max_pressure_bar.includes"]


# --- category, origin and search ----------------------------------------------------------------


def test_category_em_includes_sem_and_tem_products(seeded):
    response = seeded.get("/products", params={"category": "em"})
    assert found(response) == expected(p for p in PRODUCTS if p["category"] in ("sem", "tem"))
    assert {p["category"] for p in response.json()["items"]} == {"sem", "tem"}


@pytest.mark.parametrize("domestic", [True, False])
def test_domestic_filter_follows_the_vendors_country(seeded, domestic):
    response = seeded.get("/products", params={"domestic": str(domestic).lower(), "limit": 200})
    wanted = [p for p in PRODUCTS if (VENDORS[p["vendor"]]["country"] == "CN") == domestic]
    assert found(response) == expected(wanted)
    assert all(p["domestic"] is domestic for p in response.json()["items"])


@pytest.mark.parametrize(
    ("query", "vendor"),
    [("海能", "hanon"), ("haineng", "hanon"), ("国仪量子", "ciqtek"), ("guoyi", "ciqtek")],
)
def test_search_finds_products_by_vendor_chinese_name_and_pinyin(seeded, query, vendor):
    response = seeded.get("/products", params={"q": query})
    assert found(response) == expected(p for p in PRODUCTS if p["vendor"] == vendor)


def test_search_finds_a_product_by_model(seeded):
    response = seeded.get("/products", params={"q": "lc-660"})
    assert found(response) == [("hanon", "LC-660")]


def test_unknown_product_is_not_found(seeded):
    assert_problem(seeded.get("/products/999999"), 404)


# --- creating ---------------------------------------------------------------------------------


def test_vendor_creates_a_product_in_its_own_name(seeded):
    hanon = seeded.user("vendor", vendor="hanon")
    response = seeded.post("/products", hanon, json=product_body())
    assert response.status_code == 201, response.text
    assert response.headers["etag"]
    body = response.json()
    assert {k: body[k] for k in product_body()} == product_body()
    assert body["vendor_name_zh"] == "海能未来技术集团股份有限公司"
    assert (body["category_name_en"], body["domestic"]) == (
        "High-performance liquid chromatograph (HPLC)",
        True,
    )
    assert seeded.get(f"/products/{body['id']}").json() == body


def test_vendor_cannot_create_a_product_for_another_vendor(seeded):
    hanon = seeded.user("vendor", vendor="hanon")
    assert_problem(seeded.post("/products", hanon, json=product_body(vendor="elite")), 403)
    assert found(seeded.get("/products", params={"q": "LC-900"})) == []


def test_unknown_spec_key_on_a_product_is_rejected(seeded):
    body = product_body(specs={"max_pressure_bar": 900, "field_strength_mhz": 400})
    problem = assert_problem(seeded.post("/products", seeded.admin_token, json=body), 400)
    assert [e["field"] for e in problem["errors"]] == ["specs.field_strength_mhz"]


@pytest.mark.parametrize(
    ("specs", "field"),
    [
        ({"max_pressure_bar": "900 bar"}, "specs.max_pressure_bar"),  # string for a number
        ({"max_pressure_bar": True}, "specs.max_pressure_bar"),  # a boolean is not a number
        ({"detectors": 3}, "specs.detectors"),  # number for a set
        ({"detectors": "UV"}, "specs.detectors"),  # a bare string is not a set
    ],
)
def test_spec_value_of_the_wrong_kind_is_rejected(seeded, specs, field):
    body = product_body(specs=specs)
    problem = assert_problem(seeded.post("/products", seeded.admin_token, json=body), 400)
    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_vendor_cannot_list_the_same_model_twice(seeded):
    hanon = seeded.user("vendor", vendor="hanon")
    assert_problem(seeded.post("/products", hanon, json=product_body(model="LC-660")), 409)
    assert found(seeded.get("/products", params={"q": "LC-660"})) == [("hanon", "LC-660")]


# --- editing ----------------------------------------------------------------------------------


def test_patching_specs_merges_and_null_removes_a_key(seeded):
    hanon = seeded.user("vendor", vendor="hanon")
    product = create_product(seeded, hanon)
    change = {"specs": {"flow_rate_max_ml_min": 5, "solvent_channels": None}}
    response = seeded.patch(f"/products/{product['id']}", hanon, json=change)
    assert response.status_code == 200, response.text
    assert response.json()["specs"] == {
        "max_pressure_bar": 900,
        "detectors": ["UV", "DAD"],
        "flow_rate_max_ml_min": 5,
    }
    gone = seeded.get("/products", params={"spec.solvent_channels.gte": 4, "q": "LC-900"})
    assert found(gone) == []


def test_patched_specs_are_checked_too(seeded):
    hanon = seeded.user("vendor", vendor="hanon")
    product = create_product(seeded, hanon)
    response = seeded.patch(f"/products/{product['id']}", hanon, json={"specs": {"bogus": 1}})
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["specs.bogus"]
    assert seeded.get(f"/products/{product['id']}").json()["specs"] == product["specs"]


def test_vendor_cannot_edit_another_vendors_product(seeded):
    product = create_product(seeded, seeded.user("vendor", vendor="hanon"))
    elite = seeded.user("vendor", vendor="elite")
    response = seeded.patch(f"/products/{product['id']}", elite, json={"name": "Taken over"})
    assert_problem(response, 403)
    assert seeded.get(f"/products/{product['id']}").json()["name"] == product["name"]


def test_stale_if_match_on_a_product_is_rejected(seeded):
    hanon = seeded.user("vendor", vendor="hanon")
    product = create_product(seeded, hanon)
    path = f"/products/{product['id']}"
    stale = seeded.get(path).headers["etag"]
    assert seeded.patch(path, hanon, json={"name": "First"}).status_code == 200
    assert_problem(
        seeded.patch(path, hanon, json={"name": "Second"}, headers={"If-Match": stale}), 412
    )
    current = seeded.get(path)
    assert current.json()["name"] == "First"
    response = seeded.patch(
        path, hanon, json={"name": "Second"}, headers={"If-Match": current.headers["etag"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Second"
    assert response.headers["etag"] != current.headers["etag"]


def test_patching_an_unknown_product_is_not_found(seeded):
    assert_problem(seeded.patch("/products/999999", seeded.admin_token, json={"name": "X"}), 404)
