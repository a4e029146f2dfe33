"""Image pages, the problems page and the site menu in Chromium, as a person on a laptop or a
phone meets them: the warning first, copy buttons, the same image for other VM software,
the menu on one row, axe-core's accessibility rules and the keyboard.

The site is the demo repository built by the real command line (as the golden site is), then
changed and built again a day later: one image gains a twin under `xen/`, another is removed.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests import test_browser
from tests.conftest import image_entries, write_tree
from tests.golden import EPOCH, build_demo_site
from tests.test_browser import Tab, _QuietHandler

open_tab = test_browser.open_tab  # its tabs, in the session's one Chromium (tests/conftest.py)

pytestmark = pytest.mark.browser

TWIN = "xen/sl6.4_x86_64_sl11d_20GB_batch.img"  # the KVM image's system, built for Xen
GONE = "xen/sl4_x86_32_sl08e_8GB_ec2"
PAGES = {
    "inventory": "index.html",
    "image": "images/kvm/sl6.4_x86_64_sl11d_20GB_batch/",
    "damaged": "images/kvm/sl5.3_x86_64_sl09g_12GB_grid/",
    "multi-file": "images/vmware/centOS5_x86_64_sl10c_40GB_analysis/",
    "removed": f"images/{GONE}/",
    "problems": "problems/",
    "content": "naming/",
}
WIDTHS = (1280, 1366, 390)
PHONE = {"width": 390, "height": 844}  # an iPhone 12-14 screen in CSS pixels


def rebuild(workdir: Path, epoch: int) -> None:
    """`star-vm-catalog build` again, as cron would, with the clock at `epoch`."""
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": str(epoch),
        "XDG_STATE_HOME": str(workdir / "state"),
        "XDG_CACHE_HOME": str(workdir / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--repository", "vm",
         "--output", "site"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr  # the demo has problems on purpose


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The served site's URL and its folder."""
    workdir = tmp_path_factory.mktemp("pages")
    build_demo_site(workdir)
    repo = workdir / "vm"
    twin_bytes = (repo / "kvm/sl6.4_x86_64_sl11d_20GB_batch.qcow2").read_bytes()
    write_tree(repo, image_entries(TWIN, twin_bytes, "The batch image, for Xen.\n"))
    for sidecar in repo.glob(f"{GONE}.*"):
        sidecar.unlink()
    rebuild(workdir, int(EPOCH) + 86400)
    handler = functools.partial(_QuietHandler, directory=workdir)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/site/", (workdir / "site").resolve()
    httpd.shutdown()
    thread.join()


def catalog_image(folder: Path, image_id: str) -> dict:
    images = json.loads((folder / "catalog.json").read_text())["images"]
    return next(i for i in images if i["id"] == image_id)


def clipboard_after_click(tab: Tab, button_selector: str) -> str:
    tab.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    button = tab.page.locator(button_selector)
    button.click()
    expect(button).to_have_text("Copied")
    return tab.page.evaluate("navigator.clipboard.readText()")


def test_damaged_image_says_so_on_a_phones_first_screen(
    site: tuple[str, Path], open_tab: Callable[..., Tab]
) -> None:
    url, _ = site
    tab = open_tab(url + PAGES["damaged"], width=PHONE["width"])
    tab.page.set_viewport_size(PHONE)
    alert = tab.page.locator("#image-alert")
    expect(alert).to_be_visible()
    expect(alert.locator("h2")).to_have_text("✕ Damaged: do not use this image")
    box = alert.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    expect(tab.page.get_by_role("heading", name="Check your copy")).to_have_count(0)
    alert.get_by_role("link", name="What to do").click()
    what = tab.page.locator("#what-to-do")
    expect(what).to_be_in_viewport()
    fix = tab.page.locator("#fix-1")
    expect(fix).to_have_text(
        "md5sum -- sl5.3_x86_64_sl09g_12GB_grid.img > sl5.3_x86_64_sl09g_12GB_grid.checksum"
    )
    assert clipboard_after_click(tab, "button[data-copy-target=fix-1]") == fix.text_content()
    healthy = open_tab(url + PAGES["image"], width=PHONE["width"])
    expect(healthy.page.locator("#image-alert")).to_have_count(0)
    expect(healthy.page.get_by_role("heading", name="Check your copy")).to_be_visible()
    tab.assert_clean()
    healthy.assert_clean()


def test_md5_and_dates_of_an_image(site: tuple[str, Path], open_tab: Callable[..., Tab]) -> None:
    url, folder = site
    image = catalog_image(folder, "kvm/sl6.4_x86_64_sl11d_20GB_batch")
    tab = open_tab(url + PAGES["image"])
    assert clipboard_after_click(tab, "button[data-copy-target=computed-md5]") == image["md5"]
    assert (
        clipboard_after_click(tab, "button[data-copy-target=expected-md5]") == image["expected_md5"]
    )
    facts = tab.page.locator("section[aria-labelledby=where] dl.facts")
    expect(facts).to_contain_text("First seen2024-03-01 13:33 UTC")
    expect(facts).to_contain_text(f"Last changed{image['last_changed'][:10]}")
    twin = catalog_image(folder, "xen/sl6.4_x86_64_sl11d_20GB_batch")
    assert twin["first_seen"] == "2024-03-02T13:33:20Z"
    tab.assert_clean()


def test_fix_commands_copy_and_the_problems_page_fits_a_phone(
    site: tuple[str, Path], open_tab: Callable[..., Tab]
) -> None:
    url, _ = site
    tab = open_tab(url + PAGES["problems"], width=PHONE["width"])
    commands = tab.page.locator(".fix-command code")
    assert commands.count() >= 3
    for index in range(commands.count()):
        target = commands.nth(index).get_attribute("id")
        expect(tab.page.locator(f"button[data-copy-target='{target}']")).to_be_visible()
    first = commands.first
    target = first.get_attribute("id")
    assert clipboard_after_click(tab, f"button[data-copy-target='{target}']") == (
        first.text_content()
    )
    widths = tab.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == PHONE["width"]
    tab.assert_clean()


def test_the_same_image_for_other_vm_software_is_linked(
    site: tuple[str, Path], open_tab: Callable[..., Tab]
) -> None:
    url, _ = site
    tab = open_tab(url + PAGES["image"])
    siblings = tab.page.locator("ul.siblings li")
    expect(siblings).to_have_count(2)
    expect(siblings.nth(0)).to_contain_text("KVM sl6.4_x86_64_sl11d_20GB_batch.qcow2 (this page)")
    tab.page.locator("ul.siblings a").click()
    expect(tab.page.locator("h1")).to_have_text("sl6.4_x86_64_sl11d_20GB_batch.img")
    assert tab.page.url.endswith("/site/images/xen/sl6.4_x86_64_sl11d_20GB_batch/index.html")
    expect(tab.page.locator("ul.siblings a")).to_have_text(
        "KVM sl6.4_x86_64_sl11d_20GB_batch.qcow2"
    )
    other = open_tab(url + PAGES["damaged"])
    expect(other.page.locator("ul.siblings")).to_have_count(0)
    tab.assert_clean()


@pytest.mark.parametrize("javascript", [True, False])
def test_phone_menu_takes_one_row_and_opens_from_the_keyboard(
    site: tuple[str, Path], open_tab: Callable[..., Tab], javascript: bool
) -> None:
    url, _ = site
    tab = open_tab(url + PAGES["problems"], width=PHONE["width"], javascript=javascript)
    header = tab.page.locator(".site-header").bounding_box()
    button = tab.page.locator(".menu > summary")
    assert header is not None and header["height"] < 64
    links = tab.page.locator("nav[aria-label=Site] a")
    expect(links.first).to_be_hidden()
    tab.page.keyboard.press("Tab")  # the skip link
    tab.page.keyboard.press("Tab")  # the site name
    tab.page.keyboard.press("Tab")
    expect(button).to_be_focused()
    tab.page.keyboard.press("Enter")
    expect(links.first).to_be_visible()
    tab.page.keyboard.press("Tab")
    expect(links.first).to_be_focused()
    links.last.click()
    expect(tab.page.locator("h1")).to_have_text("Problems")
    wide = open_tab(url + PAGES["problems"], javascript=javascript)
    expect(wide.page.locator(".menu > summary")).to_be_hidden()
    expect(wide.page.locator("nav[aria-label=Site] a").first).to_be_visible()
    assert wide.page.locator(".site-header").bounding_box()["height"] < 64
    tab.assert_clean()


def serious_violations(tab: Tab) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    results = Axe().run(tab.page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("name", ["inventory", "image", "damaged", "problems"])
def test_axe_finds_no_serious_violation(
    site: tuple[str, Path], open_tab: Callable[..., Tab], name: str, dark: bool
) -> None:
    url, _ = site
    for width in (1280, 390):
        tab = open_tab(url + PAGES[name], width=width, dark=dark)
        assert serious_violations(tab) == []
        if width == 390:
            tab.page.locator(".menu > summary").click()  # the open menu is checked too
            assert serious_violations(tab) == []
        tab.assert_clean()


FOCUS_STATE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {index: el.dataset.kbd, text: (el.textContent || el.value || '').trim().slice(0, 40),
          outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
          visible: box.width > 0 && box.height > 0};
}"""
# Numbers every control a person can see (data-kbd), so the Tab walk can tell which it reached.
FOCUSABLE = """() => Array.from(document.querySelectorAll(
  'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])'
)).filter(el => !el.disabled && el.getClientRects().length > 0
               && getComputedStyle(el).visibility !== 'hidden')
  .map((el, n) => { el.dataset.kbd = String(n); return n; }).length"""


@pytest.mark.parametrize("name", list(PAGES))
def test_keyboard_reaches_every_control_with_a_visible_focus(
    site: tuple[str, Path], open_tab: Callable[..., Tab], name: str
) -> None:
    url, _ = site
    tab = open_tab(url + PAGES[name])
    expected = tab.page.evaluate(FOCUSABLE)
    reached = []
    for _ in range(expected):
        tab.page.keyboard.press("Tab")
        state = tab.page.evaluate(FOCUS_STATE)
        assert state["visible"] and state["outline"] != "none" and state["width"] >= 2, state
        reached.append(state)
    assert {s["index"] for s in reached} == {str(n) for n in range(expected)}
    tab.assert_clean()


def test_screenshots_of_every_page_type(
    site: tuple[str, Path], open_tab: Callable[..., Tab], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Light and dark at two laptop widths and a phone, for a person to look at."""
    given = os.environ.get("SCREENSHOT_DIR")
    folder = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    url, _ = site
    for name, path in PAGES.items():
        for width in WIDTHS:
            for theme in ("light", "dark"):
                tab = open_tab(url + path, width=width, dark=theme == "dark")
                shot = folder / f"{name}-{width}-{theme}.png"
                tab.page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
                tab.page.context.close()
                tab.assert_clean()
    print(f"\nscreenshots of every page type: {folder}")
    assert len(list(folder.glob("*.png"))) >= len(PAGES) * len(WIDTHS) * 2
