// The till offline (docs/till.md): every record of the till is kept on the device first,
// numbered by the till itself, then uploaded through POST /api/v1/till/sync, online or not
// (one path). The numbers come from one counter per till in IndexedDB, taken in one
// readwrite transaction, so two tabs of the same till never take the same one; a number
// reserved for an action the server refused goes to a spare list and is taken first next
// time, so none is ever lost. A sale leaves the queue only when the server answered
// "recorded" or "duplicate": a reload, a crash or the network dropping mid-upload loses
// nothing, and the retry records nothing twice (the server upserts by the sale's UUID).
// A Web Lock keeps two tabs from uploading at once. The indicator (templates/till/_sync.html)
// shows online or not, the sales waiting, the last sync, and what needs a manager.
(() => {
  "use strict";
  const box = document.getElementById("till-sync");
  if (!box) return;
  const D = box.dataset;
  const DB_NAME = "comptoir-till-" + D.till;
  const LOCK = DB_NAME + "-sync";
  const ACTIVE_MS = 10 * 1000;  // while in use
  const IDLE_MS = 2 * 60 * 1000;  // when nobody touched the till for a while
  const IN_USE_FOR = 60 * 1000;
  const BATCH = 100;
  const WARN_MS = Number(D.warnHours || 24) * 3600 * 1000;
  const fill = (text, params) => text.replace(/%\((\w+)\)s/g, (_, k) => params[k]);
  const toast = (text, kind) => window.comptoir && window.comptoir.toast(text, kind);
  const $ = (id) => document.getElementById(id);

  const numberOf = (sequence) => D.prefix + "-" + String(sequence).padStart(6, "0");

  // A page fetched ahead, not by the user, says so: the server then never writes the
  // session for it. Sent with the id of before a switch of user and answered after it, it
  // would otherwise clear the new id from the browser (the server ended the old one).
  const BACKGROUND = { credentials: "same-origin", headers: { "X-Comptoir-Background": "1" } };

  // The service worker keeps the till's pages and catalog for when the network is gone.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/till-sw.js", { scope: "/" }).catch(() => null);
    // Once it controls this page, the till's pages it does not keep yet go through it once
    // (it keeps them as they are visited afterwards).
    const warm = async () => {
      if (!navigator.serviceWorker.controller || !navigator.onLine || !window.caches) return;
      for (const path of (D.pages || "").split(" ").filter(Boolean)) {
        if (await caches.match(path).catch(() => null)) continue;
        fetch(path, BACKGROUND).catch(() => null);
      }
    };
    navigator.serviceWorker.addEventListener("controllerchange", warm);
    navigator.serviceWorker.ready.then(() => setTimeout(warm, 500)).catch(() => null);
  }
  // Kept sales must survive the browser's clean-ups when the disk fills.
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then((yes) => yes || navigator.storage.persist())
      .catch(() => null);
  }

  // IndexedDB: counter (the last number taken), spare (numbers to take first), sales (the
  // queue, by UUID), meta (last sync, catalog version, recent receipts).
  let opened = null;
  function db() {
    if (opened) return opened;
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const base = request.result;
        base.createObjectStore("counter");
        base.createObjectStore("spare");
        base.createObjectStore("sales", { keyPath: "uuid" }).createIndex("sequence", "sequence");
        base.createObjectStore("meta");
      };
      request.onsuccess = () => {
        request.result.onversionchange = () => { request.result.close(); opened = null; };
        resolve(request.result);
      };
      request.onerror = () => { opened = null; reject(request.error); };
      request.onblocked = () => { opened = null; reject(new Error("blocked")); };
    });
    return opened;
  }
  function done(tx) {
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("aborted"));
    });
  }
  const asked = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

  // The next number, inside `tx` (counter and spare in it): the smallest spare one first.
  function take(tx, then) {
    const cursor = tx.objectStore("spare").openCursor();
    cursor.onsuccess = () => {
      const spare = cursor.result;
      if (spare) { const n = spare.key; spare.delete(); then(n); return; }
      const counter = tx.objectStore("counter");
      const last = counter.get("last");
      last.onsuccess = () => {
        const n = (last.result || 0) + 1;
        counter.put(n, "last");
        then(n);
      };
    };
  }

  // A sale, kept and numbered in one transaction: it is on the device before it is shown.
  // The same sale twice (a double tap, a reload before the page forgot its ticket) keeps
  // its first number and is queued once.
  async function record(sale) {
    const base = await db();
    const tx = base.transaction(["counter", "spare", "sales", "meta"], "readwrite");
    let number = "";
    const sales = tx.objectStore("sales");
    const before = sales.get(sale.uuid);
    before.onsuccess = () => {
      if (before.result) { number = before.result.number; return; }
      const recent = tx.objectStore("meta").get("recent");
      recent.onsuccess = () => {
        const sent = (recent.result || {})[sale.uuid];
        if (sent) { number = sent.number; return; }
        take(tx, (n) => {
          number = numberOf(n);
          sale.sequence = n;
          sales.put({ uuid: sale.uuid, sequence: n, number: number, status: "waiting",
            kept_at: Date.now(), sale: sale });
        });
      };
    };
    await done(tx);
    changed();
    return { number };
  }
  // For an online-only action (refund, void, reprint): a number of the same counter…
  async function reserve() {
    const base = await db();
    const tx = base.transaction(["counter", "spare"], "readwrite");
    let sequence = 0;
    take(tx, (n) => { sequence = n; });
    await done(tx);
    return sequence;
  }
  // …given back when the server refused the action for good: the next record takes it.
  async function release(sequence) {
    const base = await db();
    const tx = base.transaction(["spare"], "readwrite");
    tx.objectStore("spare").put(sequence, sequence);
    await done(tx);
  }

  async function queue() {
    const base = await db();
    const tx = base.transaction(["sales"], "readonly");
    const all = await asked(tx.objectStore("sales").index("sequence").getAll());
    return all;
  }
  async function meta() {
    const base = await db();
    const tx = base.transaction(["meta"], "readonly");
    const store = tx.objectStore("meta");
    const [info, recent] = await Promise.all([asked(store.get("info")), asked(store.get("recent"))]);
    return { info: info || {}, recent: recent || {} };
  }
  async function noteMeta(change, receipts) {
    const base = await db();
    const tx = base.transaction(["meta"], "readwrite");
    const store = tx.objectStore("meta");
    const info = store.get("info");
    info.onsuccess = () => store.put(Object.assign({}, info.result || {}, change), "info");
    if (receipts) {
      const recent = store.get("recent");
      recent.onsuccess = () => {
        const kept = Object.assign({}, recent.result || {}, receipts);
        const keys = Object.keys(kept);
        keys.slice(0, Math.max(0, keys.length - 50)).forEach((k) => delete kept[k]);
        store.put(kept, "recent");
      };
    }
    await done(tx);
  }

  // What the server answered, applied in one transaction: recorded and duplicate sales leave
  // the queue; conflicts and refusals stay, shown as needing a manager; a number another
  // record took meanwhile is replaced by a fresh one; the counter never goes below the
  // highest number the server holds (a till restored from nothing reuses none).
  async function apply(answer, sent) {
    const base = await db();
    const tx = base.transaction(["counter", "spare", "sales"], "readwrite");
    const sales = tx.objectStore("sales");
    const counter = tx.objectStore("counter");
    const receipts = {};
    const renumber = [];
    // One after the other: each takes the number the one before left.
    const next = () => {
      const kept = renumber.shift();
      if (!kept) return;
      take(tx, (n) => {
        kept.sale.sequence = n;
        sales.put(Object.assign({}, kept, { sequence: n, number: numberOf(n),
          status: "waiting", error: null }));
        next();
      });
    };
    const last = counter.get("last");
    last.onsuccess = () => {
      const highest = Number(answer.highest_sequence || 0);
      if (highest > (last.result || 0)) counter.put(highest, "last");
      const byUuid = new Map(sent.map((s) => [s.uuid, s]));
      for (const result of answer.results || []) {
        const kept = byUuid.get(result.uuid);
        if (!kept) continue;
        if (result.status === "recorded" || result.status === "duplicate") {
          sales.delete(result.uuid);
          receipts[result.uuid] = { number: result.number || kept.number,
            ticket_id: result.ticket_id || null };
        } else if (result.error && result.error.code === "sequence_taken") {
          renumber.push(kept);
        } else if (result.error && result.error.code === "period_closed") {
          // Kept as it is and sent again later: it counts in the period it arrives in.
        } else {
          sales.put(Object.assign({}, kept, { status: result.status,
            error: result.error || null, flags: result.flags || [] }));
        }
      }
      next();
    };
    await done(tx);
    return receipts;
  }

  async function refuse(kept, error) {
    const base = await db();
    const tx = base.transaction(["sales"], "readwrite");
    tx.objectStore("sales").put(Object.assign({}, kept, { status: "refused", error: error }));
    await done(tx);
  }

  // The upload: the waiting sales in the order of their numbers, a batch at a time, and a
  // call even with none (the server notes the till's contact, answers its highest number,
  // and knows it synced since a closing was asked for).
  let online = navigator.onLine;
  let refusal = "";
  let busy = false;
  let lastTry = 0;
  async function upload() {
    busy = true;
    render();
    let sentAny = 0;
    try {
      let size = BATCH;
      for (let round = 0; round < 1000; round++) {
        const waiting = (await queue()).filter((s) => s.status === "waiting");
        const batch = waiting.slice(0, size);
        const { info } = await meta();
        // `waiting`: what the till still holds after these (0: all sent, the server may
        // count the till as synced for a closing).
        const body = { sales: batch.map((s) => s.sale), waiting: waiting.length - batch.length };
        if (Number.isInteger(info.catalog_version)) body.catalog_version = info.catalog_version;
        const response = await fetch("/api/v1/till/sync", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify(body),
        });
        const answer = await response.json().catch(() => null);
        online = true;
        // A batch the server cannot read (one sale it finds malformed) must not hold up the
        // others: they go one by one, and the one refused is kept for a manager.
        if (response.status === 422 || response.status === 400) {
          if (batch.length > 1) { size = 1; continue; }
          if (batch.length === 1) {
            await refuse(batch[0], (answer && answer.error) || { code: String(response.status),
              message: response.statusText });
            continue;
          }
        }
        if (!response.ok || !answer || !Array.isArray(answer.results)) {
          refusal = (answer && answer.error && answer.error.message) || response.statusText ||
            String(response.status);
          break;
        }
        refusal = "";
        const receipts = await apply(answer, batch);
        sentAny += Object.keys(receipts).length;
        await noteMeta({ last_sync: Date.now() }, receipts);
        document.dispatchEvent(new CustomEvent("comptoir:till-synced", { detail: receipts }));
        if (answer.catalog_changed || !Number.isInteger(info.catalog_version)) catalog();
        if (waiting.length <= batch.length || !Object.keys(receipts).length) break;
      }
    } catch (_) {
      online = false; // no network, or the server is gone: the sales wait, nothing is lost
    } finally {
      busy = false;
      changed();
    }
    return sentAny;
  }
  // One tab at a time uploads (a Web Lock); `wait`: queue behind the tab that is at it.
  async function sync(wait) {
    lastTry = Date.now();
    if (!navigator.locks) return busy ? 0 : upload();
    return navigator.locks.request(LOCK, wait ? {} : { ifAvailable: true },
      (lock) => (lock ? upload() : 0));
  }

  // The catalog, fetched through the service worker (which keeps it) and the sale page
  // fetched again (kept too), so an offline till sells from the last menu it had.
  async function catalog() {
    try {
      const response = await fetch("/api/v1/till/catalog", { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const { info } = await meta();
      const before = info.catalog_version;
      if (Number.isInteger(data.version)) await noteMeta({ catalog_version: data.version });
      // The back office changed the menu (prices, sold out): the sale screen shows it.
      if (Number.isInteger(before) && before !== data.version) {
        document.dispatchEvent(new CustomEvent("comptoir:till-catalog", { detail: data }));
      }
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        fetch("/till/sell", BACKGROUND).catch(() => null);
      }
    } catch (_) { /* offline: the kept one stays */ }
  }

  // The indicator.
  let channel = null;
  try { channel = new BroadcastChannel(DB_NAME); } catch (_) { /* one tab */ }
  if (channel) channel.onmessage = () => render();
  function changed() {
    if (channel) channel.postMessage("changed");
    render();
  }
  function plural(count, one, many) {
    return fill(count > 1 || (count === 0 && D.locale !== "fr") ? many : one,
      { count: String(count) });
  }
  function when(ms) {
    return new Date(ms).toLocaleString(D.locale === "fr" ? "fr-FR" : "en-GB",
      { dateStyle: "short", timeStyle: "medium" });
  }
  let rendering = false;
  let again = false;  // asked while drawing: drawn once more after
  async function render() {
    if (rendering) { again = true; return; }
    rendering = true;
    again = false;
    try {
      const [sales, { info }] = await Promise.all([queue(), meta()]);
      const waiting = sales.filter((s) => s.status === "waiting");
      const problems = sales.filter((s) => s.status !== "waiting");
      const up = online && navigator.onLine;
      box.dataset.state = up ? "online" : "offline";
      box.dataset.waiting = String(waiting.length);
      $("sync-state").textContent = busy ? D.tSyncing : (up ? D.tOnline : D.tOffline);
      $("sync-waiting").textContent = waiting.length
        ? plural(waiting.length, D.tWaitingOne, D.tWaitingMany) : D.tNoneWaiting;
      $("sync-last").textContent = info.last_sync
        ? fill(D.tLast, { time: when(info.last_sync) }) : D.tNever;
      const since = info.last_sync || info.first_seen || Date.now();
      $("sync-warning").hidden = up || Date.now() - since < WARN_MS;
      $("sync-refusal").hidden = !refusal;
      $("sync-refusal").textContent = refusal ? fill(D.tRefused, { message: refusal }) : "";
      const list = $("sync-problems");
      list.innerHTML = "";
      list.hidden = !problems.length;
      for (const sale of problems) {
        const li = document.createElement("li");
        li.textContent = fill(D.tProblem, { number: sale.number,
          message: (sale.error && sale.error.message) || sale.status });
        list.appendChild(li);
      }
      document.body.classList.toggle("till-offline", !up);
    } catch (_) {
      $("sync-state").textContent = D.tNoStorage;
    } finally {
      rendering = false;
      if (again) render();
    }
  }

  // When: every 10 s while the till is in use, every 2 minutes when idle, at once when the
  // network comes back, on "Sync now", and when the server's live push asks for it.
  let lastUse = Date.now();
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, () => { lastUse = Date.now(); }, { passive: true });
  }
  setInterval(() => {
    const every = Date.now() - lastUse < IN_USE_FOR ? ACTIVE_MS : IDLE_MS;
    if (Date.now() - lastTry >= every) sync(false);
  }, 1000);
  window.addEventListener("online", () => { online = true; sync(false); });
  window.addEventListener("offline", () => { online = false; render(); });
  document.addEventListener("comptoir:applied", (event) => {
    const topic = event.detail && event.detail.topic;
    if (topic && D.syncTopic && topic === D.syncTopic) sync(false);
    // The site's menu changed (a price, sold out): the sync brings the catalog along.
    else if (topic && topic.startsWith("menu:") && event.detail.type === "event") sync(false);
  });
  const now = $("sync-now");
  if (now) now.addEventListener("click", async () => {
    now.disabled = true;
    const sent = await sync(true);
    now.disabled = false;
    if (!online) toast(D.tStillOffline, "error");
    else if (refusal) toast(fill(D.tRefused, { message: refusal }), "error");
    else toast(plural(sent || 0, D.tSyncedOne, D.tSyncedMany));
  });

  // A Z refused because tills have not synced since it was asked for: this till syncs at
  // once and, when nothing of it waits any more, asks the Z again, once (the server pushed
  // the other tills; one still silent stays named in the refusal on screen).
  let zRetried = 0;
  document.addEventListener("htmx:responseError", async (event) => {
    const form = event.detail && event.detail.elt;
    if (!form || !form.matches || !form.matches("form[hx-post='/api/v1/till/reports/z']")) return;
    let error = null;
    try { error = JSON.parse(event.detail.xhr.responseText).error; } catch (_) { return; }
    if (!error || error.code !== "sales_waiting" || Date.now() - zRetried < 30000) return;
    zRetried = Date.now();
    await sync(true);
    if (!online || refusal) return;
    if ((await queue()).some((s) => s.status === "waiting")) return;
    form.requestSubmit();
  });

  // Online-only records (a refund, a void: forms with an `input[data-till-number]`) take
  // their number from the same counter: one is reserved before the form goes, given back
  // to the spare list if the server refuses the action for good, replaced by a fresh one
  // if another record took it meanwhile (409 `sequence_taken`, after a sync that brings
  // the counter up to the server's highest number), and kept, with the form's UUID, when
  // no answer came (sent again, it returns what the first attempt recorded).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const slot = form && form.querySelector && form.querySelector("input[data-till-number]");
    if (!slot || slot.value || slot.dataset.unnumbered) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    reserve().then((n) => { slot.value = String(n); })
      .catch(() => { slot.dataset.unnumbered = "1"; }) // no storage: the server numbers it
      .then(() => form.requestSubmit());
  }, true);
  document.addEventListener("htmx:afterRequest", async (event) => {
    const form = event.detail && event.detail.elt;
    const slot = form && form.querySelector && form.querySelector("input[data-till-number]");
    if (!slot || !slot.value) return;
    const xhr = event.detail.xhr;
    if (event.detail.successful) {
      // Done; a number the action did not use (a receipt's original print) is taken again.
      const reserved = Number(slot.value);
      slot.value = "";
      const unused = xhr && xhr.getResponseHeader("X-Unused-Sequence");
      if (unused && Number(unused) === reserved) await release(reserved);
      return;
    }
    if (!xhr || !xhr.status || xhr.status >= 500) return;
    let code = "";
    try { code = JSON.parse(xhr.responseText).error.code; } catch (_) { /* not JSON */ }
    const reserved = Number(slot.value);
    slot.value = "";
    if (xhr.status === 409 && code === "sequence_taken") {
      await sync(true);
      form.requestSubmit();
      return;
    }
    await release(reserved);
  });

  window.comptoirTill = { record, reserve, release, sync, numberOf, queue };
  noteMeta({}).then(async () => {
    const { info } = await meta();
    if (!info.first_seen) await noteMeta({ first_seen: Date.now() });
    render();
    sync(false);
  }).catch(() => render());
})();
