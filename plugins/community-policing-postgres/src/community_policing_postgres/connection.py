"""PostgreSQL store URLs, opening connections, and translating driver errors into the library's error family."""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from collections.abc import Iterator

import attrs
import psycopg
import psycopg.errors
import psycopg_pool

from community_policing.errors import ConflictError, StoreError, StoreUnavailable
from community_policing.urls import mask_url, scrub_secrets
from community_policing_postgres import DEFAULT_SCHEMA, SCHEMES

__all__ = ["DEFAULT_SCHEMA", "SCHEMES", "Location", "driver_errors", "location_of", "translated"]

_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")
CONNECT_SECONDS = 10


@attrs.frozen
class Location:
    """Where a store lives: the libpq connection URI (without ``schema``), the schema, and the URL to show."""

    conninfo: str
    schema: str
    shown: str
    raw: str  # the URL as given, only for scrubbing its secrets out of driver messages


def location_of(url: str) -> Location:
    """Parse ``postgresql://[user[:password]@]host[:port]/dbname[?schema=NAME]``; `StoreUnavailable` when malformed.

    Other query parameters are libpq's own (``sslmode``, ``connect_timeout``, ...) and are passed on to it.
    """
    shown = mask_url(url)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise StoreUnavailable(f"not a PostgreSQL URL: {shown}; write postgresql://user@host:5432/dbname")
    parts = urllib.parse.urlsplit("postgresql://" + rest)
    if parts.fragment:
        raise StoreUnavailable(f"PostgreSQL URL {shown} has a fragment (#...); remove it")
    if not parts.path.strip("/"):
        raise StoreUnavailable(f"PostgreSQL URL {shown} names no database; write e.g. postgresql://host/dbname")
    if "/" in parts.path.strip("/"):
        raise StoreUnavailable(f"PostgreSQL URL {shown}: the path must be just the database name")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    if len(schemas) > 1:
        raise StoreUnavailable(f"PostgreSQL URL {shown} names the schema more than once")
    schema = schemas[0] if schemas else DEFAULT_SCHEMA
    if not _SCHEMA.fullmatch(schema):
        raise StoreUnavailable(
            f"PostgreSQL URL {shown}: schema {schema[:70]!r} is not a plain lower-case name"
            " (letters a-z, digits and _, not starting with a digit, at most 63 characters)"
        )
    others = urllib.parse.urlencode([(n, v) for n, v in query if n != "schema"])
    conninfo = urllib.parse.urlunsplit(("postgresql", parts.netloc, parts.path, others, ""))
    return Location(conninfo=conninfo, schema=schema, shown=shown, raw=url)


_WRITES = frozenset({"write", "enqueue notices", "record a delivery attempt"})  # the actions that write
# How libpq reports a server that answered a connection and refused it (``FATAL:  database "x" does not exist``);
# a server that sends its messages in another language may not say it so, and gets the general message.
_REFUSED = "failed: FATAL:"


def translated(error: Exception, location: Location, action: str) -> StoreError:
    """The `StoreError` that says what a driver `error`, raised while doing `action`, means; secrets masked."""
    text = scrub_secrets(str(error).strip() or type(error).__name__, location.raw)
    where = f"{location.shown}: {action} failed"
    if isinstance(error, psycopg_pool.PoolTimeout):
        return StoreUnavailable(f"{where}: no connection to the server became free or could be made ({text})")
    if isinstance(error, psycopg.errors.UniqueViolation):
        return ConflictError("record", (), f"{where}: a row is already stored ({text}); nothing was written")
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        kept = " nothing of this write was kept," if action in _WRITES else ""  # a read has nothing to keep
        if _REFUSED in text:  # the server answered, and refused: no such database or role, a password, too busy
            return StoreUnavailable(
                f"{where}: the PostgreSQL server refused the connection ({text});{kept} check the URL's database,"
                " user and password, and try again"
            )
        return StoreUnavailable(
            f"{where}: the PostgreSQL server is unavailable or dropped the connection ({text});{kept} try again"
        )
    if isinstance(error, psycopg.errors.QueryCanceled):
        return StoreUnavailable(f"{where}: the server cancelled the statement ({text}); try again")
    return StoreError(f"{where}: {text}")


@contextlib.contextmanager
def driver_errors(location: Location, action: str) -> Iterator[None]:
    """Translate psycopg's errors raised inside the block into the `StoreError` family (see `translated`)."""
    try:
        yield
    except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
        raise translated(error, location, action) from error
