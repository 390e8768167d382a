/*
 * auditwatch dashboard: the live alert feed and its actions.
 *
 * Each alert is one <tbody class="alert" data-alert-id=...> of the alerts
 * table: a summary row, an evidence row (shown when expanded) and an action
 * row for the resolve and silence forms. The feed is polled every 2 s; a row
 * whose record is unchanged, or whose form is open, is left as it is, so a
 * poll never throws away a comment being typed.
 *
 * The Acknowledge, Resolve and Silence buttons are drawn only for responders
 * and admins. That is a convenience: the API enforces the roles itself.
 */
"use strict";

(function (AW) {
  const { el, fill, byId, api, query, text, when } = AW;

  const SILENCE_DURATIONS = [["1h", 1], ["4h", 4], ["24h", 24], ["7d", 168]];

  const feed = {
    rows: new Map(),       // alert id -> {body, signature}
    expanded: new Set(),   // alert ids whose evidence is shown
    forms: new Map(),      // alert id -> "resolve" | "silence" (an open form)
    notes: new Map(),      // alert id -> message shown in the action row
    lastIds: "",           // what the last poll showed, to tell the other panels when it changes
  };

  function canRespond() {
    return AW.me && (AW.me.role === "responder" || AW.me.role === "admin");
  }

  async function refresh() {
    const params = {
      status: byId("alert-status").value,
      severity: byId("alert-severity").value,
      limit: 100,
    };
    const body = await api(`/api/v1/alerts${query(params)}`);
    render(body.alerts || []);
    byId("alerts-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  function render(records) {
    const table = byId("alerts-table");
    const seen = new Set();
    let previous = table.tHead;
    for (const record of records) {
      const id = record.alert.id;
      seen.add(id);
      const signature = JSON.stringify([record, canRespond(), feed.expanded.has(id), feed.forms.get(id),
        feed.notes.get(id)]);
      let entry = feed.rows.get(id);
      if (!entry || (entry.signature !== signature && !feed.forms.has(id))) {
        const body = build(record);
        if (entry) entry.body.replaceWith(body);
        entry = { body, signature, record };
        feed.rows.set(id, entry);
      } else {
        entry.record = record;  // an open form keeps its row; the next redraw uses the news
      }
      if (previous.nextSibling !== entry.body) previous.after(entry.body);
      previous = entry.body;
    }
    for (const [id, entry] of feed.rows) {
      if (!seen.has(id)) {
        entry.body.remove();
        feed.rows.delete(id);
      }
    }
    byId("alerts-empty").hidden = records.length > 0;
    const ids = records.map((r) => `${r.alert.id}:${r.status}`).join(",");
    if (ids !== feed.lastIds) {
      feed.lastIds = ids;
      if (AW.onAlertsChanged) AW.onAlertsChanged();
    }
  }

  function rerender(id) {
    const entry = feed.rows.get(id);
    if (entry) {
      const body = build(entry.record);
      entry.body.replaceWith(body);
      entry.body = body;
      entry.signature = "";
    }
  }

  function build(record) {
    const alert = record.alert;
    const id = alert.id;
    const open = feed.expanded.has(id);
    const toggle = el("button", {
      type: "button", className: "link expand", "aria-expanded": String(open),
      onclick: () => {
        if (feed.expanded.has(id)) feed.expanded.delete(id); else feed.expanded.add(id);
        rerender(id);
      },
    }, open ? "▾ evidence" : "▸ evidence");

    const summary = el("tr", { className: `summary sev-${alert.severity}` },
      el("td", {}, el("span", { className: `sev sev-${alert.severity}` }, alert.severity)),
      el("td", { className: "entity" }, alert.entity),
      el("td", { className: "title" }, el("div", { className: "alert-title" }, alert.title), toggle),
      el("td", { className: "num count" }, alert.count),
      el("td", {}, when(alert.first_seen)),
      el("td", {}, when(alert.last_seen)),
      el("td", {}, el("span", { className: `status status-${record.status}` }, record.status)),
      el("td", { className: "actions" }, actions(record)));

    const detail = el("tr", { className: "detail", hidden: !open },
      el("td", { colspan: 8 }, evidence(record)));

    const form = feed.forms.get(id);
    const note = feed.notes.get(id);
    const actionRow = el("tr", { className: "action-row", hidden: !form && !note },
      el("td", { colspan: 8 },
        form === "resolve" ? resolveForm(record) : null,
        form === "silence" ? silenceForm(record) : null,
        note ? el("p", { className: `note ${note.kind}` }, note.text) : null));

    return el("tbody", { className: "alert", dataset: { alertId: id, status: record.status } },
      summary, detail, actionRow);
  }

  function actions(record) {
    if (!canRespond()) return [];
    const id = record.alert.id;
    const buttons = [];
    if (record.status === "firing") {
      buttons.push(el("button", { type: "button", className: "ack", onclick: () => acknowledge(id) }, "Acknowledge"));
    }
    if (record.status !== "resolved") {
      buttons.push(el("button", { type: "button", className: "resolve", onclick: () => openForm(id, "resolve") }, "Resolve"));
    }
    buttons.push(el("button", { type: "button", className: "silence", onclick: () => openForm(id, "silence") }, "Silence"));
    return buttons;
  }

  function evidence(record) {
    const alert = record.alert;
    const samples = alert.evidence || [];
    const keys = [...new Set(samples.flatMap((s) => Object.keys(s)))];
    return el("div", { className: "evidence" },
      el("p", { className: "summary-text" }, alert.summary),
      alert.description ? el("p", {}, alert.description) : null,
      el("dl", { className: "kv" },
        el("dt", {}, "Rule"), el("dd", {}, alert.rule_id),
        el("dt", {}, "Threshold"), el("dd", {}, alert.threshold || "-"),
        el("dt", {}, "Window"), el("dd", {}, when(alert.window_start), " – ", when(alert.window_end)),
        el("dt", {}, "Alert id"), el("dd", { className: "mono" }, alert.id),
        el("dt", {}, "Tags"), el("dd", {}, (alert.tags || []).join(", ") || "-")),
      samples.length
        ? el("table", { className: "grid evidence-table" },
          el("thead", {}, el("tr", {}, keys.map((k) => el("th", {}, k)))),
          el("tbody", {}, samples.map((s) => el("tr", {}, keys.map((k) => el("td", {}, text(s[k])))))))
        : el("p", { className: "muted" }, "No evidence samples."),
      (record.history || []).length
        ? el("div", { className: "history" }, el("h4", {}, "History"),
          el("ul", {}, record.history.map((h) => el("li", {},
            when(h.at), " ", el("strong", {}, h.status), " by ", h.by || "?", h.comment ? ` — ${h.comment}` : ""))))
        : null);
  }

  function openForm(id, kind) {
    feed.forms.set(id, kind);
    feed.notes.delete(id);
    rerender(id);
    const input = feed.rows.get(id).body.querySelector(".action-row input, .action-row select");
    if (input) input.focus();
  }

  function closeForm(id, note) {
    feed.forms.delete(id);
    if (note) feed.notes.set(id, note); else feed.notes.delete(id);
    rerender(id);
  }

  function resolveForm(record) {
    const id = record.alert.id;
    const comment = el("input", { type: "text", className: "comment", placeholder: "what was done (required)",
      "aria-required": "true", "aria-label": "Resolution comment" });
    const error = el("span", { className: "error" });
    return el("form", {
      className: "inline-form resolve-form",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!comment.value.trim()) { error.textContent = "A comment is required to resolve."; return; }
        try {
          await api(`/api/v1/alerts/${encodeURIComponent(id)}/resolve`, { method: "POST", body: { comment: comment.value } });
          closeForm(id, { kind: "ok", text: "Resolved." });
          AW.refreshSoon();
        } catch (err) { error.textContent = `Could not resolve: ${err.message}`; }
      },
    }, el("label", {}, "Resolve with comment "), comment,
    el("button", { type: "submit", className: "confirm" }, "Resolve"),
    el("button", { type: "button", onclick: () => closeForm(id) }, "Cancel"), error);
  }

  function silenceForm(record) {
    const alert = record.alert;
    const duration = el("select", { className: "duration", "aria-label": "Silence duration" },
      SILENCE_DURATIONS.map(([label, hours]) => el("option", { value: hours }, label)));
    const comment = el("input", { type: "text", className: "comment", placeholder: "why (optional)",
      "aria-label": "Silence comment" });
    const error = el("span", { className: "error" });
    return el("form", {
      className: "inline-form silence-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const start = new Date();
        const end = new Date(start.getTime() + Number(duration.value) * 3600 * 1000);
        const body = {
          matchers: [
            { name: "rule_id", value: alert.rule_id, isRegex: false, isEqual: true },
            { name: "entity", value: alert.entity, isRegex: false, isEqual: true },
          ],
          startsAt: start.toISOString(),
          endsAt: end.toISOString(),
          comment: comment.value || `silenced from the dashboard (alert ${alert.id})`,
        };
        try {
          const made = await api("/api/v1/silences", { method: "POST", body });
          const silenceId = made && (made.silenceID || made.id);
          closeForm(alert.id, { kind: "ok", text: `Silenced until ${end.toLocaleString()} (${silenceId || "created"}).` });
          AW.refreshSilences();
        } catch (err) { error.textContent = `Could not silence: ${err.message}`; }
      },
    }, el("label", {}, `Silence rule ${alert.rule_id} for ${alert.entity} for `), duration, comment,
    el("button", { type: "submit", className: "confirm" }, "Create silence"),
    el("button", { type: "button", onclick: () => closeForm(alert.id) }, "Cancel"), error);
  }

  async function acknowledge(id) {
    try {
      await api(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: { comment: "" } });
      feed.notes.set(id, { kind: "ok", text: "Acknowledged." });
      AW.refreshSoon();
    } catch (err) {
      feed.notes.set(id, { kind: "error", text: `Could not acknowledge: ${err.message}` });
      rerender(id);
    }
  }

  function reset() {
    for (const entry of feed.rows.values()) entry.body.remove();
    feed.rows.clear();
    feed.expanded.clear();
    feed.forms.clear();
    feed.notes.clear();
    feed.lastIds = "";
  }

  AW.alerts = { refresh, reset };
})(window.AW);
