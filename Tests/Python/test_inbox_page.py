"""The `/inbox` page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`) driven by Selenium logs in, accepts an offer and sends a reply."""

import os
import shutil
import time

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.environ.get("E2E_ARTIFACTS", os.path.join(ROOT, ".build", "test-artifacts"))


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("chromium and chromedriver are needed (scripts/test installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def test_agent_logs_in_accepts_an_offer_and_replies(hub, provider, browser):
    hub.login("bo", password="browser password 1")  # sets the password
    wait = WebDriverWait(browser, 30)
    browser.get(hub.base + "/inbox")
    assert "Switchboard" in browser.title
    browser.find_element(By.ID, "login-name").send_keys("bo")
    browser.find_element(By.ID, "login-password").send_keys("browser password 1")
    browser.find_element(By.ID, "login-button").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "connection"), "connected"))
    assert browser.find_element(By.ID, "agent-name").text == "Bo Chen"
    Select(browser.find_element(By.ID, "presence")).select_by_value("available")
    wait.until(lambda driver: "calls" in driver.find_element(By.ID, "load").text)
    time.sleep(0.5)

    hub.customer_message("crm-4004", "请问发票什么时候开？", "page-1")
    card = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".offer")))
    assert "请问发票什么时候开？" in card.text, "the screen pop shows the customer's message"
    assert "Why you" in card.text
    countdown = card.find_element(By.CSS_SELECTOR, ".countdown").text
    assert countdown.endswith("s") and int(countdown[:-1]) > 0
    card.find_element(By.CSS_SELECTOR, "button.accept").click()

    wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, ".offer")))
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#conversations li")))
    wait.until(EC.visibility_of_element_located((By.ID, "conversation")))
    wait.until(EC.text_to_be_present_in_element((By.ID, "timeline"), "请问发票什么时候开？"))
    before = len(provider.replies())
    browser.find_element(By.ID, "reply-text").send_keys("发票已开，请查收邮件。")
    browser.find_element(By.ID, "send").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "timeline"), "发票已开，请查收邮件。"))
    deadline = time.time() + 20
    while time.time() < deadline and len(provider.replies()) == before:
        time.sleep(0.05)
    replies = provider.replies()
    assert len(replies) == before + 1
    assert replies[-1]["body"]["text"] == "发票已开，请查收邮件。" and replies[-1]["signed"]
    wait.until(EC.text_to_be_present_in_element((By.ID, "timeline"), "sent"))

    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, "inbox.png")
    browser.save_screenshot(path)
    assert os.path.getsize(path) > 10_000
