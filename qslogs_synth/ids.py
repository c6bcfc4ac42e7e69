"""Deterministic identifiers (GUIDs, checksums, tickets) drawn from a seeded ``random.Random``.

Every id in a generated bundle comes from one of these helpers, so a seed fully determines the bytes.
GUIDs look like .NET ``Guid.NewGuid()`` output (version-4 layout, lower case).
"""

from __future__ import annotations

import random

_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_TICKET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


class Ids:
    """A source of ids backed by its own ``random.Random`` (kept separate from story randomness)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def guid(self) -> str:
        """A random version-4 style GUID, e.g. ``c8952224-7c81-4890-8ea1-fd4f0123b7b2``."""
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"

    def hex40(self) -> str:
        """40 lower-case hex digits: a ``Checksum`` cell or a ``Signature:`` trailer."""
        return f"{self.rng.getrandbits(160):040x}"

    def hex20(self) -> str:
        """20 upper-case hex digits: the undocumented part of a script-log file name."""
        return f"{self.rng.getrandbits(80):020X}"

    def ticket(self) -> str:
        """A 16-character proxy ticket such as ``1HklJV1ibsLVCTJ1``."""
        return "".join(self.rng.choices(_TICKET, k=16))

    def thread(self) -> int:
        """A plausible managed thread number."""
        return 5 + int(self.rng.random() * 106)

    def between(self, lo: int, hi: int) -> int:
        """A uniform int in ``[lo, hi]``; cheaper than ``randint`` on hot paths."""
        return lo + int(self.rng.random() * (hi - lo + 1))
