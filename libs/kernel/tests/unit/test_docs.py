"""`/docs` works on a network without internet: Swagger UI comes from the platform itself."""


async def test_docs_page_loads_its_scripts_from_the_platform(build_app, client_of):
    client = await client_of(build_app())
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower(), "no script may come from a CDN"
    script = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


async def test_docs_assets_are_not_part_of_the_api_description(build_app, client_of):
    client = await client_of(build_app())
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/docs-assets"))]
