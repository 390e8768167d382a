"""Figures from a prequential run: per rule or detector, and per attack type.

- An alert is **true** when it names at least one labelled attack event, else false.
- **precision**: true alerts / alerts. **attack recall**: attack types with a true alert / attack types.
- **event recall**: labelled events scored at or above the detector's threshold.
- **PR-AUC** (average precision, scikit-learn) ranks events by the raw score; it is
  computed after the baseline's history so that the offline baseline compares on the same events.
- **time to detect**: the first true alert's event time minus the attack's first event time.
- **false alerts per 10,000 events**: over the whole stream, warm-up included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sklearn.metrics import average_precision_score

from pipeline.evaluate.run import BASELINE, Alert, Run

__all__ = ["AttackFigures", "Evaluation", "SourceFigures", "measure"]


@dataclass
class SourceFigures:
    name: str
    kind: str
    """``rule``, ``detector``, ``detector (comparison)`` or ``baseline``."""
    alerts: int = 0
    true_alerts: int = 0
    false_alerts: int = 0
    precision: float | None = None
    false_per_10k: float = 0.0
    attacks_detected: list[str] = field(default_factory=list)
    pr_auc: float | None = None
    event_recall: float | None = None


@dataclass
class AttackFigures:
    type: str
    attack_id: str
    start: datetime
    end: datetime
    events: int
    detected_by: list[str] = field(default_factory=list)
    time_to_detect: float | None = None
    """Seconds from the attack's first event to the first true alert, by any rule or enabled detector."""
    per_source_ttd: dict[str, float] = field(default_factory=dict)
    pr_auc: dict[str, float] = field(default_factory=dict)


@dataclass
class Evaluation:
    run: Run
    events: int
    labelled: int
    sources: list[SourceFigures]
    attacks: list[AttackFigures]
    default_false_per_10k: float
    """False alerts per 10,000 events from the rules and the detectors on by default."""
    all_detected: bool
    false_alerts: list[Alert] = field(default_factory=list)
    """False alerts of the rules and the default detectors, in time order."""

    def summary_text(self) -> str:
        lines = [
            f"{self.events} events, {self.labelled} labelled as attacks, {len(self.attacks)} attacks",
            f"false alerts per 10,000 events (rules + default detectors): {self.default_false_per_10k:.2f}",
            f"every attack type detected: {'yes' if self.all_detected else 'no'}",
            "",
            f"{'source':32} {'kind':22} {'alerts':>6} {'false':>5} {'prec':>5} {'fa/10k':>6} {'PR-AUC':>6} "
            f"{'types':>5}",
        ]
        for s in self.sources:
            prec = f"{s.precision:.2f}" if s.precision is not None else "-"
            auc = f"{s.pr_auc:.3f}" if s.pr_auc is not None else "-"
            lines.append(
                f"{s.name:32} {s.kind:22} {s.alerts:>6} {s.false_alerts:>5} {prec:>5} "
                f"{s.false_per_10k:>6.2f} "
                f"{auc:>6} {len(s.attacks_detected):>5}"
            )
        lines.append("")
        lines.append(f"{'attack':40} {'events':>6} {'detected by':45} {'time to detect':>14}")
        for a in self.attacks:
            ttd = f"{a.time_to_detect:.0f}s" if a.time_to_detect is not None else "missed"
            lines.append(f"{a.type:40} {a.events:>6} {', '.join(a.detected_by) or '-':45} {ttd:>14}")
        return "\n".join(lines)


def _ap(labels: np.ndarray, scores: np.ndarray) -> float | None:
    if labels.sum() == 0 or labels.sum() == len(labels):
        return None
    return float(average_precision_score(labels, scores))


def measure(run: Run) -> Evaluation:
    n = len(run.times)
    attack_of = {}
    index_of: dict[str, int] = {}
    for i, (label, attack_id) in enumerate(zip(run.labels, run.attack_ids, strict=True)):
        if attack_id is not None and label is not None:
            attack_of[attack_id] = label
            index_of.setdefault(attack_id, i)
    event_attack = {e: a for e, a in zip(run.event_ids, run.attack_ids, strict=True) if a is not None}
    by_alert: dict[str, list[tuple[Alert, set[str]]]] = {}
    for alert in run.alerts:
        hit = {run_attack for run_attack in (event_attack.get(e) for e in alert.event_ids) if run_attack}
        by_alert.setdefault(alert.source, []).append((alert, hit))
    return _figures(run, n, attack_of, by_alert)


def _figures(
    run: Run, n: int, attack_of: dict[str, str], by_alert: dict[str, list[tuple[Alert, set[str]]]]
) -> Evaluation:
    labels = np.array([label is not None for label in run.labels])
    after = slice(run.history, n)
    attacks: dict[str, AttackFigures] = {}
    for i, attack_id in enumerate(run.attack_ids):
        if attack_id is None:
            continue
        figures = attacks.get(attack_id)
        if figures is None:
            figures = attacks[attack_id] = AttackFigures(
                attack_of[attack_id], attack_id, run.times[i], run.times[i], 0
            )
        figures.end = run.times[i]
        figures.events += 1

    sources: list[SourceFigures] = []
    names = list(run.rules) + list(run.scores) + [BASELINE]
    for name in names:
        kind = (
            "baseline"
            if name == BASELINE
            else "rule"
            if name in run.rules
            else "detector"
            if name in run.enabled
            else "detector (comparison)"
        )
        fig = SourceFigures(name, kind)
        detected: set[str] = set()
        for alert, hit in by_alert.get(name, []):
            fig.alerts += 1
            if hit:
                fig.true_alerts += 1
                for attack_id in hit:
                    detected.add(attack_of[attack_id])
                    figures = attacks[attack_id]
                    ttd = (alert.time - figures.start).total_seconds()
                    figures.per_source_ttd[name] = min(ttd, figures.per_source_ttd.get(name, ttd))
            else:
                fig.false_alerts += 1
        fig.precision = fig.true_alerts / fig.alerts if fig.alerts else None
        fig.false_per_10k = fig.false_alerts / n * 10_000
        fig.attacks_detected = sorted(detected)
        if name == BASELINE:
            fig.pr_auc = _ap(labels[after], np.asarray(run.baseline))
        elif name in run.scores:
            raw = np.asarray(run.raw[name])
            fig.pr_auc = _ap(labels[after], raw[after])
            flagged = np.asarray(run.scores[name]) >= run.thresholds[name]
            fig.event_recall = float(flagged[labels].mean()) if labels.any() else None
            for figures in attacks.values():
                mask = np.array([a is None or a == figures.attack_id for a in run.attack_ids])
                mask[: run.history] = False
                ap = _ap(labels[mask], raw[mask])
                if ap is not None:
                    figures.pr_auc[name] = ap
        if name == BASELINE:
            base = np.asarray(run.baseline)
            for figures in attacks.values():
                mask = np.array([a is None or a == figures.attack_id for a in run.attack_ids])[after]
                ap = _ap(labels[after][mask], base[mask])
                if ap is not None:
                    figures.pr_auc[name] = ap
        sources.append(fig)

    counted = {s.name for s in sources if s.kind in ("rule", "detector")}
    for figures in attacks.values():
        figures.detected_by = sorted(s for s in figures.per_source_ttd if s in counted)
        times = [figures.per_source_ttd[s] for s in figures.detected_by]
        figures.time_to_detect = min(times) if times else None
    default_false = sum(s.false_alerts for s in sources if s.name in counted)
    false_alerts = [alert for name in counted for alert, hit in by_alert.get(name, []) if not hit]
    false_alerts.sort(key=lambda alert: alert.time)
    types = {f.type for f in attacks.values()}
    detected_types = {f.type for f in attacks.values() if f.detected_by}
    return Evaluation(
        run=run,
        events=n,
        labelled=int(labels.sum()),
        sources=sources,
        attacks=sorted(attacks.values(), key=lambda f: f.start),
        default_false_per_10k=default_false / n * 10_000,
        all_detected=types == detected_types and bool(types),
        false_alerts=false_alerts,
    )
