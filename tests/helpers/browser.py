"""A real browser for end-to-end tests: Debian's chromium driven by selenium through /usr/bin/chromedriver.

Reusable by any page huizong serves (the unit's form now, the organiser's console later). The machine that
runs the tests has no outside network, so chromium is started headless with everything that would phone
home turned off, and with a fresh profile in the test's own folder so no state leaks between tests.
A test that needs the browser skips, saying why, when chromium or chromedriver is not installed (.ci/run
installs them best effort).
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

    from functions.app import App

# WeChat's in-app browser on an iPhone: the pages must work for it, so the tests say they are it.
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)

# Flags that keep chromium from reaching anything but the page under test (no outside network here).
QUIET_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--lang=zh-CN",
)


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    user_agent: str
    mobile: bool


PHONE = Viewport("phone", 390, 844, WECHAT_UA, True)
DESKTOP = Viewport("desktop", 1280, 900, DESKTOP_UA, False)


def browser_binaries() -> tuple[str, str]:
    """(chromium, chromedriver), or skip the test saying which one is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it best effort)")
    if driver is None:
        pytest.skip(
            "chromedriver is not installed (Debian package chromium-driver; .ci/run installs it best effort)"
        )
    return chromium, driver


@contextmanager
def chromium(profile: Path, viewport: Viewport, *, javascript: bool = True) -> Iterator[WebDriver]:
    """A headless chromium at `viewport`, its profile in `profile` (created fresh), quit on exit."""
    binary, driver_path = browser_binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile.mkdir(parents=True, exist_ok=False)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--user-agent={viewport.user_agent}")
    options.add_argument(f"--window-size={viewport.width},{viewport.height}")
    if viewport.mobile:
        # Device metrics make the page see a phone (its CSS media queries, a touch screen, the DPR).
        options.add_experimental_option(
            "mobileEmulation",
            {
                "deviceMetrics": {"width": viewport.width, "height": viewport.height, "pixelRatio": 2.0},
                "userAgent": viewport.user_agent,
            },
        )
    # Selenium Manager would try to download a driver: the Debian one is given explicitly instead.
    service = Service(executable_path=driver_path, log_output=str(profile.parent / f"{profile.name}.log"))
    browser = webdriver.Chrome(options=options, service=service)
    try:
        browser.set_page_load_timeout(60)
        browser.set_script_timeout(30)
        if not javascript:
            # The page's scripts are kept from loading, which for a page whose only script is its own file
            # (the CSP forbids inline ones) is what a browser with JavaScript off shows. Switching scripts
            # off altogether (content setting or Emulation.setScriptExecutionDisabled) would also stop the
            # driver, which finds, reads and clicks elements through scripts of its own.
            browser.execute_cdp_cmd("Network.enable", {})  # type: ignore[attr-defined]
            browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*.js"]})  # type: ignore[attr-defined]
        if not viewport.mobile:
            browser.set_window_size(viewport.width, viewport.height)
        yield browser
    finally:
        browser.quit()


def full_page_screenshot(browser: WebDriver, path: Path, *, max_height: int = 6000) -> Path:
    """A PNG of the whole page (not just the window): the window is grown to the page's height first."""
    from selenium.webdriver.common.by import By

    path.parent.mkdir(parents=True, exist_ok=True)
    height = int(browser.execute_script("return document.documentElement.scrollHeight") or 0)
    width = int(browser.execute_script("return window.innerWidth") or 0)
    if height and width:
        browser.execute_cdp_cmd(  # type: ignore[attr-defined]
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": min(height, max_height),
                "deviceScaleFactor": 1,
                "mobile": width < 600,
            },
        )
    browser.find_element(By.TAG_NAME, "body").screenshot(str(path))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]
    return path


@contextmanager
def served_web_app(app: App, now: dt.datetime) -> Iterator[str]:
    """The web app (unit form and console) under uvicorn on 127.0.0.1, a free port, with a fixed clock;
    yields its base URL and stops the server after."""
    from functions.serve.web_server import WebFormServer
    from functions.web.app import create_web_app

    server = WebFormServer(host="127.0.0.1", port=0)
    host, port = server.address
    base = f"http://{host}:{port}"
    server.start(create_web_app(app, base_url=base, lock=threading.Lock(), clock=lambda: now))
    try:
        yield base
    finally:
        server.stop()


# What a school types into the wujin-2022 plan form (one-record fields, one activity row, its choices).
PLAN_MATERIALS = {
    "plan_materials.work_plan_url": "https://example.org/plan.docx",
    "plan_materials.filled_by": "李老师",
    "plan_materials.phone": "13912345678",
}
PLAN_ROW = {
    "name": "智慧助老手机课堂",
    "venue": "社区教育中心",
    "expected_participants": "50",
    "lead": "张老师",
    "phone": "13912345678",
}
PLAN_CHOICES = {"category": "培训", "mode": "线下", "free": "是"}


def click_to_next_page(browser: WebDriver, target: WebElement) -> None:
    """Click `target` (a submit button, a link) and wait until the next page has finished loading.

    A click, unlike get(), does not wait for the navigation: the old document is watched until it is gone,
    then the new one until it is complete, so a slow machine never reads a half-parsed or the old page.
    """
    from selenium.webdriver.support.wait import WebDriverWait

    old = browser.find_element("css selector", "html")
    # A sticky bar at the bottom may cover the button: bring it to the middle first.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", target)
    target.click()
    WebDriverWait(browser, 60).until(lambda b: _gone(old))
    WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.readyState") == "complete")


def _gone(element: WebElement) -> bool:
    from selenium.common.exceptions import WebDriverException

    try:
        element.is_enabled()
        return False
    except WebDriverException:
        # Stale, or chromium's "node does not belong to the document" when asked mid-navigation: either
        # way the page the element was on is gone.
        return True
