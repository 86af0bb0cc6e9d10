// A kitchen or bar display (templates/station.html): each ticket's waiting time, counted
// here from the server's clock; a chime on a new ticket when the sound is on; a tap moves a
// ticket on, with an undo for a few seconds, and "served" asks for a second tap.
(function () {
  "use strict";
  const body = document.body;
  const live = document.getElementById("station-live");
  if (!live) return;

  const SOUND_KEY = "comptoir.station.sound";
  const TICK_MS = 1000; // the clock shows seconds; no server event is needed for it
  const UNDO_MS = 6000;
  const CONFIRM_MS = 4000;

  // The server's clock decides; the device's clock only measures time since the view came.
  let offset = 0;
  function readClock() {
    const tickets = live.querySelector(".tickets[data-now]");
    if (tickets) offset = Date.parse(tickets.dataset.now) - Date.now();
  }

  function clockText(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    const tickets = live.querySelector(".tickets");
    if (!tickets) return;
    const amber = Number(tickets.dataset.amberMin) * 60;
    const red = Number(tickets.dataset.redMin) * 60;
    const now = Date.now() + offset;
    for (const card of live.querySelectorAll(".ticket[data-reached]")) {
      const waited = Math.max(0, Math.floor((now - Date.parse(card.dataset.reached)) / 1000));
      const clock = card.querySelector(".wait-clock");
      if (clock) clock.textContent = clockText(waited);
      const level = waited >= red ? "red" : waited >= amber ? "amber" : "ok";
      if (card.dataset.wait !== level) card.dataset.wait = level;
    }
  }

  // Sound: the toggle is the user gesture browsers ask for before a page may play audio.
  // A short tone from the Web Audio API: no file to load.
  const toggle = document.querySelector("[data-sound-toggle]");
  let audio = null;
  function soundOn() {
    return localStorage.getItem(SOUND_KEY) === "on";
  }
  function showSound() {
    if (toggle) toggle.setAttribute("aria-pressed", soundOn() ? "true" : "false");
  }
  function context() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    // Without a gesture yet, the browser keeps it suspended: the next touch wakes it.
    if (audio && audio.state === "suspended") audio.resume().catch(() => {});
    return audio;
  }
  function chime() {
    if (!soundOn()) return;
    if (toggle) toggle.dataset.played = String(Number(toggle.dataset.played || 0) + 1);
    const ctx = context();
    if (!ctx) return;
    const start = ctx.currentTime;
    for (const [at, pitch] of [[0, 880], [0.18, 1320]]) {
      const tone = ctx.createOscillator();
      const gain = ctx.createGain();
      tone.type = "sine";
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(0.4, start + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.25);
      tone.connect(gain).connect(ctx.destination);
      tone.start(start + at);
      tone.stop(start + at + 0.3);
    }
  }
  if (toggle) {
    toggle.addEventListener("click", () => {
      localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
      showSound();
      if (soundOn()) {
        toggle.dataset.played = "0";
        chime(); // heard at once: the person knows it works, and the browser allows audio
      }
    });
  }
  // Remembered "on" from an earlier visit: the first touch on the page wakes the audio.
  document.addEventListener("pointerdown", () => { if (soundOn()) context(); }, { once: true });
  showSound();

  let known = null; // the tickets already shown: a new one chimes
  function noticeNew() {
    const ids = new Set(Array.from(live.querySelectorAll(".ticket[data-ticket-id]"),
      (card) => card.dataset.ticketId));
    if (known !== null && Array.from(ids).some((id) => !known.has(id))) chime();
    known = ids;
  }

  // Bump: a tap moves the ticket to its next state.
  const csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
  async function move(id, status) {
    let answer;
    try {
      answer = await fetch("/api/v1/staff/tickets/" + id + "/status", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ status: status }),
      });
    } catch (_) {
      window.comptoir.toast(body.dataset.offlineText, "error");
      return false;
    }
    if (answer.ok) return true;
    let text = answer.statusText;
    try {
      text = (await answer.json()).error.message;
    } catch (_) { /* not JSON */ }
    window.comptoir.toast(text, "error");
    return false;
  }

  const undo = document.getElementById("station-undo");
  let undoTimer = null;
  let undoMove = null;
  function offerUndo(card) {
    undoMove = { id: card.dataset.ticketId, status: card.dataset.status };
    undo.querySelector(".undo-table").textContent = card.dataset.table;
    undo.querySelector(".undo-status").textContent = card.dataset.nextLabel;
    undo.hidden = false;
    clearTimeout(undoTimer);
    undoTimer = setTimeout(() => { undo.hidden = true; undoMove = null; }, UNDO_MS);
  }
  if (undo) {
    undo.querySelector(".undo-button").addEventListener("click", async () => {
      const back = undoMove;
      undo.hidden = true;
      undoMove = null;
      clearTimeout(undoTimer);
      if (back) await move(back.id, back.status);
    });
  }

  // The ticket waiting for its second tap, by id: a live swap in between keeps it so.
  let confirming = null;
  let confirmTimer = null;
  function showConfirming() {
    for (const card of live.querySelectorAll(".ticket[data-ticket-id]")) {
      card.classList.toggle("confirming", card.dataset.ticketId === confirming);
    }
  }
  async function bump(card) {
    if (card.classList.contains("moving")) return;
    const next = card.dataset.next;
    if (next === "served" && confirming !== card.dataset.ticketId) {
      confirming = card.dataset.ticketId;
      showConfirming();
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(() => { confirming = null; showConfirming(); }, CONFIRM_MS);
      return;
    }
    confirming = null;
    showConfirming();
    card.classList.add("moving");
    const done = await move(card.dataset.ticketId, next);
    card.classList.remove("moving"); // the live view replaces the card once it moved
    if (done && next !== "served") offerUndo(card);
  }
  live.addEventListener("click", (event) => {
    const card = event.target.closest(".ticket[data-next]");
    if (card) bump(card);
  });
  live.addEventListener("keydown", (event) => {
    const card = event.target.closest(".ticket[data-next]");
    if (card && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      bump(card);
    }
  });

  function refresh() {
    readClock();
    tick();
    noticeNew();
    showConfirming();
  }
  document.addEventListener("comptoir:applied", refresh);
  refresh();
  setInterval(tick, TICK_MS);
})();
