// The botwire admin page: it reads the JSON API under its own path and
// renders everything with textContent, never as HTML, since error texts
// and payloads come from customers' messages.
"use strict";

const $ = (sel) => document.querySelector(sel);
let actions = false; // the handler was built WithActions
let selected = "";   // the queue whose messages are shown
let listed = "dead"; // which of its messages: "dead" or "pending"
let next = "";       // the cursor of the next page of them

// api calls the JSON API at path, relative to the page, and returns the
// decoded answer, or throws its error.
async function api(path, body) {
  const url = new URL(path, location.href);
  url.username = url.password = ""; // fetch refuses a URL with credentials
  const init = {headers: {"Accept": "application/json"}, credentials: "same-origin"};
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(url, init);
  let data = {};
  try { data = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) {
    throw new Error((data && data.error) || resp.status + " " + resp.statusText);
  }
  return data;
}

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) {
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function button(label, cls, onclick) {
  const b = el("button", {type: "button", className: cls}, label);
  b.addEventListener("click", onclick);
  return b;
}

function showError(err) {
  const p = $("#error");
  if (!err) { p.hidden = true; return; }
  p.textContent = err.message || String(err);
  p.hidden = false;
}

function age(seconds) {
  if (!seconds) return "–";
  if (seconds < 60) return Math.round(seconds) + " s";
  if (seconds < 3600) return Math.round(seconds / 60) + " min";
  if (seconds < 86400) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}

// run performs an action, then refreshes what it changed.
async function run(what) {
  try {
    await what();
    showError(null);
  } catch (err) {
    showError(err);
  }
  await loadQueues();
  if (selected) await loadDead(selected, false);
}

async function loadQueues() {
  let data;
  try {
    data = await api("api/queues");
  } catch (err) {
    showError(err);
    return;
  }
  actions = data.actions;
  $("#mode").textContent = actions ? "actions enabled" : "read-only";
  document.body.classList.toggle("read-only", !actions);
  for (const b of document.querySelectorAll("button.action")) {
    b.hidden = !actions || (listed !== "dead" && (b.id === "replay-all" || b.id === "delete-all"));
  }
  const tbody = $("#queues tbody");
  tbody.replaceChildren();
  for (const q of data.queues) {
    const tr = el("tr", {className: (q.paused ? "paused " : "") + (q.name === selected ? "selected" : "")});
    tr.dataset.queue = q.name;
    const cells = [
      el("td", {className: "name"}, q.name),
      el("td", {className: "num pending"}, q.pending),
      el("td", {className: "num running"}, q.running),
      el("td", {className: "num retrying"}, q.retrying),
      el("td", {className: "num dead"}, q.dead),
      el("td", {className: "num oldest", title: q.oldestPendingSeconds + " s"}, age(q.oldestPendingSeconds)),
      el("td", {className: "state"}, q.error ? "error: " + q.error : q.paused ? "paused" : "consuming"),
    ];
    const buttons = el("div", {className: "buttons"},
      button("Dead letters", "show-dead", () => { selected = q.name; listed = "dead"; loadQueues(); loadDead(q.name, false); }),
      button("Pending", "show-pending", () => { selected = q.name; listed = "pending"; loadQueues(); loadDead(q.name, false); }));
    if (actions) {
      buttons.append(q.paused
        ? button("Resume", "resume", () => run(() => api("api/queues/" + encodeURIComponent(q.name) + "/resume", {})))
        : button("Pause", "pause", () => run(() => api("api/queues/" + encodeURIComponent(q.name) + "/pause", {}))));
    }
    cells.push(el("td", {}, buttons));
    tr.append(...cells);
    tbody.append(tr);
  }
  $("#updated").textContent = "updated " + new Date().toLocaleTimeString();
  document.body.dataset.ready = "true";
}

function queuePath(name) { return "api/queues/" + encodeURIComponent(name); }

// loadDead shows the first page of name's dead letters (or its pending
// messages, when listed is "pending"), or appends the next page when more
// is set.
async function loadDead(name, more) {
  const dead = listed === "dead";
  const path = queuePath(name) + "/" + listed + (more && next ? "?cursor=" + encodeURIComponent(next) : "");
  let data;
  try {
    data = await api(path);
  } catch (err) {
    showError(err);
    return;
  }
  $("#dead-pane").hidden = false;
  $("#dead-pane").dataset.listed = listed;
  $("#list-title").textContent = dead ? "Dead letters of " : "Pending messages of ";
  $("#dead-queue").textContent = name;
  $("#dead-empty").textContent = dead ? "No dead letters." : "No pending messages.";
  for (const b of document.querySelectorAll("#replay-all, #delete-all")) b.hidden = !actions || !dead;
  const tbody = $("#dead tbody");
  if (!more) tbody.replaceChildren();
  for (const m of data.messages) tbody.append(...deadRows(name, m, dead));
  next = data.next || "";
  $("#more").hidden = !next;
  const shown = tbody.querySelectorAll("tr.letter").length;
  $("#dead-empty").hidden = shown > 0;
  $("#dead-count").textContent = shown + " shown" + (next ? ", more to load" : "");
  if (dead) document.body.dataset.deadLoaded = name;
  document.body.dataset.listLoaded = listed + ":" + name;
}

// deadRows returns a message's row and the hidden row of its payload; a
// dead letter's row has the actions.
function deadRows(name, m, dead) {
  const tr = el("tr", {className: "letter"});
  tr.dataset.id = m.id;
  const payloadRow = el("tr", {className: "payload-row", hidden: true});
  const pre = el("pre", {className: "payload"});
  payloadRow.append(el("td", {colSpan: 6}, pre));
  const msgPath = queuePath(name) + "/messages/" + encodeURIComponent(m.id);
  const buttons = el("div", {className: "buttons"},
    button("Payload", "show-payload", async () => {
      if (!payloadRow.hidden) { payloadRow.hidden = true; return; }
      try {
        const full = await api(msgPath);
        pre.textContent = full.payload !== undefined ? pretty(full.payload) : "(binary, base64) " + full.payloadBase64;
        payloadRow.hidden = false;
      } catch (err) {
        showError(err);
      }
    }));
  if (actions && dead) {
    buttons.append(
      button("Replay", "replay", () => run(() => api(queuePath(name) + "/replay", {id: m.id}))),
      button("Delete", "delete danger", async () => {
        if (await confirmed("Delete the dead letter " + m.id + " of " + name + "? Its message is lost.")) {
          run(() => api(queuePath(name) + "/delete", {id: m.id}));
        }
      }));
  }
  tr.append(
    el("td", {className: "id"}, m.id),
    el("td", {className: "key"}, m.key),
    el("td", {className: "num attempts"}, m.attempts),
    el("td", {className: "enqueued"}, m.enqueued ? new Date(m.enqueued).toLocaleString() : ""),
    el("td", {className: "err"}, m.error || ""),
    el("td", {}, buttons));
  return [tr, payloadRow];
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
}

// confirmed asks in the page's own dialog (a window.confirm would block
// the page) and resolves to whether the user agreed. It listens to the
// buttons, not to the dialog's close event, which comes a task later and
// could answer the next question.
function confirmed(text, ok) {
  const d = $("#confirm");
  const okButton = $("#confirm-ok");
  const cancelButton = $("#confirm-cancel");
  $("#confirm-text").textContent = text;
  okButton.textContent = ok || "Delete";
  return new Promise((resolve) => {
    const answer = (yes) => (e) => {
      e.preventDefault();
      okButton.onclick = cancelButton.onclick = d.oncancel = null;
      d.close();
      resolve(yes);
    };
    okButton.onclick = answer(true);
    cancelButton.onclick = answer(false);
    d.oncancel = answer(false); // Escape
    d.showModal();
  });
}

$("#refresh").addEventListener("click", () => run(async () => {}));
$("#more").addEventListener("click", () => loadDead(selected, true));
$("#replay-all").addEventListener("click", async () => {
  if (await confirmed("Replay every dead letter of " + selected + "?", "Replay all")) {
    run(() => api(queuePath(selected) + "/replay", {all: true}));
  }
});
$("#delete-all").addEventListener("click", async () => {
  if (await confirmed("Delete every dead letter of " + selected + "? Their messages are lost.")) {
    run(() => api(queuePath(selected) + "/delete", {all: true}));
  }
});

loadQueues();
setInterval(loadQueues, 5000);
