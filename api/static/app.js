// kgrec try-it page: plain DOM code, no framework, no network besides this API.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const PALETTE = [
  "#8ecae6", "#ffb703", "#90be6d", "#f4a6a6", "#c9b6f2", "#f9c74f",
  "#80ed99", "#ffafcc", "#a3c4f3", "#fdd49e", "#b8e0d2", "#e9c46a",
];
const regionColours = new Map();
const state = { category: null, categoryName: null, timer: null, seq: { base: 0, chosen: 0 } };

function regionColour(id) {
  if (!regionColours.has(id)) {
    regionColours.set(id, PALETTE[regionColours.size % PALETTE.length]);
  }
  return regionColours.get(id);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "style") node.setAttribute("style", value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function requestBody(diversity) {
  const history = $("#history").value.split(",").map((s) => s.trim()).filter(Boolean);
  const body = {
    k: Math.max(1, Math.min(50, parseInt($("#k").value, 10) || 10)),
    diversity,
    region_kind: $("#region-kind").value,
    history,
  };
  const query = $("#query").value.trim();
  const user = $("#user").value.trim();
  if (query) body.query = query;
  if (user) body.user_id = user;
  if ($("#strategy").value) body.strategy = $("#strategy").value;
  if (state.category) body.filters = { category: state.category };
  return body;
}

async function fetchJson(url, options) {
  const response = await fetch(url, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = data.error || {};
    const field = err.details && err.details[0] && err.details[0].field ? ` (${err.details[0].field})` : "";
    throw new Error(`${err.message || response.statusText}${field}`);
  }
  return data;
}

function chosenDiversity() {
  return parseFloat($("#diversity").value);
}

async function run(which) {
  const column = which === "base" ? $("#col-base") : $("#col-chosen");
  const diversity = which === "base" ? 0 : chosenDiversity();
  const seq = ++state.seq[which];
  column.setAttribute("aria-busy", "true");
  try {
    const data = await fetchJson("/v1/recommendations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(requestBody(diversity)),
    });
    if (seq !== state.seq[which]) return;  // a newer request for this column already answered
    render(column, data);
    column.dataset.diversity = String(data.diversity);
    column.dataset.category = state.category || "";
    setStatus(data.notes && data.notes.length ? data.notes.join(" ") : "");
  } catch (error) {
    setStatus(`Could not recommend: ${error.message}`, true);
  } finally {
    if (seq === state.seq[which]) column.removeAttribute("aria-busy");
  }
}

function setStatus(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function render(column, data) {
  const summary = $("[data-summary]", column);
  const list = $("[data-items]", column);
  summary.replaceChildren();
  list.replaceChildren();
  const k = data.items.length;
  const bubble = data.filter_bubble_share;
  summary.append(
    el("div", {},
      el("span", { text: "Regions covered: " }),
      el("strong", { class: "regions-covered", text: String(data.regions_covered) }),
      el("span", { text: ` of ${k} items` })),
    el("meter", { min: "0", max: String(Math.max(k, 1)), value: String(data.regions_covered),
      "aria-label": `regions covered: ${data.regions_covered} of ${k}` }),
    el("div", {},
      el("span", { text: "Filter-bubble share: " }),
      el("strong", { class: "bubble", text: bubble === null ? "n/a (no shopper history)" : `${Math.round(bubble * 100)}%` }),
      el("span", { class: "meta", text: ` · ILD ${data.ild.toFixed(2)} · ${data.strategy} · ${data.timings_ms.total.toFixed(0)} ms` })),
    legend(data.items),
  );
  if (!k) list.append(el("li", { class: "meta", text: "No products match." }));
  data.items.forEach((item, i) => list.append(card(item, i + 1)));
}

function legend(items) {
  const seen = new Map();
  for (const item of items) seen.set(item.region.id, item.region.name);
  const box = el("div", { class: "legend", "aria-label": "Regions in this list" });
  for (const [id, name] of seen) {
    box.append(el("span", { class: "badge", style: `--region:${regionColour(id)}`, text: name }));
  }
  return box;
}

function price(value) {
  return typeof value === "number" ? value.toFixed(2) : "no price";
}

function card(item, position) {
  const colour = regionColour(item.region.id);
  const li = el("li", { class: "item", style: `--region:${colour}`, "data-region": item.region.id });
  const promoted = item.diversity && item.diversity.new_region;
  li.append(
    el("h3", {}, el("span", { class: "meta", text: `${position}. ` }), document.createTextNode(item.title)),
    el("div", { class: "meta", text: `${item.brand || "no brand"} · ${price(item.price)} · id ${item.id}` }),
    el("div", {},
      el("span", { class: "badge", style: `--region:${colour}`, text: item.region.name }),
      promoted ? el("span", { class: "badge new", text: ` new region, relevance rank ${item.diversity.relevance_rank}` }) : null),
    trail(item),
    parts(item),
  );
  if (item.explanations && item.explanations.length) li.append(explanations(item.explanations));
  return li;
}

function trail(item) {
  const steps = item.category_trail || [];
  const list = el("ol", { class: "trail", "aria-label": "Category path" });
  for (const step of steps) {
    list.append(el("li", {}, el("button", {
      type: "button", text: step.name, title: "Filter by this category",
      onclick: () => setFilter(step.id, step.name),
    })));
  }
  if (!steps.length && item.category_path) list.append(el("li", { text: item.category_path }));
  return list;
}

const PARTS = [["text", "query text"], ["kg", "graph"], ["history", "history"], ["popularity", "popularity"]];

function parts(item) {
  const rel = item.relevance || {};
  const total = PARTS.reduce((sum, [key]) => sum + Math.max(rel[key] || 0, 0), 0) || 1;
  const label = PARTS.map(([key, name]) => `${name} ${(rel[key] || 0).toFixed(2)}`).join(", ");
  const bar = el("div", { class: "parts", role: "img", "aria-label": `Relevance ${item.score.toFixed(3)}: ${label}` });
  for (const [key, name] of PARTS) {
    const share = Math.max(rel[key] || 0, 0) / total;
    if (share > 0) bar.append(el("span", { class: `part-${key}`, style: `width:${(share * 100).toFixed(1)}%`, title: `${name} ${(rel[key] || 0).toFixed(3)}` }));
  }
  const key = el("div", { class: "parts-legend", "aria-hidden": "true" });
  for (const [k2, name] of PARTS) key.append(el("span", {}, el("i", { class: `part-${k2}` }), document.createTextNode(`${name} ${(rel[k2] || 0).toFixed(2)}`)));
  return el("div", {}, bar, key);
}

function explanations(list) {
  const details = el("details", { class: "explain" }, el("summary", { text: `Why? (${list.length})` }));
  for (const why of list) {
    const path = el("ol", { class: "path", "aria-label": "Graph path" });
    why.nodes.forEach((node, i) => {
      path.append(el("li", { class: `chip chip-${node.label}` }, el("small", { text: node.label }), document.createTextNode(node.name)));
      const rel = why.relationships[i];
      if (rel) {
        const arrow = rel.direction === "out" ? `—${rel.type}→` : `←${rel.type}—`;
        path.append(el("li", { class: "arrow", "aria-label": `${rel.type} ${rel.direction === "out" ? "to" : "from"}`, text: arrow }));
      }
    });
    if (why.browser_url) $("#browser-home").href = why.browser_url.split("?")[0];
    const link = why.browser_url
      ? el("a", { href: why.browser_url, target: "_blank", rel: "noopener", class: "browser-link", text: "Open this path in Neo4j Browser" })
      : null;
    details.append(el("div", { class: "why" }, el("p", { text: why.text }), path, link));
  }
  return details;
}

function setFilter(id, name) {
  state.category = id;
  state.categoryName = name;
  $("#filter-name").textContent = id ? name : "none";
  $("#filter-clear").hidden = !id;
  runBoth();
}

function runBoth() {
  regionColours.clear();
  run("base").then(() => run("chosen"));
}

async function loadCategories(parent, into) {
  const params = new URLSearchParams({ limit: "200" });
  if (parent) params.set("parent", parent);
  try {
    const data = await fetchJson(`/v1/categories?${params}`);
    into.replaceChildren();
    for (const cat of data.categories) into.append(categoryNode(cat, !parent));
    if (!data.categories.length) into.append(el("li", { class: "meta", text: "No categories loaded." }));
  } catch (error) {
    into.replaceChildren(el("li", { class: "meta", text: `Categories unavailable: ${error.message}` }));
  }
}

function categoryNode(cat, isRoot) {
  const children = el("ul", { role: "group", hidden: true });
  const label = isRoot && cat.taxonomy ? `${cat.name} [${cat.taxonomy}]` : cat.name;
  const toggle = el("button", {
    type: "button", class: "toggle", "aria-expanded": "false",
    "aria-label": `${cat.children ? "Open" : "No subcategories:"} ${cat.name}`, text: cat.children ? "+" : "·",
    disabled: !cat.children,
    onclick: async () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      toggle.textContent = open ? "+" : "−";
      children.hidden = open;
      if (!open && !children.childElementCount) await loadCategories(cat.id, children);
    },
  });
  const use = el("button", { type: "button", class: "use secondary", text: "Filter", "aria-label": `Filter by ${cat.name}`, onclick: () => setFilter(cat.id, cat.name) });
  return el("li", { role: "treeitem" },
    el("div", { class: "row" }, toggle, el("span", { text: label }), el("span", { class: "count", text: `${cat.products} products` }), use),
    children);
}

function init() {
  const slider = $("#diversity");
  const showValue = () => {
    const value = chosenDiversity().toFixed(2);
    $("#diversity-value").textContent = value;
    $("#chosen-label").textContent = value;
  };
  slider.addEventListener("input", () => {
    showValue();
    clearTimeout(state.timer);
    state.timer = setTimeout(() => run("chosen"), 200);
  });
  $("#ask").addEventListener("submit", (event) => {
    event.preventDefault();
    runBoth();
  });
  $("#filter-clear").addEventListener("click", () => setFilter(null, null));
  const params = new URLSearchParams(location.search);
  for (const name of ["query", "user", "history", "k", "strategy", "diversity"]) {
    if (params.has(name)) $(`#${name}`).value = params.get(name);
  }
  showValue();
  loadCategories(null, $("#cat-tree"));
  if (params.has("query") || params.has("user") || params.has("history")) runBoth();
}

init();
