"""Pseudonymous keys for residents: NIK and phone numbers become HMAC-SHA256 pseudonyms at the edge."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import stat

import phonenumbers

from community_policing.errors import FieldError, SecretError
from community_policing.model import Resident, ref_key

__all__ = [
    "PROVINCE_CODES",
    "Pseudonymizer",
    "SECRET_ENV",
    "SECRET_FILE_ENV",
    "check_nik",
    "normalise_phone",
    "ref_key",
    "secret_from_env",
]

SECRET_ENV = "COMMUNITY_POLICING_SECRET"
SECRET_FILE_ENV = "COMMUNITY_POLICING_SECRET_FILE"
MIN_SECRET_BYTES = 16

#: Kemendagri province codes (incl. the Papua provinces created in 2022), the first two digits of a NIK.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
        "31", "32", "33", "34", "35", "36",
        "51", "52", "53",
        "61", "62", "63", "64", "65",
        "71", "72", "73", "74", "75", "76",
        "81", "82",
        "91", "92", "93", "94", "95", "96",
    }
)  # fmt: skip


def check_nik(nik: str, *, field: str = "nik") -> str:
    """Return `nik` if it is a well-formed NIK, else raise `FieldError` (without echoing the value).

    Checks: 16 digits; a known province code; regency and district parts not 00; a birth date DDMMYY that exists
    (40 added to the day for women); a serial from 0001.
    """
    shown = _masked(nik)
    if not isinstance(nik, str) or len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        raise FieldError(field, shown, "a NIK has exactly 16 digits")
    if nik[:2] not in PROVINCE_CODES:
        raise FieldError(field, shown, f"a NIK starts with a province code; {nik[:2]} is not one")
    if nik[2:4] == "00" or nik[4:6] == "00":
        raise FieldError(field, shown, "the regency and district parts of a NIK (digits 3-6) cannot be 00")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40
    try:
        # 2000 is a leap year, so 29 February is accepted whatever the century.
        dt.date(2000, month, day)
    except ValueError:
        raise FieldError(
            field, shown, "digits 7-12 of a NIK must be a birth date DDMMYY (day + 40 for women)"
        ) from None
    del year
    if nik[12:] == "0000":
        raise FieldError(field, shown, "the serial of a NIK (digits 13-16) starts at 0001")
    return nik


INDONESIAN_MOBILE = re.compile(r"(?:\+62|0)(8[1-35-9][0-9]{7,10})")
"""An Indonesian mobile number written ``0812…`` or ``+62812…`` (spaces and hyphens aside): valid as it stands.

The national part is exactly `phonenumbers`' pattern for Indonesian mobile numbers (``8[1-35-9]\\d{7,10}``,
lengths 9 to 12); a test checks that the pattern in `phonenumbers`' metadata is still this one, and that
`normalise_phone` gives what `phonenumbers` gives for every spelling. Most numbers a source system sends are
such, and they skip the general parser, which costs 75 µs a number.
"""

_SEPARATORS = str.maketrans("", "", " -")


def normalise_phone(phone: str, *, field: str = "phone") -> str:
    """`phone` in E.164 form (``0812…`` becomes ``+62812…``), or `FieldError` when it is not a valid number."""
    if not isinstance(phone, str):
        raise FieldError(field, _masked(phone), "a phone number must be a string")
    mobile = INDONESIAN_MOBILE.fullmatch(phone.translate(_SEPARATORS))
    if mobile is not None:
        return "+62" + mobile.group(1)
    shown = _masked(phone)
    try:
        parsed = phonenumbers.parse(phone, "ID")
    except phonenumbers.NumberParseException:
        raise FieldError(field, shown, "not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise FieldError(field, shown, "not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _masked(value: object) -> str:
    """A value safe to show in an error: its length and last two characters, never the whole."""
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    return f"<{len(value)} characters ending in {value[-2:]!r}>" if len(value) > 4 else "<hidden>"


class Pseudonymizer:
    """Turns raw identifiers into keyed pseudonyms (HMAC-SHA256 with a deployment secret).

    The same identifier and secret always give the same key; without the secret the key reveals nothing.
    """

    __slots__ = ("_keyed", "_secret")

    def __init__(self, secret: bytes | str) -> None:
        # surrogateescape: an environment variable that is not UTF-8 reaches Python with escaped bytes.
        raw = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else bytes(secret)
        if len(raw) < MIN_SECRET_BYTES:
            raise SecretError(f"the secret has {len(raw)} bytes; use at least {MIN_SECRET_BYTES}")
        if not raw.strip():
            raise SecretError("the secret is only whitespace; use a long random value")
        self._secret = raw
        self._keyed = hmac.new(raw, digestmod=hashlib.sha256)  # keyed once; each pseudonym copies it

    def __repr__(self) -> str:
        return "Pseudonymizer(<secret hidden>)"

    def _key(self, kind: str, value: str) -> str:
        mac = self._keyed.copy()
        mac.update(f"{kind}:{value}".encode())
        digest = mac.hexdigest()
        return f"{kind}:{digest[:32]}"

    @property
    def fingerprint(self) -> str:
        """A short fingerprint of the secret (16 hex digits), kept by stores to notice a load with another secret.

        An HMAC of a fixed label under the secret: it tells two secrets apart, and reveals no more about the
        secret than any pseudonym does.
        """
        return hmac.new(self._secret, b"community-policing secret fingerprint", hashlib.sha256).hexdigest()[:16]

    def nik(self, nik: str, *, field: str = "nik") -> str:
        """The pseudonymous identity key of a NIK (validated first)."""
        return self._key("nik", check_nik(nik, field=field))

    def phone(self, phone: str, *, field: str = "phone") -> str:
        """The pseudonymous identity key of a phone number, after normalising it to E.164."""
        return self._key("tel", normalise_phone(phone, field=field))

    def key(self, *, ref: str | None = None, nik: str | None = None, phone: str | None = None) -> str:
        """A resident's identity key, as the file reader makes it: the NIK if given, else the phone, else the ref."""
        if nik is not None:
            return self.nik(nik)
        if phone is not None:
            return self.phone(phone)
        if ref is not None:
            return ref_key(ref)
        raise FieldError("ref", None, "a resident needs at least one of ref, nik, phone")

    def resident(
        self,
        ref: str,
        *,
        nik: str | None = None,
        phone: str | None = None,
        name: str | None = None,
        territory: str | None = None,
    ) -> Resident:
        """A `Resident` record tying `ref` to its identity, as a ``resident`` line in a file does.

        Written with a batch, it makes interactions that name the bare ref count for the same person as those
        that name the NIK or phone.
        """
        return Resident(ref=ref, key=self.key(ref=ref, nik=nik, phone=phone), name=name, territory=territory)


def secret_from_env(environ: dict[str, str] | None = None) -> Pseudonymizer | None:
    """A `Pseudonymizer` from `COMMUNITY_POLICING_SECRET` or the file `COMMUNITY_POLICING_SECRET_FILE` names.

    None when neither is set; `SecretError` when the secret is unusable: too short or only whitespace, or a file
    that cannot be read, is not a regular file, is longer than `MAX_SECRET_FILE_BYTES`, or can be read by other
    users than its owner (as ssh refuses such a key: ``chmod 600`` it).
    """
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV)
    if value:
        return Pseudonymizer(value)
    path = env.get(SECRET_FILE_ENV)
    if path:
        return Pseudonymizer(_secret_file(path))
    return None


MAX_SECRET_FILE_BYTES = 4096
"""The longest secret file read; a longer one is not a secret file (``/dev/zero`` would never end)."""


def _secret_file(path: str) -> bytes:
    where = f"{SECRET_FILE_ENV}={path}"
    try:
        with open(path, "rb") as handle:
            facts = os.fstat(handle.fileno())
            if not stat.S_ISREG(facts.st_mode):
                raise SecretError(f"{where} is not a regular file")
            if os.name == "posix" and facts.st_mode & 0o077:
                raise SecretError(
                    f"{where} can be read by other users (mode {stat.S_IMODE(facts.st_mode):04o}); make it readable by"
                    f" its owner only: chmod 600 {path}"
                )
            text = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as error:
        raise SecretError(f"cannot read {where}: {error.strerror}") from None
    if len(text) > MAX_SECRET_FILE_BYTES:
        raise SecretError(f"{where} is longer than {MAX_SECRET_FILE_BYTES} bytes; a secret file holds one secret")
    return text.rstrip(b"\r\n")
