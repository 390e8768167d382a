/*
 * auditwatch dashboard: sign-in, tabs and the polling loop.
 *
 * The token is kept in sessionStorage (gone when the tab closes) and sent as
 * `Authorization: Bearer`. `whoami` decides what is shown: the buttons that
 * change alerts are drawn for responders and admins only.
 */
"use strict";

(function (AW) {
  const { byId, api, showError, token } = AW;

  // Each call costs the worker (it serves the API in its event loop) and is an
  // audit event of its own, so only the alert feed polls fast, and a tab in the
  // background does not poll at all.
  const ALERTS_EVERY_MS = 2000;
  const AUDIT_EVERY_MS = 4000;
  const PANELS_EVERY_MS = 10000;

  /** Pollers: name -> {run, every, last, busy, errorId}. */
  const pollers = {
    alerts: { run: () => AW.alerts.refresh(), every: ALERTS_EVERY_MS, errorId: "alerts-error" },
    audit: { run: () => AW.panels.audit(), every: AUDIT_EVERY_MS, errorId: "audit-error" },
    trends: { run: () => AW.panels.trends(), every: PANELS_EVERY_MS, errorId: "trends-error" },
    rules: { run: () => AW.panels.rules(), every: PANELS_EVERY_MS, errorId: "rules-error" },
    health: { run: () => AW.panels.health(), every: PANELS_EVERY_MS, errorId: "health-error" },
    silences: { run: () => AW.silences.refresh(), every: PANELS_EVERY_MS, errorId: "silences-error" },
  };
  let timer = null;

  async function poll(name, force) {
    const p = pollers[name];
    const now = Date.now();
    if (p.busy || (!force && p.last && now - p.last < p.every)) return;
    p.busy = true;
    p.last = now;
    try {
      await p.run();
      showError(p.errorId, "");
    } catch (err) {
      if (err instanceof AW.ApiError && err.status === 401) return;  // handled by onUnauthorized
      const reason = err instanceof AW.ApiError ? err.message : `the API is unreachable (${err.message})`;
      showError(p.errorId, `Could not load ${name}: ${reason}`);
    } finally {
      p.busy = false;
    }
  }

  function tick(force) {
    if (!AW.me || byId("dashboard").hidden || document.hidden) return;
    for (const name of Object.keys(pollers)) poll(name, force);
  }

  /** Refresh the alert feed and the audit log now (after an action). */
  AW.refreshSoon = () => {
    poll("alerts", true);
    poll("audit", true);
  };

  /** Refresh the silences and the audit log now (after a silence is made or expired). */
  AW.refreshSilences = () => {
    poll("silences", true);
    poll("audit", true);
  };

  /** New or changed alerts move the trends and the rules' alert counts: redraw them now. */
  AW.onAlertsChanged = () => {
    poll("trends", true);
    poll("rules", true);
  };

  function showTab(name) {
    for (const button of document.querySelectorAll("#tabs .tab")) {
      button.classList.toggle("active", button.dataset.tab === name);
    }
    byId("dashboard").hidden = name !== "dashboard";
    byId("access").hidden = name !== "access";
    byId("tokens").hidden = name !== "tokens";
    if (name === "access") AW.panels.access();
    else if (name === "tokens") AW.tokens.load();
    else tick(true);
  }

  function signedIn(me) {
    AW.me = me;
    byId("whoami-name").textContent = me.name;
    byId("whoami-role").textContent = me.role;
    byId("whoami").hidden = false;
    byId("tabs").hidden = false;
    byId("tab-tokens").hidden = me.role !== "admin";
    byId("login").hidden = true;
    showError("login-error", "");
    document.body.dataset.role = me.role;
    showTab("dashboard");
    if (!timer) timer = setInterval(() => tick(false), 500);
  }

  function signOut(message) {
    token.clear();
    AW.me = null;
    if (timer) clearInterval(timer);
    timer = null;
    for (const p of Object.values(pollers)) p.last = 0;
    AW.alerts.reset();
    byId("whoami").hidden = true;
    byId("tabs").hidden = true;
    byId("dashboard").hidden = true;
    byId("access").hidden = true;
    byId("tokens").hidden = true;
    byId("new-token").replaceChildren();
    byId("login").hidden = false;
    delete document.body.dataset.role;
    byId("token-input").value = "";
    showError("login-error", message || "");
  }

  /** Sign in with `secret`; an empty one tries anonymous access (a worker with api.anonymous on). */
  async function signIn(secret) {
    if (secret) token.set(secret); else token.clear();
    try {
      signedIn(await api("/api/v1/whoami", { quiet401: true }));
    } catch (err) {
      let message;
      if (err instanceof AW.ApiError && err.status === 401 && !secret) {
        message = "This worker needs a token: anonymous access is off.";
      } else if (err instanceof AW.ApiError && err.status === 401) {
        message = "That token was not accepted (401 Unauthorized). Check that it was copied whole and has not been revoked.";
      } else if (err instanceof AW.ApiError) {
        message = `Sign-in failed: ${err.message}`;
      } else {
        message = `Cannot reach the auditwatch API (${err.message}).`;
      }
      signOut(message);
    }
  }

  AW.onUnauthorized = () => {
    if (AW.me) signOut("Your token is no longer accepted (401); sign in again.");
  };

  document.addEventListener("DOMContentLoaded", () => {
    byId("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      signIn(byId("token-input").value.trim());
    });
    byId("logout").addEventListener("click", () => signOut(""));
    document.addEventListener("visibilitychange", () => tick(true));
    for (const button of document.querySelectorAll("#tabs .tab")) {
      button.addEventListener("click", () => showTab(button.dataset.tab));
    }
    for (const id of ["alert-status", "alert-severity"]) {
      byId(id).addEventListener("change", () => { AW.alerts.reset(); poll("alerts", true); });
    }
    byId("trend-hours").addEventListener("change", () => poll("trends", true));
    byId("audit-reads").addEventListener("change", () => poll("audit", true));
    byId("rules-hit-only").addEventListener("change", () => poll("rules", true));
    byId("silences-expired").addEventListener("change", () => poll("silences", true));
    byId("access-form").addEventListener("submit", (event) => {
      event.preventDefault();
      AW.panels.access();
    });
    const saved = token.get();
    if (saved) signIn(saved);
  });
})(window.AW);
