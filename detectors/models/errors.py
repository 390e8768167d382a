"""The models' exceptions: they extend the detectors' hierarchy."""

from __future__ import annotations

from detectors.errors import DetectorError

__all__ = ["CheckpointError", "ConformanceError", "DetectorConfigError"]


class DetectorConfigError(DetectorError):
    """A detector document that cannot be loaded; the message names the file and what to change."""


class CheckpointError(DetectorError):
    """A model checkpoint that cannot be restored (unknown format version, wrong detector)."""


class ConformanceError(DetectorError):
    """A detector that breaks the shared contract checked by ``check_detector``."""
