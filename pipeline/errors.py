"""The pipeline's exceptions, rooted at ``PipelineError``.

- ``ConfigError``: a config file is wrong; the message names the file, the
  line and what to change.
- ``RecordRejected``: one input record cannot be accepted; it goes to the
  dead-letter queue with ``reason`` and ``field``, and processing continues.
- ``InputError``: an input file or stream cannot be read at all.
"""

from __future__ import annotations

__all__ = ["ConfigError", "InputError", "PipelineError", "RecordRejected"]


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class ConfigError(PipelineError):
    """A configuration file or setting is invalid."""


class InputError(PipelineError):
    """An input file or stream cannot be read."""


class RecordRejected(PipelineError):
    """One record cannot be accepted. ``field`` is the dotted path at fault, if any."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field
