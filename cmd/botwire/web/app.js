// botwire emulator page: plain JavaScript, no build step, no CDN.
"use strict";

const $ = (sel) => document.querySelector(sel);
const chat = $("#chat");
const exchanges = $("#exchanges");
const state = {};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function post(path, body) {
  const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return res.json();
}

// The schemes a URL from the bot may have: a javascript: or data: URL
// would run in this page, which holds the API. The server drops the
// others already; this is the second line.
const linkSchemes = ["http:", "https:", "mailto:", "tel:"];
const mediaSchemes = ["http:", "https:"];

// safeURL returns u when it is absolute with one of schemes, else null.
function safeURL(u, schemes) {
  try {
    return schemes.includes(new URL(u).protocol) ? u : null;
  } catch {
    return null;
  }
}

// link opens u in a new tab that gets no handle on this page, or shows
// the text alone when u is not safe.
function link(u, attrs, text) {
  const href = safeURL(u, linkSchemes);
  return href ? el("a", { ...attrs, href, target: "_blank", rel: "noopener noreferrer" }, text) : el("span", attrs, text);
}

function clickable(a) {
  if (a.kind === "url" || a.kind === "dial") return link(a.url, { class: "link" }, a.label);
  return el("button", { type: "button", class: "choice", "data-kind": a.kind, onclick: () => post("/api/click", a) }, a.label);
}

function renderItem(it) {
  const li = el("li", { class: it.error ? "error" : it.from });
  if (it.error) { li.append(it.error); chat.append(li); li.scrollIntoView(); return; }
  if (it.header) li.append(el("div", { class: "header" }, it.header));
  if (it.media) {
    const m = it.media;
    const src = safeURL(m.url, mediaSchemes);
    const body = !src || m.kind === "file" ? link(src, {}, "📄 " + (m.caption || src || m.kind))
      : m.kind === "image" ? el("img", { src, alt: m.caption || "image" })
      : m.kind === "video" ? el("video", { src, controls: "" })
      : el("audio", { src, controls: "" });
    li.append(el("div", { class: "media" }, body, m.caption && m.kind !== "file" ? el("div", {}, m.caption) : null));
  }
  if (it.text) li.append(el("div", { class: "text" }, it.text));
  if (it.location) {
    const l = it.location;
    li.append(link(`https://maps.google.com/?q=${Number(l.latitude)},${Number(l.longitude)}`, {}, `📍 ${l.name || ""} (${l.latitude}, ${l.longitude})`));
  }
  if (it.contact) li.append(el("div", { class: "contact" }, "👤 " + it.contact));
  if (it.buttons && it.buttons.length) li.append(el("div", { class: "buttons" }, ...it.buttons.map(clickable)));
  if (it.list) {
    const d = el("details", {}, el("summary", {}, it.list.button || "Options"));
    for (const s of it.list.sections) {
      if (s.title) d.append(el("div", { class: "header" }, s.title));
      for (const r of s.rows) d.append(el("button", { type: "button", class: "row choice", "data-kind": "row", onclick: () => post("/api/click", r) }, r.label));
    }
    li.append(el("div", { class: "list" }, d));
  }
  if (it.cards && it.cards.length) {
    li.append(el("div", { class: "cards" }, ...it.cards.map((c) => el("div", { class: "card" },
      safeURL(c.image, mediaSchemes) ? el("img", { src: c.image, alt: c.title || "" }) : null,
      c.title ? el("div", { class: "header" }, c.title) : null,
      c.description ? el("div", {}, c.description) : null,
      c.buttons && c.buttons.length ? el("div", { class: "buttons" }, ...c.buttons.map(clickable)) : null))));
  }
  if (it.footer) li.append(el("div", { class: "footer" }, it.footer));
  chat.append(li);
  li.scrollIntoView();
}

function renderExchange(x) {
  const bad = x.error || x.status < 200 || x.status > 299;
  const head = `#${x.id} ${x.direction} ${x.status || "—"} ${x.latencyMs ? x.latencyMs.toFixed(1) + " ms" : ""}`;
  const hdrs = (h) => Object.entries(h || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  const li = el("li", { class: "exchange", "data-id": x.id },
    el("details", {},
      el("summary", { class: bad ? "bad" : "" }, head + (x.error ? " — " + x.error : "")),
      el("div", {}, `${x.method} ${x.url}`),
      el("pre", {}, hdrs(x.requestHeaders) + "\n\n" + (x.requestBody || "")),
      x.responseBody || x.responseHeaders ? el("pre", {}, hdrs(x.responseHeaders) + "\n\n" + (x.responseBody || "")) : null,
      x.replayable ? el("button", { type: "button", class: "replay", onclick: () => post(`/api/replay/${x.id}`, {}) }, "Replay") : null));
  exchanges.append(li);
}

function renderState(s) {
  Object.assign(state, s);
  const parts = [];
  if ("paused" in state) parts.push(state.paused ? "bot paused" : "bot active");
  if ("teamOnline" in state) parts.push(state.teamOnline ? "team online" : "team offline");
  $("#state").replaceChildren(...parts.map((p) => el("span", { class: "state" }, p)));
  $("#typing").hidden = !state.typing;
  if (state.typing) setTimeout(() => { state.typing = false; $("#typing").hidden = true; }, 10000);
}

function handle(ev) {
  if (ev.kind === "chat") renderItem(ev.item);
  else if (ev.kind === "exchange") renderExchange(ev.exchange);
  else if (ev.kind === "state") renderState(ev.state);
}

async function start() {
  const info = await (await fetch("/api/info")).json();
  $("#vendor").textContent = info.vendor;
  $("#bot").textContent = "→ " + info.bot;
  document.title = `botwire emulate ${info.vendor}`;
  $("#desk").hidden = !info.desk;
  for (const ev of (await (await fetch("/api/history")).json()) || []) handle(ev);
  const es = new EventSource("/api/events");
  es.onmessage = (m) => handle(JSON.parse(m.data));
  document.body.dataset.ready = "true";
}

$("#composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#text").value.trim();
  if (!text) return;
  $("#text").value = "";
  post("/api/say", { text });
});
$("#desk").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#agent-text").value.trim();
  if (!text) return;
  $("#agent-text").value = "";
  post("/api/agent", { text });
});
$("#toggle-inspector").addEventListener("click", () => { $("#inspector").hidden = !$("#inspector").hidden; });
$("#save").addEventListener("click", () => { window.location = "/api/transcript"; });
$("#load").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (file) await fetch("/api/transcript", { method: "POST", headers: { "Content-Type": "application/json" }, body: await file.text() });
});
start();
