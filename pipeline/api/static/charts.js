/*
 * auditwatch dashboard: charts drawn as inline SVG (no chart library, no CDN).
 *
 * Labels come from data (rule ids, sources, entities), so they are set with
 * textContent like everything else on the page.
 */
"use strict";

(function (AW) {
  const NS = "http://www.w3.org/2000/svg";

  /** Severity order (most severe last, so it stacks on top) and colours. */
  const SEVERITIES = ["info", "low", "medium", "high", "critical"];
  const SEVERITY_COLOURS = {
    info: "#8a94a6", low: "#4a90d9", medium: "#e0b000", high: "#e8702a", critical: "#c62828",
  };
  const PALETTE = ["#4a90d9", "#e8702a", "#43a047", "#8e24aa", "#00897b", "#6d4c41", "#d81b60", "#7cb342"];

  function svg(tag, attrs, textContent) {
    const node = document.createElementNS(NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (textContent !== undefined) node.textContent = String(textContent);
    return node;
  }

  /** `node` in a group with a tooltip; the <title> is a sibling so the node's own text stays its label. */
  function titled(node, tooltip) {
    const group = svg("g");
    group.append(svg("title", {}, tooltip), node);
    return group;
  }

  function empty(container, message) {
    AW.fill(container, AW.el("p", { className: "muted empty" }, message || "No data in this window."));
  }

  function legend(entries) {
    return AW.el("ul", { className: "legend" },
      entries.map(([label, colour]) => {
        // CSSOM, not a style attribute: the page's CSP forbids inline styles.
        const swatch = AW.el("span", { className: "swatch" });
        swatch.style.backgroundColor = colour;
        return AW.el("li", {}, swatch, label);
      }));
  }

  /**
   * Vertical bars, one per bucket, each stacked by key.
   * buckets: [{label, tooltip, values: {key: n}}]; keys: stacking order, bottom first.
   */
  function stackedBars(container, buckets, keys, colourOf) {
    const total = (b) => keys.reduce((sum, k) => sum + (Number(b.values[k]) || 0), 0);
    const max = Math.max(0, ...buckets.map(total));
    if (!buckets.length || max === 0) return empty(container);
    const width = 480, height = 160, left = 30, bottom = 18, top = 6;
    const plotH = height - bottom - top;
    const step = (width - left) / buckets.length;
    const barW = Math.max(1, step * 0.8);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "stacked" });
    chart.append(svg("text", { x: left - 4, y: top + 8, "text-anchor": "end", class: "axis" }, max));
    chart.append(svg("text", { x: left - 4, y: height - bottom, "text-anchor": "end", class: "axis" }, 0));
    chart.append(svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis-line" }));
    buckets.forEach((bucket, i) => {
      let y = height - bottom;
      const x = left + i * step + (step - barW) / 2;
      for (const key of keys) {
        const n = Number(bucket.values[key]) || 0;
        if (!n) continue;
        const h = (n / max) * plotH;
        y -= h;
        chart.append(titled(
          svg("rect", { x, y, width: barW, height: h, fill: colourOf(key), class: "bar", "data-key": key }),
          `${bucket.tooltip}: ${n} ${key}`));
      }
    });
    const first = buckets[0].label, last = buckets[buckets.length - 1].label;
    chart.append(svg("text", { x: left, y: height - 4, class: "axis" }, first));
    chart.append(svg("text", { x: width, y: height - 4, "text-anchor": "end", class: "axis" }, last));
    AW.fill(container, chart, legend(keys.map((k) => [k, colourOf(k)])));
  }

  /** Horizontal bars, largest first. items: [{label, value}]. */
  function horizontalBars(container, items, colour) {
    const rows = items.filter((i) => Number(i.value) > 0).sort((a, b) => b.value - a.value).slice(0, 12);
    if (!rows.length) return empty(container);
    const max = rows[0].value;
    const width = 480, rowH = 20, labelW = 190;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, role: "img", class: "hbars" });
    rows.forEach((row, i) => {
      const y = i * rowH + 2;
      const w = Math.max(1, ((width - labelW - 50) * row.value) / max);
      const label = row.label.length > 30 ? `${row.label.slice(0, 29)}…` : row.label;
      chart.append(titled(svg("text", { x: labelW - 6, y: y + 13, "text-anchor": "end", class: "label" }, label), row.label));
      chart.append(titled(svg("rect", { x: labelW, y: y + 2, width: w, height: rowH - 6, fill: colour(row.label, i), class: "bar" }),
        `${row.label}: ${row.value}`));
      chart.append(svg("text", { x: labelW + w + 4, y: y + 13, class: "value" }, row.value));
    });
    AW.fill(container, chart);
  }

  const severityColour = (s) => SEVERITY_COLOURS[s] || "#999";
  const paletteColour = (_label, i) => PALETTE[i % PALETTE.length];

  AW.charts = { stackedBars, horizontalBars, severityColour, paletteColour, SEVERITIES, PALETTE };
})(window.AW);
