"""The API's exceptions, under the pipeline's root ``PipelineError``.

- ``TokenStoreError``: the tokens file cannot be read or written, or a token
  request is invalid (unknown role, bad or duplicate name); the message says
  what to change.
- ``UnknownAlertError``: no alert with that id is known to this worker.
- ``TransitionError``: a status change that is not allowed (resolving without
  a comment, acknowledging a resolved alert).
"""

from __future__ import annotations

from pipeline.errors import PipelineError

__all__ = ["ApiError", "TokenStoreError", "TransitionError", "UnknownAlertError"]


class ApiError(PipelineError):
    """Base of the API's errors."""


class TokenStoreError(ApiError):
    """The tokens file or a token request is wrong."""


class UnknownAlertError(ApiError):
    """No alert with that id."""


class TransitionError(ApiError):
    """A status change that is not allowed from the alert's current status."""
