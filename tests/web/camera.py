"""A Chromium whose camera films a picture: Y4M videos of QR codes, and its fixture.

Chromium's fake capture device (`--use-fake-device-for-media-stream`) plays the
file given by `--use-file-for-fake-video-capture` in a loop, and
`--use-fake-ui-for-media-stream` grants the camera without asking. One file per
browser, so each video gets its own browser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import qrcode
from aiohttp.test_utils import TestServer
from PIL import Image

from tests.web.conftest import CHROMIUM_ARGS, Browser, reports_key

if TYPE_CHECKING:
    from playwright.async_api import Browser as Chromium

WIDTH = 640
HEIGHT = 480

OpenCamera = Callable[[Path], Awaitable[Browser]]


def qr_image(text: str, box: int = 8) -> Image.Image:
    """text as a black-on-white QR code (level M, a 4-module quiet zone)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("L")


def write_y4m(path: Path, picture: Image.Image, frames: int = 10) -> Path:
    """A few frames of picture, centred on white, as a YUV 4:2:0 Y4M video."""
    picture = picture.convert("L")
    scale = min(1.0, (HEIGHT - 40) / picture.height, (WIDTH - 40) / picture.width)
    if scale < 1.0:
        size = (round(picture.width * scale), round(picture.height * scale))
        picture = picture.resize(size, Image.Resampling.NEAREST)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(picture, ((WIDTH - picture.width) // 2, (HEIGHT - picture.height) // 2))
    luma = frame.tobytes()
    # Grey: both chroma planes at the middle value, each a quarter of the luma plane.
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(luma)
            out.write(chroma)
            out.write(chroma)
    return path


def qr_video(path: Path, text: str) -> Path:
    """A video of the QR code of text."""
    return write_y4m(path, qr_image(text))


@pytest.fixture
async def camera(
    request: pytest.FixtureRequest, chromium_path: Path, live_server: TestServer
) -> AsyncIterator[OpenCamera]:
    """open(video) -> pages on the live server in a Chromium whose camera films video."""
    from playwright.async_api import async_playwright

    opened: list[tuple[Chromium, Browser]] = []
    async with async_playwright() as playwright:

        async def open_camera(video: Path) -> Browser:
            chromium = await playwright.chromium.launch(
                executable_path=str(chromium_path),
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-video-capture={video}",
                ],
                headless=True,
            )
            pages = Browser(chromium, str(live_server.make_url("/")))
            opened.append((chromium, pages))
            return pages

        try:
            yield open_camera
        finally:
            report = request.node.stash.get(reports_key, {}).get("call")
            for index, (chromium, pages) in enumerate(opened):
                if report is not None and report.failed:
                    for path in await pages.screenshot(f"{request.node.name}-camera{index}"):
                        print(f"screenshot: {path}")
                await pages.close()
                await chromium.close()
