"""The committed OpenAPI document is the one the app serves."""

import json

from instcat.app import create_app, openapi_document
from instcat.config import Settings
from tests.templates import REPO

SPEC = REPO / "api_spec" / "openapi.json"


def test_served_openapi_document_matches_the_committed_one(api) -> None:
    served = api.client.get("/schema/openapi.json")
    assert served.status_code == 200
    committed = json.loads(SPEC.read_text(encoding="utf-8"))
    assert served.json() == committed, (
        "api_spec/openapi.json is out of date: run `instcat openapi --output api_spec/openapi.json`"
    )


def test_committed_openapi_file_is_in_canonical_form() -> None:
    document = openapi_document(create_app(Settings(database_url="sqlite://")))
    assert SPEC.read_text(encoding="utf-8") == document


def test_every_error_response_is_declared_as_problem_json() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path, status)
            assert "400" in operation["responses"], (method, path)
