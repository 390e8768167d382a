"""Remove credentials from anything an alert carries out of the process.

Audit records are full of secrets that should never have been logged: a
``password`` field in a failed form post, an ``Authorization`` header copied
into a request log, ``token=...`` in a query string. An alert goes to Slack, to
third-party webhooks and to dead-letter topics, so evidence and free text pass
through a :class:`Redactor` first.

Two things are redacted:

* the value under a dict key that looks sensitive, at any depth. A key is
  normalised (lower-cased, everything but letters and digits removed) and is
  sensitive when it contains a sensitive pattern, also normalised: ``X-API-Key``,
  ``api_key`` and ``apiKey`` all contain ``apikey``. Whatever the value is
  (a string, a number, a nested dict) it becomes ``"[REDACTED]"``.
* ``key=value`` and ``key: value`` pairs inside strings whose key looks
  sensitive, including quoted JSON (``"password": "x"``), HTTP auth schemes
  (``Authorization: Bearer x``) and passwords in URLs (``https://u:x@host``).
  An unquoted value ends at white space or at one of ``, ; & " ' } ]``, so
  that the structure around it (a query string, a JSON-ish object) survives.

Matching is deliberately greedy: a false positive costs one hidden field, a
false negative leaks a credential to every receiver.

>>> redact({"user": "alice", "Password": "hunter2", "headers": {"X-Api-Key": 42}})
{'user': 'alice', 'Password': '[REDACTED]', 'headers': {'X-Api-Key': '[REDACTED]'}}
>>> redact_text("login failed for alice password=hunter2 from 203.0.113.7")
'login failed for alice password=[REDACTED] from 203.0.113.7'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from alerts.errors import AlertConfigError

__all__ = ["DEFAULT_SENSITIVE_KEYS", "REDACTED", "Redactor", "redact", "redact_text"]

REDACTED = "[REDACTED]"

DEFAULT_SENSITIVE_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "api_key",
    "authorization",
    "cookie",
    "credential",
    "private_key",
    "access_key",
    "session_key",
)

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# user:password@ in a URL: the user stays, the password goes. Possessive
# quantifiers and the look-behind keep matching linear in the text's length.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://[^/\s:@]++:)[^/\s@]++(?P<tail>@)", re.I
)
# A key and a separator, then (looked for only after a sensitive key) a value.
# The key is a whole token, optionally quoted; whether it is sensitive is
# decided by Redactor.is_sensitive, as for dict keys. An HTTP auth scheme keeps
# its name; only the credential after it is hidden. A bare value that already
# reads "[REDACTED]" is matched whole, so that redacting twice changes nothing.
_KEY = re.compile(r"""(?<![\w.-])["']?(?P<key>[\w.-]++)["']?\s*+[:=]\s*+""")
_VALUE = re.compile(
    r""""(?P<dq>[^"]*+)"?
      |'(?P<sq>[^']*+)'?
      |(?>(?:bearer|basic|digest|token|negotiate)\s++)?
       (?P<bare>\[REDACTED\](?=[\s,;&"'}\]]|$)|[^\s,;&"'}\]]++)""",
    re.IGNORECASE | re.VERBOSE,
)


def _normalise(key: str) -> str:
    return _NOT_ALNUM.sub("", key.lower())


class Redactor:
    """Redacts sensitive keys and ``key=value`` text; see the module docstring.

    ``extra_keys`` adds patterns to :data:`DEFAULT_SENSITIVE_KEYS` (for example
    the name of a field one source uses for its own credentials).
    """

    def __init__(self, extra_keys: Iterable[str] = ()) -> None:
        patterns: list[str] = []
        for raw in (*DEFAULT_SENSITIVE_KEYS, *extra_keys):
            normalised = _normalise(raw)
            if not normalised:
                raise AlertConfigError(
                    f"redact key {raw!r} has no letters or digits; "
                    "give a field name such as 'ssn' or 'api_key'"
                )
            if normalised not in patterns:
                patterns.append(normalised)
        self.patterns: tuple[str, ...] = tuple(patterns)

    def __repr__(self) -> str:
        return f"Redactor(patterns={self.patterns!r})"

    def is_sensitive(self, key: str) -> bool:
        """Whether the value under ``key`` must be hidden."""
        normalised = _normalise(key)
        return any(pattern in normalised for pattern in self.patterns)

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` with sensitive dict values and text secrets replaced.

        Dicts, lists and tuples are walked; strings are passed through
        :meth:`redact_text`; other values are returned unchanged.
        """
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {
                key: REDACTED if self.is_sensitive(str(key)) else self.redact(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.redact(item) for item in value)
        return value

    def redact_text(self, text: str) -> str:
        """``text`` with the values of sensitive ``key=value`` pairs replaced."""
        text = _URL_PASSWORD.sub(rf"\g<head>{REDACTED}\g<tail>", text)
        out: list[str] = []
        pos = 0
        while (key := _KEY.search(text, pos)) is not None:
            value = _VALUE.match(text, key.end()) if self.is_sensitive(key["key"]) else None
            if value is None:
                # Not a secret; its value may itself start a pair ("user=password=x").
                out.append(text[pos : key.end()])
                pos = key.end()
                continue
            group = next(g for g in ("dq", "sq", "bare") if value[g] is not None)
            start, end = value.span(group)
            out.append(text[pos:start])
            out.append(REDACTED)
            pos = end
        out.append(text[pos:])
        return "".join(out)


_DEFAULT = Redactor()


def redact(value: Any) -> Any:
    """Redact ``value`` with the default patterns; see :meth:`Redactor.redact`."""
    return _DEFAULT.redact(value)


def redact_text(text: str) -> str:
    """Redact ``text`` with the default patterns; see :meth:`Redactor.redact_text`."""
    return _DEFAULT.redact_text(text)
