"""The Download button in Chromium: the repository served over HTTP, the file downloaded whole."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import test_browser
from tests.export_helpers import CLEAN, MULTI, make_repository, publish_catalog

pytestmark = pytest.mark.browser
browser, open_tab = test_browser.browser, test_browser.open_tab  # the browser tests' fixtures


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`work/repo` (the download base) and `work/vm-site` served from one local HTTP root."""
    work = tmp_path_factory.mktemp("downloads")
    make_repository(work / "repo")
    handler = functools.partial(test_browser._QuietHandler, directory=work)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{httpd.server_port}"
    publish_catalog(work, work / "repo", "--download-base-url", f"{root}/repo/")
    yield root, work
    httpd.shutdown()
    thread.join()


def test_the_download_button_downloads_the_image(
    served: tuple[str, Path], open_tab: Callable, tmp_path: Path
) -> None:
    root, work = served
    tab = open_tab(f"{root}/vm-site/images/xen/{CLEAN}/")
    button = tab.page.get_by_role("link", name="Download", exact=True)
    assert button.is_visible()
    with tab.page.expect_download() as started:
        button.click()
    saved = tmp_path / "downloaded.img"
    started.value.save_as(saved)
    assert saved.read_bytes() == (work / "repo" / "xen" / f"{CLEAN}.img").read_bytes()
    tab.assert_clean()


def test_each_file_of_a_directory_image_is_linked(
    served: tuple[str, Path], open_tab: Callable
) -> None:
    root, _ = served
    tab = open_tab(f"{root}/vm-site/images/kvm/{MULTI}/")
    assert tab.page.get_by_role("link", name="Download the files").is_visible()
    links = tab.page.locator("table.members a")
    hrefs = links.evaluate_all("links => links.map(a => a.href)")
    assert hrefs == [f"{root}/repo/kvm/{MULTI}/disk1.raw", f"{root}/repo/kvm/{MULTI}/disk2.raw"]
    tab.assert_clean()
