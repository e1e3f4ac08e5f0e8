from __future__ import annotations

import gzip
import hashlib
import re
import time

import pytest

from permissions.passwords import (
    COMMON_PASSWORDS_FILE,
    DEFAULT_PARAMS,
    MAX_LENGTH,
    MIN_LENGTH,
    OWASP_MINIMUM,
    Argon2Params,
    common_passwords,
    generate_password,
    hash_password,
    password_problems,
    validate_new_password,
    verify_password,
    verify_unknown_user,
)
from pipelines.errors import InputError

# Cheapest allowed parameters keep the tests fast; the default ones are checked separately.
FAST = OWASP_MINIMUM
STRONG = "glacier-violin-harbour-57"


def _phc_params(stored: str) -> dict[str, int]:
    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert match, stored
    return dict(zip("mtp", map(int, match.groups())))


def test_default_hash_is_argon2id_at_or_above_owasp() -> None:
    stored = hash_password(STRONG)
    params = _phc_params(stored)
    assert params["m"] >= 19 * 1024 and params["t"] >= 2 and params["p"] >= 1
    assert (params["m"], params["t"], params["p"]) == (DEFAULT_PARAMS.memory_kib, DEFAULT_PARAMS.time_cost, DEFAULT_PARAMS.parallelism)
    assert STRONG not in stored
    assert hash_password(STRONG) != stored, "a fresh salt every time"
    assert verify_password(STRONG, stored) == (True, False)


def test_wrong_password_and_malformed_hash_never_match() -> None:
    stored = hash_password(STRONG, params=FAST)
    assert verify_password(STRONG + "x", stored, params=FAST) == (False, False)
    assert verify_password(STRONG, "not-a-hash", params=FAST) == (False, False)
    assert verify_password(STRONG, hashlib.sha256(STRONG.encode()).hexdigest(), params=FAST) == (False, False)
    assert verify_password("", stored, params=FAST).ok is False


def test_rehash_is_asked_for_when_parameters_rise() -> None:
    old = hash_password(STRONG, params=FAST)
    ok, needs_rehash = verify_password(STRONG, old, params=Argon2Params(time_cost=3, memory_kib=FAST.memory_kib))
    assert ok and needs_rehash
    assert verify_password(STRONG, old, params=FAST) == (True, False)
    # A wrong password never asks for a rehash (there is nothing to rehash with).
    assert verify_password("wrong", old, params=Argon2Params(time_cost=3, memory_kib=FAST.memory_kib)) == (False, False)


@pytest.mark.parametrize("kwargs", [dict(time_cost=1, memory_kib=65536), dict(time_cost=2, memory_kib=19455), dict(time_cost=2, memory_kib=19456, parallelism=0)])
def test_parameters_below_owasp_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="OWASP"):
        Argon2Params(**kwargs)


def test_unicode_is_normalised_before_hashing() -> None:
    # Full-width letters and a precomposed vs. decomposed Korean syllable: the same under NFKC.
    composed = "한글비밀번호는길게쓰면좋다"
    decomposed = "\u1112\u1161\u11ab" + composed[1:]
    stored = hash_password(composed, params=FAST)
    assert verify_password(decomposed, stored, params=FAST).ok
    assert verify_password("ＡＢＣ" + STRONG, hash_password("ABC" + STRONG, params=FAST), params=FAST).ok


def test_unknown_user_costs_about_as_much_as_a_real_check() -> None:
    stored = hash_password(STRONG)
    verify_unknown_user("warm-up")  # builds the dummy hash once
    start = time.perf_counter()
    verify_password("guess-guess-guess", stored)
    real = time.perf_counter() - start
    start = time.perf_counter()
    result = verify_unknown_user("guess-guess-guess")
    dummy = time.perf_counter() - start
    assert result == (False, False)
    assert dummy > real / 3, (real, dummy)


def test_common_list_is_the_shipped_file_with_enough_entries() -> None:
    listed = common_passwords()
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    assert len(listed) >= 10_000
    assert len(listed) == len(set(x.lower() for x in lines)) == 19_640
    assert {"123456", "password", "qwerty123456", "1qaz2wsx3edc"} <= listed


@pytest.mark.parametrize("password", ["qwerty123456", "QWERTY123456", "1Qaz2Wsx3Edc", "Password2024!", "sunshine12345678"])
def test_common_passwords_are_refused_case_insensitively(password: str) -> None:
    assert "auth.password.common" in password_problems(password, username="kim")


def test_length_counts_code_points_and_has_no_composition_rules() -> None:
    assert password_problems("tiger-river-7", username="kim") == ()  # 13 chars, no upper case, fine
    assert password_problems("심장내과연구용비밀문구다", username="kim") == ()  # 12 Hangul syllables
    assert "auth.password.too_short" in password_problems("심장내과연구용비밀문구", username="kim")  # 11
    assert password_problems("🫀🩺🧬🔬📈🏥" * 2, username="kim") == ()  # 12 emoji = 12 code points
    assert "auth.password.too_short" in password_problems("abc", username="kim")
    long_ok = "river stone " * 21  # 252 characters
    assert password_problems(long_ok, username="kim") == ()
    assert "auth.password.too_long" in password_problems(long_ok + "abcde", username="kim")
    assert MIN_LENGTH == 12 and MAX_LENGTH >= 128


def test_name_and_email_local_part_are_refused() -> None:
    assert "auth.password.contains_name" in password_problems("my-DrKim-hospital", username="drkim")
    assert "auth.password.contains_name" in password_problems("cardio-jlee-2026x", username="x1", email="jlee@hospital.example")
    assert "auth.password.contains_name" not in password_problems("cardio-lab-2026x", username="jo")  # too short to match


@pytest.mark.parametrize("password", ["aaaaaaaaaaaaaa", "123456789012", "210987654321", "abcdefghijklmn", "zyxwvutsrqponm", "abcabcabcabc", "passpasspass"])
def test_repeated_and_sequential_are_refused(password: str) -> None:
    assert "auth.password.repetitive" in password_problems(password, username="kim")


def test_repetition_rule_leaves_ordinary_passphrases_alone() -> None:
    for password in ("tiger-river-73", "abcdefghijkx", "135797531357", "passpasspasx"):
        assert "auth.password.repetitive" not in password_problems(password, username="kim"), password


def test_validate_raises_input_error_with_the_first_problem() -> None:
    with pytest.raises(InputError) as info:
        validate_new_password("short", username="kim")
    assert info.value.key == "auth.password.too_short"
    assert info.value.params == {"min_length": 12, "max_length": MAX_LENGTH, "length": 5}
    validate_new_password("tiger-river-73", username="kim")


def test_generated_passwords_are_long_random_and_acceptable() -> None:
    generated = {generate_password() for _ in range(50)}
    assert len(generated) == 50
    for password in generated:
        assert len(password) >= 20
        assert password_problems(password, username="admin") == ()
    assert len(generate_password(32)) == 32
    with pytest.raises(ValueError):
        generate_password(12)
