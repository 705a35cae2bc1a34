"""The console in headless Chromium: launch a launch plan from its page and watch it reach SUCCEEDED.

A real localflyte (process runtime) and moto; the workflow below is fast-registered with FlyteRemote
the way a platform team registers a launch plan, then a real browser (Debian ``chromium`` driven by
``chromedriver`` through selenium) clicks Launch. The console URL it lands on must be the one
``FlyteRemote.generate_console_url`` builds when ``console.endpoint`` points at localflyte's HTTP port.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flytekit import CronSchedule, Deck, LaunchPlan, task, workflow
from flytekit.configuration import Config, DataConfig, ImageConfig, PlatformConfig, S3Config
from flytekit.remote import FlyteRemote

from localflyte.testing import LocalFlyteProcess, MotoServer

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT, DOMAIN = "flytesnacks", "development"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,1000",
)  # fmt: skip


@task(enable_deck=True)
def scale(x: int, factor: float) -> float:
    """Multiplies; writes a Deck so that the console links one."""
    Deck("scaled", f"<p id='deck-value'>{x} * {factor}</p>")
    return x * factor


@task
def describe(label: str, value: float, loud: bool) -> str:
    text = f"{label}={value}"
    return text.upper() if loud else text


@workflow
def console_demo(x: int = 3, factor: float = 2.0, label: str = "<b>result</b>", loud: bool = False) -> str:
    return describe(label=label, value=scale(x=x, factor=factor), loud=loud)


CONSOLE_DEMO = LaunchPlan.get_or_create(
    console_demo,
    name="console_demo_nightly",
    default_inputs={"x": 4, "factor": 2.5},
    schedule=CronSchedule(schedule="0 2 * * *"),
)


@pytest.fixture(scope="module")
def console_url(localflyte: LocalFlyteProcess) -> str:
    """What ``console.endpoint`` is set to in a flytekit config for this localflyte."""
    url = f"http://127.0.0.1:{localflyte.http_port}"
    home = requests.get(f"{url}/console", timeout=10)
    assert home.status_code == 200, f"{home.status_code} {home.text[:200]} (LocalFlyte must call http.mount_console)"
    return url


@pytest.fixture(scope="module")
def remote(localflyte: LocalFlyteProcess, moto: MotoServer, console_url: str) -> FlyteRemote:
    config = Config(
        platform=PlatformConfig(endpoint=localflyte.endpoint, insecure=True, console_endpoint=console_url),
        data_config=DataConfig(
            s3=S3Config(endpoint=moto.endpoint, access_key_id="testing", secret_access_key="testing")
        ),
    )
    return FlyteRemote(config, default_project=PROJECT, default_domain=DOMAIN)


@pytest.fixture(scope="module")
def launch_plan_version(remote: FlyteRemote) -> str:
    """The launch plan fast-registered (code bundle through the data proxy) and activated."""
    version = f"v{uuid.uuid4().hex[:10]}"
    registered = remote.register_script(
        CONSOLE_DEMO, image_config=ImageConfig.auto_default_image(), version=version,
        source_path=str(REPO_ROOT), module_name="tests.integration.test_console",
    )  # fmt: skip
    remote.client.update_launch_plan(registered.id, "ACTIVE")
    return version


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver

    # scripts/stack up installs both; their absence is a broken set-up, not a reason to skip.
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), "run scripts/stack up (installs chromium)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _text(driver: Any) -> str:
    return str(driver.find_element("tag name", "body").text)


def _wait_for_phase(driver: Any, url: str, timeout: float = 180.0) -> str:
    """Reload the execution page until its phase is terminal; the page's text at that point."""
    deadline = time.monotonic() + timeout
    while True:
        driver.get(url)
        text = _text(driver)
        badges = driver.find_elements("css selector", "table .phase")
        phase = badges[0].text if badges else ""
        if not badges or phase in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT") or time.monotonic() > deadline:
            return text
        time.sleep(1)


def test_launch_from_the_console_reaches_succeeded(
    browser: Any, remote: FlyteRemote, console_url: str, launch_plan_version: str, tmp_path: Path
) -> None:
    browser.get(f"{console_url}/console")
    browser.find_element("link text", "development").click()
    domain_page = _text(browser)
    assert "console_demo_nightly" in domain_page
    assert launch_plan_version in domain_page and "cron 0 2 * * *" in domain_page

    browser.find_element("link text", "console_demo_nightly").click()
    page = _text(browser)
    assert "ACTIVE" in page and "<b>result</b>" in page  # the default, escaped (shown as text)
    browser.save_screenshot(str(tmp_path / "launch_plan.png"))
    x = browser.find_element("name", "input.x")
    assert x.get_attribute("value") == "4"  # the launch plan's default, not the workflow's
    x.clear()
    x.send_keys("6")
    browser.find_element("id", "launch").click()

    executions = f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/"
    deadline = time.monotonic() + 30
    while executions not in browser.current_url and time.monotonic() < deadline:
        time.sleep(0.2)
    execution_url = browser.current_url
    assert executions in execution_url, _text(browser)
    name = execution_url.rsplit("/", 1)[1]
    assert remote.generate_console_url(remote.fetch_execution(name=name)) == execution_url

    text = _wait_for_phase(browser, execution_url)
    browser.save_screenshot(str(tmp_path / "execution.png"))  # kept in pytest's basetemp for a look
    assert "SUCCEEDED" in text, text
    assert "<b>result</b>=15.0" in text  # 6 * 2.5 through two tasks; the label stays text
    execution = remote.fetch_execution(name=name)
    assert execution.spec.metadata.principal == "localflyte-console"
    assert execution.outputs["o0"] == "<b>result</b>=15.0"

    logs = [a.get_attribute("href") for a in browser.find_elements("partial link text", "Task Logs")]
    logs = logs or [a.get_attribute("href") for a in browser.find_elements("css selector", "a[href*='/logs/']")]
    assert logs and all(requests.get(url, timeout=10).status_code == 200 for url in logs)
    browser.find_element("link text", "Deck").click()
    assert "6 * 2.5" in browser.page_source


def test_flytekit_launch_plan_url_opens_the_launch_plan(
    browser: Any, remote: FlyteRemote, launch_plan_version: str
) -> None:
    plan = remote.fetch_launch_plan(name="console_demo_nightly", version=launch_plan_version)
    browser.get(remote.generate_console_url(plan))
    assert f"version {launch_plan_version}" in _text(browser)
    assert browser.find_element("id", "launch").is_enabled()
    browser.find_element("partial link text", f"console_demo@{launch_plan_version}").click()
    page = _text(browser)
    assert "workflow tests.integration.test_console.console_demo" in page and "Outputs" in page, page
