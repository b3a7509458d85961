"""What a request must look like before any route sees it: JSON bodies that are JSON, not
nested without end and without repeated keys; paths and query values without control
characters."""

import logging

import pytest

from instcat.bodies import MAX_JSON_DEPTH
from tests.api.test_errors_and_auth import assert_problem, error_fields, vendor_body

JSON = {"Content-Type": "application/json"}


def _users_made(api) -> int:
    return api.get("/audit", api.admin_token, params={"entity": "user"}).json()["total"]


# --- nesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 1_000, 100_000])
def test_a_body_nested_too_deep_is_a_400_and_logs_no_traceback(api, caplog, depth):
    body = b'{"name": ' + b"[" * depth + b"]" * depth + b', "role": "purchaser"}'
    with caplog.at_level(logging.DEBUG):
        response = api.post("/users", api.admin_token, content=body, headers=JSON)
    assert error_fields(response) == ["body"]
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.json()["detail"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


def test_a_bare_deep_array_is_a_400(api):
    body = b"[" * 5_000 + b"]" * 5_000
    response = api.post("/users", api.admin_token, content=body, headers=JSON)
    assert error_fields(response) == ["body"]


def test_nesting_up_to_the_limit_is_left_to_the_usual_checks(api):
    inner = MAX_JSON_DEPTH - 1  # the body object itself is the first level
    body = b'{"name": ' + b"[" * inner + b"]" * inner + b', "role": "purchaser"}'
    response = api.post("/users", api.admin_token, content=body, headers=JSON)
    assert error_fields(response) == ["name"]  # a list is no name: the model says so


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    name = '[{"\\' * 40  # brackets, a quote and a backslash: all text, no nesting
    response = api.post("/users", api.admin_token, json={"name": name, "role": "purchaser"})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


# --- repeated keys ----------------------------------------------------------------------------


def test_a_key_given_twice_is_a_400_naming_the_key(api):
    body = b'{"name": "a", "name": "b", "role": "purchaser"}'
    response = api.post("/users", api.admin_token, content=body, headers=JSON)
    assert error_fields(response) == ["body"]
    assert "'name'" in response.json()["detail"]
    assert _users_made(api) == 0


def test_a_key_given_twice_in_a_nested_object_is_a_400(api):
    body = (
        b'{"slug": "gangdong", "name_zh": "\xe6\xb8\xaf", "name_en": "G", "country": "CN",'
        b' "service": {"response_hours": 1, "response_hours": 2}}'
    )
    response = api.post("/vendors", api.admin_token, content=body, headers=JSON)
    assert error_fields(response) == ["body"]
    assert "'response_hours'" in response.json()["detail"]
    assert_problem(api.get("/vendors/gangdong"), 404)


# --- content types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        None,
    ],
)
def test_a_body_that_is_not_declared_json_is_a_415(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"name": "typed", "role": "purchaser"}'
    response = api.post("/users", api.admin_token, content=body, headers=headers)
    problem = assert_problem(response, 415)
    assert problem["title"] == "Unsupported media type"
    assert "application/json" in problem["detail"]
    assert _users_made(api) == 0


def test_a_form_post_is_a_415(api):
    response = api.post("/users", api.admin_token, data={"name": "form", "role": "purchaser"})
    assert_problem(response, 415)
    patched = api.patch("/vendors/nobody", api.admin_token, data={"city": "x"})
    assert patched.status_code in (404, 415)  # the vendor lookup may come first


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        "application/merge-patch+json",
        "application/problem+json",
    ],
)
def test_json_and_json_based_types_are_accepted(api, content_type):
    body = b'{"name": "accepted", "role": "purchaser"}'
    headers = {"Content-Type": content_type}
    response = api.post("/users", api.admin_token, content=body, headers=headers)
    assert response.status_code == 201, response.text


def test_json_routes_declare_the_415_in_the_openapi_document(api):
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    operations = [op for item in paths.values() for op in item.values() if isinstance(op, dict)]
    with_body = [op for op in operations if "requestBody" in op]
    assert with_body
    assert all("415" in op["responses"] for op in with_body)
    assert not any("415" in op["responses"] for op in operations if "requestBody" not in op)


def test_a_route_without_a_body_does_not_care_about_content_type(api):
    token = api.user("purchaser")
    user_id = api.get("/audit", api.admin_token).json()["items"][0]["entity_id"]
    headers = {"Content-Type": "text/plain"}
    response = api.post(f"/users/{user_id}/revoke", api.admin_token, headers=headers)
    assert response.status_code == 204, response.text
    assert_problem(api.get("/categories", token), 401)


# --- control characters -----------------------------------------------------------------------

CONTROL = ["%0A", "%0D", "%09", "%00", "%1F", "%7F"]


@pytest.mark.parametrize("character", CONTROL)
def test_a_control_character_in_a_path_value_is_a_400(api, character):
    assert error_fields(api.get(f"/vendors/hanon{character}")) == ["slug"]
    assert error_fields(api.get(f"/categories/nmr{character}/market")) == ["code"]


@pytest.mark.parametrize("character", CONTROL)
@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/categories", "q", "abc"),
        ("/vendors", "q", "hanon"),
        ("/products", "status", "active"),
        ("/products", "spec.detectors.includes", "UV"),
        ("/products", "category", "hplc"),
    ],
)
def test_a_control_character_in_a_query_value_is_a_400(api, character, path, name, value):
    response = api.get(f"{path}?{name}={value}{character}")
    assert error_fields(response) == [name]


def test_a_control_character_in_a_query_name_is_a_400(api):
    assert error_fields(api.get("/products?spec.a%0Ab.eq=1")) == ["spec.a?b.eq"]


def test_printable_values_are_still_fine(seeded):
    assert seeded.get("/vendors/hanon").status_code == 200
    assert seeded.get("/categories?q=%E6%A0%B8%E7%A3%81").json()["total"] >= 1
    assert seeded.get("/products?q=a+b%20c&status=active").status_code == 200
    created = seeded.post("/vendors", seeded.admin_token, json=vendor_body(city="a\tb"))
    assert created.status_code == 201, created.text  # bodies keep their own, looser rule
