/*
 * auditwatch dashboard: API tokens, for admins (GET/POST/DELETE /api/v1/tokens).
 *
 * The list never holds a secret (the API never returns one); a new token's
 * secret is shown once, right after it is created, and is not kept anywhere.
 */
"use strict";

(function (AW) {
  const { el, fill, byId, api, when, showError } = AW;

  async function refresh() {
    const body = await api("/api/v1/tokens");
    const tokens = body.tokens || [];
    fill(byId("tokens-body"), tokens.length
      ? tokens.map((t) => el("tr", { dataset: { tokenId: t.id, tokenName: t.name } },
        el("td", { className: "mono" }, t.id),
        el("td", { className: "name" }, t.name),
        el("td", { className: "role" }, t.role),
        el("td", {}, when(t.created)),
        el("td", {}, el("button", { type: "button", className: "revoke", onclick: () => revoke(t) }, "Revoke"))))
      : el("tr", {}, el("td", { colspan: 5, className: "muted" }, "No tokens.")));
  }

  async function revoke(token) {
    showError("tokens-error", "");
    try {
      await api(`/api/v1/tokens/${encodeURIComponent(token.id)}`, { method: "DELETE" });
      await refresh();
    } catch (err) {
      showError("tokens-error", `Could not revoke ${token.name}: ${err.message}`);
    }
  }

  async function create(event) {
    event.preventDefault();
    showError("tokens-error", "");
    const name = byId("new-token-name").value.trim();
    const role = byId("new-token-role").value;
    try {
      const made = await api("/api/v1/tokens", { method: "POST", body: { name, role } });
      byId("new-token-name").value = "";
      fill(byId("new-token"),
        el("p", {}, `Token ${made.name} (${made.role}) created. Copy it now: it is not shown again.`),
        el("code", { id: "new-token-secret", className: "secret" }, made.token));
      byId("new-token").hidden = false;
      await refresh();
    } catch (err) {
      showError("tokens-error", `Could not create the token: ${err.message}`);
    }
  }

  function load() {
    byId("new-token").hidden = true;
    byId("new-token").replaceChildren();  // the secret goes once the page is left
    refresh().catch((err) => showError("tokens-error", `Could not list tokens: ${err.message}`));
  }

  document.addEventListener("DOMContentLoaded", () => byId("token-form").addEventListener("submit", create));

  AW.tokens = { load };
})(window.AW);
