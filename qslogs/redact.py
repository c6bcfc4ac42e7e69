"""``--redact``: user names, user directories, host names and IP addresses → stable pseudonyms.

Redaction runs on the *data* (findings and tables) before anything is rendered, so no template,
chart or JSON block can leak an original. Names are learnt from the bundle's structured columns
(``UserId``, ``UserDirectory``, ``Hostname``, ``ClientIp``, …) and from the results' own keys
(``host``, ``user``, …), then replaced everywhere, inside free text too (root-cause lines,
messages, file names like ``SENSE01_System_Repository.txt``). Patterns catch what no column named:
``DIRECTORY\\user`` after a known directory, ``UserId=…``, e-mail and IP addresses.

Pseudonyms are numbered (``user-03``, ``host-01``, ``dir-01``, ``ip-02``, ``domain-01``) in the order of
a keyed HMAC of each name, so the numbers reveal nothing (not even alphabetical order). The key is
random per report unless a seed is given (``--redact-seed``), which makes the output reproducible.
Qlik's built-in ``INTERNAL`` accounts (``sa_scheduler``, …), loopback addresses and version numbers
that look like IPv4 addresses are kept, as they identify no one and help reading the report.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

import polars as pl

from qslogs.analyses.result import Result
from qslogs.jsonable import result_tables

KINDS = {"user": "user", "dir": "dir", "host": "host", "ip": "ip", "domain": "domain", "email": "email",
         "input": "input"}
#: What a pseudonym looks like: never learnt as a name, so redacting twice changes nothing.
_PSEUDONYM = re.compile(
    "(?:" + "|".join(KINDS) + r")-\d{2,}(?:\.example\.invalid)?|example\.invalid", re.IGNORECASE
)
#: Values never treated as names: Qlik placeholders and the built-in directory.
NOT_NAMES = frozenset(
    {
        "",
        "internal",
        "not available",
        "n/a",
        "none",
        "null",
        "system",
        "anonymous",
        "-",
        "0",
        "localhost",
        "127.0.0.1",
        "::1",
        "0.0.0.0",
        "sa_scheduler",
        "sa_repository",
        "sa_proxy",
        "sa_engine",
        "sa_api",
        "sa_hub",
        "sa_printing",
    }
)
#: Words that are user ids too often to be replaced in free text (still replaced as whole values).
COMMON_WORDS = frozenset(
    {
        "qlik",
        "sense",
        "admin",
        "administrator",
        "service",
        "services",
        "user",
        "users",
        "engine",
        "proxy",
        "repository",
        "scheduler",
        "printing",
        "hub",
        "test",
        "default",
    }
)
USER_KEYS = frozenset(
    {
        "user",
        "userid",
        "user_id",
        "username",
        "user_name",
        "executed_by",
        "activeuserid",
        "authuser",
        "owner",
        "modified_by",
        "modifiedbyusername",
    }
)
DIR_KEYS = frozenset({"userdirectory", "user_directory", "directory", "activeuserdirectory"})
HOST_KEYS = frozenset(
    {"host", "hostname", "node", "hosts", "executingnodename", "targethost", "node_name", "server"}
)
IP_KEYS = frozenset({"ip", "ipaddress", "clientip", "client_ip", "clienthostaddress", "ip_address"})

_IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
_IPV6 = (
    r"(?<![\w:.])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?)(?![\w:])"
)
_EMAIL = r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_KEYED = r"(?i:\b(?P<kkey>UserId|UserDirectory|User)=)(?P<kval>[^;,\s'\"]+)"
_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation for many literals, factored as a trie so matching stays fast."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return body + "?" if ends else body

    return walk(trie)


@dataclass
class Redactor:
    """Learns names, then replaces them in strings and nested JSON-ready values."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    names: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    safe: set[str] = field(default_factory=set)
    pseudonyms: dict[tuple[str, str], str] = field(default_factory=dict)
    _regex: re.Pattern[str] | None = None
    _cache: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, seed: str | None = None) -> Redactor:
        """A redactor with a random key, or one derived from ``seed`` for reproducible reports."""
        if seed is None:
            return cls()
        return cls(key=hashlib.sha256(b"qslogs-redact:" + seed.encode("utf-8")).digest())

    # -- learning -----------------------------------------------------------------------------
    def add(self, kind: str, value: Any) -> None:
        """Remember one name of a kind (user, dir, host, ip); placeholders are ignored."""
        if not isinstance(value, str):
            return
        text = value.strip()
        if _PSEUDONYM.fullmatch(text):
            return
        if kind == "user" and "\\" in text:
            directory, _, text = text.partition("\\")
            self.add("dir", directory)
        if kind == "host":
            text = re.sub(r":\d+$", "", text) if text.count(":") == 1 else text  # sense01:4244 → sense01
            if _is_ip(text):
                kind = "ip"
            elif "." in text:
                label, _, domain = text.partition(".")
                if domain and not domain.replace(".", "").isdigit():
                    self.add("domain", domain)
                text = label
        if text.lower() in NOT_NAMES or len(text) < 2:
            return
        self.names[kind].add(text.lower())
        self._regex = None

    def learn_values(self, value: Any, key: str = "") -> None:
        """Names from the results themselves: values under keys like ``host``, ``user``, ``ip``."""
        if isinstance(value, Mapping):
            for k, v in value.items():
                self.learn_values(v, str(k))
            return
        if isinstance(value, list | tuple):
            for v in value:
                self.learn_values(v, key)
            return
        if not isinstance(value, str):
            return
        low = key.lower()
        if "version" in low:
            self.safe.add(value.lower())
        kind = (
            "host"
            if low in HOST_KEYS
            else "user"
            if low in USER_KEYS
            else "dir"
            if low in DIR_KEYS
            else "ip"
            if low in IP_KEYS
            else None
        )
        if kind:
            for part in value.split(", ") if low == "hosts" else [value]:
                self.add(kind, part)

    # -- replacing ----------------------------------------------------------------------------
    def pseudonym(self, kind: str, original: str) -> str:
        """The stable pseudonym of one name (numbered in keyed-HMAC order among the learnt names)."""
        low = original.lower()
        if not self.pseudonyms:
            self._number()
        found = self.pseudonyms.get((kind, low))
        if found is None:
            count = sum(1 for k, _ in self.pseudonyms if k == kind) + 1
            found = self.pseudonyms[(kind, low)] = f"{KINDS[kind]}-{count:02d}"
        return found

    def _number(self) -> None:
        for kind, values in self.names.items():
            ranked = sorted(values, key=lambda v: self._rank(kind, v))
            for i, value in enumerate(ranked, 1):
                self.pseudonyms[(kind, value)] = f"{KINDS[kind]}-{i:02d}"

    def _rank(self, kind: str, value: str) -> bytes:
        return hmac.new(self.key, f"{kind}:{value}".encode(), "sha256").digest()

    def _compile(self) -> re.Pattern[str]:
        if self._regex is None:
            self.pseudonyms.clear()
            self._cache.clear()
            parts = []
            if self.names["dir"]:
                parts.append(
                    f"{_B}(?P<dir>{_trie_pattern(self.names['dir'])})\\\\(?P<duser>[^\\s'\"\\\\;,)]+)"
                )
            parts += [_KEYED, f"(?P<email>{_EMAIL})", f"(?P<ip>{_IPV4}|{_IPV6})"]
            if self.names["host"]:
                parts.append(
                    f"{_B}(?P<host>{_trie_pattern(self.names['host'])})(?P<fqdn>(?:\\.[A-Za-z0-9-]+)*){_E}"
                )
            for kind in ("input", "domain", "user", "ip"):
                words = self.names[kind] - (COMMON_WORDS if kind == "user" else set())
                if words:
                    parts.append(f"{_B}(?P<{kind}_lit>{_trie_pattern(words)}){_E}")
            if self.names["dir"]:
                parts.append(f"{_B}(?P<dir_lit>{_trie_pattern(self.names['dir'])}){_E}")
            self._regex = re.compile("|".join(parts), re.IGNORECASE)
        return self._regex

    def text(self, value: str) -> str:
        """One string with every name replaced."""
        regex = self._compile()
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        low = value.strip().lower()
        if low in self.names["user"] and low not in NOT_NAMES:
            out = self.pseudonym("user", low)  # a whole value that is a user id, common word or not
        else:
            out = regex.sub(self._replace, value)
        self._cache[value] = out
        return out

    def _replace(self, m: re.Match[str]) -> str:
        g = m.groupdict()
        if g.get("dir") is not None:
            user = g["duser"]
            keep = user.lower() in NOT_NAMES
            return f"{self.pseudonym('dir', g['dir'])}\\{user if keep else self.pseudonym('user', user)}"
        if g.get("kkey") is not None:
            kind = "dir" if g["kkey"].lower() == "userdirectory" else "user"
            val = g["kval"]
            return m.group(0) if val.lower() in NOT_NAMES else f"{g['kkey']}={self.pseudonym(kind, val)}"
        if g.get("email") is not None:
            return f"{self.pseudonym('email', g['email'])}@example.invalid"
        if g.get("ip") is not None:
            ip = g["ip"]
            keep = ip.lower() in self.safe or ip.lower() in NOT_NAMES or not _is_ip(ip)
            return ip if keep else self.pseudonym("ip", ip)
        if g.get("host") is not None:
            return self.pseudonym("host", g["host"]) + (".example.invalid" if g["fqdn"] else "")
        for kind in ("input", "domain", "user", "ip", "dir"):
            if g.get(f"{kind}_lit") is not None:
                return self.pseudonym(kind, g[f"{kind}_lit"])
        return m.group(0)

    def source(self, path: str) -> str:
        """The pseudonym of an input for the report's Source line: ``input-01.zip``, ``input-02`` (a folder)."""
        name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        if _PSEUDONYM.fullmatch(name.rsplit(".", 1)[0]):
            return name
        suffix = name[name.rfind("."):] if "." in name[1:] else ""
        return self.pseudonym("input", name) + (suffix if suffix.lower() in (".zip", ".log", ".txt", ".qvd") else "")

    def value(self, value: Any) -> Any:
        """A JSON-ready value (dicts, lists, strings) with every string redacted, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def results(self, results: Mapping[str, Result]) -> dict[str, Result]:
        """Redacted copies of analysis results (findings and tables), after learning from them."""
        for result in results.values():
            self.learn_values(result_tables(result))
            for finding in result.findings:
                self.learn_values(finding.data)
        out: dict[str, Result] = {}
        for name, result in results.items():
            findings = [
                replace(f, title=self.text(f.title), detail=self.text(f.detail), data=self.value(f.data),
                        keys=tuple(self.text(k) for k in f.keys))
                for f in result.findings
            ]
            changes: dict[str, Any] = {
                f.name: self._field(getattr(result, f.name)) for f in fields(result) if f.name != "findings"
            }
            out[name] = replace(result, findings=tuple(findings), **changes)
        return out

    def _field(self, value: Any) -> Any:
        """A typed result's field redacted: a frame keeps its schema (only cell values change), a tuple stays a
        tuple and a small dataclass value (a capacity) stays its type, its fields redacted."""
        if isinstance(value, pl.DataFrame):
            if value.is_empty():
                return value
            rows = [{k: self._cells(v) for k, v in row.items()} for row in value.to_dicts()]
            return pl.DataFrame(rows, schema=value.schema)
        if isinstance(value, tuple):
            return tuple(self._field(v) for v in value)
        if is_dataclass(value) and not isinstance(value, type):
            return replace(value, **{f.name: self._field(getattr(value, f.name)) for f in fields(value)})
        return self.value(value)

    def _cells(self, value: Any) -> Any:
        """Cell values with every string redacted; struct field names are kept (they are schema)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self._cells(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._cells(v) for v in value]
        return value


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True
