/*
 * auditwatch dashboard: the silences panel (GET/DELETE /api/v1/silences).
 *
 * Silences are made from an alert's row (alerts.js); this lists them with
 * their state and lets a responder expire one early. Expired silences stay
 * in the API's list; the panel shows them only when asked.
 */
"use strict";

(function (AW) {
  const { el, fill, byId, api, when, showError } = AW;

  async function refresh() {
    const body = await api("/api/v1/silences");
    const showExpired = byId("silences-expired").checked;
    const items = (body.silences || []).filter((s) => showExpired || (s.status && s.status.state !== "expired"));
    const responder = AW.me && (AW.me.role === "responder" || AW.me.role === "admin");
    fill(byId("silences-body"), items.length
      ? items.map((s) => {
        const state = s.status ? s.status.state : "";
        return el("tr", { className: `silence-${state}`, dataset: { silenceId: s.id } },
          el("td", {}, el("ul", { className: "chips" }, (s.matchers || []).map((m) => el("li", {}, m)))),
          el("td", { className: "state" }, state),
          el("td", {}, when(s.startsAt)),
          el("td", {}, when(s.endsAt)),
          el("td", { className: "by" }, s.createdBy),
          el("td", { className: "comment" }, s.comment),
          el("td", {}, responder && state !== "expired"
            ? el("button", { type: "button", className: "expire", onclick: () => expire(s.id) }, "Expire")
            : ""));
      })
      : el("tr", {}, el("td", { colspan: 7, className: "muted" }, "No silences.")));
  }

  async function expire(id) {
    try {
      await api(`/api/v1/silences/${encodeURIComponent(id)}`, { method: "DELETE" });
      showError("silences-error", "");
    } catch (err) {
      showError("silences-error", `Could not expire the silence: ${err.message}`);
    }
    if (AW.refreshSilences) AW.refreshSilences();
  }

  AW.silences = { refresh };
})(window.AW);
