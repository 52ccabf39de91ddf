// Rich text and small formats: markdown-lite, durations, clocks, badges. Imports no console module.

import { h } from "/staff/assets/dom.js";
import { parseTime } from "/staff/assets/format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/**
 * Markdown-lite as customers see it: the widget's own renderer (loaded with data-mount="none")
 * builds safe DOM nodes (text nodes only; lists, **bold**, *italic*, `code`, http(s) links).
 */
export function rich(text) {
  const holder = h("div", { className: "md" });
  const widget = window.KefuWidget;
  if (widget && typeof widget.renderMarkdown === "function") widget.renderMarkdown(String(text ?? ""), holder);
  else holder.textContent = String(text ?? "");
  return holder;
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function formatClock(value) {
  const time = parseTime(value);
  if (Number.isNaN(time)) return "";
  return new Date(time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function newClientId() {
  if (window.crypto && typeof crypto.randomUUID === "function" && window.isSecureContext) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function priorityBadge(priority) {
  const value = priority || "normal";
  return h("span", { className: `badge badge--${value}`, text: value, dataset: { testid: "priority", priority: value } });
}

const CHANNEL_KINDS = { api: "API", wechat: "WeChat", email: "Email" };

/** How the customer reached us: "Web" (the widget), or "API · shop-app" for a channel. */
export function channelBadge(ticket) {
  const kind = (ticket && ticket.channel) || "web";
  const label = kind === "web" ? "Web" : [CHANNEL_KINDS[kind] || kind, ticket.channel_name].filter(Boolean).join(" · ");
  return h("span", { className: `badge badge--channel badge--channel-${kind}`, text: label, attrs: { title: "Channel" }, dataset: { testid: "channel", channel: kind } });
}

/** "5 h 20 min left" / "overdue by 2 h" from seconds left. */
export function timeLeft(seconds) {
  const late = seconds < 0;
  let rest = Math.abs(Math.round(seconds));
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  const minutes = Math.floor((rest - hours * 3600) / 60);
  const parts = days ? [`${days} d`, `${hours} h`] : hours ? [`${hours} h`, `${minutes} min`] : [`${minutes} min`];
  return late ? `overdue by ${parts.join(" ")}` : `${parts.join(" ")} left`;
}
