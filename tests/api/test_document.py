"""The OpenAPI 3.1 document and the docs page drawn from it; schemathesis fuzzes the API against
the document: no 5xx, and every reply matches the schema."""
from __future__ import annotations

from jsonschema import Draft202012Validator

from tests.api.conftest import bearer


def test_the_document_is_openapi_3_1_with_bearer_auth_and_base_url(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": app.config["BASE_URL"].rstrip("/")}]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "An API key (csa_…)"}
    assert set(spec["paths"]) == {"/api/v1/agents/{agent}/clearance", "/api/v1/clearance:batch", "/api/v1/agents",
                                  "/api/v1/awards", "/api/v1/evidence-packs"}
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # OpenAPI 3.1 schemas are JSON Schema 2020-12


def test_the_docs_page_lists_every_endpoint_and_field(client):
    page = client.get("/api/v1/docs")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<code>GET /api/v1/agents/{agent}/clearance</code>" in text
    assert "<code>POST /api/v1/clearance:batch</code>" in text
    assert "May this agent take live calls?" in text and "certificate_codes" in text
    assert "<script" not in text.split("</header>", 1)[-1]  # drawn on the server: the CSP stays as it is
