// botwire emulator page: plain JavaScript, no build step, no CDN.
//
// Everything it shows comes from the server's event stream (GET
// /api/events, Server-Sent Events with ids: the browser's EventSource
// sends Last-Event-ID when it reconnects, and the server sends what was
// missed). Fields a server of an older version does not send are treated
// as absent.
"use strict";

const $ = (sel) => document.querySelector(sel);
const chat = $("#chat");
const exchanges = $("#exchanges");
const state = {};
let info = {};

const seenEvents = new Set(); // event ids already handled
const chatItems = []; // {id, conv, item}, by event id
const xs = new Map(); // exchange id -> {x, conv, seen (ms, local)}
const openXs = new Set(); // exchange ids whose details are open
const convs = []; // conversation ids in the order they appeared
let currentConv = ""; // "" = all (an older server sends no conv)
let highlighted = 0;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

// notice shows a message above the chat (kind "error" or "info"); an
// error stays until dismissed, other notices go after a while.
function notice(text, kind, hint) {
  const li = el("li", { class: "notice " + (kind || "info") }, el("span", { class: "notice-text" }, text),
    hint ? el("div", { class: "hint" }, hint) : null,
    el("button", { type: "button", class: "dismiss", title: "Dismiss", onclick: () => li.remove() }, "×"));
  $("#notices").append(li);
  if (!/\berror\b/.test(kind || "")) setTimeout(() => li.remove(), 8000);
  return li;
}

// api posts body as JSON to path and returns the answer's JSON. A failed
// request shows its reason as a notice (prefixed with what) and throws.
async function api(path, body, what) {
  let res, data = {};
  try {
    res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  } catch (err) {
    notice(`${what || path}: the emulator cannot be reached (${err.message}); is botwire emulate still running?`, "error");
    throw err;
  }
  const text = await res.text();
  try { data = text ? JSON.parse(text) : {}; } catch { data = { error: text.trim() }; }
  if (!res.ok) {
    const reason = (data && data.error) || text.trim() || res.statusText;
    notice(`${what || path}: ${reason}`, "error", data && data.hint);
    const err = new Error(reason);
    err.data = data;
    throw err;
  }
  return data;
}

// post is api for the clicks and messages whose failure the notice says.
function post(path, body, what) {
  return api(path, body, what).catch(() => null);
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
function link(u, attrs, ...text) {
  const href = safeURL(u, linkSchemes);
  return href ? el("a", { ...attrs, href, target: "_blank", rel: "noopener noreferrer" }, ...text) : el("span", attrs, ...text);
}

// valueOf is what a click on a delivers to the bot, when the server says.
function valueOf(a) {
  return a.value || "";
}

// clickable renders a button, chip or row: a link (url, dial) opens a
// page and sends the bot nothing; a postback sends the bot its value,
// shown beside the label.
function clickable(a) {
  if (a.kind === "url" || a.kind === "dial") {
    const icon = a.kind === "dial" ? "☎ " : "↗ ";
    return link(a.url, { class: "link chip", "data-kind": a.kind, title: (a.kind === "dial" ? "call " : "opens ") + (a.url || "") },
      el("span", { class: "icon", "aria-hidden": "true" }, icon), el("span", { class: "chip-label" }, a.label));
  }
  const v = valueOf(a);
  return el("button", { type: "button", class: "choice chip postback", "data-kind": a.kind, title: v ? `sends the bot ${v}` : "sends the bot this choice",
    onclick: () => post("/api/click", a, `click "${a.label}"`) },
  el("span", { class: "icon", "aria-hidden": "true" }, "↩ "), el("span", { class: "chip-label" }, a.label), v ? el("span", { class: "value" }, v) : null);
}

// image renders src, or a placeholder box with its caption and URL when
// it cannot be loaded (offline, unreachable, not an image).
function image(src, caption) {
  const placeholder = () => el("div", { class: "placeholder", role: "img", "aria-label": caption || "image" },
    el("span", { class: "icon", "aria-hidden": "true" }, "🖼"), el("span", {}, caption || "image"), src ? el("small", {}, src) : null);
  if (!src) return placeholder();
  const img = el("img", { src, alt: caption || "image" });
  img.addEventListener("error", () => img.replaceWith(placeholder()), { once: true });
  return img;
}

function timeOf(s) {
  if (!s) return "";
  const d = new Date(s);
  if (isNaN(d)) return "";
  return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function renderItem(it, id) {
  const cls = [it.error ? "error" : it.from];
  if (it.exchange) cls.push("has-exchange");
  const li = el("li", { class: cls.join(" "), "data-event": id || it.id, "data-exchange": it.exchange || null,
    title: it.exchange ? `exchange #${it.exchange}: click to open it in the inspector` : null });
  if (it.exchange) li.addEventListener("click", (e) => { if (!e.target.closest("button, a, summary")) openExchange(it.exchange); });
  if (it.error) {
    li.append(el("div", { class: "error-text" }, it.error));
    if (it.hint) li.append(el("div", { class: "hint" }, it.hint));
    chat.append(li);
    return li;
  }
  if (it.header) li.append(el("div", { class: "header" }, it.header));
  if (it.media) {
    const m = it.media;
    const src = safeURL(m.url, mediaSchemes);
    const body = m.kind === "image" ? image(src, m.caption)
      : !src || m.kind === "file" ? link(src, { class: "file" }, "📄 " + (m.caption || src || m.kind))
      : m.kind === "video" ? el("video", { src, controls: "" })
      : el("audio", { src, controls: "" });
    li.append(el("div", { class: "media" }, body, m.caption && m.kind !== "file" ? el("div", { class: "caption" }, m.caption) : null));
  }
  if (it.text) li.append(el("div", { class: "text" }, it.text));
  if (it.location) {
    const l = it.location;
    li.append(link(`https://maps.google.com/?q=${Number(l.latitude)},${Number(l.longitude)}`, {}, `📍 ${l.name || ""} (${l.latitude}, ${l.longitude})`));
  }
  if (it.contact) li.append(el("div", { class: "contact" }, "👤 " + it.contact));
  // WhatsApp shows the footer under the body, above the buttons.
  if (it.footer) li.append(el("div", { class: "footer" }, it.footer));
  if (it.buttons && it.buttons.length) li.append(el("div", { class: "buttons" }, ...it.buttons.map(clickable)));
  if (it.list) {
    const d = el("details", {}, el("summary", {}, "☰ " + (it.list.button || "Options")));
    for (const s of it.list.sections || []) {
      if (s.title) d.append(el("div", { class: "header section" }, s.title));
      for (const r of s.rows || []) {
        const v = valueOf(r);
        d.append(el("button", { type: "button", class: "row choice", "data-kind": "row", title: v ? `sends the bot ${v}` : null,
          onclick: () => post("/api/click", r, `choose "${r.label}"`) },
        el("span", { class: "row-label" }, el("span", { class: "chip-label" }, r.label), v ? el("span", { class: "value" }, v) : null),
        r.description ? el("span", { class: "row-description" }, r.description) : null));
      }
    }
    li.append(el("div", { class: "list" }, d));
  }
  if (it.cards && it.cards.length) {
    li.append(el("div", { class: "cards" }, ...it.cards.map((c) => el("div", { class: "card" },
      c.image ? image(safeURL(c.image, mediaSchemes), c.title) : null,
      c.title ? el("div", { class: "header" }, c.title) : null,
      c.description ? el("div", {}, c.description) : null,
      c.buttons && c.buttons.length ? el("div", { class: "buttons" }, ...c.buttons.map(clickable)) : null))));
  }
  if (it.value && it.from === "customer") li.append(el("div", { class: "sent-value", title: "what the bot received" }, "→ " + it.value));
  if (it.hint) li.append(el("div", { class: "hint" }, it.hint));
  if (it.time) li.append(el("time", { datetime: it.time }, timeOf(it.time)));
  chat.append(li);
  return li;
}

function inConv(conv) {
  return !currentConv || !conv || conv === currentConv;
}

function renderChat() {
  chat.replaceChildren();
  for (const c of chatItems) if (inConv(c.conv)) renderItem(c.item, c.id);
  if (chat.lastElementChild) chat.lastElementChild.scrollIntoView({ block: "end" });
}

function addChat(ev) {
  const c = { id: ev.id || 0, conv: ev.conv || "", item: ev.item };
  chatItems.push(c);
  noteConv(c.conv);
  if (inConv(c.conv)) {
    const li = renderItem(c.item, c.id);
    li.scrollIntoView({ block: "end" });
  }
}

function noteConv(conv) {
  if (!conv || convs.includes(conv)) return;
  convs.push(conv);
  if (!currentConv) currentConv = conv;
  renderConvs();
}

function renderConvs() {
  const sel = $("#conv");
  sel.replaceChildren(...convs.map((c, i) => el("option", { value: c, selected: c === currentConv ? "" : null }, `${i + 1}: ${c}`)));
  $("#conv-label").hidden = convs.length === 0;
}

function setConv(conv) {
  if (conv) noteConv(conv);
  if (conv === currentConv) return;
  currentConv = conv || "";
  renderConvs();
  renderChat();
  scheduleInspector();
}

// ---- inspector ----

const hdrs = (h) => Object.entries(h || {}).map(([k, v]) => `${k}: ${v}`).join("\n");

function bad(x) {
  return !x.pending && (x.error || !x.status || x.status < 200 || x.status > 299);
}

function isLate(rec) {
  const x = rec.x;
  if (x.late) return true;
  if (!x.pending || !x.budgetMs) return false;
  return elapsedMs(rec) > x.budgetMs;
}

function elapsedMs(rec) {
  const start = Date.parse(rec.x.time) || rec.seen;
  return Math.max(0, Date.now() - start);
}

function shortURL(u) {
  try {
    const p = new URL(u);
    return p.pathname + p.search;
  } catch {
    return u || "";
  }
}

// copy puts text on the clipboard (or, where the page may not, selects it
// for Ctrl+C) and remembers it in window.lastCopied.
async function copy(text, what) {
  window.lastCopied = text;
  try {
    await navigator.clipboard.writeText(text);
    notice(`${what} copied`, "info");
  } catch {
    const ta = el("textarea", { class: "copy-buffer", readonly: "" });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand && document.execCommand("copy");
    ta.remove();
    notice(ok ? `${what} copied` : `${what}: the browser refused the clipboard; select the text in the inspector`, ok ? "info" : "error");
  }
}

function exchangeRow(rec, children) {
  const x = rec.x;
  const late = isLate(rec);
  const cls = ["exchange"];
  if (x.pending) cls.push("pending");
  if (late) cls.push("late");
  if (bad(x)) cls.push("failed");
  if (x.id === highlighted) cls.push("highlight");
  const status = x.pending ? el("span", { class: "elapsed" }, (elapsedMs(rec) / 1000).toFixed(1) + " s…")
    : el("span", { class: "status" + (bad(x) ? " bad" : "") }, String(x.status || "—"));
  const tags = [];
  if (x.attempt && (x.attempt > 1 || x.delivery)) tags.push(el("span", { class: "tag attempt" }, `attempt ${x.attempt}`));
  if (x.redelivery) tags.push(el("span", { class: "tag redelivery" }, "redelivery"));
  if (late) tags.push(el("span", { class: "tag late", title: x.budgetMs ? `past the platform's answer budget of ${x.budgetMs} ms` : "past the platform's answer budget" }, "late"));
  if (x.pending) tags.push(el("span", { class: "tag pending" }, "pending"));
  const arrow = x.direction && x.direction.startsWith("bot") ? "⬆" : "⬇";
  const summary = el("summary", { class: bad(x) ? "bad" : null },
    el("span", { class: "xid" }, `#${x.id}`),
    el("time", { datetime: x.time || null }, timeOf(x.time)),
    el("span", { class: "dir", title: x.direction }, arrow),
    el("span", { class: "event" }, x.event || x.method || ""),
    el("span", { class: "summary-text" }, x.summary || ""),
    el("span", { class: "target", title: `${x.method} ${x.url}` }, `${x.method || ""} ${shortURL(x.url)}`),
    status,
    !x.pending && x.latencyMs ? el("span", { class: "latency" }, x.latencyMs.toFixed(1) + " ms") : null,
    ...tags);
  const d = el("details", { open: openXs.has(x.id) ? "" : null }, summary,
    el("div", { class: "meta" }, `${x.direction || ""} · ${x.method || ""} ${x.url || ""}`),
    x.error ? el("div", { class: "bad" }, x.error) : null,
    x.hint ? el("div", { class: "hint" }, x.hint) : null,
    el("div", { class: "label" }, "request"),
    el("pre", { class: "request" }, hdrs(x.requestHeaders) + "\n\n" + (x.requestBody || "")),
    x.responseBody || x.responseHeaders ? el("div", { class: "label" }, "response") : null,
    x.responseBody || x.responseHeaders ? el("pre", { class: "response" }, hdrs(x.responseHeaders) + "\n\n" + (x.responseBody || "")) : null,
    x.send ? el("pre", { class: "cmd cmd-send" }, x.send) : null,
    x.curl ? el("pre", { class: "cmd cmd-curl" }, x.curl) : null,
    el("div", { class: "actions" },
      x.send ? el("button", { type: "button", class: "copy-send", onclick: () => copy(x.send, "botwire send command") }, "Copy as botwire send") : null,
      x.curl ? el("button", { type: "button", class: "copy-curl", onclick: () => copy(x.curl, "curl command") }, "Copy as curl") : null,
      x.replayable ? el("button", { type: "button", class: "replay", title: "the same bytes and delivery id again, as the platform's redelivery would",
        onclick: () => post(`/api/replay/${x.id}`, { as: "redelivery" }, "Replay") }, "Replay (redelivery, same id)") : null,
      x.replayable ? el("button", { type: "button", class: "replay-new", title: "the same content as a new delivery, with new ids",
        onclick: () => post(`/api/replay/${x.id}`, { as: "new" }, "Send again as new") }, "Send again as new") : null));
  d.addEventListener("toggle", () => { if (d.open) openXs.add(x.id); else openXs.delete(x.id); });
  const li = el("li", { class: cls.join(" "), "data-id": x.id, "data-event": x.event || null, "data-direction": x.direction || null }, d);
  if (children && children.length) li.append(el("ol", { class: "children" }, ...children));
  return li;
}

function filterState() {
  return { text: $("#filter").value.trim().toLowerCase(), event: $("#filter-event").value, dir: $("#filter-dir").value };
}

function matches(x, f) {
  if (f.event && x.event !== f.event) return false;
  if (f.dir && x.direction !== f.dir) return false;
  if (!f.text) return true;
  const hay = [x.event, x.summary, x.method, x.url, x.requestBody, x.responseBody, x.error, x.delivery, String(x.status), "#" + x.id].join("\n").toLowerCase();
  return hay.includes(f.text);
}

// renderInspector lays the exchanges of the current conversation out in
// causal order: a bot → platform request under the delivery it answered
// (its parent), the attempts of one delivery together.
function renderInspector() {
  pendingRender = false;
  const f = filterState();
  const filtering = f.text || f.event || f.dir;
  const recs = [...xs.values()].filter((r) => inConv(r.conv)).sort((a, b) => a.x.id - b.x.id);
  const byID = new Map(recs.map((r) => [r.x.id, r]));
  const kids = new Map();
  const roots = [];
  for (const r of recs) {
    const p = r.x.parent;
    if (!filtering && p && byID.has(p) && p !== r.x.id) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(r);
    } else roots.push(r);
  }
  const row = (r, depth) => exchangeRow(r, depth > 20 ? [] : (kids.get(r.x.id) || []).map((k) => row(k, depth + 1)));
  const out = [];
  const groups = new Map();
  for (const r of roots) {
    if (filtering && !matches(r.x, f)) continue;
    const dl = !filtering && r.x.delivery;
    if (!dl) { out.push(row(r, 0)); continue; }
    let g = groups.get(dl);
    if (!g) {
      g = { attempts: el("ol", { class: "attempts" }), li: null, n: 0 };
      g.li = el("li", { class: "delivery", "data-delivery": dl }, el("div", { class: "delivery-head" }), g.attempts);
      groups.set(dl, g);
      out.push(g.li);
    }
    g.n++;
    g.attempts.append(row(r, 0));
  }
  for (const [dl, g] of groups) {
    g.li.firstChild.textContent = `delivery ${dl} · ${g.n} attempt${g.n === 1 ? "" : "s"}`;
    if (g.n === 1) g.li.classList.add("single");
  }
  exchanges.replaceChildren(...out);
  const events = [...new Set(recs.map((r) => r.x.event).filter(Boolean))].sort();
  const sel = $("#filter-event");
  const cur = sel.value;
  if (sel.options.length - 1 !== events.length) {
    sel.replaceChildren(el("option", { value: "" }, "all events"), ...events.map((e) => el("option", { value: e, selected: e === cur ? "" : null }, e)));
  }
}

let pendingRender = false;
function scheduleInspector() {
  if (pendingRender) return;
  pendingRender = true;
  requestAnimationFrame(renderInspector);
  setTimeout(() => { if (pendingRender) renderInspector(); }, 100); // a hidden tab gets no frames
}

function addExchange(ev) {
  const x = ev.exchange;
  const old = xs.get(x.id);
  xs.set(x.id, { x, conv: ev.conv || (old && old.conv) || "", seen: (old && old.seen) || Date.now() });
  scheduleInspector();
}

// openExchange shows exchange id in the inspector, open and highlighted.
function openExchange(id) {
  $("#inspector").hidden = false;
  const rec = xs.get(id);
  if (rec && rec.conv && !inConv(rec.conv)) setConv(rec.conv);
  for (const s of ["#filter", "#filter-event", "#filter-dir"]) $(s).value = "";
  openXs.add(id);
  highlighted = id;
  renderInspector();
  const li = exchanges.querySelector(`li.exchange[data-id="${id}"]`);
  if (li) li.scrollIntoView({ block: "center" });
  else notice(`exchange #${id} is not in the inspector (yet)`, "info");
}

// Pending rows count their time and turn late past the platform's budget.
setInterval(() => {
  let changed = false;
  for (const li of exchanges.querySelectorAll("li.exchange.pending")) {
    const rec = xs.get(Number(li.dataset.id));
    if (!rec) continue;
    const e = li.querySelector(":scope > details > summary .elapsed");
    if (e) e.textContent = (elapsedMs(rec) / 1000).toFixed(1) + " s…";
    if (isLate(rec) && !li.classList.contains("late")) changed = true;
  }
  if (changed) scheduleInspector();
}, 250);

// ---- state, conversation control ----

let typingTimer = 0;
function renderState(s, conv) {
  Object.assign(state, s);
  const parts = [];
  if ("paused" in state) parts.push(state.paused ? "bot paused" : "bot active");
  if ("teamOnline" in state) parts.push(state.teamOnline ? "team online" : "team offline");
  $("#state").replaceChildren(...parts.map((p) => el("span", { class: "state" }, p)));
  $("#typing").hidden = !state.typing;
  // Botcopy hides the indicator 10 s after the latest push.
  if (s.typing) {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { state.typing = false; $("#typing").hidden = true; }, 10000);
  }
  if (s.channel) $("#channel").value = s.channel;
  if (s.conversation) setConv(s.conversation);
  else if (conv) noteConv(conv);
  renderWho();
}

function renderWho() {
  const parts = [];
  if (state.customer || info.customer) parts.push("customer " + (state.customer || info.customer));
  if (state.channel || info.channel) parts.push("channel " + (state.channel || info.channel));
  if (currentConv) parts.push("conversation " + currentConv);
  $("#who").textContent = parts.join(" · ");
}

function handle(ev) {
  // The stream is another run of the command now: its events are not
  // this page's.
  if (ev.kind === "reload") { window.location.reload(); return; }
  if (ev.id) {
    if (seenEvents.has(ev.id)) return;
    seenEvents.add(ev.id);
  }
  if (ev.kind === "chat") addChat(ev);
  else if (ev.kind === "exchange") addExchange(ev);
  else if (ev.kind === "state") renderState(ev.state || {}, ev.conv);
}

async function newConversation(what, channel) {
  const body = { new: what };
  const ch = channel || $("#channel").value;
  if (ch) body.channel = ch;
  const r = await api("/api/conversation", body, what === "customer" ? "New customer" : "New conversation").catch(() => null);
  if (!r) return;
  Object.assign(state, { customer: r.customer || state.customer, channel: r.channel || state.channel });
  if (r.channel) $("#channel").value = r.channel;
  if (r.conversation) setConv(r.conversation);
  renderWho();
}

// Customer input beyond text: which fields each type takes.
const inputFields = {
  image: ["url", "caption"], document: ["url", "caption"], video: ["url", "caption"], audio: ["url"],
  location: ["lat", "lon", "name"], contact: ["name", "phone"],
};

function showAttachFields() {
  const want = inputFields[$("#attach-type").value] || [];
  for (const f of ["url", "caption", "lat", "lon", "name", "phone"]) $("#attach-" + f).hidden = !want.includes(f);
}

function setupInfo() {
  $("#vendor").textContent = info.vendor || "";
  $("#bot").textContent = "→ " + (info.bot || "");
  document.title = `botwire emulate ${info.vendor || ""}`;
  $("#desk").hidden = !info.desk;
  const chans = info.channels || [];
  $("#channel").replaceChildren(...chans.map((c) => el("option", { value: c, selected: c === info.channel ? "" : null }, c)));
  $("#channel-label").hidden = chans.length === 0;
  const inputs = (info.inputs || []).filter((t) => inputFields[t]);
  $("#attach-type").replaceChildren(...inputs.map((t) => el("option", { value: t }, t)));
  $("#attach-toggle").hidden = inputs.length === 0;
  showAttachFields();
  $("#new-conv").hidden = !("conversation" in info);
  $("#new-customer").hidden = !("conversation" in info);
  Object.assign(state, { customer: info.customer, channel: info.channel });
  if (info.conversation) setConv(info.conversation);
  renderConvs();
  renderWho();
}

async function start() {
  try {
    info = await (await fetch("/api/info")).json();
  } catch (err) {
    notice(`the emulator cannot be reached (${err.message}); is botwire emulate still running?`, "error");
    return;
  }
  setupInfo();
  // A server of before event ids sends no history on the stream: fetch
  // it once (it may then miss an event between the two; the new one
  // does not).
  if (!("inputs" in info) && !("conversation" in info)) {
    try {
      for (const ev of (await (await fetch("/api/history")).json()) || []) handle(ev);
    } catch (err) {
      notice(`the history cannot be read (${err.message})`, "error");
    }
  }
  const es = new EventSource("/api/events");
  es.onmessage = (m) => {
    try { handle(JSON.parse(m.data)); } catch (err) { console.error("event", err, m.data); }
  };
  let lost = null;
  es.onerror = () => {
    if (!lost) lost = notice("the live stream is interrupted; reconnecting (nothing is lost: the page asks for what it missed)", "info");
  };
  es.onopen = () => {
    if (lost) { lost.remove(); lost = null; }
    document.body.dataset.ready = "true";
  };
}

$("#composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#text").value.trim();
  if (!text) return;
  $("#text").value = "";
  post("/api/say", { text }, "Send");
});
$("#desk").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#agent-text").value.trim();
  if (!text) return;
  $("#agent-text").value = "";
  post("/api/agent", { text }, "Send as agent");
});
$("#attach-toggle").addEventListener("click", () => { $("#attach").hidden = !$("#attach").hidden; });
$("#attach-type").addEventListener("change", showAttachFields);
$("#attach").addEventListener("submit", async (e) => {
  e.preventDefault();
  const type = $("#attach-type").value;
  const v = (f) => $("#attach-" + f).value.trim();
  const body = { type };
  const want = inputFields[type] || [];
  if (want.includes("url")) body.url = v("url");
  if (want.includes("caption") && v("caption")) body.caption = v("caption");
  if (want.includes("lat")) { body.latitude = Number(v("lat")); body.longitude = Number(v("lon")); }
  if (want.includes("name") && v("name")) body.name = v("name");
  if (want.includes("phone")) body.phone = v("phone");
  const r = await api("/api/send", body, `Send ${type}`).catch(() => null);
  if (r) $("#attach").hidden = true;
});
$("#new-conv").addEventListener("click", () => newConversation("conversation"));
$("#new-customer").addEventListener("click", () => newConversation("customer"));
$("#channel").addEventListener("change", () => newConversation("conversation", $("#channel").value));
$("#conv").addEventListener("change", () => setConv($("#conv").value));
for (const s of ["#filter", "#filter-event", "#filter-dir"]) $(s).addEventListener("input", renderInspector);
$("#toggle-inspector").addEventListener("click", () => { $("#inspector").hidden = !$("#inspector").hidden; });
$("#save").addEventListener("click", () => { window.location = "/api/transcript"; });
$("#load").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const wait = notice(`loading ${file.name}: running its steps one at a time…`, "info");
  let res, data = {};
  try {
    res = await fetch("/api/transcript", { method: "POST", headers: { "Content-Type": "application/json" }, body: await file.text() });
    const text = await res.text();
    try { data = text ? JSON.parse(text) : {}; } catch { data = { error: text.trim() }; }
  } catch (err) {
    wait.remove();
    notice(`Load ${file.name}: the emulator cannot be reached (${err.message})`, "error");
    return;
  }
  wait.remove();
  const errors = data.errors || (data.error ? [data.error] : []);
  if (!res.ok || errors.length) {
    const li = notice(`Load ${file.name}: ${errors.length || 1} error${errors.length > 1 ? "s" : ""}${data.replayed !== undefined ? ` (${data.replayed} step${data.replayed === 1 ? "" : "s"} replayed)` : ""}`, "error load-error");
    li.append(el("ul", {}, ...(errors.length ? errors : [res.statusText]).map((m) => el("li", {}, m))));
    return;
  }
  notice(`Load ${file.name}: ${data.replayed !== undefined ? data.replayed + " steps replayed" : "done"}`, "info load-done");
});
start();
