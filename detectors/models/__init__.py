"""Online anomaly models over canonical events: features, detectors, calibration, findings.

The public surface: ``ModelSet`` (every configured detector over one event, with
state in the caller's mapping), the river-contract detectors, the calibrator,
``check_detector`` (the conformance check every detector passes) and the
detector document loader.
"""

from detectors.models.behaviour import BehaviourDetector
from detectors.models.calibration import TailCalibrator
from detectors.models.conformance import check_detector
from detectors.models.errors import CheckpointError, ConformanceError, DetectorConfigError
from detectors.models.features import FEATURES, observe
from detectors.models.modelset import CHECKPOINT_VERSION, ModelResult, ModelSet
from detectors.models.rate import RateDetector
from detectors.models.series import SeriesScorer, score_series
from detectors.models.spec import load_detector_specs

__all__ = [
    "CHECKPOINT_VERSION",
    "FEATURES",
    "BehaviourDetector",
    "CheckpointError",
    "ConformanceError",
    "DetectorConfigError",
    "ModelResult",
    "ModelSet",
    "RateDetector",
    "SeriesScorer",
    "TailCalibrator",
    "check_detector",
    "load_detector_specs",
    "observe",
    "score_series",
]
