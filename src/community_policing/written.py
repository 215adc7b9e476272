"""Keys written so far, as a Bloom filter: lookups a writer or a reader can skip for keys it never wrote."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["WrittenKeys"]


class WrittenKeys:
    """Keys a transaction wrote, as a Bloom filter: no false negatives, and few false positives (under 1 % up to
    3 million keys with the default 8 MiB, 8 % at 10 million).

    A store that held none of these keys when its write transaction began (a new file, an empty schema) knows that a
    key the transaction never wrote is not stored: it looks up only the keys `maybe` gives, and a first load of a
    million residents asks the database about almost none of them. Memory is fixed, whatever the number of keys.
    Hashes are Python's own (`hash`), the same for a string throughout one process, which is all a filter needs.
    """

    def __init__(self, bits: int = 1 << 26) -> None:
        if bits < 8 or bits & (bits - 1):
            raise ValueError(f"bits must be a power of two, at least 8 (got {bits})")
        self._mask = bits - 1
        self._bits = bytearray(bits >> 3)

    def add(self, keys: Iterable[str]) -> None:
        """Note that `keys` were written."""
        self.maybe_add(keys)

    def maybe(self, keys: Iterable[str]) -> list[str]:
        """The `keys` that may have been written: every one that was, and a few others."""
        bits, mask = self._bits, self._mask
        found = []
        for key in keys:
            code = hash(key)
            low, high = code & mask, (code >> 32) & mask
            if bits[low >> 3] >> (low & 7) & 1 and bits[high >> 3] >> (high & 7) & 1:
                found.append(key)
        return found

    def maybe_add(self, keys: Iterable[str]) -> list[str]:
        """Each of `keys` asked about (`maybe`), then noted (`add`), in turn: one pass where a writer notes every key
        it asks about. A key that comes twice in `keys` is found the second time."""
        bits, mask = self._bits, self._mask
        found = []
        for key in keys:
            code = hash(key)
            low, high = code & mask, (code >> 32) & mask
            low_bit, high_bit = 1 << (low & 7), 1 << (high & 7)
            low_byte, high_byte = bits[low >> 3], bits[high >> 3]
            if low_byte & low_bit and high_byte & high_bit:
                found.append(key)
            else:
                bits[low >> 3] = low_byte | low_bit
                bits[high >> 3] |= high_bit
        return found
