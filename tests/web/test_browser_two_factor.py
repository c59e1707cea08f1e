"""Two-factor in a real headless Chromium: a security key added and used to sign in, through
Chromium's virtual WebAuthn authenticator, under PUNT's Content-Security-Policy.

allauth's WebAuthn scripts are static files (script-src 'self'); the data they read sits in
JSON script blocks, which CSP does not run. Any CSP violation fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.web.live import CHROMIUM, PASSWORD, LiveApp, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing: apt-get install chromium"),
]

SEED = f"""
from django.contrib.auth import get_user_model
get_user_model().objects.create_user("kim", "kim@example.com", {PASSWORD!r})
print("seeded")
"""

# Every CSP violation on any page, kept across navigations in sessionStorage.
WATCH_CSP = """
document.addEventListener('securitypolicyviolation', e => {
  const seen = JSON.parse(sessionStorage.getItem('csp') || '[]');
  seen.push(e.violatedDirective + ' ' + e.blockedURI);
  sessionStorage.setItem('csp', JSON.stringify(seen));
});
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    yield from serve(tmp_path_factory, "live-two-factor", SEED)


def password_sign_in(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def test_security_key_added_and_used_to_sign_in(browser, app: LiveApp):
    # WebAuthn needs a domain: localhost (a secure context even over http), not 127.0.0.1.
    base = app.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(base_url=base)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "usb",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    try:
        password_sign_in(page, base)
        page.wait_for_url(f"{base}/")

        page.goto(f"{base}/accounts/2fa/webauthn/add/")
        if "/reauthenticate/" in page.url:
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/accounts/2fa/webauthn/add/")
        page.fill("input[name=name]", "Virtual key")
        page.click("#mfa_webauthn_add")
        page.wait_for_url(lambda url: "/webauthn/add/" not in url)
        assert "Virtual key" in page.goto(f"{base}/accounts/2fa/webauthn/").text()
        assert page.evaluate("sessionStorage.getItem('csp')") is None

        page.click("header form button[type=submit]")  # Sign out
        page.wait_for_url("**/login/")
        password_sign_in(page, base)
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.click("#mfa_webauthn_authenticate")
        page.wait_for_url(f"{base}/")
        assert page.locator("header").get_by_text("kim").count() == 1
        assert page.evaluate("sessionStorage.getItem('csp')") is None
    finally:
        context.close()
