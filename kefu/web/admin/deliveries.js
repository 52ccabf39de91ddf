// A channel's webhook delivery log, shown by the Channels tab (channels.js) inside a container
// of its own: the deliveries newest first (time, event, conversation, state, attempts, last
// status), filtered by state, with "load more"; a delivery's attempts; Replay (one delivered or
// failed delivery, sent again with the same id) and "Replay failed" (every failed one).
// /api/admin/channels/{id}/deliveries; docs/channels.md, "Outbound events (webhooks)".

import { api, describe, query } from "/staff/assets/api.js";
import { h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { confirmAction } from "./ui.js";

const PAGE = 50;
const TONE = { delivered: "ok", pending: "handoff", failed: "action-delete" };

function stateBadge(state) {
  return h("span", { className: `badge badge--${TONE[state] || "muted"}`, text: state, dataset: { testid: "delivery-state" } });
}

function lastStatus(delivery) {
  if (delivery.last_status !== null && delivery.last_status !== undefined) return String(delivery.last_status);
  return delivery.last_error ? "no answer" : "—";
}

/** Show channel ``channelId``'s deliveries in ``container`` (replacing what it held). */
export function showDeliveries(container, channelId) {
  const base = `/api/admin/channels/${encodeURIComponent(channelId)}/deliveries`;
  const view = { next: null, selected: null };
  const stateFilter = h(
    "select",
    { attrs: { "aria-label": "State" }, dataset: { testid: "delivery-filter" }, on: { change: () => load() } },
    ["", "pending", "delivered", "failed"].map((value) => h("option", { attrs: { value }, text: value || "All states" })),
  );
  const info = h("span", { className: "muted", dataset: { testid: "delivery-info" } });
  const rows = h("tbody", { dataset: { testid: "delivery-rows" } });
  const more = h("button", { className: "btn", attrs: { type: "button" }, text: "Load more", on: { click: () => load({ more: true }) } });
  const detail = h("section", { className: "delivery-detail", dataset: { testid: "delivery-detail" } });
  detail.hidden = true;
  more.hidden = true;

  const toolbar = h(
    "div",
    { className: "toolbar" },
    stateFilter,
    h("button", { className: "btn", attrs: { type: "button" }, text: "Refresh", dataset: { testid: "delivery-refresh" }, on: { click: () => refresh() } }),
    h("button", { className: "btn", attrs: { type: "button" }, text: "Replay failed", dataset: { testid: "delivery-replay-failed" }, on: { click: () => replayFailed() } }),
    info,
  );
  const table = h(
    "table",
    { className: "table" },
    h("thead", {}, h("tr", {}, ["Time", "Event", "Conversation", "State", "Attempts", "Last status"].map((label) => h("th", { text: label })))),
    rows,
  );
  container.replaceChildren(h("h3", { text: "Deliveries", attrs: { title: "What went out: to an API channel's webhook, or by WeChat's customer-service API" } }), toolbar, table, more, detail);

  function row(delivery) {
    const open = () => select(delivery.id);
    return h(
      "tr",
      {
        dataset: { testid: "delivery-row", id: delivery.id, state: delivery.state, event: delivery.event },
        attrs: { tabindex: 0 },
        on: { click: open, keydown: (event) => event.key === "Enter" && open() },
      },
      h("td", { className: "nowrap", text: formatDate(delivery.event_at), attrs: { title: delivery.event_at } }),
      h("td", { className: "mono", text: delivery.event }),
      h("td", { className: "mono", text: `${delivery.conversation_id.slice(0, 8)}… #${delivery.seq}`, attrs: { title: delivery.conversation_id } }),
      h("td", {}, stateBadge(delivery.state)),
      h("td", { text: String(delivery.attempts) }),
      h("td", { className: "mono", text: lastStatus(delivery), attrs: { title: delivery.last_error || "" } }),
    );
  }

  async function load({ more: again = false } = {}) {
    const params = { state: stateFilter.value, limit: PAGE, before_id: again ? view.next : null };
    try {
      const page = await api("GET", `${base}${query(params)}`);
      const made = page.items.map(row);
      if (again) rows.append(...made);
      else if (made.length) rows.replaceChildren(...made);
      else rows.replaceChildren(h("tr", {}, h("td", { className: "empty", attrs: { colspan: 6 }, text: "No deliveries yet." })));
      view.next = page.next_before_id;
      more.hidden = !view.next;
      info.textContent = `${rows.querySelectorAll("[data-testid=delivery-row]").length} shown`;
    } catch (failure) {
      toast(`Could not load the deliveries: ${describe(failure)}`, "error");
    }
  }

  async function select(deliveryId) {
    view.selected = deliveryId;
    try {
      renderDetail(await api("GET", `${base}/${deliveryId}`));
    } catch (failure) {
      toast(`Could not load the delivery: ${describe(failure)}`, "error");
    }
  }

  function renderDetail(delivery) {
    const attempts = delivery.history.length
      ? delivery.history.map((attempt) =>
          h(
            "tr",
            { dataset: { testid: "delivery-attempt" } },
            h("td", { className: "nowrap", text: formatDate(attempt.at), attrs: { title: attempt.at } }),
            h("td", { className: "mono", text: attempt.status === null ? "—" : String(attempt.status) }),
            h("td", { text: attempt.error || "delivered" }),
            h("td", { className: "mono", text: `${attempt.duration_ms} ms` }),
            h("td", { text: attempt.replay ? "replay" : "" }),
          ),
        )
      : [h("tr", {}, h("td", { className: "empty", attrs: { colspan: 5 }, text: "Not tried yet." }))];
    const replay = h("button", {
      className: "btn btn--primary",
      attrs: { type: "button" },
      text: "Replay",
      dataset: { testid: "delivery-replay" },
      on: { click: () => replayOne(delivery.id) },
    });
    replay.disabled = delivery.state === "pending";
    detail.replaceChildren(
      h("h4", {}, h("span", { text: `Delivery ${delivery.id} · ${delivery.event} ` }), stateBadge(delivery.state)),
      h("p", { className: "muted", text: `Conversation ${delivery.conversation_id}, event #${delivery.seq}, contact ${delivery.contact_id ?? "—"}` }),
      h("table", { className: "table" }, h("thead", {}, h("tr", {}, ["Time", "Status", "Outcome", "Took", ""].map((label) => h("th", { text: label })))), h("tbody", {}, attempts)),
      replay,
    );
    detail.hidden = false;
  }

  async function replayOne(deliveryId) {
    try {
      renderDetail(await api("POST", `${base}/${deliveryId}/replay`));
      toast("Queued again: it is sent with the same delivery id.", "success");
      await load();
    } catch (failure) {
      toast(`Could not replay: ${describe(failure)}`, "error");
    }
  }

  async function replayFailed() {
    if (!(await confirmAction("Replay failed deliveries", "Send every failed delivery of this channel again, with the same ids?", "Replay"))) return;
    try {
      const { replayed } = await api("POST", `${base}/replay-failed`);
      toast(`${replayed} failed ${replayed === 1 ? "delivery" : "deliveries"} queued again.`, "success");
      await refresh();
    } catch (failure) {
      toast(`Could not replay: ${describe(failure)}`, "error");
    }
  }

  async function refresh() {
    await load();
    if (view.selected !== null) await select(view.selected);
  }

  load();
  return { refresh };
}
