// Notifications: title, a short WebAudio chime, and the Notification API when allowed

import { customerName } from "./lists.js";
import { REASONS, state } from "./state.js";
import { selectTicket } from "./ticket.js";

export function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!state.audio) state.audio = new Context();
    if (state.audio.state === "suspended") state.audio.resume();
  } catch {
    state.audio = null;
  }
}

function chime() {
  const audio = state.audio;
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

export function notify(tickets) {
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
