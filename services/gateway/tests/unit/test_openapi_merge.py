"""Merging service OpenAPI documents into the platform's one document."""

from shuangsui.gateway.openapi import merge_openapi


def service_doc(service: str, schema: str) -> dict:
    return {
        "openapi": "3.1.0",
        "paths": {
            f"/api/v1/{service}/things": {
                "get": {
                    "operationId": f"{service}_things_list",
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{schema}"}
                                }
                            }
                        },
                        "422": {
                            "content": {
                                "application/problem+json": {
                                    "schema": {"$ref": "#/components/schemas/Problem"}
                                }
                            }
                        },
                    },
                }
            },
            "/healthz": {"get": {"operationId": f"{service}_health_get"}},
        },
        "components": {"schemas": {schema: {"type": "object"}, "Problem": {"type": "object"}}},
        "tags": [{"name": f"{service} tag"}],
    }


def test_same_schema_name_in_two_services_is_kept_apart():
    merged = merge_openapi(
        {"openapi": "3.1.0", "paths": {"/readyz": {}}, "components": {"schemas": {}}},
        {
            "registry": service_doc("registry", "Thing"),
            "planning": service_doc("planning", "Thing"),
        },
    )
    schemas = merged["components"]["schemas"]
    assert "registry__Thing" in schemas
    assert "planning__Thing" in schemas
    ref = merged["paths"]["/api/v1/planning/things"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    assert ref == "#/components/schemas/planning__Thing"


def test_shared_problem_schema_keeps_its_name():
    merged = merge_openapi({"paths": {}}, {"registry": service_doc("registry", "Thing")})
    ref = merged["paths"]["/api/v1/registry/things"]["get"]["responses"]["422"]["content"][
        "application/problem+json"
    ]["schema"]["$ref"]
    assert ref == "#/components/schemas/Problem"


def test_only_each_service_own_api_paths_are_taken():
    merged = merge_openapi(
        {"paths": {"/readyz": {"get": {}}}}, {"registry": service_doc("registry", "T")}
    )
    assert set(merged["paths"]) == {"/readyz", "/api/v1/registry/things"}


def test_tags_of_every_service_are_listed_once():
    merged = merge_openapi(
        {"paths": {}},
        {"registry": service_doc("registry", "A"), "planning": service_doc("planning", "B")},
    )
    assert [t["name"] for t in merged["tags"]] == ["registry tag", "planning tag"]
