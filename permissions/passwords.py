"""Password hashing (argon2id) and the rules a new password must meet (NIST SP 800-63B).

Hashing: argon2id with parameters above OWASP's floor (19 MiB, 2 iterations, 1 lane). The
parameters live in the hash string, so raising them later is safe: :func:`verify_password` reports
``needs_rehash`` and the login service stores a fresh hash while it still has the plaintext.

Rules: at least 12 characters counted as Unicode code points after NFKC normalisation (so a
Korean or emoji passphrase is measured as the user sees it), up to 256, no composition rules
(NIST: they make passwords worse, not stronger), but refused when the password is a known common
one, contains the user name or the e-mail's local part, or is one character repeated or a plain
run such as ``"123456789012"``. The common list is Django's 20,000 (see ``data/README.md``).
"""

from __future__ import annotations

import gzip
import secrets
import string
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines.errors import InputError

__all__ = [
    "Argon2Params",
    "OWASP_MINIMUM",
    "DEFAULT_PARAMS",
    "MIN_LENGTH",
    "MAX_LENGTH",
    "PasswordCheck",
    "hash_password",
    "verify_password",
    "verify_unknown_user",
    "password_problems",
    "validate_new_password",
    "generate_password",
    "common_passwords",
    "normalise_password",
    "COMMON_PASSWORDS_FILE",
]

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt.gz"


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost parameters; refused below OWASP's minimum so nobody can weaken them by config."""

    time_cost: int
    memory_kib: int
    parallelism: int = 1

    def __post_init__(self) -> None:
        if self.memory_kib < 19 * 1024 or self.time_cost < 2 or self.parallelism < 1:
            raise ValueError(
                f"argon2id parameters below OWASP's minimum (m=19456 KiB, t=2, p=1): {self!r}"
            )


OWASP_MINIMUM = Argon2Params(time_cost=2, memory_kib=19 * 1024, parallelism=1)
# 46 MiB, 2 passes: above the floor on both axes; about 0.1 s per hash on one core here (0.03 s at the floor).
DEFAULT_PARAMS = Argon2Params(time_cost=2, memory_kib=46 * 1024, parallelism=1)


class PasswordCheck(NamedTuple):
    """Result of :func:`verify_password`; unpacks as ``ok, needs_rehash``."""

    ok: bool
    needs_rehash: bool


@cache
def _hasher(params: Argon2Params) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def normalise_password(password: str) -> str:
    """NFKC, as NIST asks, so the same passphrase typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str, *, params: Argon2Params = DEFAULT_PARAMS) -> str:
    """An argon2id PHC string (``$argon2id$v=19$m=...``) with a fresh random salt."""
    return _hasher(params).hash(normalise_password(password))


def verify_password(password: str, stored_hash: str, *, params: Argon2Params = DEFAULT_PARAMS) -> PasswordCheck:
    """Whether ``password`` matches, and whether the stored hash should be replaced.

    ``needs_rehash`` is true when the hash was made with other parameters than ``params`` (the
    site's current ones), and is only reported after a successful match. A malformed stored hash
    never matches.
    """
    hasher = _hasher(params)
    try:
        hasher.verify(stored_hash, normalise_password(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return PasswordCheck(False, False)
    return PasswordCheck(True, hasher.check_needs_rehash(stored_hash))


@cache
def _dummy_hash(params: Argon2Params) -> str:
    return _hasher(params).hash(secrets.token_urlsafe(24))


def verify_unknown_user(password: str, *, params: Argon2Params = DEFAULT_PARAMS) -> PasswordCheck:
    """Spend the time of a real verification for a user name that does not exist.

    Without it, "unknown user" answers in microseconds and "wrong password" in a tenth of a
    second, which tells an attacker which accounts exist.
    """
    verify_password(password, _dummy_hash(params), params=params)
    return PasswordCheck(False, False)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


_TRAILING_NOISE = string.digits + string.punctuation + " "


def _is_common(folded: str) -> bool:
    listed = common_passwords()
    if folded in listed:
        return True
    # "password2024!" is "password" with the usual decoration: still on the list in spirit.
    core = folded.rstrip(_TRAILING_NOISE)
    return len(core) >= 6 and core != folded and core in listed


def _step(a: str, b: str) -> int:
    if a.isdigit() and b.isdigit() and a.isascii() and b.isascii():
        # Digits run round the keyboard row: "...7890123" is as plain as "...789".
        return {1: 1, 9: -1}.get((int(b) - int(a)) % 10, 0)
    return ord(b) - ord(a)


def _is_repetitive_or_sequential(text: str) -> bool:
    """One short unit repeated ("aaaa...", "abcabc...", "passpass...") or a plain run ("1234...")."""
    for unit in range(1, 5):
        if len(text) >= 2 * unit and len(text) % unit == 0 and text == text[:unit] * (len(text) // unit):
            return True
    steps = {_step(a, b) for a, b in zip(text, text[1:])}
    return len(steps) == 1 and steps <= {1, -1}


def password_problems(password: str, *, username: str, email: str | None = None) -> tuple[str, ...]:
    """Every rule ``password`` breaks, as catalogue keys (empty when it is acceptable).

    Pages show all of them at once; :func:`validate_new_password` raises on the first.
    """
    text = normalise_password(password)
    folded = text.casefold()
    problems: list[str] = []
    length = len(text)  # code points, after NFKC
    if length < MIN_LENGTH:
        problems.append("auth.password.too_short")
    if length > MAX_LENGTH:
        problems.append("auth.password.too_long")
    if _is_common(folded):
        problems.append("auth.password.common")
    names = {username.strip().casefold()}
    if email and "@" in email:
        names.add(email.split("@", 1)[0].strip().casefold())
    if any(len(name) >= 3 and name in folded for name in names):
        problems.append("auth.password.contains_name")
    if length and _is_repetitive_or_sequential(folded):
        problems.append("auth.password.repetitive")
    return tuple(problems)


def validate_new_password(password: str, *, username: str, email: str | None = None) -> None:
    """Raise ``InputError`` with the first broken rule; the message says what to choose instead."""
    problems = password_problems(password, username=username, email=email)
    if problems:
        raise InputError(
            problems[0],
            min_length=MIN_LENGTH,
            max_length=MAX_LENGTH,
            length=len(normalise_password(password)),
        )


_GENERATED_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "lI1O0o")


def generate_password(length: int = 24) -> str:
    """A random password for the first admin (printed once): 24 characters from 56, ~139 bits."""
    if length < 20:
        raise ValueError("generated passwords are at least 20 characters long")
    while True:
        candidate = "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(length))
        if not password_problems(candidate, username=""):
            return candidate
