"""A large inventory while its data is still arriving (issues 12 and 17), in Chromium.

`search-index.json` makes the page usable; `search-text.json` (the descriptions' words and the
MD5s) is read after it. The tests hold one file or the other back with a route and check what
the page shows meanwhile and once it arrives. Expected rows come from the published catalog.json.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.inventory_repo import DESCRIBED
from tests.test_browser_inventory import base, catalog, names, sites, words  # noqa: F401

pytestmark = pytest.mark.browser

HOLD_TIMEOUT_MS = 30_000


class Held:
    """Requests for one file of the site, kept waiting until `release`."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def __call__(self, route: Route) -> None:
        self.routes.append(route)

    def release(self) -> None:
        while self.routes:
            self.routes.pop().continue_()


@pytest.fixture
def held_page(browser: Browser) -> Iterator[Callable[[str, str], tuple[Page, Held, list[str]]]]:
    """A page whose requests for one file wait; console errors collected."""
    contexts = []

    def open_page(url: str, file: str) -> tuple[Page, Held, list[str]]:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        held, errors = Held(), []
        context.route(f"**/{file}", held)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        return page, held, errors

    yield open_page
    for context in contexts:
        context.close()


def every_row(page: Page) -> set[str]:
    """The names of all matching rows: "Show more" until none are left."""
    more = page.locator("#show-more")
    while more.is_visible():
        more.click()
    rows = page.locator("#inventory tbody tr")
    return set(rows.evaluate_all("rows => rows.map(r => r.getAttribute('data-name'))"))


def search(page: Page, query: str) -> None:
    page.locator("#q").fill(query)
    page.wait_for_function("q => new URLSearchParams(location.search).get('q') === q", arg=query)


def test_results_are_right_while_the_descriptions_are_still_loading(
    base: str,  # noqa: F811
    catalog: list[dict],  # noqa: F811
    held_page: Callable[[str, str], tuple[Page, Held, list[str]]],
) -> None:
    page, held, errors = held_page(f"{base}/large/index.html", "search-text.json")
    page.wait_for_selector("#catalog[data-ready]", timeout=HOLD_TIMEOUT_MS)
    assert held.routes and page.get_attribute("#catalog", "data-text-ready") is None
    count = page.locator("#result-count")
    search(page, "kvm 64bit")  # names and fields are all in search-index.json
    assert every_row(page) == names(catalog, lambda i: i["vm"] == "kvm" and i["word_size"] == 64)
    expect(count).to_contain_text("descriptions and digests still loading")
    described = DESCRIBED.split("/")[1]
    search(page, "geant4")  # only in a description: found once the words arrive
    expect(page.locator("#no-results")).to_be_visible()
    held.release()
    expect(page.locator("#inventory tbody tr")).to_have_count(1)
    assert every_row(page) == {described} == names(catalog, lambda i: "geant4" in words(i))
    expect(count).not_to_contain_text("still loading")
    assert page.url.endswith("?q=geant4")
    target = next(i for i in catalog if i["md5"])
    search(page, target["md5"][:10])  # the MD5s come with the descriptions' words
    assert every_row(page) == {target["name"]}
    assert errors == []


def test_a_query_typed_before_the_index_arrives_is_applied_when_it_does(
    base: str,  # noqa: F811
    catalog: list[dict],  # noqa: F811
    held_page: Callable[[str, str], tuple[Page, Held, list[str]]],
) -> None:
    page, held, errors = held_page(f"{base}/large/index.html?vm=xen", "search-index.json")
    page.wait_for_selector("#inventory thead button.sort")  # the script runs, the data waits
    assert page.get_attribute("#catalog", "data-ready") is None
    page.locator("#q").fill("ec2")
    held.release()
    page.wait_for_selector("#catalog[data-ready]", timeout=HOLD_TIMEOUT_MS)
    assert page.locator("#q").input_value() == "ec2"
    assert page.url.endswith("?q=ec2&vm=xen")  # the address says what is shown
    expected = names(catalog, lambda i: i["vm"] == "xen" and "ec2" in words(i))
    assert len(expected) >= 2 and every_row(page) == expected
    assert errors == []
