"""Which input format to expect, per topic or per file.

``ingest.format`` pins one format for every source (``auto`` detects it per
record). ``ingest.formats`` pins a format for the sources whose topic or file
name matches a glob pattern, first match wins; for example::

    ingest:
      formats:
        "audit.raw.okta": okta
        "*/auth.log*": syslog_auth

Pinning matters where detection is ambiguous (ECS versus auditwatch's own
schema) and costs nothing per record: each source's context is built once.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace

from pipeline.formats import FormatContext

__all__ = ["FormatSelector"]


@dataclass
class FormatSelector:
    """The format context for a source name, with the pins applied."""

    default: FormatContext
    pins: dict[str, str] = field(default_factory=dict)
    _cache: dict[str | None, FormatContext] = field(default_factory=dict, repr=False)

    def context_for(self, source_name: str | None) -> FormatContext:
        try:
            return self._cache[source_name]
        except KeyError:
            pass
        context = replace(self.default, source_name=source_name)
        if source_name is not None:
            for pattern, name in self.pins.items():
                if fnmatch.fnmatchcase(source_name, pattern):
                    context = replace(context, pinned_format=name)
                    break
        if len(self._cache) < 10_000:  # bounded: source names are topics and files
            self._cache[source_name] = context
        return context
