/*
 * auditwatch dashboard: the access review page (GET /api/v1/access/review).
 *
 * Laid out after the review's JSON (pipeline.access.report): per principal
 * what was used, denied, granted but unused and used without a grant; per
 * role the same against the policy; then the proposed least-privilege policy.
 * A document of another shape is still shown, as nested lists.
 */
"use strict";

(function (AW) {
  const { el, text, when } = AW;

  function chips(items, className, label) {
    if (!items || !items.length) return el("span", { className: "muted" }, "-");
    return el("ul", { className: `chips ${className || ""}` },
      items.map((item) => el("li", { title: label ? label(item).title : null }, label ? label(item).text : text(item))));
  }

  const used = (u) => ({
    text: `${u.action} ×${u.count}`,
    title: `${u.count} (${u.unconfirmed} of unknown outcome) on ${(u.resource_types || []).join(", ") || "-"}; ` +
      `last ${u.last_seen}; granted by ${(u.granted_by || []).join(", ") || "-"}`,
  });
  const denied = (d) => ({
    text: `${d.action} ×${d.count}`,
    title: `last ${d.last_seen}; ${d.granted_by && d.granted_by.length
      ? `granted by ${d.granted_by.join(", ")}: failed for another reason` : "not granted"}`,
  });
  const unused = (u) => ({ text: u.permission, title: `granted by ${(u.roles || []).join(", ")}` });

  function principalsTable(principals) {
    return el("table", { className: "grid access-principals" },
      el("thead", {}, el("tr", {}, ["Principal", "Type", "Roles", "Events", "Last seen", "Used", "Denied",
        "Granted, unused", "Used, not granted"].map((h) => el("th", {}, h)))),
      el("tbody", {}, principals.map((p) => el("tr", { dataset: { principal: p.principal },
        className: p.last_seen ? "" : "dormant" },
      el("td", { className: "mono principal" }, p.principal, p.in_policy ? "" : el("span", { className: "muted" }, " (not in policy)")),
      el("td", {}, p.actor_type),
      el("td", {}, chips(p.roles)),
      el("td", { className: "num" }, text(p.events)),
      el("td", {}, p.last_seen ? when(p.last_seen) : el("span", { className: "warn" }, "not seen")),
      el("td", { className: "used" }, chips(p.used, "ok", used)),
      el("td", { className: "denied" }, chips(p.denied, "bad", denied)),
      el("td", { className: "unused" }, chips(p.unused, "warn", unused)),
      el("td", { className: "ungranted" }, chips(p.ungranted, "bad"))))));
  }

  function rolesTable(roles) {
    return el("table", { className: "grid access-roles" },
      el("thead", {}, el("tr", {}, ["Role", "Members", "Allows", "Used", "Unused", "Proposed"].map((h) => el("th", {}, h)))),
      el("tbody", {}, roles.map((r) => el("tr", { dataset: { role: r.role } },
        el("td", { className: "mono" }, r.role),
        el("td", {}, chips(r.members)),
        el("td", {}, chips(r.allow)),
        el("td", {}, chips(r.used, "ok")),
        el("td", { className: "unused" }, chips(r.unused, "warn")),
        el("td", { className: "proposed" }, chips(r.proposed, "ok"))))));
  }

  /** Any JSON as nested HTML: objects as definition lists, lists of objects as tables. */
  function generic(value, depth = 0) {
    if (Array.isArray(value)) {
      if (!value.length) return el("span", { className: "muted" }, "none");
      if (value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
        const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
        return el("table", { className: "grid" },
          el("thead", {}, el("tr", {}, keys.map((k) => el("th", {}, k)))),
          el("tbody", {}, value.map((v) => el("tr", {}, keys.map((k) => el("td", {}, generic(v[k], depth + 1)))))));
      }
      return chips(value.map(text));
    }
    if (value && typeof value === "object") {
      return el("dl", { className: depth ? "kv nested" : "kv" },
        Object.entries(value).map(([k, v]) => [el("dt", {}, k), el("dd", {}, generic(v, depth + 1))]));
    }
    return el("span", {}, text(value));
  }

  function render(review) {
    if (!review || !Array.isArray(review.principals)) return generic(review);
    const window_ = review.window || {};
    const input = review.input || {};
    return el("div", { className: "access-review" },
      el("p", { className: "access-summary" },
        `Window ${window_.since || "?"}: `, when(window_.start), " – ", when(window_.end), ". ",
        review.policy ? `Policy ${review.policy}. `
          : (review.roles || []).length ? "Checked against the policy. " : "No policy given: usage only. ",
        `${text(input.in_window)} of ${text(input.events)} events in the window`,
        input.rejected ? `, ${input.rejected} input records rejected` : "", "."),
      el("h3", {}, "Principals"),
      review.principals.length ? principalsTable(review.principals) : el("p", { className: "muted" }, "No principals."),
      (review.roles || []).length ? [el("h3", {}, "Roles"), rolesTable(review.roles)] : null,
      (review.unassigned || []).length
        ? [el("h3", {}, "Active but in no role"), chips(review.unassigned, "bad")] : null,
      el("h3", {}, "Proposed least-privilege policy"),
      el("pre", { className: "proposal" }, JSON.stringify(review.proposed_policy ?? {}, null, 2)),
      review.proposal_rule ? el("p", { className: "muted" }, review.proposal_rule) : null);
  }

  AW.accessView = { render };
})(window.AW);
