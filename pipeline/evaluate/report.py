"""The evaluation report: ``report.html`` with the tables, and PNG plots of scores over time.

Each detector's plot shows its calibrated score per event over time, its
threshold, and every attack shaded from its first to its last event.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from sklearn.metrics import precision_recall_curve

from pipeline.evaluate.metrics import Evaluation
from pipeline.evaluate.run import BASELINE

__all__ = ["write_report"]


def _scores_plot(evaluation: Evaluation, name: str, path: Path) -> None:
    run = evaluation.run
    fig, ax = plt.subplots(figsize=(11, 3.2), dpi=100)
    for attack in evaluation.attacks:
        ax.axvspan(attack.start, max(attack.end, attack.start), color="tab:red", alpha=0.25, lw=0)  # type: ignore[arg-type]
        ax.annotate(
            attack.type, (attack.start, 1.02), fontsize=6, rotation=30, xycoords=("data", "axes fraction")
        )
    ax.scatter(run.times, run.scores[name], s=1.5, color="tab:blue", label="calibrated score")  # type: ignore[arg-type]
    ax.axhline(run.thresholds[name], color="black", lw=0.8, ls="--", label="threshold")
    ax.set_ylim(0.0, 1.01)
    ax.set_ylabel("score")
    ax.set_title(name, fontsize=9, loc="left")
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _pr_plot(evaluation: Evaluation, path: Path) -> None:
    run = evaluation.run
    labels = [label is not None for label in run.labels][run.history :]
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    curves = {name: run.raw[name][run.history :] for name in run.scores if name in _behaviour(evaluation)}
    curves[BASELINE] = run.baseline
    for name, scores in curves.items():
        precision, recall, _ = precision_recall_curve(labels, scores)
        ax.plot(recall, precision, label=name, lw=1)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("behaviour models vs offline baseline (events after the history)", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _behaviour(evaluation: Evaluation) -> set[str]:
    return {name for name in evaluation.run.scores if "behaviour" in name}


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def write_report(evaluation: Evaluation, directory: Path) -> dict[str, Path]:
    """Write ``report.html``, ``summary.txt`` and the plots into ``directory``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in evaluation.run.scores:
        paths[name] = directory / f"scores_{name}.png"
        _scores_plot(evaluation, name, paths[name])
    paths["pr"] = directory / "pr_curves.png"
    _pr_plot(evaluation, paths["pr"])
    paths["summary"] = directory / "summary.txt"
    paths["summary"].write_text(evaluation.summary_text() + "\n", encoding="utf-8")

    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{_cell(v)}</td>"
            for v in (
                s.name,
                s.kind,
                s.alerts,
                s.true_alerts,
                s.false_alerts,
                s.precision,
                s.false_per_10k,
                s.event_recall,
                s.pr_auc,
                ", ".join(s.attacks_detected),
            )
        )
        + "</tr>"
        for s in evaluation.sources
    )
    attack_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{_cell(v)}</td>"
            for v in (
                a.type,
                a.attack_id,
                a.start.isoformat(),
                a.events,
                ", ".join(a.detected_by) or "missed",
                f"{a.time_to_detect:.0f} s" if a.time_to_detect is not None else None,
                ", ".join(f"{k}: {v:.3f}" for k, v in sorted(a.pr_auc.items())),
            )
        )
        + "</tr>"
        for a in evaluation.attacks
    )
    false_rows = "".join(
        f"<tr><td>{_cell(a.time.isoformat())}</td><td>{_cell(a.source)}</td><td>{_cell(a.description)}</td></tr>"
        for a in evaluation.false_alerts[:100]
    )
    images = "".join(
        f'<h3>{html.escape(name)}</h3><img src="{paths[name].name}" alt="scores of {html.escape(name)}">'
        for name in evaluation.run.scores
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>auditwatch evaluation</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left}}img{{max-width:100%}}</style></head><body>
<h1>Evaluation</h1>
<p>{evaluation.events} events, {evaluation.labelled} labelled as attacks, {len(evaluation.attacks)} attacks.
False alerts per 10,000 events (rules and default detectors): <b>{evaluation.default_false_per_10k:.2f}</b>.
Every attack type detected: <b>{"yes" if evaluation.all_detected else "no"}</b>.
PR-AUC is over the {evaluation.events - evaluation.run.history} events after the baseline's history.</p>
<h2>Per rule and detector</h2>
<table><tr><th>source</th><th>kind</th><th>alerts</th><th>true</th><th>false</th>
<th>precision</th><th>false / 10k events</th><th>event recall</th>
<th>PR-AUC</th><th>attack types detected</th></tr>{rows}</table>
<h2>Per attack</h2>
<table><tr><th>type</th><th>id</th><th>start</th><th>events</th><th>detected by</th><th>time to detect</th>
<th>PR-AUC (normal events + this attack)</th></tr>{attack_rows}</table>
<h2>False alerts (rules and default detectors, first 100)</h2>
<table><tr><th>time</th><th>source</th><th>description</th></tr>{false_rows}</table>
<h2>Precision-recall</h2><img src="{paths["pr"].name}" alt="precision-recall curves">
<h2>Scores over time (attacks shaded)</h2>{images}
</body></html>
"""
    paths["html"] = directory / "report.html"
    paths["html"].write_text(page, encoding="utf-8")
    return paths
