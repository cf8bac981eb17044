"""The 2025 province merger (Resolution 202/2025/QH15, in force 1 July 2025) as data.

Provinces were merged whole, never split, so each of the 63 old provinces has exactly one
successor. Keys are the statistics office codes: the new province's code (the 2025 list keeps
the code of one of its predecessors) -> the codes of the old provinces merged into it.
The installed `vietnam-provinces` release carries no legacy mapping, hence this table.
"""

from __future__ import annotations

PROVINCE_MERGER_2025: dict[str, tuple[str, ...]] = {
    "01": ("01",),  # Hà Nội
    "04": ("04",),  # Cao Bằng
    "08": ("08", "02"),  # Tuyên Quang ← Tuyên Quang, Hà Giang
    "11": ("11",),  # Điện Biên
    "12": ("12",),  # Lai Châu
    "14": ("14",),  # Sơn La
    "15": ("15", "10"),  # Lào Cai ← Yên Bái, Lào Cai
    "19": ("19", "06"),  # Thái Nguyên ← Thái Nguyên, Bắc Kạn
    "20": ("20",),  # Lạng Sơn
    "22": ("22",),  # Quảng Ninh
    "24": ("24", "27"),  # Bắc Ninh ← Bắc Giang, Bắc Ninh
    "25": ("25", "26", "17"),  # Phú Thọ ← Phú Thọ, Vĩnh Phúc, Hòa Bình
    "31": ("31", "30"),  # Hải Phòng ← Hải Phòng, Hải Dương
    "33": ("33", "34"),  # Hưng Yên ← Hưng Yên, Thái Bình
    "37": ("37", "35", "36"),  # Ninh Bình ← Ninh Bình, Hà Nam, Nam Định
    "38": ("38",),  # Thanh Hóa
    "40": ("40",),  # Nghệ An
    "42": ("42",),  # Hà Tĩnh
    "44": ("45", "44"),  # Quảng Trị ← Quảng Trị, Quảng Bình
    "46": ("46",),  # Huế
    "48": ("48", "49"),  # Đà Nẵng ← Đà Nẵng, Quảng Nam
    "51": ("51", "62"),  # Quảng Ngãi ← Quảng Ngãi, Kon Tum
    "52": ("64", "52"),  # Gia Lai ← Gia Lai, Bình Định
    "56": ("56", "58"),  # Khánh Hòa ← Khánh Hòa, Ninh Thuận
    "66": ("66", "54"),  # Đắk Lắk ← Đắk Lắk, Phú Yên
    "68": ("68", "67", "60"),  # Lâm Đồng ← Lâm Đồng, Đắk Nông, Bình Thuận
    "75": ("75", "70"),  # Đồng Nai ← Đồng Nai, Bình Phước
    "79": ("79", "74", "77"),  # Hồ Chí Minh ← Hồ Chí Minh, Bình Dương, Bà Rịa–Vũng Tàu
    "80": ("72", "80"),  # Tây Ninh ← Tây Ninh, Long An
    "82": ("87", "82"),  # Đồng Tháp ← Đồng Tháp, Tiền Giang
    "86": ("86", "83", "84"),  # Vĩnh Long ← Vĩnh Long, Bến Tre, Trà Vinh
    "91": ("89", "91"),  # An Giang ← An Giang, Kiên Giang
    "92": ("92", "93", "94"),  # Cần Thơ ← Cần Thơ, Hậu Giang, Sóc Trăng
    "96": ("96", "95"),  # Cà Mau ← Cà Mau, Bạc Liêu
}
