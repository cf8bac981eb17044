"""The 12-digit personal identification number (số định danh cá nhân), DOMAIN.md §1.

    PPP G YY RRRRRR — province of birth registration, century+sex digit, year, 6 random digits.

There is no check digit: validation is structural, and agreement with the recorded sex and year.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.utils.translation import gettext as _

# The pre-2025 province codes (Circular 07/2016/TT-BCA); a fixed historical table, not renumbered
# by the 2025 merger. Codes for births registered abroad are not published, so none are listed.
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa–Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

FIRST_CENTURY = 1900
LAST_YEAR = 2399


@dataclass(frozen=True)
class PinInfo:
    pin: str
    province_code: str
    province_name: str
    sex: str  # M or F
    birth_year: int
    serial: str


class InvalidPin(ValueError):
    """Why a string is not a valid PIN, in words a clerk can act on."""


def century_sex_digit(*, sex: str, birth_year: int) -> int:
    if not FIRST_CENTURY <= birth_year <= LAST_YEAR:
        raise InvalidPin(
            _("năm sinh %(birth_year)s ngoài khoảng 1900–2399") % {"birth_year": birth_year}
        )
    return (birth_year - FIRST_CENTURY) // 100 * 2 + (1 if sex == "F" else 0)


def pin_parse(pin: str) -> PinInfo:
    """Explain a PIN, or raise InvalidPin saying precisely what is wrong."""
    if len(pin) != 12:
        raise InvalidPin(_("phải có 12 chữ số, có %(pin)s ký tự") % {"pin": len(pin)})
    if not (pin.isascii() and pin.isdigit()):
        bad = next(i for i, ch in enumerate(pin) if not (ch.isascii() and ch.isdigit()))
        raise InvalidPin(
            _("ký tự thứ %(value)s (%(value2)r) không phải chữ số")
            % {"value": bad + 1, "value2": pin[bad]}
        )
    province = pin[:3]
    if province not in PROVINCE_CODES:
        raise InvalidPin(_("mã tỉnh %(province)s không tồn tại") % {"province": province})
    digit, yy = int(pin[3]), int(pin[4:6])
    return PinInfo(
        pin=pin,
        province_code=province,
        province_name=PROVINCE_CODES[province],
        sex="F" if digit % 2 else "M",
        birth_year=FIRST_CENTURY + digit // 2 * 100 + yy,
        serial=pin[6:],
    )


def pin_prefix(*, province_code: str, sex: str, birth_year: int) -> str:
    if province_code not in PROVINCE_CODES:
        raise InvalidPin(
            _("mã tỉnh %(province_code)s không tồn tại") % {"province_code": province_code}
        )
    return (
        f"{province_code}{century_sex_digit(sex=sex, birth_year=birth_year)}{birth_year % 100:02d}"
    )


def pin_disagreements(pin: str, *, sex: str, birth_year: int) -> dict[str, str]:
    """Field errors where the PIN's sex/year digits disagree with the record; empty if they agree."""
    info = pin_parse(pin)
    errors: dict[str, str] = {}
    if info.sex != sex:
        errors["sex"] = (
            _("số định danh %(pin)s là của một người nam")
            if info.sex == "M"
            else _("số định danh %(pin)s là của một người nữ")
        ) % {"pin": pin}
    if info.birth_year != birth_year:
        errors["birth_date"] = _("số định danh %(pin)s mã hoá năm sinh %(birth_year)s") % {
            "pin": pin,
            "birth_year": info.birth_year,
        }
    return errors


def pin_random(*, province_code: str, sex: str, birth_year: int) -> str:
    """A PIN with 6 random digits; the caller makes sure it is not taken yet."""
    return (
        pin_prefix(province_code=province_code, sex=sex, birth_year=birth_year)
        + f"{secrets.randbelow(10**6):06d}"
    )


def pin_explain(pin: str) -> tuple[bool, str]:
    """For `motcua pin check`: whether the PIN is valid, and what it says or what is wrong."""
    try:
        info = pin_parse(pin)
    except InvalidPin as exc:
        return False, _("%(pin)s: không hợp lệ — %(exc)s") % {"pin": pin, "exc": exc}
    sex = _("nam") if info.sex == "M" else _("nữ")
    return True, (
        _(
            "%(pin)s: hợp lệ — nơi đăng ký khai sinh %(province_code)s "
            "%(province_name)s, %(sex)s, sinh năm %(birth_year)s"
        )
        % {
            "pin": pin,
            "province_code": info.province_code,
            "province_name": info.province_name,
            "sex": sex,
            "birth_year": info.birth_year,
        }
    )
