"""Direct identifiers (HIPAA Safe Harbor's 18 categories, plus Korean ones) found by name and content.

A flag is a proposal: the user drops the column, keeps it with a reason, or pseudonymises it
before the dataset can be used. Names are matched as whole tokens (``tel`` must not match
``hotel``) in English and as substrings in Korean; content is matched on a sample of values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["IdentifierFlag", "PHI_CATEGORIES", "detect_identifiers"]

PHI_CATEGORIES: tuple[str, ...] = (
    "name",
    "geographic",
    "date",
    "phone",
    "fax",
    "email",
    "ssn",
    "medical_record_number",
    "health_plan_number",
    "account_number",
    "license_number",
    "vehicle_id",
    "device_id",
    "url",
    "ip_address",
    "biometric",
    "photo",
    "other_unique_id",
    "korean_rrn",
)


@dataclass(frozen=True)
class IdentifierFlag:
    """One column that looks like a direct identifier.

    ``evidence`` is ``"name"`` (the header says so) or ``"content"`` (the values look like it);
    ``detail`` holds what matched (a name fragment, or the share of sampled values and pattern).
    """

    column: str
    category: str
    evidence: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "category": self.category, "evidence": self.evidence, "detail": dict(self.detail)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentifierFlag:
        return cls(data["column"], data["category"], data["evidence"], dict(data.get("detail", {})))


# (category, English token sequences, Korean substrings). Token sequences match consecutive tokens.
_NAME_RULES: tuple[tuple[str, tuple[tuple[str, ...], ...], tuple[str, ...]], ...] = (
    ("korean_rrn", (("rrn",), ("jumin",), ("resident", "registration"), ("resident", "number")), ("주민등록번호", "주민번호", "주민등록")),
    ("ssn", (("ssn",), ("social", "security")), ()),
    (
        "medical_record_number",
        (("mrn",), ("medical", "record"), ("chart", "number"), ("chart", "no"), ("patient", "id"), ("patientid",),
         ("patient", "nbr"), ("patient", "number"), ("patient", "no"), ("hospital", "number"), ("pid",), ("unit", "number")),
        ("환자번호", "등록번호", "병록번호", "차트번호", "진료번호", "환자id", "환자아이디"),
    ),
    ("health_plan_number", (("insurance", "number"), ("insurance", "id"), ("policy", "number"), ("member", "id"), ("beneficiary",), ("subscriber", "id")), ("보험번호", "보험증번호", "가입자번호")),
    ("account_number", (("account",), ("acct",), ("billing", "number"), ("invoice",)), ("계좌", "청구번호")),
    ("license_number", (("license",), ("licence",), ("certificate", "number")), ("면허번호", "자격번호")),
    ("vehicle_id", (("vehicle",), ("vin",), ("plate", "number"), ("license", "plate")), ("차량번호",)),
    ("device_id", (("device", "id"), ("serial", "number"), ("serial",), ("udi",), ("imei",), ("mac", "address")), ("기기번호", "시리얼")),
    ("email", (("email",), ("e", "mail"), ("mail", "address")), ("이메일", "전자우편")),
    ("fax", (("fax",),), ("팩스",)),
    ("phone", (("phone",), ("tel",), ("telephone",), ("mobile",), ("cellphone",), ("cell", "phone"), ("contact", "number")), ("전화", "휴대폰", "핸드폰", "연락처")),
    ("url", (("url",), ("website",), ("homepage",), ("web", "address")), ("홈페이지",)),
    ("ip_address", (("ip", "address"), ("ipaddress",), ("ip", "addr")), ("아이피",)),
    ("biometric", (("fingerprint",), ("voiceprint",), ("retina",), ("iris", "scan")), ("지문", "홍채")),
    ("photo", (("photo",), ("photograph",), ("face", "image"), ("picture",)), ("사진",)),
    ("date", (("dob",), ("birth", "date"), ("date", "birth"), ("birthday",), ("birthdate",), ("date", "of", "birth"), ("admission", "date"), ("discharge", "date"), ("death", "date"), ("date", "of", "death")),
     ("생년월일", "생일", "출생일", "입원일", "퇴원일", "사망일", "내원일", "수술일")),
    ("geographic", (("address",), ("addr",), ("street",), ("city",), ("county",), ("zip",), ("zipcode",), ("postcode",), ("postal",), ("town",), ("village",)),
     ("주소", "우편번호", "거주지", "시군구", "읍면동")),
    ("name", (("name",), ("first", "name"), ("last", "name"), ("full", "name"), ("patient", "name"), ("given", "name"), ("family", "name"),
              ("surname",), ("firstname",), ("lastname",), ("fullname",), ("patientname",), ("middle", "name"), ("maiden", "name")),
     ("성명", "이름", "환자명", "성함", "보호자명")),
)
# "name" alone only when the column is just called that, or names a person ("patient name");
# "drug_name" or "hospital_name" are not identifiers.
_PERSON_NAME_ONLY = {("name",)}

_CONTENT_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("korean_rrn", "korean_rrn", re.compile(r"^\d{6}-?[1-8](\d{6}|\*{6})$")),
    ("ssn", "us_ssn", re.compile(r"^\d{3}-\d{2}-\d{4}$")),
    ("phone", "korean_phone", re.compile(r"^(\+82[-\s]?|0)(1[016789]|2|[3-6][1-5]|70)[-\s.]?\d{3,4}[-\s.]?\d{4}$")),
    ("phone", "us_phone", re.compile(r"^(\+1[-\s]?)?\(?\d{3}\)?[-\s.]\d{3}[-\s.]\d{4}$")),
    ("email", "email", re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")),
    ("url", "url", re.compile(r"^(https?|ftp)://\S+$", re.IGNORECASE)),
    ("ip_address", "ipv4", re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$")),
    ("ip_address", "ipv6", re.compile(r"^[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{0,4}){2,7}$")),
    ("device_id", "mac_address", re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")),
)
_SAMPLE = 500
_SHARE = 0.8


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


def _contains(tokens: list[str], sequence: tuple[str, ...]) -> bool:
    n = len(sequence)
    return any(tuple(tokens[i : i + n]) == sequence for i in range(len(tokens) - n + 1))


def _by_name(name: str) -> IdentifierFlag | None:
    tokens = _tokens(name)
    compact = re.sub(r"\s+", "", name).lower()
    for category, sequences, korean in _NAME_RULES:
        for fragment in korean:
            if fragment in compact:
                return IdentifierFlag(name, category, "name", {"matched": fragment})
        for sequence in sequences:
            if sequence in _PERSON_NAME_ONLY and tokens != ["name"]:
                continue
            if _contains(tokens, sequence):
                return IdentifierFlag(name, category, "name", {"matched": " ".join(sequence)})
    return None


def _by_content(name: str, series: pd.Series) -> IdentifierFlag | None:
    present = series.dropna()
    if present.empty:
        return None
    sample = present.astype("string").str.strip().drop_duplicates().head(_SAMPLE)
    if sample.empty:
        return None
    values = sample.tolist()
    for category, pattern_name, pattern in _CONTENT_RULES:
        share = sum(1 for v in values if pattern.match(v)) / len(values)
        if share >= _SHARE:
            return IdentifierFlag(name, category, "content", {"pattern": pattern_name, "share": round(share, 3)})
    return None


def detect_identifiers(frame: pd.DataFrame, types: dict[str, str]) -> tuple[IdentifierFlag, ...]:
    """Flags for every column that names or holds a direct identifier (one flag per column)."""
    flags: list[IdentifierFlag] = []
    for name in frame.columns:
        column_type = types.get(name, "")
        flag = _by_name(str(name))
        if flag is None and column_type in ("identifier", "free_text", "categorical", "binary") and not isinstance(
            frame[name].dtype, pd.CategoricalDtype
        ):
            if frame[name].dtype == "string" or frame[name].dtype == object or str(frame[name].dtype).startswith("str"):
                flag = _by_content(str(name), frame[name])
        if flag is None and column_type == "datetime":
            flag = IdentifierFlag(str(name), "date", "content", {"pattern": "full_date"})
        if flag is None and column_type == "identifier":
            flag = IdentifierFlag(str(name), "other_unique_id", "content", {"pattern": "unique_code"})
        if flag is not None:
            flags.append(flag)
    return tuple(flags)
