/*
 * auditwatch dashboard: the read-only panels (trends, rules, health, audit
 * log, access review). Each `refresh` fetches its endpoint and redraws its
 * panel from scratch; data goes in as text only.
 */
"use strict";

(function (AW) {
  const { el, fill, byId, api, query, text, when, charts } = AW;

  /** "MM-DD HH:MM" in local time, for the first and last bucket under the bars. */
  function hourLabel(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  async function trends() {
    const hours = byId("trend-hours").value;
    const body = await api(`/api/v1/trends${query({ hours })}`);
    const buckets = body.alerts_over_time || [];
    const present = new Set(buckets.flatMap((b) => Object.keys(b.by_severity || {})));
    const keys = [...charts.SEVERITIES.filter((s) => present.has(s)),
      ...[...present].filter((s) => !charts.SEVERITIES.includes(s)).sort()];
    charts.stackedBars(byId("chart-severity"),
      buckets.map((b) => ({ label: hourLabel(b.start), tooltip: String(b.start), values: b.by_severity || {} })),
      keys, charts.severityColour);

    const byRule = new Map();
    for (const bucket of buckets) {
      for (const [rule, n] of Object.entries(bucket.by_rule || {})) byRule.set(rule, (byRule.get(rule) || 0) + Number(n));
    }
    charts.horizontalBars(byId("chart-rules"), [...byRule].map(([label, value]) => ({ label, value })), charts.paletteColour);
    charts.horizontalBars(byId("chart-sources"),
      Object.entries(body.events_by_source || {}).map(([label, value]) => ({ label, value: Number(value) })),
      charts.paletteColour);
    charts.horizontalBars(byId("chart-entities"),
      (body.top_entities || []).map((e) => ({ label: String(e.entity), value: Number(e.alerts) })),
      () => charts.severityColour("high"));
  }

  async function rules() {
    const body = await api("/api/v1/rules");
    const all = [...(body.rules || [])].sort((a, b) => (b.matches - a.matches) || (b.alerts - a.alerts)
      || String(a.id).localeCompare(String(b.id)));
    const hitOnly = byId("rules-hit-only").checked;
    const items = hitOnly ? all.filter((r) => r.matches || r.alerts) : all;
    byId("rules-shown").textContent = `${items.length} of ${all.length} rules shown.`;
    fill(byId("rules-body"), items.length
      ? items.map((r) => el("tr", { className: r.matches ? "hit" : "", dataset: { ruleId: r.id } },
        el("td", {}, el("div", { className: "mono" }, r.id), el("div", { className: "muted small" }, r.title)),
        el("td", {}, el("span", { className: `sev sev-${r.level}` }, r.level)),
        el("td", {}, r.kind),
        el("td", {}, r.status),
        el("td", { className: "num matches" }, r.matches),
        el("td", { className: "num alerts" }, r.alerts)))
      : el("tr", {}, el("td", { colspan: 6, className: "muted" }, "No rule has matched yet.")));
  }

  function stat(label, value, id, warn) {
    return [el("dt", {}, label), el("dd", { id, className: warn ? "warn" : "" }, value)];
  }

  async function health() {
    const body = await api("/api/v1/health");
    const eps = Number(body.events_per_second);
    fill(byId("health-stats"),
      stat("Events/s", Number.isFinite(eps) ? eps.toFixed(1) : "-", "stat-eps"),
      stat("Records in", text(body.records_in), "stat-records-in"),
      stat("Dead-lettered", text(body.dead_lettered), "stat-dlq", Number(body.dead_lettered) > 0),
      stat("Parked notifications", text(body.parked_notifications), "stat-parked", Number(body.parked_notifications) > 0));
    const partitions = body.partitions || [];
    fill(byId("partitions-body"), partitions.length
      ? partitions.map((p) => el("tr", { className: p.stalled ? "stalled" : "" },
        el("td", { className: "mono" }, p.topic),
        el("td", { className: "num" }, p.partition),
        el("td", { className: "num lag" }, text(p.lag)),
        el("td", { className: "num" }, p.last_event_age_seconds == null ? "-" : `${Number(p.last_event_age_seconds).toFixed(0)} s`),
        el("td", {}, p.stalled ? el("strong", {}, "STALLED") : "ok")))
      : el("tr", {}, el("td", { colspan: 5, className: "muted" }, "No partitions assigned yet.")));
    const checkpoint = body.last_checkpoint;
    fill(byId("checkpoint"), checkpoint && typeof checkpoint === "object"
      ? Object.entries(checkpoint).map(([k, v]) => [el("dt", {}, k),
        el("dd", { className: "mono", dataset: { key: k } }, /(_at|time)$/.test(k) ? when(v) : text(v))])
      : el("dd", { className: "muted" }, "No checkpoint yet (or the archive is off)."));
  }

  /** The HTTP facts of an API audit event, wherever the event keeps them. */
  function httpOf(event) {
    const extra = event.extra || {};
    const http = extra.http && typeof extra.http === "object" ? extra.http : extra;
    return {
      method: http.method || http["http.method"] || "",
      path: http.path || http["http.path"] || (event.resource && event.resource.id) || "",
      status: http.status ?? http.status_code ?? http["http.status"] ?? http["http.status_code"] ?? "",
    };
  }

  async function audit() {
    // Most of the ring is the dashboards' own reads; 300 reaches back a few minutes past them.
    const body = await api(`/api/v1/audit${query({ limit: 300 })}`);
    const showReads = byId("audit-reads").checked;
    const events = (body.events || []).filter((e) => {
      if (showReads) return true;
      const http = httpOf(e);
      return !(e.outcome === "success" && (http.method === "GET" || http.method === "HEAD"));
    }).slice(0, 100);
    fill(byId("audit-body"), events.length
      ? events.map((e) => {
        const http = httpOf(e);
        return el("tr", { className: `outcome-${e.outcome}`, dataset: { action: e.action } },
          el("td", {}, when(e.time)),
          el("td", { className: "actor" }, e.actor ? e.actor.id : ""),
          el("td", { className: "mono action" }, e.action),
          el("td", { className: "outcome" }, e.outcome),
          el("td", { className: "mono" }, `${http.method} ${http.path}`.trim()),
          el("td", { className: "num" }, text(http.status)),
          el("td", { className: "mono" }, e.source ? text(e.source.ip) : ""));
      })
      : el("tr", {}, el("td", { colspan: 7, className: "muted" }, "No API calls recorded yet.")));
  }

  async function access() {
    const since = byId("access-since").value || "90d";
    AW.showError("access-error", "");
    try {
      const body = await api(`/api/v1/access/review${query({ since })}`);
      fill(byId("access-body"), AW.accessView.render(body));
    } catch (err) {
      AW.showError("access-error", `Access review failed: ${err.message}`);
    }
  }

  AW.panels = { trends, rules, health, audit, access };
})(window.AW);
