"""The public verification page of an award on a phone: valid, then revoked, in words."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

from awards.schemas import AwardCreate, DecisionCreate
from awards.services import add_award, create_decision, revoke_award
from conference.actors import CLI, Actor
from conference.services import get_conference
from server.keys import db_key
from tests.web.browsing import expect_fits, keep
from tests.web.checkin_hall import make_hall
from tests.web.conftest import Browser

DECISION = {
    "number": "125-QĐ/VPTW",
    "issued_on": "2026-12-15",
    "issuing_body": "Văn phòng Trung ương Đảng",
    "signer_name": "Nguyễn Văn Thắng",
    "signer_title": "Chánh Văn phòng Trung ương Đảng",
    "award_kind": "certificate_of_merit",
}
NAME = "Văn phòng Ban Chấp hành Đảng bộ tỉnh Thừa Thiên Huế (nay là thành phố Huế)"


@pytest.mark.browser
async def test_anyone_verifies_an_award_on_a_phone(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    app = live_server.app
    hall = await make_hall(app)
    async with app[db_key].transaction() as session:
        conference = await get_conference(session, hall.cid)
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        decision = await create_decision(
            session, conference, DecisionCreate.model_validate(DECISION), actor=actor
        )
        award = await add_award(
            session,
            conference,
            decision,
            AwardCreate(name=NAME, citation="Có thành tích xuất sắc năm 2026"),
            actor=actor,
        )
        code, award_id = award.verification_code, award.public_id
    page = await browser.new_page(360, 780)
    # Typed by hand, in lower case and without hyphens.
    await page.goto("/verify")
    await page.get_by_label("Mã xác minh").fill(code.replace("-", "").lower())
    await page.get_by_role("button", name="Xác minh").click()
    status = page.locator("#award-status")
    await expect(status).to_have_attribute("data-status", "valid")
    await expect(status).to_contain_text("còn hiệu lực")
    await expect(page.locator('[data-field="recipient"]')).to_contain_text(NAME)
    await expect(page.locator('[data-field="decision"]')).to_contain_text("125-QĐ/VPTW")
    await expect_fits(page)
    async with app[db_key].transaction() as session:
        conference = await get_conference(session, hall.cid)
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        await revoke_award(session, conference, award_id, "Cấp nhầm đối tượng", actor=actor)
    await page.reload()
    await expect(status).to_have_attribute("data-status", "revoked")
    await expect(page.locator("#award-revoked")).to_contain_text("Cấp nhầm đối tượng")
    await page.goto(f"/verify/{code}?lang=en")
    await expect(status).to_contain_text("REVOKED")
    await expect_fits(page)
    await keep(page, "verify-award-revoked-360")
    await page.goto("/verify/ZZZZ-ZZZZ-ZZZZ")
    await expect(status).to_have_attribute("data-status", "unknown")
    assert browser.errors == []
