"""Log Collector dumps (``<Name>_<guid>.json`` at the top of the zip, formats.md §1.3), read for what they are.

Most dumps are JSON, but not all: ``HotFixes_<guid>.json`` holds the Windows hotfix list as plain text
(``KB5034439, KB5034129``), one or more ids per line. Such a text list is read as a list of strings, not
reported as broken; only a dump that starts like JSON and does not parse (or cannot be decoded) is a file
issue, because then data really is missing.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: One item of a text list: anything between commas, semicolons or line breaks.
_ITEM_SEPARATORS = re.compile(r"[,;\r\n]+")


def read_dump(name: str, data: bytes) -> tuple[Any, str]:
    """The content of one dump and the inventory note saying how it was read.

    Raises :class:`ValueError` (``json.JSONDecodeError``) for a dump that starts like JSON but is broken.
    """
    text = data.decode("utf-8-sig", errors="replace")
    stripped = text.strip()
    if not stripped:
        return None, f"Log Collector dump {name}: empty"
    try:
        return json.loads(stripped), f"Log Collector dump {name}, read as bundle metadata"
    except json.JSONDecodeError:
        if stripped[0] in "{[\"":
            raise
    items = [item.strip() for item in _ITEM_SEPARATORS.split(stripped) if item.strip()]
    return items, f"Log Collector dump {name}: a plain text list of {len(items)} item(s), read as bundle metadata"
