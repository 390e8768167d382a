/*
 * auditwatch dashboard: DOM helpers and the API client.
 *
 * Alerts carry attacker-controlled strings (titles, entities, evidence), so
 * every piece of data reaches the page through textContent or an attribute
 * set with setAttribute, never through innerHTML. `el` is the only way this
 * code builds elements; it has no HTML-string path at all.
 */
"use strict";

window.AW = window.AW || {};

(function (AW) {
  const TOKEN_KEY = "auditwatch.token";

  /** An element with attributes and children; strings become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") {
        node.addEventListener(name.slice(2), value);
      } else if (name === "className") {
        node.className = value;
      } else if (name === "dataset") {
        Object.assign(node.dataset, value);
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  /** Replace a node's children. */
  function fill(node, ...children) {
    node.replaceChildren();
    append(node, children);
    return node;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  /** Show `message` in an error paragraph, or hide it when empty. */
  function showError(id, message) {
    const node = byId(id);
    node.textContent = message || "";
    node.hidden = !message;
  }

  /** A value as display text: scalars as themselves, the rest as compact JSON. */
  function text(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  /** An ISO time as local "YYYY-MM-DD HH:MM:SS", with the full value kept for the tooltip. */
  function when(iso) {
    if (!iso) return el("span", { className: "muted" }, "-");
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return el("span", {}, String(iso));
    const pad = (n) => String(n).padStart(2, "0");
    const shown = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
      `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    return el("time", { datetime: iso, title: iso }, shown);
  }

  /** An error from the API, with its HTTP status and the server's explanation. */
  class ApiError extends Error {
    constructor(status, detail) {
      super(detail ? `${status}: ${detail}` : `HTTP ${status}`);
      this.status = status;
      this.detail = detail;
    }
  }

  function detailOf(body) {
    if (!body || typeof body !== "object") return "";
    const detail = body.detail ?? body.error ?? body.message;
    if (Array.isArray(detail)) {
      // FastAPI's validation errors: [{loc: [...], msg: "..."}]
      return detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
    }
    return text(detail);
  }

  const token = {
    get: () => sessionStorage.getItem(TOKEN_KEY),
    set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
    clear: () => sessionStorage.removeItem(TOKEN_KEY),
  };

  /**
   * Call the API with the session's bearer token. Resolves to the JSON body;
   * rejects with ApiError on any non-2xx answer (and with the network error
   * when the worker is unreachable). A 401 also fires `AW.onUnauthorized`.
   */
  async function api(path, options = {}) {
    const headers = { Accept: "application/json" };
    const secret = token.get();
    if (secret) headers.Authorization = `Bearer ${secret}`;
    const init = { method: options.method || "GET", headers, cache: "no-store" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const response = await fetch(path, init);
    let body = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("json")) {
      body = await response.json().catch(() => null);
    }
    if (!response.ok) {
      const error = new ApiError(response.status, detailOf(body));
      if (response.status === 401 && !options.quiet401 && AW.onUnauthorized) AW.onUnauthorized(error);
      throw error;
    }
    return body;
  }

  /** A query string from the non-empty entries of `params`. */
  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== "" && value !== null && value !== undefined) search.set(key, String(value));
    }
    const encoded = search.toString();
    return encoded ? `?${encoded}` : "";
  }

  Object.assign(AW, { el, fill, byId, showError, text, when, api, query, token, ApiError });
})(window.AW);
