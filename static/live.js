// Comptoir's live channel: one websocket per tab, versioned topics, snapshots on gaps.
// The protocol is described in docs/realtime.md.
(function () {
  "use strict";
  const body = document.body;
  const topics = JSON.parse(body.dataset.topics || "[]");
  const versions = {};
  let socket = null;
  let backoff = 250;

  function uid() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  window.comptoir = { uid: uid, versions: versions };

  // A few at a time, newest last: an older one gives way rather than pile up over the page.
  // Each fades by itself and can be dismissed first (its close button is drawn by CSS, so
  // the toast's text is only its message).
  const MAX_TOASTS = 3;
  function dismiss(item) {
    if (item.classList.contains("leaving")) return;
    item.classList.add("leaving");
    setTimeout(() => item.remove(), 250);
  }
  function toast(text, kind) {
    const box = document.getElementById("toasts");
    if (!box || !text) return;
    const item = document.createElement("div");
    item.className = "toast " + (kind || "info");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    const message = document.createElement("span");
    message.className = "toast-text";
    message.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", body.dataset.dismissText || "×");
    close.addEventListener("click", () => dismiss(item));
    item.append(message, close);
    box.appendChild(item);
    const shown = Array.from(box.children).filter((t) => !t.classList.contains("leaving"));
    shown.slice(0, Math.max(0, shown.length - MAX_TOASTS)).forEach(dismiss);
    setTimeout(() => dismiss(item), kind === "error" ? 8000 : 5000);
  }
  window.comptoir.toast = toast;

  // A live swap must not undo what the person is doing: typed values, open <details>
  // and focus carry over to the same control in the new HTML (found by its data ids).
  const KEY_ATTRS = ["id", "data-round-id", "data-table-id", "data-ticket-id", "data-product",
    "data-line", "data-round", "hx-post", "name"];
  function keyOf(node, root) {
    const parts = [];
    for (let n = node; n && n !== root; n = n.parentElement) {
      const attr = KEY_ATTRS.find((a) => n.hasAttribute(a));
      if (attr) parts.push(attr + "=" + n.getAttribute(attr));
      else if (n.tagName === "DETAILS") parts.push("details." + n.className);
    }
    return parts.join("<");
  }
  function edited(input) {
    if (input.type === "hidden" || input.type === "submit") return false;
    if (input.tagName === "SELECT") {
      return Array.from(input.options).some((o) => o.selected !== o.defaultSelected);
    }
    return input.value !== input.defaultValue;
  }
  function keep(root) {
    const values = {};
    for (const input of root.querySelectorAll("input, textarea, select")) {
      // A form being sent (htmx marks it) is what this very event may be the result of:
      // its values went to the server, so the new HTML starts afresh, whichever of the
      // event and the form's own response arrives first.
      const sending = input.form && input.form.classList.contains("htmx-request");
      if (edited(input) && !sending) values[keyOf(input, root)] = input.value;
    }
    const open = Array.from(root.querySelectorAll("details[open]"), (d) => keyOf(d, root));
    const active = root.contains(document.activeElement) ? document.activeElement : null;
    // Where the caret is (or what is selected) in the control being typed in: a swap in
    // the middle of a word must not send the next keystrokes to the start of the field.
    const caret = active && caretOf(active);
    return { values: values, open: open, focus: active && keyOf(active, root), caret: caret };
  }
  function caretOf(input) {
    try {
      return input.selectionStart === null || input.selectionStart === undefined
        ? null : [input.selectionStart, input.selectionEnd, input.selectionDirection];
    } catch (error) {
      return null; // a control without a text selection (checkbox, number…)
    }
  }
  function restore(root, kept) {
    for (const input of root.querySelectorAll("input, textarea, select")) {
      const key = keyOf(input, root);
      if (key in kept.values) input.value = kept.values[key];
      if (kept.focus === key) {
        input.focus();
        if (kept.caret && caretOf(input)) input.setSelectionRange(...kept.caret);
      }
    }
    for (const details of root.querySelectorAll("details")) {
      if (kept.open.includes(keyOf(details, root))) details.open = true;
    }
  }

  window.comptoir.keep = keep;
  window.comptoir.restore = restore;

  // What is the viewer's own (their cart lines, their name) is marked here, not in the
  // HTML: every member of a table gets the same fragment. static/app.css styles `.own`.
  function markOwn(root) {
    const me = body.dataset.me;
    if (!me) return;
    for (const el of root.querySelectorAll("[data-owner]")) {
      const own = el.dataset.owner === me;
      el.classList.toggle("own", own);
      if (own) for (const who of el.querySelectorAll(".who")) who.dataset.you = body.dataset.you;
    }
  }
  markOwn(document);
  document.addEventListener("htmx:afterSwap", (event) => markOwn(event.detail.target));

  function apply(message) {
    const html = message.html || {};
    for (const id of Object.keys(html)) {
      const el = document.getElementById(id);
      if (!el) continue;
      const kept = keep(el);
      el.innerHTML = html[id];
      markOwn(el);
      restore(el, kept);
      if (window.htmx) window.htmx.process(el);
    }
    body.dataset.live = "ok";
    document.dispatchEvent(new CustomEvent("comptoir:applied", { detail: message }));
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function resync(list) {
    send({ type: "resync", topics: list || topics });
  }

  function onMessage(raw) {
    const message = JSON.parse(raw.data);
    const topic = message.topic;
    if (message.type === "snapshot") {
      versions[topic] = message.version;
      apply(message);
    } else if (message.type === "event") {
      const have = versions[topic] || 0;
      if (message.version <= have) return; // already included
      if (message.version > have + 1) {
        resync([topic]); // we missed something: fetch the whole state
        return;
      }
      versions[topic] = message.version;
      apply(message);
      const notify = message.notify;
      const mine = notify && notify.actor && String(notify.actor) === body.dataset.me;
      // Staff screens have no actor: always told, but on a page that only watches (the
      // back office's home, body.quiet-live).
      if (notify && !mine && !body.classList.contains("quiet-live")) toast(notify.text);
    } else if (message.type === "bus") {
      // Live changes are late while the bus is down; the server sends fresh snapshots of
      // whatever moved meanwhile, so there is nothing to ask for. Shown on the page.
      body.classList.toggle("live-delayed", !message.up);
    } else if (message.type === "error") {
      toast(message.message, "error");
    }
  }

  function connect() {
    if (!topics.length) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/ws?format=html");
    socket.onopen = () => {
      backoff = 250;
      body.dataset.socket = "open";
      body.classList.remove("live-delayed"); // told again at once if the bus is still down
      send({ type: "subscribe", topics: topics });
    };
    socket.onmessage = onMessage;
    socket.onclose = () => {
      body.dataset.socket = "closed";
      body.dataset.live = "stale";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }

  // Every htmx request that changes something carries a fresh idempotency key.
  document.addEventListener("htmx:configRequest", (event) => {
    const params = event.detail.parameters;
    const root = document.querySelector("[data-token]");
    if (root) event.detail.path = event.detail.path.replace("{token}", root.dataset.token);
    if (event.detail.verb !== "get" && params && !params.idempotency_key) {
      params.idempotency_key = uid();
    }
    if (event.detail.elt.dataset && event.detail.elt.dataset.newLine !== undefined) {
      params.client_id = uid(); // a new cart line: its id makes a retried add land once
    }
  });
  document.addEventListener("htmx:responseError", (event) => {
    // A form that shows its errors by its fields (static/forms.js) needs no toast as well.
    const elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("form[data-field-errors]") && document.contains(elt)) {
      return;
    }
    let text = event.detail.xhr.statusText;
    try {
      text = JSON.parse(event.detail.xhr.responseText).error.message;
    } catch (_) { /* not JSON */ }
    toast(text, "error");
  });
  document.addEventListener("htmx:sendError", () => toast(body.dataset.offlineText, "error"));
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (event.detail.successful && form.tagName === "FORM" && form.dataset.reset !== undefined) {
      form.reset();
    }
    if (event.detail.successful && form.tagName === "FORM" && form.dataset.close) {
      closePanel(form);
    }
  });
  // A panel (the POS's order for a table) closes once its form went through, or on request.
  function closePanel(element) {
    const panel = document.getElementById(element.dataset.close);
    if (panel) panel.innerHTML = "";
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-close]");
    if (button) closePanel(button);
    if (event.target.closest && event.target.closest("button[data-print]")) window.print();
  });
  // How long each round has been waiting, on the POS. The server's clock decides: the
  // device clock only measures time since the last view arrived.
  let clockOffset = 0;
  document.addEventListener("comptoir:applied", () => {
    const stamped = document.querySelector("[data-server-now]");
    if (stamped) clockOffset = Date.parse(stamped.dataset.serverNow) - Date.now();
  });
  function tickWaiting() {
    const now = Date.now() + clockOffset;
    for (const el of document.querySelectorAll("time.waiting[datetime]")) {
      const minutes = Math.max(0, Math.floor((now - Date.parse(el.getAttribute("datetime"))) / 60000));
      el.dataset.elapsed = String(minutes);
    }
  }
  document.addEventListener("comptoir:applied", tickWaiting);
  setInterval(tickWaiting, 30000);
  tickWaiting();

  window.addEventListener("online", () => resync());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") resync();
  });
  connect();
})();
