"""Importing a conference file and exporting one, from the organizer's pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from server.keys import db_key
from tests.conftest import Api, add_account, add_member
from tests.web.browsing import expect_fits, log_in
from tests.web.conftest import Browser

GOOD = """\
plenary: 1
conference:
  title: Hội nghị sơ kết công tác Văn phòng cấp ủy
  starts_on: 2026-12-20
  ends_on: 2026-12-20
sites:
  - code: TW
    name: Hội trường Trung ương
    kind: main
  - code: LCI
    name: Lào Cai
delegates:
  - name: Lò Văn Páo
    site: LCI
"""

BROKEN = """\
plenary: 1
conference:
  title: Hội nghị
  starts_on: 2026-12-20
  ends_on: 2026-12-19
sites:
  - code: TW
    name: Hội trường Trung ương
  - code: TW
    name: Trùng mã
delegates:
  - name: Lò Văn Páo
    site: XYZ
"""


async def test_import_form_and_export_links_are_for_organizers(
    client: TestClient[Any, Any], app: web.Application, organizer: Api, conference: dict[str, Any]
) -> None:
    html = await (await client.get("/conferences")).text()
    assert 'id="import-conference"' in html and 'type="file"' in html
    cid = conference["id"]
    html = await (await client.get(f"/conferences/{cid}")).text()
    for fmt in ("yaml", "json"):
        assert f"/api/v1/conferences/{cid}/export?format={fmt}" in html
    await add_member(app[db_key], cid, "chair", "chair")
    await Api(client).login("chair")
    html = await (await client.get(f"/conferences/{cid}")).text()
    assert "/export?format=" not in html
    html = await (await client.get("/conferences")).text()
    assert 'id="import-conference"' not in html


@pytest.mark.browser
async def test_organizer_imports_a_file_and_sees_every_problem(
    browser: Browser, live_server: TestServer
) -> None:
    from playwright.async_api import expect

    await add_account(live_server.app[db_key], "organizer", can_create=True)
    page = await browser.new_page()
    await log_in(page, "organizer")
    form = page.locator("#import-conference")

    await form.get_by_role("button", name="Nhập tệp").click()
    await expect(page.locator("#import-status")).to_have_text("Hãy chọn một tệp hội nghị.")

    upload = form.get_by_label("Tệp hội nghị", exact=True)
    await upload.set_input_files(
        {"name": "sai.yaml", "mimeType": "application/yaml", "buffer": BROKEN.encode()}
    )
    await form.get_by_role("button", name="Nhập tệp").click()
    problems = page.locator("#import-problems li")
    await expect(problems.first).to_be_visible()
    texts = await problems.all_inner_texts()
    assert len(texts) >= 3, texts
    joined = "\n".join(texts)
    assert "sites[1].code" in joined and "delegates[0].site" in joined
    assert re.search(r"dòng \d+", joined)
    await expect(page.locator("#import-status")).to_contain_text("chưa nhập gì")
    assert await page.locator("#conference-list li").count() == 0

    await upload.set_input_files(
        {"name": "dung.yaml", "mimeType": "application/yaml", "buffer": GOOD.encode()}
    )
    await form.get_by_label("Chỉ kiểm tra tệp, chưa tạo hội nghị").check()
    await form.get_by_role("button", name="Nhập tệp").click()
    await expect(page.locator("#import-status")).to_contain_text("Tệp hợp lệ")
    await expect(page.locator("#import-status")).to_contain_text("2 điểm cầu, 1 đại biểu")
    await expect(page.locator("#import-problems")).to_be_hidden()

    await form.get_by_label("Chỉ kiểm tra tệp, chưa tạo hội nghị").uncheck()
    await form.get_by_role("button", name="Nhập tệp").click()
    await page.wait_for_url(re.compile(r"/conferences/[\w-]+$"))
    await page.get_by_role(
        "heading", level=1, name="Hội nghị sơ kết công tác Văn phòng cấp ủy"
    ).wait_for()
    await expect(page.locator("#sites-body")).to_contain_text("Lào Cai")

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Tải tệp YAML").click()
    download = await download_info.value
    saved = await download.path()
    text = saved.read_text(encoding="utf-8")
    assert "Lò Văn Páo" in text and "LCI" in text

    small = await browser.new_page(width=360, height=740)
    await log_in(small, "organizer")
    await expect_fits(small)
