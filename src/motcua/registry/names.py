"""Frequency tables for synthetic Vietnamese names, ethnicities and religions (all text NFC).

Family-name shares follow the commonly quoted national figures (Nguyễn ≈ 38 %, Trần ≈ 11 %, …).
Middle and given names change with the generation: "Văn" and "Thị" dominate among people born
before 1975 and thin out after 2000, when parents pick from a wider, softer set. Lists without
explicit weights are ordered by popularity; the generator gives them Zipf-like weights.
"""

from __future__ import annotations

from typing import Literal

Era = Literal["old", "mid", "young"]  # born before 1975, 1975–1999, 2000 and later

# Percent of the population; "Hoàng/Huỳnh" and "Vũ/Võ" are the northern/southern spellings.
FAMILY_NAMES: dict[str, float] = {
    "Nguyễn": 38.4, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.0, "Hoàng": 2.6, "Huỳnh": 2.5,
    "Phan": 4.5, "Vũ": 2.0, "Võ": 1.9, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.4, "Hồ": 1.3,
    "Ngô": 1.3, "Dương": 1.0, "Lý": 0.5,
    # The tail, about 11 % together.
    "Đinh": 0.9, "Đào": 0.9, "Đoàn": 0.8, "Trương": 0.8, "Lâm": 0.6, "Mai": 0.6, "Trịnh": 0.6,
    "Cao": 0.5, "Lương": 0.5, "Hà": 0.5, "Tạ": 0.4, "Phùng": 0.4, "Lưu": 0.3, "Châu": 0.3,
    "Tô": 0.3, "Vương": 0.3, "Thái": 0.2, "Quách": 0.2, "Kiều": 0.15, "La": 0.15, "Tăng": 0.1,
    "Triệu": 0.1, "Chu": 0.1, "Giang": 0.1, "Đàm": 0.1, "Thân": 0.08, "Nghiêm": 0.08,
    "Mạc": 0.06, "Khúc": 0.05, "Hứa": 0.05, "Tôn": 0.05, "Từ": 0.05, "Lạc": 0.03,
}  # fmt: skip

# Communities whose family names differ from the Kinh pattern.
FAMILY_NAMES_BY_ETHNICITY: dict[str, dict[str, float]] = {
    "Khmer": {"Thạch": 30, "Danh": 25, "Sơn": 15, "Kim": 10, "Lâm": 10, "Châu": 5, "Lý": 5},
    "H'Mông": {"Giàng": 25, "Vàng": 20, "Sùng": 15, "Lý": 10, "Thào": 10, "Mùa": 10, "Hầu": 10},
    "Hoa": {
        "Lâm": 20,
        "Trần": 15,
        "Lý": 15,
        "Quách": 10,
        "Trương": 10,
        "Lưu": 10,
        "Hứa": 10,
        "Mã": 10,
    },
}

MIDDLE_NAMES: dict[tuple[str, Era], dict[str, float]] = {
    ("M", "old"): {
        "Văn": 58, "Hữu": 6, "Đức": 5, "Minh": 4, "Công": 4, "Quang": 3, "Xuân": 3, "Thanh": 3,
        "Ngọc": 2, "Đình": 2, "Bá": 2, "Trọng": 2, "Quốc": 2, "Thế": 1, "Tiến": 1, "Duy": 1,
    },
    ("M", "mid"): {
        "Văn": 32, "Minh": 8, "Đức": 7, "Hữu": 5, "Quốc": 5, "Thanh": 5, "Công": 4, "Hoàng": 4,
        "Anh": 3, "Tuấn": 3, "Quang": 3, "Ngọc": 3, "Trọng": 2, "Duy": 2, "Thành": 2, "Trung": 2,
        "Xuân": 2, "Đình": 2, "Hải": 1, "Tấn": 2,
    },
    ("M", "young"): {
        "Minh": 12, "Văn": 10, "Gia": 9, "Đức": 6, "Quốc": 6, "Hoàng": 5, "Anh": 5, "Bảo": 5,
        "Tuấn": 4, "Nhật": 4, "Đăng": 4, "Thành": 3, "Trung": 3, "Khánh": 3, "Hữu": 3, "Phúc": 3,
        "Thiện": 2, "Duy": 2, "Hải": 2, "Tấn": 2, "Trọng": 2, "Quang": 2, "Thanh": 1, "Việt": 2,
    },
    ("F", "old"): {
        "Thị": 72, "Ngọc": 4, "Thu": 3, "Kim": 3, "Thanh": 3, "Hồng": 2, "Bích": 2, "Xuân": 2,
        "Thị Ngọc": 2, "Thị Kim": 2, "Thị Thu": 2, "Thị Hồng": 1, "Thị Thanh": 2,
    },
    ("F", "mid"): {
        "Thị": 45, "Ngọc": 7, "Thu": 5, "Thanh": 5, "Kim": 4, "Thị Thanh": 4, "Thị Ngọc": 4,
        "Thị Thu": 3, "Hồng": 3, "Minh": 3, "Mỹ": 3, "Thị Kim": 2, "Thị Mỹ": 2, "Bích": 2,
        "Thùy": 2, "Phương": 2, "Hoài": 2, "Diệu": 1, "Thị Bích": 1,
    },
    ("F", "young"): {
        "Ngọc": 11, "Thị": 10, "Minh": 7, "Bảo": 6, "Khánh": 6, "Thu": 5, "Phương": 5,
        "Thảo": 4, "Gia": 4, "Hà": 3, "Mai": 3, "Thùy": 3, "Quỳnh": 3, "Hoài": 3, "Kim": 3,
        "Thanh": 3, "Diệu": 3, "Tường": 2, "Yến": 2, "Mỹ": 3, "Thị Ngọc": 2, "Thị Thanh": 2,
        "Hồng": 2, "Ngọc Bảo": 1, "Bảo Ngọc": 1,
    },
}  # fmt: skip

# Given names by popularity; an era list adds names typical of that generation to the common set.
GIVEN_NAMES_COMMON: dict[str, list[str]] = {
    "M": [
        "Minh", "Hùng", "Dũng", "Tuấn", "Hải", "Nam", "Long", "Sơn", "Thành", "Hoàng", "Quang",
        "Huy", "Tùng", "Cường", "Thắng", "Trung", "Hưng", "Phong", "Đức", "Tâm", "Thanh", "Bình",
        "Hiếu", "Khánh", "Vinh", "Anh", "Tú", "Quân", "Lâm", "Phúc", "Tài", "Thịnh", "Hòa",
        "Toàn", "Đạt", "Tiến", "Việt", "Lộc", "Tân", "Nghĩa", "Phát", "Trí", "Duy", "Hiệp",
        "Khoa", "Kiên", "Công", "Thái", "Hậu", "Nhân", "Lợi", "Thông", "Hạnh", "Thiện", "Trọng",
        "Luân", "Mạnh", "Định", "Chiến", "Quý", "Vũ", "Thuận", "Phương", "Quyết", "Hào", "Sang",
        "Tín", "Hiển", "Điền", "Đông", "Giang", "Hiền", "Lực", "Ngọc", "Nhật", "Phú", "Phước",
        "Quốc", "Sỹ", "Tạo", "Thạch", "Thọ", "Thuấn", "Tường", "Vương", "Xuân", "Khải", "Khiêm",
        "Hoan", "Hợp", "Kha", "Bằng", "Cảnh", "Chính", "Châu", "Danh", "Doanh", "Đại", "Đăng",
        "Đoàn", "Hà", "Hân", "Hoạt", "Huấn", "Hướng", "Kháng", "Khương", "Lai", "Lãm",
        "Linh", "Lượng", "Ninh", "Pháp", "Quyền", "Sinh", "Tấn", "Thân", "Thiên", "Thuật", "Trường",
        "Tuệ", "Văn", "Viễn", "Vỹ", "Yên",
    ],
    "F": [
        "Linh", "Hương", "Trang", "Hà", "Lan", "Anh", "Thảo", "Hằng", "Ngọc", "Huyền", "Phương",
        "Nga", "Mai", "Thủy", "Hạnh", "Hoa", "Dung", "Yến", "Hiền", "Nhung", "Loan", "Hồng",
        "Oanh", "Thúy", "Vân", "Tuyết", "Liên", "Duyên", "Giang", "Thu", "Trinh", "Quỳnh", "Ly",
        "Trâm", "Nhi", "Hậu", "Diễm", "Bích", "Châu", "Hoài", "Kiều", "Lệ", "Ánh", "Xuân",
        "Nguyệt", "Thơ", "Uyên", "My", "Ngân", "Vy", "Tâm", "Thanh", "Nhàn", "Hải", "Huệ",
        "Phượng", "Quyên", "Sương", "Thắm", "Thư", "Tiên", "Trúc", "Chi", "Diệp", "Đào", "Hường",
        "Khuyên", "Lam", "Liễu", "Lụa", "Mơ", "Nương", "Phúc", "Sen", "Thoa", "Thùy",
        "Tình", "Trà", "Vui", "Xoan", "Yên", "Bình", "Cúc", "Gấm", "Hạ", "Hân", "Hiên",
        "Hòa", "Kim", "Lành", "Lài", "Mận", "Minh", "Na", "Nhạn", "Nhiên", "Nhị", "Nữ", "Tươi",
        "Thương", "Tú", "Vi",
    ],
}  # fmt: skip

GIVEN_NAMES_BY_ERA: dict[tuple[str, Era], list[str]] = {
    ("M", "old"): [
        "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Út", "Lành", "Mão", "Thìn", "Tý",
        "Sửu", "Dần", "Tỵ", "Ngọ", "Thân", "Dậu", "Tuất", "Hợi", "Khoát", "Lạng", "Nhẫn", "Bào",
        "Cừ", "Hách", "Khang", "Lục", "Quế", "Tấc", "Tuyển", "Vịnh",
    ],
    ("M", "mid"): ["Khang", "Khoa", "Huân", "Tuyên", "Nguyên", "Thiện", "Tiến", "Triều", "Vĩnh", "Bảo"],
    ("M", "young"): [
        "Khang", "Khôi", "Bảo", "Phúc", "Kiệt", "Nguyên", "An", "Khải", "Thiện", "Vinh", "Quân",
        "Lâm", "Đăng", "Hiếu", "Tín", "Nhân", "Phong", "Huy", "Duy", "Tuệ", "Hưng", "Trí", "Nhật",
        "Thịnh", "Hào", "Kiên", "Đạt", "Tùng", "Vũ", "Sơn", "Khoa", "Luân", "Hải", "Hoàng",
        "Trường", "Khiêm", "Thắng", "Hậu", "Minh", "Long",
    ],
    ("F", "old"): [
        "Tư", "Năm", "Sáu", "Bảy", "Tám", "Út", "Lụa", "Nụ", "Tươi", "Mận", "Cúc", "Lài", "Sen",
        "Gấm", "Thoa", "Mến", "Hến", "Nhài", "Sợi", "Chanh", "Bưởi", "Hoa", "Huê", "Lựu", "Mùi",
        "Tấm", "Thìn", "Vân",
    ],
    ("F", "mid"): ["Nhung", "Diệu", "Hậu", "Phượng", "Thúy", "Thắm", "Hường", "Tuyền", "Xuyến"],
    ("F", "young"): [
        "Anh", "Ngân", "Chi", "Nhi", "Vy", "My", "Hân", "Thư", "Trâm", "An", "Linh", "Ngọc",
        "Khánh", "Như", "Quỳnh", "Tiên", "Uyên", "Hà", "Trang", "Diệp", "Thảo", "Nguyên", "Thy",
        "Đan", "Giao", "Ly", "Mẫn", "Nhiên", "Phương", "Tâm", "Tú", "Vân", "Yên", "Hạ", "Khuê",
        "Minh", "Châu", "Di", "Lam", "Kim",
    ],
}  # fmt: skip

# Percent of the population by the 2019 census, rounded; "Khác" groups the many small peoples.
ETHNICITIES: dict[str, float] = {
    "Kinh": 85.3, "Tày": 1.9, "Thái": 1.9, "Mường": 1.5, "H'Mông": 1.5, "Khmer": 1.4,
    "Nùng": 1.1, "Dao": 0.9, "Hoa": 0.8, "Gia Rai": 0.5, "Ê Đê": 0.4, "Ba Na": 0.3,
    "Sán Chay": 0.2, "Chăm": 0.2, "Cơ Ho": 0.2, "Xơ Đăng": 0.2, "Sán Dìu": 0.2, "Hrê": 0.15,
    "Ra Glai": 0.15, "Mnông": 0.1, "Thổ": 0.1, "Stiêng": 0.1, "Khơ Mú": 0.1,
}  # fmt: skip

# Registered followers by the 2019 census, rounded; most people declare no religion.
RELIGIONS: dict[str, float] = {
    "Không": 86.3, "Công giáo": 6.1, "Phật giáo": 4.8, "Phật giáo Hòa Hảo": 1.0,
    "Tin Lành": 1.0, "Cao Đài": 0.6, "Hồi giáo": 0.1, "Tịnh độ cư sĩ Phật hội Việt Nam": 0.1,
}  # fmt: skip

# Street names for urban addresses: the national heroes and events every town names a street after.
STREETS: list[str] = [
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
    "Nguyễn Trãi", "Lê Duẩn", "Hùng Vương", "Điện Biên Phủ", "Nguyễn Du", "Phan Chu Trinh",
    "Phan Bội Châu", "Lê Lai", "Nguyễn Thị Minh Khai", "Võ Thị Sáu", "Trần Phú", "Lê Hồng Phong",
    "Nguyễn Văn Cừ", "Cách Mạng Tháng Tám", "30 Tháng 4", "Ngô Quyền", "Đinh Tiên Hoàng",
    "Lý Tự Trọng", "Nguyễn Đình Chiểu", "Tôn Đức Thắng", "Phạm Văn Đồng", "Võ Văn Kiệt",
    "Nguyễn Thái Học", "Bà Triệu", "Lê Thánh Tông", "Trần Quốc Toản", "Hoàng Diệu",
    "Nguyễn Chí Thanh", "Phạm Ngũ Lão", "Chu Văn An", "Nguyễn Văn Linh", "Mạc Đĩnh Chi",
    "Tô Hiến Thành", "Nguyễn Sinh Sắc",
]  # fmt: skip
