"""Catalogue edits: a partial service object, nulls for fields that cannot be empty, and
who may change `illustrative`. A refused edit writes nothing."""

import pytest


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field]
        assert field in body["detail"]
    return body


def hplc_product(api, vendor="hanon"):
    items = api.get("/products", params={"vendor": vendor, "category": "hplc"}).json()["items"]
    return items[0]


# --- a partial service object ---------------------------------------------------------------

HANON_SERVICE = {"regions": ["全国"], "response_hours": 24.0}


@pytest.mark.parametrize(
    ("change", "after"),
    [
        ({"response_hours": 5}, {"regions": ["全国"], "response_hours": 5.0}),
        ({"regions": ["华东", "华北"]}, {"regions": ["华东", "华北"], "response_hours": 24.0}),
        ({}, HANON_SERVICE),
        ({"response_hours": None}, {"regions": ["全国"], "response_hours": None}),
        ({"regions": [], "response_hours": 2}, {"regions": [], "response_hours": 2.0}),
    ],
)
def test_a_partial_service_object_merges_into_the_stored_one(seeded, change, after):
    own = seeded.user("vendor", vendor="hanon")
    full = seeded.patch("/vendors/hanon", own, json={"service": HANON_SERVICE})
    assert full.status_code == 200, full.text

    response = seeded.patch("/vendors/hanon", own, json={"service": change})

    assert response.status_code == 200, response.text
    assert response.json()["service"] == after
    assert seeded.get("/vendors/hanon").json()["service"] == after


def test_partial_service_edits_one_after_another_keep_both(seeded):
    own = seeded.user("vendor", vendor="hanon")
    assert seeded.patch("/vendors/hanon", own, json={"service": HANON_SERVICE}).status_code == 200
    first = seeded.patch("/vendors/hanon", own, json={"service": {"regions": ["西南"]}})
    second = seeded.patch("/vendors/hanon", own, json={"service": {"response_hours": 6}})
    assert (first.status_code, second.status_code) == (200, 200)
    assert seeded.get("/vendors/hanon").json()["service"] == {
        "regions": ["西南"],
        "response_hours": 6.0,
    }


def test_the_service_field_says_that_it_merges(seeded):
    schema = seeded.client.get("/schema/openapi.json").json()["components"]["schemas"]
    [update] = [s for name, s in schema.items() if name.endswith("VendorUpdate")]
    assert "merges" in update["properties"]["service"]["description"].lower()


# --- null for a field that cannot be empty --------------------------------------------------

VENDOR_FIELDS = ["name_zh", "name_en", "country", "service", "certifications", "illustrative"]
PRODUCT_FIELDS = ["category", "model", "name", "specs", "made_in", "status", "illustrative"]
CATEGORY_FIELDS = ["name_zh", "name_en", "aliases", "specs"]


def _refused_null(api, path, field):
    before = api.get(path).json()
    response = api.patch(path, api.admin_token, json={field: None, "description": "changed"})
    assert_problem(response, 400, field)
    assert api.get(path).json() == before


@pytest.mark.parametrize("field", VENDOR_FIELDS)
def test_null_for_a_vendor_field_that_cannot_be_empty_is_a_400(seeded, field):
    _refused_null(seeded, "/vendors/hanon", field)


@pytest.mark.parametrize("field", PRODUCT_FIELDS)
def test_null_for_a_product_field_that_cannot_be_empty_is_a_400(seeded, field):
    path = f"/products/{hplc_product(seeded)['id']}"
    before = seeded.get(path).json()
    assert_problem(seeded.patch(path, seeded.admin_token, json={field: None}), 400, field)
    assert seeded.get(path).json() == before


@pytest.mark.parametrize("field", CATEGORY_FIELDS)
def test_null_for_a_category_field_that_cannot_be_empty_is_a_400(seeded, field):
    _refused_null(seeded, "/categories/hplc", field)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/vendors/hanon", ["founded_year", "city", "website", "description"]),
        ("/categories/nmr", ["description"]),
        ("/categories/sem", ["parent"]),
    ],
)
def test_null_clears_a_field_that_may_be_empty(seeded, path, fields):
    response = seeded.patch(path, seeded.admin_token, json=dict.fromkeys(fields))
    assert response.status_code == 200, response.text
    assert [seeded.get(path).json()[f] for f in fields] == [None] * len(fields)


def test_null_clears_a_product_field_that_may_be_empty(seeded):
    path = f"/products/{hplc_product(seeded)['id']}"
    fields = {"launch_year": None, "price_band": None}
    response = seeded.patch(path, seeded.admin_token, json=fields)
    assert response.status_code == 200, response.text
    assert {f: seeded.get(path).json()[f] for f in fields} == fields


# --- only an admin changes `illustrative` ---------------------------------------------------


def _paths(api):
    return ["/vendors/hanon", f"/products/{hplc_product(api)['id']}"]


OTHER_CHANGE = [{"city": "Shanghai"}, {"name": "Hanon LC"}]


@pytest.mark.parametrize("which", [0, 1], ids=["vendor", "product"])
def test_a_vendor_cannot_change_illustrative_on_its_own_records(seeded, which):
    own = seeded.user("vendor", vendor="hanon")
    path = _paths(seeded)[which]
    before = seeded.get(path).json()

    response = seeded.patch(path, own, json={"illustrative": not before["illustrative"]})

    assert_problem(response, 403)
    assert "illustrative" in response.json()["detail"]
    assert seeded.get(path).json() == before


@pytest.mark.parametrize("which", [0, 1], ids=["vendor", "product"])
def test_a_vendor_may_send_illustrative_unchanged(seeded, which):
    own = seeded.user("vendor", vendor="hanon")
    path = _paths(seeded)[which]
    current = seeded.get(path).json()["illustrative"]

    response = seeded.patch(path, own, json={"illustrative": current, **OTHER_CHANGE[which]})

    assert response.status_code == 200, response.text
    assert response.json()["illustrative"] is current


@pytest.mark.parametrize("which", [0, 1], ids=["vendor", "product"])
def test_an_admin_changes_illustrative(seeded, which):
    path = _paths(seeded)[which]
    current = seeded.get(path).json()["illustrative"]

    response = seeded.patch(path, seeded.admin_token, json={"illustrative": not current})

    assert response.status_code == 200, response.text
    assert seeded.get(path).json()["illustrative"] is (not current)


def test_the_illustrative_fields_say_who_may_change_them(seeded):
    schema = seeded.client.get("/schema/openapi.json").json()["components"]["schemas"]
    for suffix in ("VendorUpdate", "ProductUpdate"):
        [update] = [s for name, s in schema.items() if name.endswith(suffix)]
        assert "admin" in update["properties"]["illustrative"]["description"]
