"""The reference conference of SCENARIO.md as a conference file (generated, deterministic).

The people are invented: names are drawn with a fixed seed from common Vietnamese
family, middle and given names. `python -m cli.demo_data` prints the file as
YAML (docs/examples/reference-conference.yaml is that output).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import NotRequired

from typing_extensions import TypedDict

from awards.codes import ALPHABET as CODE_ALPHABET
from conference.text import fold

TITLE = "Hội nghị toàn quốc Văn phòng cấp ủy năm 2026"
DAY = "2026-12-15"
ZONE_OFFSET = "+07:00"  # Asia/Ho_Chi_Minh has no daylight saving time
CENTRAL_OFFICE = "Văn phòng Trung ương Đảng"
SEED = 2026
# How the reference conference's minutes are headed and signed (docs/minutes.md).
MINUTES_BOOK = {
    "issuing_body": "BAN CHẤP HÀNH TRUNG ƯƠNG\nVĂN PHÒNG TRUNG ƯƠNG ĐẢNG",
    "document_number": "Số: 01-BB/VPTW",
    "heading": "ĐẢNG CỘNG SẢN VIỆT NAM",
    "place": "Hà Nội",
}


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    region: str
    city: bool  # a centrally governed city has a Thành ủy, a province a Tỉnh ủy

    @property
    def committee(self) -> str:
        return f"{'Thành ủy' if self.city else 'Tỉnh ủy'} {self.name}"

    @property
    def office(self) -> str:
        return f"Văn phòng {self.committee}"


# The 34 provincial-level units after the 2025 reorganisation, in SCENARIO.md's order.
PROVINCES = (
    Province("HNI", "Hà Nội", "Miền Bắc", True),
    Province("HUE", "Huế", "Miền Trung", True),
    Province("HPG", "Hải Phòng", "Miền Bắc", True),
    Province("DNG", "Đà Nẵng", "Miền Trung", True),
    Province("HCM", "TP. Hồ Chí Minh", "Miền Nam", True),
    Province("CTO", "Cần Thơ", "Miền Nam", True),
    Province("LCU", "Lai Châu", "Miền Bắc", False),
    Province("DBN", "Điện Biên", "Miền Bắc", False),
    Province("SLA", "Sơn La", "Miền Bắc", False),
    Province("LSN", "Lạng Sơn", "Miền Bắc", False),
    Province("QNH", "Quảng Ninh", "Miền Bắc", False),
    Province("THA", "Thanh Hóa", "Miền Trung", False),
    Province("NAN", "Nghệ An", "Miền Trung", False),
    Province("HTH", "Hà Tĩnh", "Miền Trung", False),
    Province("CBG", "Cao Bằng", "Miền Bắc", False),
    Province("TQG", "Tuyên Quang", "Miền Bắc", False),
    Province("LCI", "Lào Cai", "Miền Bắc", False),
    Province("TNN", "Thái Nguyên", "Miền Bắc", False),
    Province("PTO", "Phú Thọ", "Miền Bắc", False),
    Province("BNH", "Bắc Ninh", "Miền Bắc", False),
    Province("HYN", "Hưng Yên", "Miền Bắc", False),
    Province("NBH", "Ninh Bình", "Miền Bắc", False),
    Province("QTI", "Quảng Trị", "Miền Trung", False),
    Province("QNI", "Quảng Ngãi", "Miền Trung", False),
    Province("GLI", "Gia Lai", "Miền Trung", False),
    Province("KHA", "Khánh Hòa", "Miền Trung", False),
    Province("LDG", "Lâm Đồng", "Miền Trung", False),
    Province("DLK", "Đắk Lắk", "Miền Trung", False),
    Province("DNI", "Đồng Nai", "Miền Nam", False),
    Province("TNH", "Tây Ninh", "Miền Nam", False),
    Province("VLG", "Vĩnh Long", "Miền Nam", False),
    Province("DTP", "Đồng Tháp", "Miền Nam", False),
    Province("CMU", "Cà Mau", "Miền Nam", False),
    Province("AGG", "An Giang", "Miền Nam", False),
)
BY_CODE = {p.code: p for p in PROVINCES}

FAMILY = (
    ("Nguyễn", 30),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 3),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 3),
    ("Đặng", 3),
    ("Bùi", 3),
    ("Đỗ", 3),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 2),
    ("Lý", 1),
    ("Đinh", 1),
    ("Trịnh", 1),
    ("Đoàn", 1),
    ("Lương", 1),
    ("Mai", 1),
    ("Tạ", 1),
    ("Cao", 1),
    ("Lâm", 1),
    ("Hà", 1),
)
MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Xuân", "Đình", "Quang")
MIDDLE_FEMALE = ("Thị", "Thu", "Ngọc", "Thanh", "Minh", "Thùy", "Hồng", "Phương", "Kim")
GIVEN_MALE = (
    "Anh", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long",
    "Nam", "Phong", "Quân", "Sơn", "Thắng", "Thành", "Trung", "Tuấn", "Việt", "Vinh",
    "Hoàng", "Tùng", "Đông", "Toàn", "Kiên", "Lộc", "Nghĩa", "Phúc", "Thịnh",
)  # fmt: skip
GIVEN_FEMALE = (
    "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Loan", "Mai", "Nga", "Ngân",
    "Nhung", "Oanh", "Phượng", "Quyên", "Thảo", "Trang", "Tuyết", "Vân", "Yến", "Diệp",
    "Giang", "Huyền", "Liên", "Thúy", "Dung",
)  # fmt: skip

# The eight registered speeches (tham luận): site and subject.
SPEECHES = (
    ("HNI", "Đổi mới phương thức tham mưu, phục vụ cấp ủy sau khi sắp xếp tổ chức bộ máy"),
    ("HCM", "Chuyển đổi số trong công tác văn phòng cấp ủy ở đô thị đặc biệt"),
    ("LCI", "Bảo đảm thông tin thông suốt tới các điểm cầu xã vùng cao, biên giới"),
    ("QNH", "Phối hợp giữa văn phòng cấp ủy với văn phòng chính quyền sau hợp nhất"),
    ("NAN", "Nâng cao chất lượng thẩm định văn bản trình Ban Thường vụ"),
    ("DNG", "Xây dựng đội ngũ cán bộ văn phòng chuyên nghiệp, tận tụy"),
    ("GLI", "Công tác văn thư, lưu trữ khi hợp nhất hai tỉnh"),
    ("DTP", "Tổ chức hội nghị trực tuyến tới 100% đảng ủy xã"),
)
FLAGS = ("HNI", "HPG", "QNH", "LCI", "DTP")
MERIT_UNITS = ("HUE", "DNG", "HCM", "CTO", "THA", "NAN", "GLI", "KHA", "CMU")
MERIT_PEOPLE = ("HNI", "HCM", "LCU", "DBN", "NAN", "QTI", "LDG", "AGG")


class Names:
    """Draws invented names, never the same one twice in one conference."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.families = [f for f, _ in FAMILY]
        self.weights = [w for _, w in FAMILY]

    def person(self) -> str:
        while True:
            family = self.rng.choices(self.families, self.weights)[0]
            if self.rng.random() < 0.6:
                middle, given = self.rng.choice(MIDDLE_MALE), self.rng.choice(GIVEN_MALE)
            else:
                middle, given = self.rng.choice(MIDDLE_FEMALE), self.rng.choice(GIVEN_FEMALE)
            name = f"{family} {middle} {given}"
            if fold(name) not in self.used:
                self.used.add(fold(name))
                return name


# The rows of the file, as conference_file reads them.


class Person(TypedDict):
    """A delegate; site: the site's code; category: official, alternate, guest or staff."""

    name: str
    title: str
    unit: str
    site: str
    category: str


class SiteRow(TypedDict):
    code: str
    name: str
    region: str
    kind: str
    expected_attendance: int
    contact_name: str
    contact_email: str


class AgendaEntry(TypedDict):
    """An item (a break has no presenter or site; a session has items, no presenter)."""

    title: str
    kind: str
    planned_start: str
    duration_minutes: int
    presenter: NotRequired[str]
    site: NotRequired[str]
    items: NotRequired[list[AgendaEntry]]


class Recipient(TypedDict):
    """A unit or a person (title and unit for a person); code: the printed code."""

    recipient_kind: str
    name: str
    title: NotRequired[str]
    unit: NotRequired[str]
    site: str
    citation: str
    code: NotRequired[str]


class DecisionRow(TypedDict):
    number: str
    issued_on: str
    issuing_body: str
    signer_name: str
    signer_title: str
    award_kind: str
    title: str
    awards: list[Recipient]


class ReferenceFile(TypedDict):
    """The file; plenary: its format's version."""

    plenary: int
    # Its fields as conference.schemas.ConferenceCreate reads them: texts and two flags.
    conference: dict[str, str | bool]
    sites: list[SiteRow]
    agenda: list[AgendaEntry]
    delegates: list[Person]
    decisions: list[DecisionRow]
    award_documents: dict[str, str]


def _at(clock: str) -> str:
    return f"{DAY}T{clock}:00{ZONE_OFFSET}"


def _delegate(name: str, title: str, unit: str, site: str, category: str) -> Person:
    return {"name": name, "title": title, "unit": unit, "site": site, "category": category}


def main_site_delegates(names: Names) -> list[Person]:
    """About thirty at the main hall: the office's leaders, its departments, guests."""
    office = CENTRAL_OFFICE
    people = [
        _delegate(names.person(), "Chánh Văn phòng Trung ương Đảng", office, "TW", "official"),
        _delegate(
            names.person(), "Ủy viên Bộ Chính trị", "Ban Chấp hành Trung ương Đảng", "TW", "guest"
        ),
    ]
    people += [
        _delegate(names.person(), "Phó Chánh Văn phòng Trung ương Đảng", office, "TW", "official")
        for _ in range(4)
    ]
    guests = (
        ("Phó Trưởng Ban", "Ban Tổ chức Trung ương"),
        ("Phó Trưởng Ban", "Ban Tuyên giáo và Dân vận Trung ương"),
        ("Phó Chủ nhiệm", "Ủy ban Kiểm tra Trung ương"),
        ("Phó Chủ nhiệm", "Văn phòng Quốc hội"),
        ("Phó Chủ nhiệm", "Văn phòng Chính phủ"),
        ("Phó Chủ nhiệm", "Văn phòng Chủ tịch nước"),
        ("Phó Chánh Văn phòng", "Đảng ủy các cơ quan Đảng Trung ương"),
        ("Phó Trưởng Ban", "Ban Thi đua - Khen thưởng Trung ương"),
    )
    for post, body in guests:
        # "Phó Trưởng Ban Tổ chức Trung ương": the post names its body without repeating "Ban".
        title = f"{post} {body.removeprefix('Ban ')}" if post.endswith("Ban") else f"{post} {body}"
        people.append(_delegate(names.person(), title, body, "TW", "guest"))
    departments = (
        "Vụ Tổng hợp",
        "Vụ Hành chính - Lưu trữ",
        "Vụ Thi đua - Khen thưởng",
        "Vụ Tài chính - Kế toán",
        "Cục Quản trị",
        "Trung tâm Công nghệ thông tin",
    )
    for department in departments:
        head = (
            "Giám đốc" if department.startswith("Trung tâm") else department.split()[0] + " trưởng"
        )
        unit = f"{department}, {office}"
        people.append(_delegate(names.person(), f"{head} {department}", unit, "TW", "official"))
        people.append(
            _delegate(names.person(), f"Phó {head} {department}", unit, "TW", "alternate")
        )
    secretariat, technicians = f"Vụ Tổng hợp, {office}", f"Trung tâm Công nghệ thông tin, {office}"
    for _ in range(3):
        title = "Chuyên viên, Thư ký hội nghị"
        people.append(_delegate(names.person(), title, secretariat, "TW", "staff"))
    title = "Kỹ thuật viên điểm cầu"
    people.append(_delegate(names.person(), title, technicians, "TW", "staff"))
    return people


def site_delegates(names: Names, rng: random.Random, province: Province) -> list[Person]:
    """Fifteen to twenty-five at a provincial site: committee leaders and office staff."""
    committee, office, code = province.committee, province.office, province.code
    people = [
        _delegate(names.person(), f"Phó Bí thư {committee}", committee, code, "official"),
        _delegate(
            names.person(),
            f"Ủy viên Ban Thường vụ, Chánh Văn phòng {committee}",
            office,
            code,
            "official",
        ),
    ]
    people += [
        _delegate(names.person(), f"Phó Chánh Văn phòng {committee}", office, code, "official")
        for _ in range(rng.randint(2, 3))
    ]
    for department in ("Tổng hợp", "Hành chính - Lưu trữ", "Quản trị - Tài vụ"):
        title = f"Trưởng phòng {department}"
        people.append(_delegate(names.person(), title, office, code, "official"))
        people.append(_delegate(names.person(), f"Phó {title}", office, code, "alternate"))
    total = rng.randint(15, 25)
    while len(people) < total - 1:
        people.append(_delegate(names.person(), "Chuyên viên", office, code, "official"))
    people.append(_delegate(names.person(), "Kỹ thuật viên điểm cầu", office, code, "staff"))
    return people


def _site(code: str, name: str, region: str, kind: str, people: list[Person]) -> SiteRow:
    contact = next(p for p in people if "Chánh Văn phòng" in p["title"])
    return {
        "code": code,
        "name": name,
        "region": region,
        "kind": kind,
        "expected_attendance": len(people),
        "contact_name": contact["name"],
        "contact_email": f"diemcau.{code.lower()}@example.org",
    }


def _speaker(delegates: list[Person], code: str, title_part: str) -> str:
    person = next(d for d in delegates if d["site"] == code and title_part in d["title"])
    return f"{person['name']}, {person['title']}"


def agenda(delegates: list[Person]) -> list[AgendaEntry]:
    """The programme of the day, with the eight speeches inside their session."""
    chair = _speaker(delegates, "TW", "Chánh Văn phòng Trung ương")
    deputy = _speaker(delegates, "TW", "Phó Chánh Văn phòng Trung ương")
    senior = _speaker(delegates, "TW", "Ủy viên Bộ Chính trị")

    def item(clock: str, minutes: int, kind: str, title: str, by: str, site: str) -> AgendaEntry:
        return {
            "title": title,
            "kind": kind,
            "planned_start": _at(clock),
            "duration_minutes": minutes,
            "presenter": by,
            "site": site,
        }

    speeches = []
    for n, (code, subject) in enumerate(SPEECHES):
        minute = 50 + 10 * n
        clock = f"{8 + minute // 60:02d}:{minute % 60:02d}"
        by = _speaker(delegates, code, "Chánh Văn phòng")
        place = BY_CODE[code].name
        speeches.append(item(clock, 10, "speech", f"Tham luận của {place}: {subject}", by, code))
    session: AgendaEntry = {
        "title": "Tham luận của các điểm cầu",
        "kind": "session",
        "planned_start": _at("08:50"),
        "duration_minutes": 80,
        "site": "TW",
        "items": speeches,
    }
    return [
        item("08:00", 10, "other", "Chào cờ; tuyên bố lý do, giới thiệu đại biểu", deputy, "TW"),
        item("08:10", 10, "opening", "Phát biểu khai mạc Hội nghị", chair, "TW"),
        item(
            "08:20",
            30,
            "report",
            "Báo cáo tổng kết công tác văn phòng cấp ủy từ Hội nghị lần trước; "
            "phương hướng, nhiệm vụ thời gian tới",
            deputy,
            "TW",
        ),
        session,
        {
            "title": "Giải lao",
            "kind": "break",
            "planned_start": _at("10:10"),
            "duration_minutes": 15,
        },
        item("10:25", 20, "discussion", "Giải trình kiến nghị của các điểm cầu", deputy, "TW"),
        item("10:45", 25, "directive_speech", "Phát biểu chỉ đạo", senior, "TW"),
        item("11:10", 20, "awards", "Trao Cờ thi đua, Bằng khen", chair, "TW"),
        item(
            "11:30",
            10,
            "campaign_launch",
            "Phát động phong trào thi đua yêu nước hướng tới Đại hội đại biểu toàn quốc "
            "lần thứ XV của Đảng",
            deputy,
            "TW",
        ),
        item("11:40", 10, "closing", "Phát biểu bế mạc Hội nghị", chair, "TW"),
    ]


def decisions(delegates: list[Person]) -> list[DecisionRow]:
    """The emulation flags and certificates of merit, each on a numbered decision."""
    chair = next(d for d in delegates if d["title"] == "Chánh Văn phòng Trung ương Đảng")

    def decision(number: str, kind: str, title: str, awards: list[Recipient]) -> DecisionRow:
        return {
            "number": number,
            "issued_on": "2026-12-01",
            "issuing_body": CENTRAL_OFFICE,
            "signer_name": chair["name"],
            "signer_title": "Chánh Văn phòng Trung ương Đảng",
            "award_kind": kind,
            "title": title,
            "awards": awards,
        }

    def unit(code: str, citation: str) -> Recipient:
        office = BY_CODE[code].office
        return {"recipient_kind": "unit", "name": office, "site": code, "citation": citation}

    flag_reason = (
        "Đã hoàn thành xuất sắc, toàn diện nhiệm vụ công tác văn phòng cấp ủy, "
        "dẫn đầu phong trào thi đua năm 2026"
    )
    merit_reason = "Đã có thành tích xuất sắc trong công tác tham mưu, phục vụ cấp ủy năm 2026"
    people: list[Recipient] = []
    for code in MERIT_PEOPLE:
        person = next(d for d in delegates if d["site"] == code and "Phó Chánh" in d["title"])
        people.append(
            {
                "recipient_kind": "person",
                "name": person["name"],
                "title": person["title"],
                "unit": person["unit"],
                "site": code,
                "citation": merit_reason,
            }
        )
    # Printed codes kept in the file (a conference moved to another server keeps them);
    # a generator of their own, so that the names drawn above stay the same.
    codes = random.Random(SEED + 1)
    found = [
        decision(
            "1268-QĐ/VPTW",
            "emulation_flag",
            "Quyết định tặng Cờ thi đua của Văn phòng Trung ương Đảng năm 2026",
            [unit(code, flag_reason) for code in FLAGS],
        ),
        decision(
            "1269-QĐ/VPTW",
            "certificate_of_merit",
            "Quyết định tặng Bằng khen của Chánh Văn phòng Trung ương Đảng cho các tập thể",
            [unit(code, merit_reason) for code in MERIT_UNITS],
        ),
        decision(
            "1270-QĐ/VPTW",
            "certificate_of_merit",
            "Quyết định tặng Bằng khen của Chánh Văn phòng Trung ương Đảng cho các cá nhân",
            people,
        ),
    ]
    for entry in found:
        for award in entry["awards"]:
            raw = "".join(codes.choice(CODE_ALPHABET) for _ in range(12))
            award["code"] = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    return found


def reference_document() -> ReferenceFile:
    """The reference conference file, in the form an export writes it."""
    rng = random.Random(SEED)
    names = Names(rng)
    main = main_site_delegates(names)
    by_site = {p.code: site_delegates(names, rng, p) for p in PROVINCES}
    sites = [_site("TW", "Hội trường Văn phòng Trung ương Đảng, Hà Nội", "Miền Bắc", "main", main)]
    sites += [_site(p.code, p.name, p.region, "remote", by_site[p.code]) for p in PROVINCES]
    delegates = main + [d for p in PROVINCES for d in by_site[p.code]]
    return {
        "plenary": 1,
        "conference": {
            "title": TITLE,
            "starts_on": DAY,
            "ends_on": DAY,
            "timezone": "Asia/Ho_Chi_Minh",
            "venue": "Hội trường Văn phòng Trung ương Đảng, Hà Nội, và 34 điểm cầu tỉnh, thành phố",
            "description": "Hội nghị trực tuyến toàn quốc tổng kết công tác văn phòng cấp ủy, "
            "tổ chức hai lần trong mỗi nhiệm kỳ. Dữ liệu minh họa: mọi họ tên đều là hư cấu.",
            "organizing_body": CENTRAL_OFFICE,
            "public": False,
            "cross_site_checkin": False,
        },
        "sites": sites,
        "agenda": agenda(delegates),
        "delegates": delegates,
        "decisions": decisions(delegates),
        "award_documents": {"place": "Hà Nội", "heading": "Đảng Cộng sản Việt Nam"},
    }


if __name__ == "__main__":  # pragma: no cover
    from conference_file.exporting import dump

    sys.stdout.write(dump(dict(reference_document()), "yaml"))
