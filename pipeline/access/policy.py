"""The access policy file: roles and the permissions they allow, and who holds which role.

A small YAML, written by hand or proposed by ``auditwatch access review``::

    roles:
      engineer:
        description: builds and runs the services     # optional
        allow: [s3:GetObject, "s3:Put*", ec2:DescribeInstances]
      auditor:
        allow: ["logs:Get*"]
    members:
      alice: [engineer]
      bob: [engineer, auditor]

Patterns are those of ``pipeline.access.actions`` (``*`` is the only wildcard).
Unknown keys, a bad pattern and a member of an undefined role are errors that
name the file, the line and what to change (``ConfigError``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from detectors.yamlsource import SourceProblem, load_yaml_documents, problems_from_validation
from pipeline.access.actions import matches, pattern_problem
from pipeline.errors import ConfigError

__all__ = ["Policy", "Role", "load_policy"]


def _pattern(value: str) -> str:
    problem = pattern_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]


class Role(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    allow: tuple[Pattern, ...] = Field(default=(), description="Permission patterns, e.g. s3:Get*.")

    @field_validator("allow", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(f"allow must be a list, e.g. allow: [{value}]")
        return value


class Policy(BaseModel):
    """Roles and memberships; ``roles_of`` and ``granting_roles`` answer a review's questions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, Role] = Field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("members", mode="before")
    @classmethod
    def _member_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _known_roles(self) -> Policy:
        for principal, roles in self.members.items():
            for role in roles:
                if role not in self.roles:
                    defined = ", ".join(sorted(self.roles)) or "none"
                    raise _UnknownRole(principal, role, defined)
        return self

    def roles_of(self, principal: str) -> tuple[str, ...]:
        return self.members.get(principal, ())

    def granting_roles(self, principal: str, permission: str) -> list[str]:
        """The principal's roles whose patterns match the permission."""
        return [
            role
            for role in self.roles_of(principal)
            if any(matches(pattern, permission) for pattern in self.roles[role].allow)
        ]


class _UnknownRole(ValueError):
    def __init__(self, principal: str, role: str, defined: str) -> None:
        super().__init__(
            f"role {role!r} is not defined under roles: (defined: {defined}); add it or fix the name"
        )
        self.principal = principal


def load_policy(path: Path) -> Policy:
    """The policy in ``path``; ``ConfigError`` listing each problem as ``file:line: what to change``."""
    if not path.is_file():
        raise ConfigError(f"{path}: policy file not found")
    loaded = load_yaml_documents(path)
    if isinstance(loaded, SourceProblem):
        raise ConfigError(str(loaded) + _star_hint(path, loaded.line))
    if len(loaded) != 1 or not isinstance(loaded[0].data, dict):
        raise ConfigError(f"{path}: a policy must be a single YAML map with roles: and members:")
    document = loaded[0]
    try:
        return Policy.model_validate(document.data)
    except ValidationError as exc:
        problems = _problems(document, exc)
        raise ConfigError(f"invalid policy {path}:\n" + "\n".join(f"  {p}" for p in problems)) from None


_BARE_STAR = re.compile(r"(?:^|[\s\[,])\*")


def _star_hint(path: Path, line: int) -> str:
    """YAML reads an unquoted leading ``*`` as an alias; say so, since the parser's words do not."""
    try:
        text = path.read_text(encoding="utf-8").splitlines()[line - 1] if line else ""
    except (OSError, UnicodeDecodeError, IndexError):
        return ""
    if _BARE_STAR.search(text.split("#", 1)[0]):
        return '; a pattern that starts with * must be quoted, e.g. allow: ["*"]'
    return ""


def _problems(document: Any, exc: ValidationError) -> list[SourceProblem]:
    """pydantic's errors at their lines; an undefined role points at the member that names it."""
    problems = []
    for error in exc.errors(include_url=False):
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _UnknownRole):
            loc = ("members", cause.principal)
            message = f"members.{cause.principal}: {cause}"
            problems.append(SourceProblem(document.file, document.line_of(loc), message))
    if problems:
        return problems
    return problems_from_validation(document, exc)
