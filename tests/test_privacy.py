"""Tests for privacy: NIK checks, phone normalisation, keyed pseudonyms and the deployment secret."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from community_policing.errors import CommunityPolicingError, FieldError, SecretError
from community_policing.privacy import (
    PROVINCE_CODES,
    SECRET_ENV,
    SECRET_FILE_ENV,
    Pseudonymizer,
    check_nik,
    normalise_phone,
    ref_key,
    secret_from_env,
)
from community_policing.testing import strategies as cps

SECRET = "test-secret-0123456789abcdef"
OTHER_SECRET = "another-secret-0123456789abcdef"
# 35.05.01, born 5 June 1990, serial 0001; the same for a woman (day + 40)
MAN = "3505010506900001"
WOMAN = "3505014506900001"
PHONE_E164 = "+6281234567890"


def nik_error(nik: object) -> FieldError:
    with pytest.raises(FieldError) as info:
        check_nik(nik)  # type: ignore[arg-type]
    return info.value


def phone_error(phone: object) -> FieldError:
    with pytest.raises(FieldError) as info:
        normalise_phone(phone)  # type: ignore[arg-type]
    return info.value


def raised(check: Any, value: str) -> FieldError | None:
    try:
        check(value)
    except FieldError as error:
        return error
    return None


def shows(error: BaseException, raw: str) -> bool:
    """Whether `raw` appears anywhere a person or a log could read it."""
    texts = [str(error), repr(error), *map(str, error.args)]
    if isinstance(error, FieldError):
        texts += [str(error.value), error.reason, error.field]
    return any(raw in text for text in texts)


# --- NIK ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nik",
    [
        MAN,
        WOMAN,
        "3505013101900001",  # 31 January
        "3505017101900001",  # a woman born on 31 January (31 + 40)
        "3505012902000001",  # 29 February
        "3505016902000001",  # a woman born on 29 February
        "3505014112999999",  # a woman born on 1 December, last serial
        "1101010101010001",  # Aceh
        "9471010101010001",  # Papua (Jayapura)
        "9601010101010001",  # Papua Barat Daya, created in 2022
    ],
)
def test_check_nik_accepts_valid_niks(nik: str) -> None:
    assert check_nik(nik) == nik


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("350501050690001", "exactly 16 digits"),
        ("35050105069000011", "exactly 16 digits"),
        ("", "exactly 16 digits"),
        ("35050105069000a1", "exactly 16 digits"),
        ("3505-01-05069000", "exactly 16 digits"),
        (" 350501050690001", "exactly 16 digits"),
        (MAN.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}), "exactly 16 digits"),  # full-width digits
        ("1005010506900001", "province code; 10"),
        ("9905010506900001", "province code; 99"),
        ("0005010506900001", "province code; 00"),
        ("3500010506900001", "cannot be 00"),
        ("3505000506900001", "cannot be 00"),
        ("3505013102900001", "birth date"),  # 31 February
        ("3505017102900001", "birth date"),  # a woman born on 31 February
        ("3505017202900001", "birth date"),  # day 72: 32 for a woman
        ("3505010006900001", "birth date"),  # day 00
        ("3505014006900001", "birth date"),  # day 40: 0 for a woman
        ("3505010513900001", "birth date"),  # month 13
        ("3505010500900001", "birth date"),  # month 00
        ("3505010506900000", "serial"),
    ],
)
def test_check_nik_rejects(nik: str, message: str) -> None:
    error = nik_error(nik)
    assert error.field == "nik"
    assert message in error.reason
    if nik:
        assert not shows(error, nik)


@pytest.mark.parametrize("value", [3505010506900001, None, b"3505010506900001"])
def test_check_nik_rejects_non_strings(value: object) -> None:
    error = nik_error(value)
    assert error.field == "nik"
    assert "3505010506900001" not in str(error)


def test_check_nik_names_the_field_it_is_given() -> None:
    with pytest.raises(FieldError) as info:
        check_nik("123", field="residents[0].nik")
    assert info.value.field == "residents[0].nik"


@given(cps.nik_numbers())
def test_generated_niks_are_valid(nik: str) -> None:
    assert check_nik(nik) == nik
    assert nik[:2] in PROVINCE_CODES


@given(cps.nik_numbers(), st.integers(0, 15), st.sampled_from("0123456789x "))
def test_nik_errors_never_show_the_nik(nik: str, position: int, replacement: str) -> None:
    mutated = nik[:position] + replacement + nik[position + 1 :]
    error = raised(check_nik, mutated)
    if error is not None:
        assert not shows(error, mutated)
        assert not shows(error, mutated[:12])  # not even the part that holds place and birth date


# At least six digits: an identifier, and never a piece of the messages' own wording ("FieldError", "13-16").
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=6, max_size=24).filter(
        lambda text: sum(c in "0123456789" for c in text) >= 6
    )
)
def test_nik_errors_never_show_arbitrary_input(text: str) -> None:
    error = raised(check_nik, text)
    if error is not None:
        assert not shows(error, text)


# --- phone numbers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "62812 3456 7890",
        "(0812) 34567890",
        "081234567890",
        "+6281234567890",
        "0812.3456.7890",
    ],
)
def test_normalise_phone_gives_e164(phone: str) -> None:
    assert normalise_phone(phone) == PHONE_E164


def test_normalise_phone_handles_landlines_and_foreign_numbers() -> None:
    assert normalise_phone("(0342) 801234") == "+62342801234"  # Blitar
    assert normalise_phone("+1 202 555 0100") == "+12025550100"


@pytest.mark.parametrize(
    "phone",
    ["", "0812", "12345", "abc", "0812-3456-7890-1234-5678", "+62 000 0000", "+999 1234 5678", None, 81234567890],
)
def test_normalise_phone_rejects_invalid_numbers(phone: object) -> None:
    error = phone_error(phone)
    assert error.field == "phone"
    if isinstance(phone, str) and len(phone) > 4:
        assert not shows(error, phone)


def test_normalise_phone_names_the_field_it_is_given() -> None:
    with pytest.raises(FieldError) as info:
        normalise_phone("12", field="residents[2].phone")
    assert info.value.field == "residents[2].phone"


@given(cps.phone_numbers())
def test_normalise_phone_is_idempotent(phone: str) -> None:
    normal = normalise_phone(phone)
    assert re.fullmatch(r"\+\d{8,15}", normal)
    assert normalise_phone(normal) == normal


@given(st.text(alphabet="0123456789 +-().", min_size=6, max_size=20))
def test_phone_errors_never_show_the_number(phone: str) -> None:
    assume(sum(c.isdigit() for c in phone) >= 5)
    error = raised(normalise_phone, phone)
    if error is not None:
        assert not shows(error, phone)


# --- Pseudonymizer ------------------------------------------------------------------------------------------


def test_same_input_gives_the_same_key() -> None:
    first, second = Pseudonymizer(SECRET), Pseudonymizer(SECRET.encode())
    assert first.nik(MAN) == first.nik(MAN) == second.nik(MAN)
    assert first.phone("0812-3456-7890") == second.phone("0812-3456-7890")


def test_every_spelling_of_a_phone_number_gives_one_key() -> None:
    pseudonymizer = Pseudonymizer(SECRET)
    keys = {
        pseudonymizer.phone(p) for p in ["0812-3456-7890", "+62 812 3456 7890", "62812 3456 7890", "(0812) 34567890"]
    }
    assert len(keys) == 1


def test_keys_are_prefixed_hex_and_hide_the_value() -> None:
    pseudonymizer = Pseudonymizer(SECRET)
    nik_key, phone_key = pseudonymizer.nik(MAN), pseudonymizer.phone("0812-3456-7890")
    assert re.fullmatch(r"nik:[0-9a-f]{32}", nik_key)
    assert re.fullmatch(r"tel:[0-9a-f]{32}", phone_key)
    assert MAN not in nik_key
    assert "81234567890" not in phone_key


def test_a_different_secret_gives_a_different_key() -> None:
    assert Pseudonymizer(SECRET).nik(MAN) != Pseudonymizer(OTHER_SECRET).nik(MAN)
    assert Pseudonymizer(SECRET).phone(PHONE_E164) != Pseudonymizer(OTHER_SECRET).phone(PHONE_E164)


def test_a_nik_and_a_phone_with_the_same_digits_get_different_keys() -> None:
    pseudonymizer = Pseudonymizer(SECRET)
    assert pseudonymizer.nik(MAN) != pseudonymizer.phone(PHONE_E164)
    assert pseudonymizer.nik(MAN) != pseudonymizer.nik(WOMAN)


def test_keys_never_collide_with_ref_keys() -> None:
    pseudonymizer = Pseudonymizer(SECRET)
    assert ref_key("w-1") == "ref:w-1"
    assert not pseudonymizer.nik(MAN).startswith("ref:")
    assert not pseudonymizer.phone(PHONE_E164).startswith("ref:")


@given(cps.nik_numbers(), cps.nik_numbers())
def test_distinct_niks_get_distinct_keys(first: str, second: str) -> None:
    pseudonymizer = Pseudonymizer(SECRET)
    assert (pseudonymizer.nik(first) == pseudonymizer.nik(second)) is (first == second)


def test_pseudonymizer_validates_before_keying() -> None:
    pseudonymizer = Pseudonymizer(SECRET)
    with pytest.raises(FieldError) as info:
        pseudonymizer.nik("3505013102900001", field="nik")
    assert not shows(info.value, "3505013102900001")
    with pytest.raises(FieldError):
        pseudonymizer.phone("0812")


@pytest.mark.parametrize("secret", ["x" * 15, b"x" * 15, "", b"", "é" * 7])
def test_a_secret_under_16_bytes_is_refused(secret: str | bytes) -> None:
    with pytest.raises(SecretError, match="at least 16") as info:
        Pseudonymizer(secret)
    assert isinstance(info.value, CommunityPolicingError)
    if secret:
        assert (secret if isinstance(secret, str) else secret.decode()) not in str(info.value)


@pytest.mark.parametrize("secret", ["x" * 16, b"x" * 16, "é" * 8, bytearray(b"y" * 32)])
def test_a_secret_of_16_bytes_or_more_is_accepted(secret: str | bytes) -> None:
    assert Pseudonymizer(secret).nik(MAN).startswith("nik:")


def test_repr_hides_the_secret() -> None:
    pseudonymizer = Pseudonymizer(SECRET)
    assert SECRET not in repr(pseudonymizer)
    assert SECRET not in str(pseudonymizer)
    assert "hidden" in repr(pseudonymizer)
    with pytest.raises(TypeError):
        vars(pseudonymizer)  # slotted: no __dict__ to dump the secret from


# --- secret_from_env ----------------------------------------------------------------------------------------


def test_secret_from_the_environment_variable() -> None:
    pseudonymizer = secret_from_env({SECRET_ENV: SECRET})
    assert pseudonymizer is not None
    assert pseudonymizer.nik(MAN) == Pseudonymizer(SECRET).nik(MAN)


def test_secret_from_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    pseudonymizer = secret_from_env()
    assert pseudonymizer is not None
    assert pseudonymizer.nik(MAN) == Pseudonymizer(SECRET).nik(MAN)
    monkeypatch.delenv(SECRET_ENV)
    assert secret_from_env() is None


@pytest.mark.parametrize("ending", ["", "\n", "\r\n", "\n\n"])
def test_secret_from_a_file_without_its_trailing_newline(tmp_path: Path, ending: str) -> None:
    path = tmp_path / "secret"
    path.write_bytes(SECRET.encode() + ending.encode())
    path.chmod(0o600)
    pseudonymizer = secret_from_env({SECRET_FILE_ENV: str(path)})
    assert pseudonymizer is not None
    assert pseudonymizer.nik(MAN) == Pseudonymizer(SECRET).nik(MAN)


def test_the_variable_wins_over_the_file_and_an_empty_variable_does_not(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(OTHER_SECRET + "\n")
    path.chmod(0o600)
    chosen = secret_from_env({SECRET_ENV: SECRET, SECRET_FILE_ENV: str(path)})
    assert chosen is not None
    assert chosen.nik(MAN) == Pseudonymizer(SECRET).nik(MAN)
    chosen = secret_from_env({SECRET_ENV: "", SECRET_FILE_ENV: str(path)})
    assert chosen is not None
    assert chosen.nik(MAN) == Pseudonymizer(OTHER_SECRET).nik(MAN)


def test_an_unreadable_secret_file_is_a_secret_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(SecretError, match=SECRET_FILE_ENV):
        secret_from_env({SECRET_FILE_ENV: str(missing)})
    with pytest.raises(SecretError, match="cannot read"):
        secret_from_env({SECRET_FILE_ENV: str(tmp_path)})  # a directory


def test_a_short_secret_from_the_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError):
        secret_from_env({SECRET_ENV: "short"})
    path = tmp_path / "secret"
    path.write_text("short\n")
    with pytest.raises(SecretError):
        secret_from_env({SECRET_FILE_ENV: str(path)})


def test_no_secret_configured_gives_none() -> None:
    assert secret_from_env({}) is None
    assert secret_from_env({SECRET_ENV: "", SECRET_FILE_ENV: ""}) is None
    assert secret_from_env({"UNRELATED": SECRET}) is None


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_secret_file_others_can_read_is_refused_as_ssh_refuses_a_key(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET)
    path.chmod(mode)
    with pytest.raises(SecretError, match=rf"can be read by other users \(mode {mode:04o}\).*chmod 600") as caught:
        secret_from_env({SECRET_FILE_ENV: str(path)})
    assert SECRET not in str(caught.value)
    path.chmod(0o600)
    assert secret_from_env({SECRET_FILE_ENV: str(path)}) is not None


@pytest.mark.parametrize("secret", [" " * 40, "\t\n " * 20, "\n" * 33])
def test_a_secret_of_whitespace_is_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(SecretError, match="only whitespace"):
        Pseudonymizer(secret)
    with pytest.raises(SecretError, match="only whitespace"):
        secret_from_env({SECRET_ENV: secret})


def test_reading_a_secret_file_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="not a regular file"):
        secret_from_env({SECRET_FILE_ENV: "/dev/zero"})
    big = tmp_path / "big"
    big.write_bytes(b"s" * 5000)
    big.chmod(0o600)
    with pytest.raises(SecretError, match="longer than 4096 bytes"):
        secret_from_env({SECRET_FILE_ENV: str(big)})


# --- the fast path for Indonesian mobile numbers ------------------------------------------------------------------


def test_the_mobile_fast_path_is_phonenumbers_own_pattern() -> None:
    import phonenumbers

    from community_policing.privacy import INDONESIAN_MOBILE

    mobile = phonenumbers.PhoneMetadata.metadata_for_region("ID").mobile
    assert mobile.national_number_pattern == r"8[1-35-9]\d{7,10}"
    assert tuple(mobile.possible_length) == (9, 10, 11, 12)
    assert INDONESIAN_MOBILE.pattern == r"(?:\+62|0)(8[1-35-9][0-9]{7,10})"


@settings(max_examples=int(os.environ.get("PHONE_EXAMPLES", "500")))
@given(phone=cps.phone_numbers(), digits=st.text("0123456789", min_size=6, max_size=13), spelling=st.integers(0, 5))
def test_normalise_phone_gives_what_phonenumbers_gives(phone: str, digits: str, spelling: int) -> None:
    import phonenumbers

    def reference(text: str) -> str | None:
        try:
            parsed = phonenumbers.parse(text, "ID")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(parsed):
            return None
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    national = "8" + digits
    spelt = [f"0{national}", f"+62{national}", f"62{national}", f"+62 {national[:3]}-{national[3:]}",
             f"0{national[:3]}-{national[3:7]}-{national[7:]}", f"(0{national[:3]}) {national[3:]}"][spelling]  # fmt: skip
    for text in (phone, spelt):
        expected = reference(text)
        if expected is None:
            with pytest.raises(FieldError):
                normalise_phone(text)
        else:
            assert normalise_phone(text) == expected
