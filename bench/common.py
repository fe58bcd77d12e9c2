"""What the benchmarks share: the project on the import path, a free port, the `plenary`
command run to completion, sample Vietnamese names and the closing report.

Importing it puts the project's root on ``sys.path``, so that a script run as
``python bench/<script>.py`` can import the packages after it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLE = ("Thị", "Văn", "Quốc", "Ngọc", "Thanh", "Hữu", "Minh", "Thùy")
GIVEN = ("Hằng", "Việt", "Ẩn", "Dũng", "Hương", "Quý", "Phượng", "Tuấn", "Yến", "Đức")
TITLES = ("Chánh Văn phòng", "Phó Chánh Văn phòng", "Chuyên viên", "Trưởng phòng Tổng hợp")


def sample_name(k: int) -> str:
    """The k-th of 800 full names, with the stacked diacritics documents must print."""
    return f"{SURNAMES[k % 10]} {MIDDLE[k // 10 % 8]} {GIVEN[k // 80 % 10]}"


def sample_title(k: int) -> str:
    """The k-th person's post."""
    return TITLES[k % len(TITLES)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plenary(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def report(figures: dict[str, Any], *lines: str) -> None:
    """Print the summary lines, then the figures as the one JSON object of the last line."""
    for line in lines:
        print(line)
    print(json.dumps(figures))
