"""What an auth syslog message says: the message part of an sshd, PAM, sudo or
su line, after the syslog header, mapped to an action, category and outcome.

One attempt is often logged by several programs: a failed sshd password is
``pam_unix(sshd:auth): authentication failure`` and then ``Failed password``;
an unknown user is also ``Invalid user`` before that. To count each attempt
once, only the line that records the attempt itself is an ``authentication``
event; the other views of it are kept with their own action but ``category``
``other``. A rule that counts failed logins (``category: authentication``,
``outcome: failure``) thus counts ``ssh_login`` failures once each.

=============================================  ==========================  ==============  =========
message                                        action                      category        outcome
=============================================  ==========================  ==============  =========
sshd ``Accepted <method> for U from A``        ssh_login                   authentication  success
sshd ``Failed <method> for [invalid user] U``  ssh_login                   authentication  failure
sshd ``Invalid user U from A``                 ssh_invalid_user            other           failure
sshd ``Disconnecting: Too many authentication  ssh_max_auth_attempts       other           failure
failures`` / ``maximum authentication
attempts exceeded``
sshd ``Connection closed by`` / ``Received     ssh_disconnect              other           unknown
disconnect`` / ``Disconnected from``
sshd ``reverse mapping checking ... POSSIBLE   ssh_reverse_mapping_failed  other           unknown
BREAK-IN ATTEMPT!``
``pam_unix(S:auth): authentication failure``   pam_auth_failure            authentication  failure
                                                                           (other if S is
                                                                           sshd or su)
``PAM N more authentication failures``         pam_auth_failure_summary    other           failure
``pam_unix(S:session): session opened``        session_open                other           success
(``closed``)                                   (session_close)
``pam_unix(S:chauthtok): password changed``    password_change             account_change  success
sudo ``U : TTY=... ; USER=R ; COMMAND=C``      sudo_command                authorization   success
sudo ``U : <reason> ; TTY=...``                sudo_command                authorization   failure
su ``(to R) U on T`` / ``FAILED SU (to R) U``  su                          authentication  success /
                                                                                           failure
useradd / groupadd / userdel / groupdel /      user_add, group_add,        account_change  success
usermod                                        user_delete,
                                               group_delete,
                                               user_group_add,
                                               password_change
any other sshd message                         sshd_message                other           unknown
any other message                              syslog_message              other           unknown
=============================================  ==========================  ==============  =========

sshd lines other than PAM's have origin.system ``linux.sshd``; everything else
is ``linux.auth``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from detectors.events import Category, Outcome

__all__ = ["SSHD_PROGRAMS", "Interpretation", "interpret"]

SSHD_PROGRAMS = frozenset({"sshd", "sshd-session", "sshd-auth"})
_PAM_SELF_LOGGING = frozenset({"sshd", "su"})
"""PAM services whose program logs each attempt itself, so PAM's line is a second view."""


@dataclass(frozen=True, slots=True)
class Interpretation:
    """The meaning of one syslog message."""

    action: str
    category: Category = Category.OTHER
    outcome: Outcome = Outcome.UNKNOWN
    system: str = "linux.auth"
    user: str | None = None
    address: str | None = None
    host_name: str | None = None
    authenticated_as: str | None = None
    reason: str | None = None
    resource: tuple[str, str] | None = None
    details: dict[str, Any] = field(default_factory=dict)


_Handler = Callable[[re.Match[str]], Interpretation]

_ACCEPTED_FAILED = re.compile(
    r"^(?P<verdict>Accepted|Failed) (?P<method>\S+) for (?P<invalid>invalid user )?"
    r"(?P<user>.*?) from (?P<addr>\S+) port (?P<port>\d+)"
    r"(?: (?P<proto>ssh2?))?(?:: (?P<key>.*))?$"
)
_INVALID_USER = re.compile(r"^[Ii]nvalid user (?P<user>.*?) from (?P<addr>\S+)(?: port (?P<port>\d+))?$")
_TOO_MANY = re.compile(
    r"^(?:Disconnecting(?: \S+ user \S+ \S+ port \d+)?: Too many authentication failures"
    r"(?: for (?:invalid user )?(?P<user>\S+))?"
    r"|error: maximum authentication attempts exceeded for (?:invalid user )?(?P<user2>\S+)"
    r" from (?P<addr>\S+) port (?P<port>\d+)).*$"
)
_DISCONNECT = re.compile(
    r"^(?:Connection closed by|Received disconnect from|Disconnected from|Connection reset by)"
    r" (?:(?:invalid |authenticating )?user (?P<user>\S+) )?(?P<addr>[^\s:]+|\[[^\]]+\])"
    r"(?: port (?P<port>\d+))?.*$"
)
_REVERSE = re.compile(r"^reverse mapping checking getaddrinfo for (?P<host>\S+) \[(?P<addr>[^\]]+)\] failed")
_PAM = re.compile(r"^pam_unix\((?P<service>[^:)]+):(?P<kind>\w+)\): (?P<body>.*)$")
_PAM_AUTH_FAILURE = re.compile(r"^authentication failure;.*?\brhost=(?P<rhost>\S*)(?:\s+user=(?P<user>\S+))?")
_PAM_MORE = re.compile(
    r"^PAM (?P<count>\d+) more authentication failures?;.*?\brhost=(?P<rhost>\S*)"
    r"(?:\s+user=(?P<user>\S+))?"
)
_PAM_SESSION = re.compile(
    r"^session (?P<state>opened|closed) for user (?P<user>[^\s(]+)(?:\(uid=\d+\))?"
    r"(?: by (?P<by>[^\s(]*)\(uid=\d+\))?"
)
_PAM_PASSWORD = re.compile(r"^password changed for (?P<user>\S+)")
_SU_OK = re.compile(
    r"^(?:\(to (?P<to>\S+)\) (?P<user>\S+) on \S+"
    r"|Successful su for (?P<to2>\S+) by (?P<user2>\S+))$"
)
_SU_FAILED = re.compile(
    r"^(?:FAILED SU \(to (?P<to>\S+)\) (?P<user>\S+) on \S+"
    r"|FAILED su for (?P<to2>\S+) by (?P<user2>\S+))$"
)
_ACCOUNT_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^new user: name=(?P<name>[^,\s]+)"), "user_add", "user"),
    (re.compile(r"^new group: name=(?P<name>[^,\s]+)"), "group_add", "group"),
    (re.compile(r"^delete user '(?P<name>[^']+)'"), "user_delete", "user"),
    (re.compile(r"^group '(?P<name>[^']+)' removed"), "group_delete", "group"),
    (
        re.compile(r"^add '(?P<name>[^']+)' to (?:shadow )?group '(?P<group>[^']+)'"),
        "user_group_add",
        "user",
    ),
    (re.compile(r"^change user '(?P<name>[^']+)' password"), "password_change", "user"),
)


def interpret(program: str, message: str) -> Interpretation:
    """The meaning of ``message`` as logged by ``program`` (never raises)."""
    if message.startswith("pam_unix("):
        match = _PAM.match(message)
        if match is not None:
            return _pam(program, match)
    if program in SSHD_PROGRAMS:
        return _sshd(message)
    if program == "sudo":
        return _sudo(message)
    if program == "su":
        return _su(message)
    if message.startswith("PAM ") and (match := _PAM_MORE.match(message)) is not None:
        return _pam_more(match)
    for pattern, action, kind in _ACCOUNT_PATTERNS:
        match = pattern.match(message)
        if match is not None:
            details = {"group": match["group"]} if "group" in match.groupdict() else {}
            return Interpretation(
                action,
                Category.ACCOUNT_CHANGE,
                Outcome.SUCCESS,
                resource=(kind, match["name"]),
                details=details,
            )
    return Interpretation("syslog_message")


def _sshd(message: str) -> Interpretation:
    for prefix, pattern, handler in _SSHD_TABLE:
        if message.startswith(prefix):
            match = pattern.match(message)
            if match is not None:
                return handler(match)
    return Interpretation("sshd_message", system="linux.sshd")


def _login(match: re.Match[str]) -> Interpretation:
    accepted = match["verdict"] == "Accepted"
    invalid = match["invalid"] is not None
    method = match["method"]
    details: dict[str, Any] = {"auth_method": method, "port": int(match["port"])}
    if invalid:
        details["invalid_user"] = True
    if match["key"]:
        details["key"] = match["key"]
    if accepted:
        reason = None
    elif invalid:
        reason = "invalid user"
    else:
        reason = f"failed {method}"
    return Interpretation(
        "ssh_login",
        Category.AUTHENTICATION,
        Outcome.SUCCESS if accepted else Outcome.FAILURE,
        system="linux.sshd",
        user=match["user"],
        address=match["addr"],
        reason=reason,
        details=details,
    )


def _invalid_user(match: re.Match[str]) -> Interpretation:
    details: dict[str, Any] = {"invalid_user": True}
    if match["port"]:
        details["port"] = int(match["port"])
    return Interpretation(
        "ssh_invalid_user",
        outcome=Outcome.FAILURE,
        system="linux.sshd",
        user=match["user"],
        address=match["addr"],
        reason="invalid user",
        details=details,
    )


def _too_many(match: re.Match[str]) -> Interpretation:
    return Interpretation(
        "ssh_max_auth_attempts",
        outcome=Outcome.FAILURE,
        system="linux.sshd",
        user=match["user"] or match["user2"],
        address=match["addr"],
        reason="too many authentication failures",
    )


def _disconnect(match: re.Match[str]) -> Interpretation:
    details = {"port": int(match["port"])} if match["port"] else {}
    return Interpretation(
        "ssh_disconnect",
        system="linux.sshd",
        user=match["user"],
        address=match["addr"].strip("[]"),
        details=details,
    )


def _reverse(match: re.Match[str]) -> Interpretation:
    return Interpretation(
        "ssh_reverse_mapping_failed",
        system="linux.sshd",
        address=match["addr"],
        host_name=match["host"],
        reason="reverse DNS of the client does not map back to its address",
    )


def _pam(program: str, match: re.Match[str]) -> Interpretation:
    service, kind, body = match["service"], match["kind"], match["body"]
    details = {"pam_service": service}
    if kind == "auth" and (failure := _PAM_AUTH_FAILURE.match(body)) is not None:
        counted_elsewhere = service in _PAM_SELF_LOGGING or program in SSHD_PROGRAMS
        return Interpretation(
            "pam_auth_failure",
            Category.OTHER if counted_elsewhere else Category.AUTHENTICATION,
            Outcome.FAILURE,
            user=failure["user"],
            address=failure["rhost"] or None,
            reason="authentication failure",
            details=details,
        )
    if kind == "session" and (session := _PAM_SESSION.match(body)) is not None:
        opened = session["state"] == "opened"
        by = session["by"] or None
        user = session["user"]
        return Interpretation(
            "session_open" if opened else "session_close",
            outcome=Outcome.SUCCESS,
            user=by if by and by != user else user,
            authenticated_as=user if by and by != user else None,
            details=details,
        )
    if kind == "chauthtok" and (changed := _PAM_PASSWORD.match(body)) is not None:
        return Interpretation(
            "password_change",
            Category.ACCOUNT_CHANGE,
            Outcome.SUCCESS,
            user=changed["user"],
            resource=("user", changed["user"]),
            details=details,
        )
    return Interpretation("pam_message", details=details)


def _pam_more(match: re.Match[str]) -> Interpretation:
    return Interpretation(
        "pam_auth_failure_summary",
        outcome=Outcome.FAILURE,
        user=match["user"],
        address=match["rhost"] or None,
        reason=f"{match['count']} more authentication failures",
        details={"count": int(match["count"])},
    )


_SSHD_TABLE: tuple[tuple[str, re.Pattern[str], _Handler], ...] = (
    ("Accepted ", _ACCEPTED_FAILED, _login),
    ("Failed ", _ACCEPTED_FAILED, _login),
    ("Invalid user ", _INVALID_USER, _invalid_user),
    ("invalid user ", _INVALID_USER, _invalid_user),
    ("Disconnecting", _TOO_MANY, _too_many),
    ("error: maximum authentication", _TOO_MANY, _too_many),
    ("Connection closed by ", _DISCONNECT, _disconnect),
    ("Connection reset by ", _DISCONNECT, _disconnect),
    ("Received disconnect from ", _DISCONNECT, _disconnect),
    ("Disconnected from ", _DISCONNECT, _disconnect),
    ("reverse mapping checking", _REVERSE, _reverse),
    ("PAM ", _PAM_MORE, _pam_more),
)


_SUDO_KEYS = {"USER": "run_as", "GROUP": "run_as_group"}


def _sudo(message: str) -> Interpretation:
    """``user : [reason ;] TTY=... ; PWD=... ; USER=... ; COMMAND=...``."""
    head, sep, rest = message.partition(" : ")
    user = head.strip()
    if not sep or not user or " " in user:
        return Interpretation("syslog_message")
    fields: dict[str, str] = {}
    reasons: list[str] = []
    parts = rest.split(" ; ")
    for index, part in enumerate(parts):
        key, eq, value = part.strip().partition("=")
        if key == "COMMAND" and eq:
            fields["COMMAND"] = " ; ".join([value, *parts[index + 1 :]])
            break
        if eq and key.isupper():
            fields[key] = value
        elif part.strip():
            reasons.append(part.strip())
    if "COMMAND" not in fields and "USER" not in fields:
        return Interpretation("syslog_message")
    reason = "; ".join(reasons) or None
    details = {_SUDO_KEYS.get(key, key.lower()): value for key, value in fields.items() if key != "COMMAND"}
    command = fields.get("COMMAND")
    return Interpretation(
        "sudo_command",
        Category.AUTHORIZATION,
        Outcome.FAILURE if reason else Outcome.SUCCESS,
        user=user,
        authenticated_as=fields.get("USER"),
        reason=reason,
        resource=("command", command) if command else None,
        details=details,
    )


def _su(message: str) -> Interpretation:
    for pattern, outcome in ((_SU_OK, Outcome.SUCCESS), (_SU_FAILED, Outcome.FAILURE)):
        match = pattern.match(message)
        if match is not None:
            return Interpretation(
                "su",
                Category.AUTHENTICATION,
                outcome,
                user=match["user"] or match["user2"],
                authenticated_as=match["to"] or match["to2"],
                reason="su failed" if outcome is Outcome.FAILURE else None,
            )
    return Interpretation("syslog_message")
