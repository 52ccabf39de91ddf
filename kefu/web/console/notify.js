// Notifications of new chats: a short WebAudio chime, and the Notification API when allowed,
// whenever the store's list load finds arrivals. The audio context is this module's own.

import { REASONS } from "./constants.js";
import { selectTicket } from "./desk.js";
import { customerName } from "./selectors.js";
import { subscribe } from "./store.js";

let audio = null;

export function wireNotify() {
  subscribe(
    (s) => s.arrivals,
    (arrivals) => {
      if (arrivals) notify(arrivals.tickets);
    },
  );
}

export function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
  } catch {
    audio = null;
  }
}

function chime() {
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime + 0.01;
  [880, 1320].forEach((frequency, index) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const at = start + index * 0.14;
    osc.type = "sine";
    osc.frequency.setValueAtTime(frequency, at);
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.12, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.25);
  });
}

export function askNotificationPermission() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  try {
    const asked = Notification.requestPermission();
    if (asked && typeof asked.catch === "function") asked.catch(() => {});
  } catch {
    // Older browsers want a callback; not worth supporting.
  }
}

function notify(tickets) {
  chime();
  if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) return;
  const first = tickets[0];
  try {
    const note = new Notification(tickets.length > 1 ? `${tickets.length} new chats` : "New chat", {
      body: `${customerName(first)} — ${first.summary || REASONS[first.reason] || "waiting for an agent"}`,
      tag: `kefu-ticket-${first.id}`,
    });
    note.onclick = () => {
      window.focus();
      selectTicket(String(first.id));
      note.close();
    };
  } catch {
    // Some platforms only allow notifications from a service worker.
  }
}
