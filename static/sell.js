// The till's counter sale: a ticket kept in the page and in the tab's sessionStorage (a
// reload loses nothing); once paid, it is kept and numbered on the device at once
// (static/till-offline.js), then uploaded, online or offline alike (pos/sell_pages.py).
(() => {
  "use strict";
  const root = document.getElementById("sell");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const T = root.dataset;
  const currency = T.currency;
  const limit = Number(T.limit);
  const tableId = T.table ? Number(T.table) : null;
  const KEY = "comptoir.sell." + T.till + (tableId ? ".table." + tableId : "");
  const format = new Intl.NumberFormat(T.locale === "fr" ? "fr-FR" : "en-GB",
    { style: "currency", currency: currency });
  const money = (cents) => format.format(cents / 100);
  const fill = (text, params) => text.replace(/%\((\w+)\)s/g, (_, k) => params[k]).replace("%%", "%");
  const toast = (text, kind) => window.comptoir && window.comptoir.toast(text, kind);

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function blank() {
    return { lines: [], takeaway: false, discount: null, reason: "", payments: [],
      uuid: null, sending: false, unanswered: false, paying: false, nextId: 1,
      customer: null, reward: null };
  }
  let state = blank();
  try {
    const kept = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (kept && Array.isArray(kept.lines)) {
      state = Object.assign(blank(), kept);
      if (state.lines.length || state.uuid) toast(T.tRestored);
    }
  } catch (_) { /* nothing kept */ }
  if (tableId) {
    state.lines = JSON.parse(T.tableLines).map((l, i) => ({
      id: i + 1, product: l.product_id, name: l.label, price: l.unit_price, quantity: l.quantity,
      vat: l.vat_rate, vatTakeaway: l.vat_rate, note: "", discount: null, fixed: true }));
    // The reward a diner applied from their phone: on the bill as the server has it.
    const onBill = T.tableReward ? JSON.parse(T.tableReward) : null;
    state.reward = onBill ? { id: null, name: onBill.name, key: onBill.key,
      discount: onBill.discount, table: true } : null;
  }
  const save = () => sessionStorage.setItem(KEY, JSON.stringify(state));
  // A changed ticket is a new sale, with a new id; but while a payment sent went
  // unanswered, its id stays: sent again, it returns what the first attempt recorded, if it
  // did, rather than recording the sale twice.
  function changed() {
    if (!state.unanswered) state.uuid = null;
  }

  // Prices as the server computes them: a whole percent rounds half away from zero.
  function discountOf(discount, amount) {
    if (!discount || !discount.value) return 0;
    if (discount.kind === "percent") return Math.min(amount, Math.round(amount * discount.value / 100));
    return Math.min(amount, discount.value);
  }
  function totals() {
    let gross = 0, lineOff = 0, over = false;
    for (const line of state.lines) {
      const amount = line.quantity * line.price;
      const off = discountOf(line.discount, amount);
      if (off * 100 > limit * amount) over = true;
      gross += amount; lineOff += off;
    }
    const net = gross - lineOff;
    const ticketOff = discountOf(state.discount, net);
    if (ticketOff && (lineOff + ticketOff) * 100 > limit * gross) over = true;
    // A loyalty reward's discount comes last and is not held to the limit: loyalty granted it.
    const rewardOff = state.reward ? Math.min(state.reward.discount, net - ticketOff) : 0;
    return { gross, discount: lineOff + ticketOff + rewardOff, total: net - ticketOff - rewardOff,
      over, rewardOff };
  }
  function paidSoFar() {
    return state.payments.reduce((sum, p) => sum + p.amount, 0);
  }

  // The ticket
  const list = $("sell-lines");
  function renderLines() {
    list.innerHTML = "";
    if (!state.lines.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = T.tEmpty;
      list.appendChild(li);
    }
    for (const line of state.lines) {
      const li = document.createElement("li");
      li.className = "sell-line";
      li.dataset.line = line.id;
      const amount = line.quantity * line.price;
      const off = discountOf(line.discount, amount);
      li.innerHTML = "";
      const name = document.createElement("span");
      name.className = "sell-line-name";
      name.textContent = line.name + (line.note ? ` (${line.note})` : "");
      const price = document.createElement("span");
      price.className = "sell-line-amount";
      price.textContent = money(amount - off) + (off ? ` (−${money(off)})` : "");
      li.append(name, price);
      if (!line.fixed) {
        const qty = document.createElement("div");
        qty.className = "sell-qty";
        qty.innerHTML = `<button type="button" class="secondary" data-act="less"></button>` +
          `<span class="sell-qty-n"></span><button type="button" class="secondary" data-act="more"></button>` +
          `<button type="button" class="secondary" data-act="remove">✕</button>`;
        qty.querySelector('[data-act="less"]').textContent = "−";
        qty.querySelector('[data-act="less"]').setAttribute("aria-label", T.tLess);
        qty.querySelector('[data-act="more"]').textContent = "+";
        qty.querySelector('[data-act="more"]').setAttribute("aria-label", T.tMoreOne);
        qty.querySelector('[data-act="remove"]').setAttribute("aria-label", T.tRemove);
        qty.querySelector(".sell-qty-n").textContent = String(line.quantity);
        const more = document.createElement("details");
        more.className = "sell-line-more";
        more.innerHTML = `<summary class="button secondary"></summary><div class="sell-discount-row">` +
          `<input data-field="note" maxlength="60" autocomplete="off">` +
          `<select data-field="kind"><option value="percent">%</option><option value="amount"></option></select>` +
          `<input data-field="discount" inputmode="decimal" autocomplete="off"></div>`;
        more.querySelector("summary").textContent = T.tMore;
        const note = more.querySelector('[data-field="note"]');
        note.value = line.note; note.placeholder = T.tNote; note.setAttribute("aria-label", T.tNote);
        const kind = more.querySelector('[data-field="kind"]');
        kind.querySelector('[value="amount"]').textContent = currency;
        kind.value = line.discount ? line.discount.kind : "percent";
        kind.setAttribute("aria-label", T.tDiscount);
        const value = more.querySelector('[data-field="discount"]');
        value.placeholder = T.tDiscount; value.setAttribute("aria-label", T.tDiscount);
        if (line.discount) value.value = shownDiscount(line.discount);
        if (line.open) more.open = true;
        li.append(qty, more);
      } else {
        const qty = document.createElement("span");
        qty.className = "sell-qty-n";
        qty.textContent = "× " + line.quantity;
        li.append(qty);
      }
      list.appendChild(li);
    }
    renderTotals();
  }
  function shownDiscount(discount) {
    return discount.kind === "percent" ? String(discount.value)
      : (discount.value / 100).toFixed(2).replace(".", T.locale === "fr" ? "," : ".");
  }
  function readDiscount(kind, text) {
    const cleaned = String(text || "").trim().replace(",", ".");
    if (!cleaned) return null;
    const n = Number(cleaned);
    if (!isFinite(n) || n < 0) return null;
    return kind === "percent" ? { kind, value: Math.min(100, Math.round(n)) }
      : { kind, value: Math.round(n * 100) };
  }
  function renderTotals() {
    const t = totals();
    $("sell-total").textContent = money(t.total);
    if ($("sell-jump-total")) $("sell-jump-total").textContent = money(t.total);
    $("sell-discount-total").textContent = t.discount ? "−" + money(t.discount) : "—";
    const over = $("sell-over");
    if (over) {
      over.hidden = !t.over;
      over.textContent = fill(T.tOver, { limit: limit });
    }
    const reasonBox = $("sell-reason-box");
    if (reasonBox) reasonBox.hidden = !t.over;
    $("sell-pay").disabled = !state.lines.length || state.sending;
    if (typeof renderCustomer === "function" && state.customer) renderCustomer();
    save();
  }

  function add(tile) {
    const id = Number(tile.dataset.product);
    const found = state.lines.find((l) => l.product === id && !l.note && !l.discount);
    if (found) found.quantity += 1;
    else state.lines.push({ id: state.nextId++, product: id, name: tile.dataset.name,
      price: Number(tile.dataset.price), vat: Number(tile.dataset.vat),
      vatTakeaway: Number(tile.dataset.vatTakeaway), quantity: 1, note: "", discount: null });
    changed();
    renderLines();
    tile.classList.add("tapped");
    setTimeout(() => tile.classList.remove("tapped"), 200);
    toast(fill(T.tAdded, { name: tile.dataset.name }));
  }

  root.addEventListener("click", (event) => {
    const tile = event.target.closest(".sell-tile");
    if (tile && !tile.disabled) { add(tile); return; }
    const act = event.target.closest("[data-act]");
    if (act) {
      const li = act.closest("[data-line]");
      const line = state.lines.find((l) => l.id === Number(li.dataset.line));
      if (!line) return;
      if (act.dataset.act === "more") line.quantity = Math.min(999, line.quantity + 1);
      if (act.dataset.act === "less") line.quantity -= 1;
      if (act.dataset.act === "remove" || line.quantity < 1) {
        state.lines = state.lines.filter((l) => l !== line);
        toast(fill(T.tRemoved, { name: line.name }));
      }
      changed();
      renderLines();
      return;
    }
    const mode = event.target.closest("[data-mode]");
    if (mode) {
      state.takeaway = mode.dataset.mode === "takeaway";
      changed();
      renderMode();
      save();
    }
  });
  root.addEventListener("toggle", (event) => {
    const li = event.target.closest && event.target.closest("[data-line]");
    if (!li) return;
    const line = state.lines.find((l) => l.id === Number(li.dataset.line));
    if (line) { line.open = event.target.open; save(); }
  }, true);
  root.addEventListener("change", (event) => {
    const li = event.target.closest("[data-line]");
    if (li) {
      const line = state.lines.find((l) => l.id === Number(li.dataset.line));
      if (!line) return;
      line.note = li.querySelector('[data-field="note"]').value.trim().slice(0, 60);
      line.discount = readDiscount(li.querySelector('[data-field="kind"]').value,
        li.querySelector('[data-field="discount"]').value);
      changed();
      renderLines();
      return;
    }
    if (event.target.id === "ticket-discount-kind" || event.target.id === "ticket-discount-value") {
      state.discount = readDiscount($("ticket-discount-kind").value, $("ticket-discount-value").value);
      changed();
      renderTotals();
    }
    if (event.target.id === "sell-reason") { state.reason = event.target.value; save(); }
  });
  function renderMode() {
    root.querySelectorAll("[data-mode]").forEach((b) => b.setAttribute("aria-pressed",
      String((b.dataset.mode === "takeaway") === state.takeaway)));
  }

  // Search
  const search = $("sell-search");
  if (search) search.addEventListener("input", () => {
    const words = search.value.trim().toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    let shown = 0;
    root.querySelectorAll(".sell-category").forEach((section) => {
      let inSection = 0;
      section.querySelectorAll(".sell-tile").forEach((tile) => {
        const name = tile.dataset.name.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
        const match = !words || name.includes(words);
        tile.hidden = !match;
        if (match) inSection++;
      });
      section.hidden = !inSection;
      shown += inSection;
    });
    $("sell-no-match").hidden = shown > 0;
  });

  // An abandoned ticket gives its reward back first (online only, as taking it was): kept
  // while the server cannot be asked, so the points are never lost.
  const clear = $("sell-clear");
  if (clear) clear.addEventListener("click", async () => {
    if (!(await giveBack())) return;
    state = blank(); save(); renderAll(); toast(T.tCleared);
  });

  // Payment
  let entry = "";
  const panel = $("sell-payment");
  function renderPayment() {
    const t = totals();
    const due = Math.max(0, t.total - paidSoFar());
    $("pay-total").textContent = money(t.total);
    $("pay-due").textContent = money(due);
    $("pay-entry").textContent = entry ? money(Number(entry)) : "—";
    const ul = $("pay-list");
    ul.innerHTML = "";
    state.payments.forEach((p, index) => {
      const li = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = (p.method === "cash" ? T.tCash : T.tCard) + " " + money(p.amount) +
        (p.tendered && p.tendered !== p.amount ? " · " + fill(T.tTendered, { amount: money(p.tendered) }) : "");
      const remove = document.createElement("button");
      remove.type = "button"; remove.className = "secondary"; remove.textContent = "✕";
      remove.setAttribute("aria-label", T.tRemove);
      remove.disabled = state.sending;
      remove.addEventListener("click", () => { state.payments.splice(index, 1); renderPayment(); });
      li.append(text, remove);
      ul.appendChild(li);
    });
    $("pay-confirm").disabled = due > 0 || state.sending || !t.total && !state.lines.length;
    ["pay-cash", "pay-card", "pay-half"].forEach((id) => { $(id).disabled = due === 0 || state.sending; });
    panel.querySelectorAll("[data-note]").forEach((b) => { b.disabled = due === 0 || state.sending; });
    save();
  }
  function take(method, typed) {
    const due = totals().total - paidSoFar();
    if (due <= 0) return;
    if (method === "card") {
      const amount = Math.min(typed || due, due);
      state.payments.push({ method, amount });
    } else {
      const tendered = typed || due;
      state.payments.push({ method, amount: Math.min(tendered, due), tendered });
    }
    entry = "";
    renderPayment();
  }
  $("sell-pay").addEventListener("click", () => {
    const t = totals();
    if (t.over && !state.reason.trim() && $("sell-reason")) {
      const reason = $("sell-reason");
      $("sell-reason-box").hidden = false;
      reason.focus();
    }
    state.paying = true;
    showPanels();
  });
  $("pay-back").addEventListener("click", () => { state.paying = false; state.payments = []; showPanels(); });
  panel.addEventListener("click", (event) => {
    const key = event.target.closest("[data-key]");
    if (key) {
      if (key.dataset.key === "back") entry = entry.slice(0, -1);
      else if (entry.length < 8) entry = (entry + key.dataset.key).replace(/^0+/, "");
      renderPayment();
      return;
    }
    const note = event.target.closest("[data-note]");
    if (note) take("cash", Number(note.dataset.note));
  });
  document.addEventListener("keydown", (event) => {
    if (panel.hidden || event.target.closest("input, select, textarea")) return;
    if (/^[0-9]$/.test(event.key) && entry.length < 8) entry = (entry + event.key).replace(/^0+/, "");
    else if (event.key === "Backspace") entry = entry.slice(0, -1);
    else return;
    event.preventDefault();
    renderPayment();
  });
  $("pay-half").addEventListener("click", () => {
    const due = totals().total - paidSoFar();
    entry = String(Math.ceil(due / 2));
    renderPayment();
  });
  $("pay-cash").addEventListener("click", () => take("cash", Number(entry || 0)));
  $("pay-card").addEventListener("click", () => take("card", Number(entry || 0)));
  $("pay-confirm").addEventListener("click", () => send(null));

  // Recording: on this device first (static/till-offline.js numbers it and queues it), then
  // uploaded by the same path online or offline. The sale shows its number at once; its
  // UUID is kept with the ticket until it is on the device, so a double tap or a reload
  // between the two keeps one sale, not two.
  function lineDiscount(line) {
    return discountOf(line.discount, line.quantity * line.price);
  }
  function offlineSale(approval) {
    const lines = state.lines.map((l) => ({
      product_id: l.product || null, label: l.name, quantity: l.quantity, unit_price: l.price,
      discount: lineDiscount(l), vat_rate: state.takeaway ? l.vatTakeaway : l.vat,
      note: l.note || "" }));
    const net = lines.reduce((sum, l) => sum + l.quantity * l.unit_price - l.discount, 0);
    return {
      uuid: state.uuid, sequence: 0, device_at: new Date().toISOString(),
      staff_id: Number(T.staff), takeaway: state.takeaway, training: T.training === "yes",
      supervisor_id: T.supervisor ? Number(T.supervisor) : null,
      table_id: tableId, lines: lines, discount: discountOf(state.discount, net),
      customer_id: state.customer ? state.customer.id : null,
      reward_key: state.reward ? state.reward.key : null,
      reward_discount: state.reward ? totals().rewardOff : 0,
      reason: (state.reason || "").trim(),
      payments: state.payments.map((p) => p.method === "cash"
        ? { method: "cash", amount: p.amount, tendered: p.tendered || p.amount }
        : { method: "card", amount: p.amount }),
      approval: approval || null,
    };
  }
  // Online, the PIN is checked at once (a wrong one is said here) and the server gives a
  // token for this sale, which the upload carries: the till never keeps the PIN. Offline it
  // cannot be checked: the sale keeps only who approved, and the server flags it.
  async function checkedApproval(approval) {
    let answer = null, payload = null;
    try {
      answer = await fetch("/api/v1/till/approval", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ permission: "discount", approval: approval, uuid: state.uuid }),
      });
      payload = await answer.json().catch(() => null);
    } catch (_) {
      return { staff_id: approval.staff_id };
    }
    if (answer.ok && payload && payload.token) {
      return { staff_id: payload.staff_id, token: payload.token };
    }
    if (answer.status >= 500 || !payload || !payload.error) return { staff_id: approval.staff_id };
    $("approval-error").textContent = payload.error.message;
    $("approval-error").hidden = false;
    $("approval-pin").value = "";
    return null;
  }
  async function send(approval) {
    if (state.sending) return;
    const t = totals();
    if (t.over && !(state.reason || "").trim() && $("sell-reason")) {
      state.paying = false;
      showPanels();
      $("sell-reason-box").hidden = false;
      $("sell-reason-error").textContent = T.tReasonRequired;
      $("sell-reason-error").hidden = false;
      $("sell-reason").focus();
      return;
    }
    // Above the limit, a supervisor types their PIN here; the server checks it on upload
    // (offline, the sale is recorded all the same and flagged if it does not hold).
    if (t.over && T.mayDiscount !== "yes" && !approval) { askApproval(); return; }
    if (!window.comptoirTill) { showError(T.tNotKept); return; }
    state.sending = true;
    $("pay-error").hidden = true;
    if (!state.uuid) state.uuid = uuid();
    save();
    renderPayment();
    if (approval) {
      approval = await checkedApproval(approval);
      if (!approval) {
        state.sending = false;
        renderPayment();
        return;
      }
    }
    let kept = null;
    try {
      kept = await window.comptoirTill.record(offlineSale(approval));
    } catch (_) {
      state.sending = false;
      renderPayment();
      showError(T.tNotKept);
      return;
    }
    const change = state.payments.reduce((sum, p) =>
      sum + (p.method === "cash" && p.tendered ? Math.max(0, p.tendered - p.amount) : 0), 0);
    const sold = state.uuid;
    state.sending = false;
    done({ number: kept.number, change: change, uuid: sold });
    window.comptoirTill.sync(false);
  }
  function showError(text) {
    const box = $("pay-error");
    box.textContent = text;
    box.hidden = false;
    toast(text, "error");
  }

  // A supervisor's approval, typed on this screen.
  const approvalPanel = $("sell-approval");
  let approver = null;
  function askApproval() {
    approvalPanel.hidden = false;
    approvalPanel.scrollIntoView({ block: "start" });
  }
  function closeApproval() {
    approvalPanel.hidden = true;
    approver = null;
    const form = $("approval-form");
    if (form) form.hidden = true;
  }
  approvalPanel.addEventListener("click", (event) => {
    const who = event.target.closest("[data-approver]");
    if (!who) return;
    approver = Number(who.dataset.approver);
    approvalPanel.querySelectorAll("[data-approver]").forEach((b) => b.classList.toggle("chosen", b === who));
    $("approval-form").hidden = false;
    $("approval-who").textContent = who.textContent;
    $("approval-error").hidden = true;
    $("approval-pin").value = "";
    $("approval-pin").focus();
  });
  const approvalForm = $("approval-form");
  if (approvalForm) approvalForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const pin = $("approval-pin").value;
    if (!approver || !/^[0-9]{4,6}$/.test(pin)) return;
    send({ staff_id: approver, pin: pin });
  });
  $("approval-cancel").addEventListener("click", closeApproval);

  // Done: the change in large type until dismissed, the receipt, a new sale.
  let lastSold = null;
  function done(sale) {
    closeApproval();
    state = blank();
    if (!tableId) save(); else sessionStorage.removeItem(KEY);
    lastSold = sale.uuid;
    $("done-number").textContent = fill(T.tRecorded, { number: sale.number });
    $("done-number").dataset.number = sale.number;
    $("done-change").textContent = money(sale.change);
    $("done-change-box").hidden = !sale.change;
    // The receipt is the server's: its link comes once the sale is uploaded.
    $("done-receipt").hidden = true;
    $("sell-done").hidden = false;
    panel.hidden = true;
    root.classList.add("paying"); // the ticket as sold stays in sight until a new sale
    toast(fill(T.tRecorded, { number: sale.number }));
    $("sell-done").scrollIntoView({ block: "start" });
  }
  document.addEventListener("comptoir:till-synced", (event) => {
    const receipt = lastSold && event.detail && event.detail[lastSold];
    if (receipt && receipt.ticket_id) {
      $("done-receipt").href = "/till/tickets/" + receipt.ticket_id;
      $("done-receipt").hidden = false;
    }
  });
  $("done-dismiss").addEventListener("click", () => { $("done-change-box").hidden = true; });
  // The menu changed in the back office (a sync said so): the screen is drawn again from
  // the server at once when no ticket is open, else after this sale.
  let menuChanged = false;
  const idle = () => !state.lines.length && !state.paying && $("sell-done").hidden;
  document.addEventListener("comptoir:till-catalog", () => {
    menuChanged = true;
    if (idle() && !tableId && navigator.onLine) window.location.reload();
  });
  $("done-new").addEventListener("click", () => {
    if (tableId || (menuChanged && navigator.onLine)) { window.location.assign("/till/sell"); return; }
    $("sell-done").hidden = true;
    renderAll();
    toast(T.tCleared);
  });

  function showPanels() {
    const catalog = root.querySelector(".sell-catalog");
    panel.hidden = !state.paying;
    root.classList.toggle("paying", state.paying);
    if (catalog) catalog.hidden = state.paying;
    if (state.paying) { renderPayment(); panel.scrollIntoView({ block: "start" }); }
    save();
  }
  // The customer: found by name, phone, e-mail or their code (a scanner types it and
  // Enter), shown with their points and rewards; a reward is taken at once (the points go)
  // and its discount applied to the ticket; the sale names the customer, who earns.
  const customerBox = $("sell-customer");
  async function ask(url, body) {
    const answer = await fetch(url, {
      method: body ? "POST" : "GET", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: body ? JSON.stringify(body) : undefined });
    const payload = await answer.json().catch(() => null);
    if (!answer.ok) {
      const refused = new Error(payload && payload.error ? payload.error.message : T.tNoCustomer);
      refused.answered = true;
      throw refused;
    }
    return payload;
  }
  function customerError(text) {
    const box = $("customer-error");
    box.textContent = text || "";
    box.hidden = !text;
    if (text) toast(text, "error");
  }
  function renderCustomer() {
    if (!customerBox) return;
    const c = state.customer;
    $("customer-find").hidden = !!c;
    $("customer-card").hidden = !c && !state.reward;
    if (!c && !state.reward) return;
    $("customer-name").textContent = c ? c.name : "";
    $("customer-points").textContent = c ? fill(T.tPoints, { points: c.balance }) : "";
    $("customer-forget").hidden = !!state.reward;
    const ul = $("customer-rewards");
    ul.innerHTML = "";
    if (state.reward) {
      const li = document.createElement("li");
      li.className = "sell-reward-applied";
      const text = document.createElement("span");
      text.textContent = fill(T.tReward, { name: state.reward.name }) + " · −" + money(totals().rewardOff);
      li.appendChild(text);
      if (!state.reward.table) { // a table's reward is the diner's to remove, from their phone
        const remove = document.createElement("button");
        remove.type = "button"; remove.className = "secondary"; remove.id = "reward-remove";
        remove.textContent = T.tRewardRemove;
        li.appendChild(remove);
      }
      ul.appendChild(li);
      return;
    }
    if (tableId || !c) return; // a table's bill is paid as it stands: the customer earns from it
    for (const r of c.rewards) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = r.name + " · " + fill(T.tCost, { points: r.cost_points });
      const take = document.createElement("button");
      take.type = "button";
      take.textContent = T.tTake;
      take.dataset.reward = r.id;
      take.disabled = !r.affordable || !state.lines.length;
      li.append(name, take);
      ul.appendChild(li);
    }
  }
  // What a reward or a coupon takes off: a free product not on the ticket is added, then
  // given (its price off).
  function applied(answer, key) {
    let discount = answer.discount;
    if (answer.add_product_id) {
      const tile = root.querySelector(`.sell-tile[data-product="${answer.add_product_id}"]`);
      if (tile && !tile.disabled) { add(tile); discount = Number(tile.dataset.price); }
    }
    state.pendingReward = null;
    state.reward = { id: answer.reward_id, name: answer.reward_name, key: key, discount: discount };
    changed();
    renderLines();
    toast(fill(T.tRewardApplied, { name: answer.reward_name }));
  }
  // The reward taken for this ticket (or a take left unanswered) goes back: true once
  // nothing is left to give back, false (and said) while the server cannot be asked.
  async function giveBack() {
    const key = state.reward && !state.reward.table ? state.reward.key : state.pendingReward;
    if (!key) return true;
    try {
      await ask("/api/v1/till/customers/give-back", { reward_key: key,
        customer_id: state.customer ? state.customer.id : null });
    } catch (error) {
      if (!error.answered) { customerError(T.tGiveBackOffline); return false; }
      customerError(error.message); // a recorded ticket used it: nothing to give back
    }
    state.reward = null; state.pendingReward = null;
    changed(); save();
    return true;
  }
  function ticketLines() {
    return state.lines.map((l) => ({ product_id: l.product || null, unit_price: l.price,
      quantity: l.quantity }));
  }
  async function applyCoupon(token) {
    const key = state.pendingReward || uuid();
    state.pendingReward = key; // kept until answered: a retry uses the coupon once
    save();
    try {
      applied(await ask("/api/v1/till/coupons", { token: token, idempotency_key: key,
        total: totals().total, lines: ticketLines() }), key);
      $("customer-q").value = "";
      customerError("");
    } catch (error) {
      if (error.answered) state.pendingReward = null;
      customerError(error.answered ? error.message : T.tCustomerOffline);
    }
    save();
    renderCustomer();
  }
  async function chooseCustomer(id) {
    try {
      const c = await ask("/api/v1/till/customers/" + id);
      state.customer = { id: c.consumer_id, name: c.name, balance: c.balance,
        rewards: c.rewards.map((r) => ({ id: r.id, name: r.name, cost_points: r.cost_points,
          affordable: r.affordable, effect: r.effect })) };
      $("customer-matches").hidden = true;
      customerError("");
      save();
      renderCustomer();
      toast(fill(T.tCustomerSet, { name: c.name }));
    } catch (error) { customerError(error.message); }
  }
  if (customerBox) {
    $("customer-find").addEventListener("submit", async (event) => {
      event.preventDefault();
      const q = $("customer-q").value.trim();
      if (!q) return;
      if (!navigator.onLine) { customerError(T.tCustomerOffline); return; }
      let found;
      try { found = await ask("/api/v1/till/customers/search", { q: q }); }
      catch (error) { customerError(error.message); return; }
      const list = $("customer-matches");
      list.innerHTML = "";
      // Not a customer's code: perhaps a coupon's (a scanned token, no spaces).
      if (!found.customers.length && /^[\w-]{16,64}$/.test(q) && !tableId && !state.reward &&
          state.lines.length) { list.hidden = true; applyCoupon(q); return; }
      if (!found.customers.length) { list.hidden = true; customerError(T.tNoCustomer); return; }
      if (found.customers.length === 1) { chooseCustomer(found.customers[0].consumer_id); return; }
      for (const m of found.customers) {
        const li = document.createElement("li");
        const pick = document.createElement("button");
        pick.type = "button"; pick.className = "secondary"; pick.dataset.customer = m.consumer_id;
        pick.textContent = m.name + " · " + (m.phone || m.email) + " · " + fill(T.tPoints, { points: m.balance });
        li.appendChild(pick);
        list.appendChild(li);
      }
      list.hidden = false;
      customerError("");
    });
    customerBox.addEventListener("click", async (event) => {
      const pick = event.target.closest("[data-customer]");
      if (pick) { chooseCustomer(Number(pick.dataset.customer)); return; }
      if (event.target.closest("#reward-remove")) {
        const name = state.reward.name;
        event.target.disabled = true;
        if (await giveBack()) {
          if (state.customer) chooseCustomer(state.customer.id); // its points, as they are now
          renderLines();
          toast(fill(T.tRewardGivenBack, { name: name }));
        } else event.target.disabled = false;
        return;
      }
      if (event.target.closest("#customer-forget")) {
        state.customer = null; state.reward = null; $("customer-q").value = "";
        changed(); save(); renderCustomer(); return;
      }
      const take = event.target.closest("[data-reward]");
      if (!take || !state.customer || state.reward) return;
      take.disabled = true;
      const reward = state.customer.rewards.find((r) => r.id === Number(take.dataset.reward));
      // A free product not on the ticket yet is added first, then given.
      if (reward && reward.effect.kind === "free_product" && reward.effect.product_id &&
          !state.lines.some((l) => l.product === reward.effect.product_id)) {
        const tile = root.querySelector(`.sell-tile[data-product="${reward.effect.product_id}"]`);
        if (tile && !tile.disabled) add(tile);
      }
      const key = state.pendingReward || uuid();
      state.pendingReward = key; // kept until answered: a retry takes the points once
      save();
      const t = totals();
      try {
        const answer = await ask(`/api/v1/till/customers/${state.customer.id}/rewards`, {
          reward_id: Number(take.dataset.reward), idempotency_key: key, total: t.total,
          lines: ticketLines() });
        state.customer.balance = answer.balance;
        applied(answer, key);
      } catch (error) {
        if (error.answered) state.pendingReward = null; // else unanswered: the same key again
        customerError(error.answered ? error.message : T.tCustomerOffline);
      }
      save();
      renderCustomer();
    });
  }

  function renderAll() {
    if ($("ticket-discount-value")) {
      $("ticket-discount-kind").value = state.discount ? state.discount.kind : "percent";
      $("ticket-discount-value").value = state.discount ? shownDiscount(state.discount) : "";
    }
    if ($("sell-reason")) $("sell-reason").value = state.reason || "";
    renderMode();
    renderLines();
    renderCustomer();
    showPanels();
  }
  if (!root.querySelector(".sell-ticket")) return; // a table that cannot be paid here
  state.sending = false;
  renderAll();
})();
