"""The names of the declared anomaly detectors, which rule correlations may use.

A correlation may name a detector (``actor_behaviour``) like a rule; the rule
loader accepts only the names declared here, so a typo is still reported with
its file and line. Disabled detectors count as declared: a rule that uses one
loads, and simply never sees its findings until it is turned on.
"""

from __future__ import annotations

from pathlib import Path

from detectors.models import DetectorConfigError
from detectors.models.spec import load_detector_specs

__all__ = ["declared_detectors"]


def declared_detectors(directory: Path, *, strict: bool = True) -> tuple[str, ...]:
    """Every detector name declared under ``directory`` (none if it does not exist).

    Raises ``DetectorConfigError`` for broken detector files, unless ``strict`` is
    false (the models are off, so their files must not stop the rules loading).
    """
    if not directory.exists():
        return ()
    try:
        return tuple(spec.name for spec in load_detector_specs([directory], include_disabled=True))
    except DetectorConfigError:
        if strict:
            raise
        return ()
