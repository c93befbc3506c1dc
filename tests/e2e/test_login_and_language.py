import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_collector_logs_in_lands_on_the_worklist_and_switches_to_english(page, collector, screenshots_dir):
    login(page, "collector")
    page.wait_for_url("**/cases/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "工作清单" in page.locator("nav.mainnav").inner_text()
    page.screenshot(path=str(screenshots_dir / "collector-landing-zh.png"), full_page=True)

    page.select_option("#language-select", "en")
    page.wait_for_selector('html[lang="en"]')  # the submit navigates; networkidle can come before it starts
    assert "Worklist" in page.locator("nav.mainnav").inner_text()
    assert page.url.endswith("/cases/")
    page.screenshot(path=str(screenshots_dir / "collector-landing-en.png"), full_page=True)


def test_the_login_page_fits_a_phone(browser, live_server, screenshots_dir):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/login/")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(screenshots_dir / "login-phone.png"), full_page=True)
    context.close()
    assert width <= 360
