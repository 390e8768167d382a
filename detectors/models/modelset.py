"""``ModelSet``: every configured detector over one event, state in the caller's mapping.

The integration surface for the detect stage and replay::

    models = ModelSet.from_paths([Path("config/detectors")])
    for event in events:
        findings = models.evaluate(event, state)   # state: a dict, or a Faust table

Per-entity state is plain JSON, written to ``state`` on every event of that
entity. The shared models (a river model, a calibrator, feature statistics per
detector) live in memory and are checkpointed into the same ``state`` under
``model|<detector>|@checkpoint`` every ``checkpoint_every`` events and on
``checkpoint()``. A new ``ModelSet`` over a ``state`` that holds checkpoints
resumes warm from them (restored lazily, at its first event).

Checkpoint format (``CHECKPOINT_FORMAT``, version ``CHECKPOINT_VERSION``): a JSON
object with ``format``, ``version``, ``detector``, ``spec`` (a hash of the
detector's document), ``events`` and ``payload`` (the shared model, pickled and
base64-encoded). A checkpoint of another version raises ``CheckpointError``; a
checkpoint of a changed detector document is ignored, and that detector starts
cold. Unpickling runs code: only this worker's own changelog may hold checkpoints.
"""

from __future__ import annotations

import base64
import hashlib
import pickle
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detectors.events import AuditEvent
from detectors.findings import Finding
from detectors.models.errors import CheckpointError
from detectors.models.runners import BehaviourRunner, RateRunner, Runner, selects
from detectors.models.spec import BehaviourSpec, RateSpec, load_detector_specs

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "ModelResult", "ModelSet", "checkpoint_key"]

CHECKPOINT_FORMAT = "auditwatch.model-checkpoint"
CHECKPOINT_VERSION = 1

StateStore = MutableMapping[str, Any]


def checkpoint_key(detector: str, scope: str = "") -> str:
    return f"model|{detector}|@checkpoint{'|' + scope if scope else ''}"


def _spec_hash(spec: BehaviourSpec | RateSpec) -> str:
    return hashlib.sha256(spec.model_dump_json(by_alias=True).encode()).hexdigest()[:16]


@dataclass
class ModelResult:
    findings: list[Finding] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    """Calibrated score per detector that selected the event."""
    raw: dict[str, float] = field(default_factory=dict)
    """Uncalibrated score per detector (behaviour: the model's surprise; rate: the calibrated score)."""


class ModelSet:
    """The configured detectors, run one event at a time."""

    def __init__(
        self, specs: list[BehaviourSpec | RateSpec], checkpoint_every: int = 10_000, scope: str = ""
    ) -> None:
        self.runners: list[Runner] = [
            BehaviourRunner(spec) if isinstance(spec, BehaviourSpec) else RateRunner(spec) for spec in specs
        ]
        self.checkpoint_every = checkpoint_every
        self.scope = scope
        """Names this worker's share of the shared models (for example the partition)."""
        self._restored = False
        self._since_checkpoint = 0

    @classmethod
    def from_paths(cls, paths: list[Path], **kwargs: Any) -> ModelSet:
        """Load detector documents; raises ``DetectorConfigError`` listing every problem."""
        return cls(load_detector_specs(paths), **kwargs)

    @property
    def names(self) -> list[str]:
        return [runner.spec.name for runner in self.runners]

    def evaluate(self, event: AuditEvent, state: StateStore) -> list[Finding]:
        return self.run(event, state).findings

    def run(self, event: AuditEvent, state: StateStore) -> ModelResult:
        if not self._restored:
            self.restore(state)
        result = ModelResult()
        for runner in self.runners:
            if not selects(runner.spec, event):
                continue
            score, finding = runner.run(event, state)
            result.scores[runner.spec.name] = score
            result.raw[runner.spec.name] = runner.last_raw
            if finding is not None:
                result.findings.append(finding)
        self._since_checkpoint += 1
        if self.checkpoint_every and self._since_checkpoint >= self.checkpoint_every:
            self.checkpoint(state)
        return result

    def checkpoint(self, state: StateStore) -> None:
        """Write every shared model to ``state`` (versioned; see the module docstring)."""
        for runner in self.runners:
            blob = pickle.dumps(runner.checkpoint_payload(), protocol=pickle.HIGHEST_PROTOCOL)
            state[checkpoint_key(runner.spec.name, self.scope)] = {
                "format": CHECKPOINT_FORMAT,
                "version": CHECKPOINT_VERSION,
                "detector": runner.spec.name,
                "spec": _spec_hash(runner.spec),
                "events": runner.events,
                "payload": base64.b64encode(blob).decode("ascii"),
            }
        self._since_checkpoint = 0

    def restore(self, state: StateStore) -> list[str]:
        """Resume from the checkpoints in ``state``; returns the detectors restored."""
        self._restored = True
        restored = []
        for runner in self.runners:
            saved = state.get(checkpoint_key(runner.spec.name, self.scope))
            if saved is None:
                continue
            if saved.get("format") != CHECKPOINT_FORMAT or saved.get("version") != CHECKPOINT_VERSION:
                raise CheckpointError(
                    f"checkpoint of detector {runner.spec.name!r} has format {saved.get('format')!r} "
                    f"version {saved.get('version')!r}; this auditwatch reads {CHECKPOINT_FORMAT!r} "
                    f"version {CHECKPOINT_VERSION}: delete the key to start the detector cold"
                )
            if saved.get("spec") != _spec_hash(runner.spec):
                continue  # the document changed: its old model does not apply
            runner.load_payload(pickle.loads(base64.b64decode(saved["payload"])))
            restored.append(runner.spec.name)
        return restored
