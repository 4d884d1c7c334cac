"""/docs: the OpenAPI browser works offline, from the app's own files."""
import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_without_network(browser, base_url):
    context = browser.new_context()
    pg = context.new_page()
    foreign = []
    pg.on("request", lambda r: r.url.startswith(base_url) or foreign.append(r.url))
    pg.goto(base_url + "/docs")
    pg.get_by_text("/api/v1/traces").first.wait_for(timeout=15_000)
    assert pg.get_by_text("Run a program and return its autograd trace").count() >= 1
    context.close()
    assert foreign == []
