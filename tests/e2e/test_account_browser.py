"""The staff account in a real browser: the forced password change after an admin's reset,
the Account dialog (sessions, two-step sign-in set-up with its QR code) and the second
sign-in step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from core.settings import Settings
from knowledge_base.embeddings import SentenceEmbedder
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.live import LiveServer, serve

pytestmark = pytest.mark.browser
NEW_PASSWORD = "quiet lantern orchard"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("account")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite:///{root / 'kefu.db'}", _env_file=None
    )
    with serve(settings, embedder) as live:
        yield live


def sign_in(page: Page, username: str, password: str) -> None:
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def test_forced_password_change_then_two_step_sign_in(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    server.staff("lin")
    reset = server.admin().post("/api/admin/users/lin/password", json={})
    temporary = reset.json()["temporary_password"]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.url)
    page = context.new_page()
    page.goto("/console")
    sign_in(page, "lin", temporary)

    required = page.locator("[data-testid=account-required]")
    expect(required).to_contain_text("Choose a new password")
    page.fill("[data-testid=current-password]", temporary)
    page.fill("[data-testid=new-password]", "password12")
    page.click("[data-testid=password-submit]")
    expect(page.locator("[data-testid=password-error]")).to_contain_text("too common")
    page.fill("[data-testid=new-password]", NEW_PASSWORD)
    page.click("[data-testid=password-submit]")
    expect(page.locator("[data-testid=queue-list]")).to_be_visible()

    page.click("[data-testid=account]")
    dialog = page.get_by_role("dialog", name="Your account")
    expect(dialog.locator("[data-testid=session-row]")).to_have_count(1)
    expect(dialog.locator("[data-testid=session-row]")).to_contain_text("This browser")
    dialog.locator("[data-testid=mfa-setup]").click()
    expect(dialog.locator("[data-testid=mfa-qr]")).to_be_visible()
    totp = pyotp.TOTP(dialog.locator("[data-testid=mfa-secret]").inner_text().strip())
    dialog.locator("[data-testid=mfa-code]").fill(totp.now())
    dialog.locator("[data-testid=mfa-confirm]").click()
    expect(dialog.locator("[data-testid=recovery-codes] li")).to_have_count(10)
    screenshot(page, "account-recovery-codes")
    dialog.locator("[data-testid=mfa-done]").click()
    expect(dialog.locator("[data-testid=mfa-status]")).to_contain_text("On")
    dialog.get_by_role("button", name="Close").click()

    page.click("#logout")
    sign_in(page, "lin", NEW_PASSWORD)
    code = page.get_by_label("Code", exact=True)
    expect(code).to_be_focused()
    code.fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("[data-testid=login-error]")).to_contain_text("not right")
    code.fill(totp.at(datetime.now(UTC) + timedelta(seconds=30)))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("[data-testid=queue-list]")).to_be_visible()
    context.close()


def test_a_role_that_needs_two_step_sign_in_enrols_before_the_workspace(
    tmp_path: Path, embedder: SentenceEmbedder, browser: Browser
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'kefu.db'}",
        mfa_required_roles=["admin"],
        _env_file=None,
    )
    with serve(settings, embedder) as live:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live.url)
        page = context.new_page()
        page.goto("/admin")
        sign_in(page, "admin", PASSWORD)
        required = page.locator("[data-testid=account-required]")
        expect(required).to_contain_text("Set up two-step sign-in")
        qr = required.locator("[data-testid=mfa-qr]")
        expect(qr).to_be_visible()
        assert qr.evaluate("image => image.complete && image.naturalWidth > 0")  # it renders
        screenshot(page, "account-forced-enrolment")
        totp = pyotp.TOTP(required.locator("[data-testid=mfa-secret]").inner_text().strip())
        required.locator("[data-testid=mfa-code]").fill(totp.now())
        required.locator("[data-testid=mfa-confirm]").click()
        expect(required.locator("[data-testid=recovery-codes] li")).to_have_count(10)
        required.locator("[data-testid=mfa-done]").click()
        expect(page.locator("#workspace")).to_be_visible()
        expect(page.locator("[data-testid=me-name]")).to_have_text("admin")
        context.close()
