"""The managers' `/dashboard` page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`) driven by Selenium. A customer writes on the api channel and bo takes the
conversation; an agent is refused the page; alice (a supervisor in conftest's rules) logs in and
reads offered 1 and handled 1 on the api tile, the queues, the agents and the charts, switches the
window, exports the CSV; the page loads nothing from elsewhere and logs no error."""

import glob
import os
import shutil
import tempfile
import time

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from conftest import RULES, running_hub, wait_until  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.environ.get("E2E_ARTIFACTS", os.path.join(ROOT, ".build", "test-artifacts"))
SUPERVISOR_PASSWORD = "dashboard password 1"
AGENT_PASSWORD = "dashboard password 2"


# An alert on the quick queue: raised as soon as someone waits there.
ALERTS = """
metrics:
  alerts:
    - id: quick-waiting
      name: Someone waits on quick
      figure: queueLength
      queue: quick
      above: 0
"""


@pytest.fixture(scope="module")
def hub(provider):
    for running in running_hub(provider, rules=RULES + ALERTS):
        yield running


@pytest.fixture
def downloads():
    directory = tempfile.mkdtemp(prefix="dashboard-downloads-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def browser(downloads):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("chromium and chromedriver are needed (scripts/test installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,900", "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    yield driver
    driver.quit()


def value(browser, selector):
    """The raw figure (`data-value`) of the first element `selector` finds, or None."""
    return browser.execute_script(
        "const node = document.querySelector(arguments[0]); return node ? node.dataset.value : null;", selector)


def text(browser, selector):
    return browser.execute_script("const node = document.querySelector(arguments[0]); return node ? node.textContent : null;", selector)


def errors(browser):
    """The browser's console errors since the last call."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def take_conversation(hub, customer, message_id):
    """A customer writes on api-demo (queue support); bo, available, is offered it and accepts."""
    hub.customer_message(customer, "我的订单还没到，能帮我查一下吗？", message_id)
    offers = []

    def offered():
        offers[:] = hub.request("GET", "/v1/agents/bo/routing")[1]["offers"]
        return bool(offers)

    assert wait_until(offered), "bo was not offered the conversation"
    status, answer = hub.request("POST", f"/v1/offers/{offers[0]}/accept")
    assert status == 200, answer
    assert wait_until(lambda: hub.request("GET", "/v1/agents/bo/routing")[1]["load"]["messaging"] == 1)


def log_in(browser, login, password):
    name = browser.find_element(By.ID, "login-name")
    name.clear()
    name.send_keys(login)
    browser.find_element(By.ID, "login-password").send_keys(password)
    browser.find_element(By.ID, "login-button").click()


def test_supervisor_reads_the_figures_of_real_traffic(hub, browser, downloads):
    started = time.time()
    hub.login("alice", password=SUPERVISOR_PASSWORD)  # sets the password; alice is a supervisor
    hub.login("bo", password=AGENT_PASSWORD)  # bo is an agent
    status, answer = hub.request("POST", "/v1/agents/bo/presence", {"presence": "available"})
    assert status == 200, answer
    take_conversation(hub, "crm-dash-1", "dash-1")

    wait = WebDriverWait(browser, 30)
    browser.get(hub.base + "/dashboard")
    assert "Switchboard" in browser.title

    # An agent is told the page is for supervisors, and is back at the login form.
    log_in(browser, "bo", AGENT_PASSWORD)
    wait.until(EC.text_to_be_present_in_element((By.ID, "login-error"), "not a supervisor"))
    assert browser.find_element(By.ID, "login").is_displayed()
    assert not browser.find_element(By.ID, "app").is_displayed()
    # Chromium logs the refused request (403) itself; nothing else may be there.
    refused = errors(browser)
    assert all("403" in entry["message"] for entry in refused), refused
    os.makedirs(ARTIFACTS, exist_ok=True)
    browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-refused.png"))

    # The supervisor.
    log_in(browser, "alice", SUPERVISOR_PASSWORD)
    wait.until(EC.visibility_of_element_located((By.ID, "app")))
    assert browser.find_element(By.ID, "user-name").text == "Alice Wang"
    api = '[data-channel="api"] '
    wait.until(lambda driver: value(driver, api + '[data-figure="offered"]') == "1"
               and value(driver, api + '[data-figure="handled"]') == "1")
    assert text(browser, api + '[data-figure="offered"]') == "1"
    assert text(browser, api + '[data-figure="handled"]') == "1"
    assert text(browser, api + '[data-figure="answerRate"]') == "100.0%"
    assert text(browser, api + '[data-figure="abandoned"]') == "0"
    assert text(browser, api + '[data-figure="slaBreaches"]') == "0"
    assert text(browser, api + '[data-figure="csatAverage"]') == "—", "no survey answered: no CSAT"
    asa = text(browser, api + '[data-figure="averageSpeedOfAnswerSeconds"]')
    assert asa and ":" in asa and asa.split(":")[1].isdigit() and len(asa.split(":")[1]) == 2, asa
    # Agents' own time (the channel "") is not a channel tile.
    assert browser.execute_script("return document.querySelectorAll('[data-channel=\"\"]').length") == 0
    assert value(browser, '#summary [data-figure="offered"]') == "1"

    # Queues: the figures of support.
    support = 'tr[data-queue="support"] '
    wait.until(lambda driver: value(driver, support + '[data-figure="handled"]') == "1")
    assert value(browser, support + '[data-figure="offered"]') == "1"
    assert value(browser, support + '[data-figure="waiting"]') == "0"
    assert set(browser.execute_script(
        "return [...document.querySelectorAll('#queue-rows tr')].map((row) => row.dataset.queue)")) >= {"support", "quick", "billing"}

    # Agents: bo is busy on messaging, with the conversation in hand.
    wait.until(lambda driver: value(driver, '#agent-states td[data-medium="messaging"][data-state="busy"]') == "1")
    bo = 'tr[data-agent="bo"] '
    assert value(browser, bo + '[data-figure="presence"]') == "available"
    assert text(browser, bo + '[data-figure="load"]') == "1 chat"
    assert value(browser, bo + '[data-figure="handled"]') == "1"
    assert value(browser, 'tr[data-agent="alice"] [data-figure="presence"]') == "offline"
    assert value(browser, '#team [data-figure="loggedInNow"]') == "1"

    # The active-alerts panel is there, empty: nobody waits on quick yet.
    assert browser.find_element(By.ID, "alerts").get_attribute("data-alerts") == "0"
    assert browser.find_element(By.ID, "no-alerts").text == "none"

    # The charts are drawn: bars for this hour's contacts, a point for its service level.
    assert browser.execute_script("return document.querySelectorAll('#chart-volume rect.bar.offered').length") >= 1
    assert browser.execute_script("return document.querySelectorAll('#chart-service circle.dot.serviceLevel').length") >= 1

    # Someone waits on quick (dana, its only agent, is offline): the queue table shows it.
    hub.customer_message("crm-dash-2", "有人在吗？", "dash-2", account="api-quick")
    browser.find_element(By.ID, "refresh").click()
    quick = 'tr[data-queue="quick"] '
    wait.until(lambda driver: value(driver, quick + '[data-figure="waiting"]') == "1")
    assert text(browser, quick + '[data-figure="longestWaitSeconds"]').count(":") == 1
    assert browser.execute_script(
        "return document.querySelector('#queue-rows tr').dataset.queue") == "quick", "queues with someone waiting come first"
    wait.until(lambda driver: value(driver, api + '[data-figure="offered"]') == "2")
    assert value(browser, api + '[data-figure="handled"]') == "1"
    # ... and the alert on quick is raised, shown among the active alerts.
    browser.find_element(By.ID, "refresh").click()
    wait.until(lambda driver: driver.find_element(By.ID, "alerts").get_attribute("data-alerts") == "1")
    # Read in one script: the live stream may redraw the list between a look-up and a read.
    raised = '#alert-list li[data-alert="quick-waiting"]'
    wait.until(lambda driver: "Someone waits on quick" in (text(driver, raised) or ""))
    assert "queueLength 1, above 0" in text(browser, raised), text(browser, raised)

    # Another window: the same contacts, drawn per day.
    Select(browser.find_element(By.ID, "window")).select_by_value("7d")
    wait.until(EC.text_to_be_present_in_element((By.ID, "period-name"), "per day"))
    wait.until(lambda driver: value(driver, api + '[data-figure="offered"]') == "2")
    assert browser.execute_script("return document.querySelectorAll('#chart-volume rect.bar.offered').length") >= 1
    Select(browser.find_element(By.ID, "window")).select_by_value("today")
    wait.until(EC.text_to_be_present_in_element((By.ID, "period-name"), "per hour"))
    wait.until(lambda driver: value(driver, api + '[data-figure="offered"]') == "2")

    # The CSV export, fetched with the bearer token and saved through a Blob URL.
    browser.find_element(By.ID, "export").click()
    assert wait_until(lambda: glob.glob(os.path.join(downloads, "*.csv")), timeout=20), os.listdir(downloads)
    with open(glob.glob(os.path.join(downloads, "*.csv"))[0], newline="") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("from,to,period,channel,queue,agent,offered,handled")
    assert any(",api,," in line for line in lines[1:]), lines

    # Nothing was loaded from anywhere but the hub, and the console holds no error.
    resources = browser.execute_script("return performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert resources, "the page's own script and style are resources"
    assert all(url.startswith(hub.base + "/") for url in resources), resources
    assert errors(browser) == []

    # The whole page, for people to look at.
    browser.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": True})
    height = 900
    for _ in range(3):
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 1440, "height": height, "deviceScaleFactor": 1, "mobile": False})
        time.sleep(0.2)
        needed = browser.execute_script("return document.documentElement.scrollHeight")
        if needed <= height:
            break
        height = needed
    path = os.path.join(ARTIFACTS, "dashboard.png")
    browser.save_screenshot(path)
    assert os.path.getsize(path) > 10_000
    assert errors(browser) == []
    print("dashboard test took %.1f s" % (time.time() - started))
