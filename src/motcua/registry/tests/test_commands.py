"""`motcua pin check` through the real console command: output and exit codes."""

from __future__ import annotations

import subprocess
import sys


def _pin_check(*pins: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua.cli", "pin", "check", *pins],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_valid_pin_is_explained() -> None:
    result = _pin_check("087084000999")
    assert result.returncode == 0
    assert (
        "087 Đồng Tháp" in result.stdout
        and "sinh năm 1984" in result.stdout
        and "nam" in result.stdout
    )


def test_an_invalid_pin_says_why_and_fails() -> None:
    result = _pin_check("087084000999", "08708400099A")
    assert result.returncode != 0
    assert "ký tự thứ 12" in result.stdout
    assert "1 số định danh không hợp lệ" in result.stderr
