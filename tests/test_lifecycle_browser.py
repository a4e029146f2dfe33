"""The inventory's lifecycle in Chromium: badges, the Lifecycle filter, end of life hidden
unless asked for (`?lifecycle=all`), in the whole-table page and the large-catalog mode."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from generator.site.render import Layout
from tests import test_browser
from tests.conftest import FIXED_NS, FIXED_TIME, build_site, image_entries, run_cli, write_tree
from tests.test_browser import Tab, _QuietHandler

pytestmark = pytest.mark.browser
browser, open_tab = test_browser.browser, test_browser.open_tab  # the browser tests' fixtures

CURRENT = "sl6.4_x86_64_sl12a_20GB_batch"
DEPRECATED = "sl6.2_x86_64_sl11d_20GB_batch"
RETIRED = "sl5.3_x86_64_sl09g_12GB_grid"


def lifecycle_files() -> dict:
    """Three images on the tests' clock (2024-03-01): current, deprecated, end of life."""
    return {
        **image_entries(f"kvm/{CURRENT}.img", b"current"),
        **image_entries(
            f"kvm/{DEPRECATED}.img", b"deprecated", f"---\nreplaced_by: kvm/{CURRENT}\n---\n"
        ),
        **image_entries(f"kvm/{RETIRED}.img", b"retired", "---\nend_of_life: 2024-01-31\n---\n"),
    }


@pytest.fixture(scope="module")
def lifecycle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`small` is built by the command line (aliases and redirects are made when publishing),
    `large` by the library with a small layout, so the script builds the rows itself."""
    tmp = tmp_path_factory.mktemp("lifecycle")
    repo = write_tree(tmp / "repo", lifecycle_files(), mtime_ns=FIXED_NS)
    built = run_cli(
        "build", "--repository", str(repo), "--output", str(tmp / "www" / "small"),
        "--state", str(tmp / "state"), env={"SOURCE_DATE_EPOCH": str(int(FIXED_TIME))},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    build_site(repo, tmp / "www" / "large", layout=Layout(table_limit=1, preview_rows=2))
    handler = functools.partial(_QuietHandler, directory=tmp / "www")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


@pytest.mark.parametrize("site", ["small", "large"])
def test_end_of_life_is_hidden_unless_asked_and_deprecated_has_a_badge(
    lifecycle_server: str, open_tab: Callable[..., Tab], site: str
) -> None:
    tab = open_tab(f"{lifecycle_server}/{site}/index.html")
    rows = tab.page.locator("#inventory tbody tr")
    expect(rows).to_have_count(2)
    assert sorted(tab.rows("name")) == [f"{DEPRECATED}.img", f"{CURRENT}.img"]
    expect(tab.page.locator("#result-count")).to_contain_text("1 end of life not shown")
    badge = rows.filter(has_text=DEPRECATED).locator(".badge.lifecycle-deprecated")
    expect(badge).to_have_text("Deprecated")
    tab.page.locator("fieldset[data-facet=lifecycle] input[value=end_of_life]").check()
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge.lifecycle-end_of_life")).to_have_text("End of life")
    assert tab.page.url.endswith("index.html?lifecycle=end_of_life")
    tab.page.go_back()
    expect(rows).to_have_count(2)
    tab.assert_clean()


@pytest.mark.parametrize("site", ["small", "large"])
def test_lifecycle_all_in_the_address_shows_every_image(
    lifecycle_server: str, open_tab: Callable[..., Tab], site: str
) -> None:
    tab = open_tab(f"{lifecycle_server}/{site}/index.html?lifecycle=all")
    count = tab.page.locator("#result-count")
    expect(count).to_contain_text("All 3 images")  # the large mode shows 2 rows at a time
    expect(count).not_to_contain_text("not shown")
    names = tab.page.locator("#inventory tbody tr a").all_text_contents()
    assert f"{RETIRED}.img" in names  # first in catalog order, so shown in both modes
    tab.page.locator("#q").fill("sl")
    assert "lifecycle=all" in tab.page.url  # kept while searching
    tab.assert_clean()


def test_redirect_and_alias_pages_load_the_image_page(
    lifecycle_server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(f"{lifecycle_server}/small/latest/kvm/sl6-x86-64/")
    expect(tab.page).to_have_url(f"{lifecycle_server}/small/images/kvm/{CURRENT}/")
    expect(tab.page.locator("h1")).to_contain_text(CURRENT)
    tab.assert_clean()
