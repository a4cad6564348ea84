"""Which operations need a token, read from a service's OpenAPI document."""

from shuangsui.gateway.routes import RouteTable

BEARER = [{"HTTPBearer": []}]
OPTIONAL = [{}, {"HTTPBearer": []}]  # how the kernel documents `optional_principal`


def table(paths: dict, **document) -> RouteTable:
    return RouteTable.from_openapi({"openapi": "3.1.0", "paths": paths, **document})


REGISTRY = table(
    {
        "/api/v1/registry/subjects": {"get": {"security": BEARER}},
        "/api/v1/registry/subjects:bulk": {"post": {"security": BEARER}},
        "/api/v1/registry/subjects/{uscc}": {"get": {"security": BEARER}},
        "/api/v1/registry/subjects/{uscc}/history": {"get": {"security": BEARER}},
        "/api/v1/registry/item-lists": {
            "get": {"security": OPTIONAL},
            "post": {"security": BEARER},
        },
        "/api/v1/registry/item-lists/{list_id}": {"get": {"security": OPTIONAL}},
        "/api/v1/registry/public-notes": {"get": {}},
    }
)


def test_an_operation_on_the_bearer_needs_a_token():
    assert REGISTRY.requires_token("POST", "/api/v1/registry/subjects:bulk") is True
    assert REGISTRY.requires_token("GET", "/api/v1/registry/subjects") is True


def test_an_optional_bearer_or_no_security_is_public():
    assert REGISTRY.requires_token("GET", "/api/v1/registry/item-lists") is False
    assert REGISTRY.requires_token("GET", "/api/v1/registry/item-lists/7f3c") is False
    assert REGISTRY.requires_token("GET", "/api/v1/registry/public-notes") is False


def test_the_scheme_name_of_the_optional_bearer_counts_as_public_too():
    raw = table({"/api/v1/x/things": {"get": {"security": [{"OptionalBearer": []}]}}})
    assert raw.requires_token("GET", "/api/v1/x/things") is False


def test_the_method_decides_on_a_path_with_a_public_read_and_a_private_write():
    assert REGISTRY.requires_token("GET", "/api/v1/registry/item-lists") is False
    assert REGISTRY.requires_token("POST", "/api/v1/registry/item-lists") is True


def test_a_path_parameter_is_one_segment():
    uscc = "91330106MA2E2E0001"
    assert REGISTRY.requires_token("GET", f"/api/v1/registry/subjects/{uscc}") is True
    assert REGISTRY.requires_token("GET", f"/api/v1/registry/subjects/{uscc}/history") is True
    assert REGISTRY.requires_token("GET", f"/api/v1/registry/subjects/{uscc}/other") is None
    assert REGISTRY.requires_token("GET", "/api/v1/registry/subjects/") is None


def test_an_undocumented_operation_is_left_to_the_service():
    assert REGISTRY.requires_token("DELETE", "/api/v1/registry/subjects") is None
    assert REGISTRY.requires_token("GET", "/api/v1/registry/nothing") is None
    assert REGISTRY.requires_token("GET", "/api/v1/registry/subjects\n") is None


def test_two_matching_operations_that_disagree_are_left_to_the_service():
    ambiguous = table(
        {
            "/api/v1/x/things/{id}": {"get": {"security": BEARER}},
            "/api/v1/x/things/latest": {"get": {"security": OPTIONAL}},
        }
    )
    assert ambiguous.requires_token("GET", "/api/v1/x/things/latest") is None
    assert ambiguous.requires_token("GET", "/api/v1/x/things/42") is True


def test_the_document_wide_security_applies_where_an_operation_names_none():
    wide = table({"/api/v1/x/things": {"get": {}, "put": {"security": []}}}, security=BEARER)
    assert wide.requires_token("GET", "/api/v1/x/things") is True
    assert wide.requires_token("PUT", "/api/v1/x/things") is False


def test_regex_characters_in_a_path_are_literal():
    dotted = table({"/api/v1/x/files/{name}.csv": {"get": {"security": BEARER}}})
    assert dotted.requires_token("GET", "/api/v1/x/files/a.csv") is True
    assert dotted.requires_token("GET", "/api/v1/x/files/aXcsv") is None
