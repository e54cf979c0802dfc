"""`/docs` renders every operation in Chromium without any request leaving the API's
origin, and "Try it out" (the API's own origin) may use an API key."""

import pytest

pytestmark = pytest.mark.slow


def test_swagger_ui_renders_every_operation_offline(chromium, live_api, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = sum(
        method in {"get", "post", "put", "patch", "delete"}
        for item in spec["paths"].values()
        for method in item
    )
    elsewhere: list[str] = []
    context = chromium.new_context()

    def only_the_api(route):
        if route.request.url.startswith(live_api + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_api)
    page = context.new_page()
    try:
        page.goto(live_api + "/docs")
        page.wait_for_selector(".opblock", timeout=20000)
        rendered = page.locator(".opblock").count()
        summaries = page.locator(".opblock-summary-description").all_inner_texts()
    finally:
        context.close()

    assert rendered == operations
    assert "Mint an SDK token for one user." in summaries
    assert elsewhere == []


def test_the_docs_page_may_use_an_api_key(chromium, live_api, api_key):
    page = chromium.new_page()
    try:
        page.goto(live_api + "/docs")
        # A POST from the page carries the API's own Origin, as "Try it out" does.
        status = page.evaluate(
            """async (key) => (await fetch('/api/v1/users', {
                method: 'POST',
                headers: {Authorization: `Bearer ${key}`, 'Content-Type': 'application/json'},
                body: JSON.stringify({email: 'tried@example.com'}),
            })).status""",
            api_key["key"],
        )
    finally:
        page.close()

    assert status == 201
