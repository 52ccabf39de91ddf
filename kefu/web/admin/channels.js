// Channels tab (admins): the ways customers reach the service beside the widget. The list, a
// form to add an API channel or a WeChat account, and a channel's detail: its webhook URL (an
// API channel's) or server URL (a WeChat account's), enabled or not, rotating an API channel's
// secrets, and its delivery log (deliveries.js). A secret is shown once, when it
// is made, with a copy button; the API never returns it again (docs/channels.md).

import { api, describe } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { formatDate } from "/staff/assets/format.js";
import { showDeliveries } from "./deliveries.js";
import { confirmAction, showError } from "./ui.js";

const BASE = "/api/admin/channels";
const view = { list: [], current: null };

export async function loadChannels() {
  try {
    view.list = await api("GET", BASE);
    renderList();
    const again = view.current && view.list.find((c) => c.name === view.current.name);
    if (again) showChannel(again);
    else if (!view.current && view.list.length) showChannel(view.list[0]);
  } catch (failure) {
    toast(`Could not load the channels: ${describe(failure)}`, "error");
  }
}

function renderList() {
  $("#channel-count").textContent = String(view.list.length);
  const rows = view.list.map((channel) =>
    h(
      "tr",
      {
        dataset: { testid: "channel-row", name: channel.name },
        attrs: { tabindex: 0, "aria-selected": String(Boolean(view.current && view.current.name === channel.name)) },
        on: { click: () => showChannel(channel), keydown: (event) => event.key === "Enter" && showChannel(channel) },
      },
      h("td", { className: "mono", text: channel.name }),
      h("td", { text: channel.kind.toUpperCase() }),
      h("td", {}, h("span", { className: `badge badge--${channel.enabled ? "respond" : "muted"}`, text: channel.enabled ? "enabled" : "disabled" })),
      h("td", { className: "mono", text: channel.webhook_url || "—" }),
    ),
  );
  $("#channel-rows").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { className: "empty", attrs: { colspan: 4 }, text: "No channels yet: add one for your app." }))]));
}

/** The secrets just made, once, each with a copy button; gone when another channel opens. */
function revealSecrets(secrets) {
  const shown = Object.entries(secrets).filter(([, value]) => value);
  const box = $("#channel-secrets");
  box.replaceChildren(
    h("strong", { text: "Copy now: these are shown only this once." }),
    ...shown.map(([label, value]) =>
      h(
        "div",
        { className: "secret-line" },
        h("span", { className: "field__label", text: label }),
        h("code", { className: "mono secret-value", text: value, dataset: { testid: "channel-secret", kind: label } }),
        h("button", {
          className: "btn btn--small",
          attrs: { type: "button" },
          text: "Copy",
          dataset: { testid: "channel-copy" },
          on: { click: () => copy(value) },
        }),
      ),
    ),
  );
  box.hidden = false;
}

async function copy(value) {
  try {
    await navigator.clipboard.writeText(value);
    toast("Copied.", "success");
  } catch {
    toast("Copy it by hand: the browser did not allow it.", "info");
  }
}

function showChannel(channel, secrets = null) {
  view.current = channel;
  renderList();
  $("#channel-new-form").hidden = true;
  $("#channel-detail").hidden = false;
  $("#channel-error").hidden = true;
  $("#channel-title").textContent = channel.name;
  const wechat = channel.kind === "wechat";
  const where = wechat ? `server URL ${location.origin}/api/wechat/${channel.name}` : `POST ${channel.inbound_path}`;
  $("#channel-meta").textContent = `${channel.kind.toUpperCase()} · created ${formatDate(channel.created_at)} · ${where}`;
  // A WeChat account has no webhook and no secrets of ours: WeChat's token signs its pushes.
  $("#channel-webhook-field").hidden = wechat;
  $("#channel-rotate").hidden = wechat;
  $("#channel-rotate-signing").hidden = wechat;
  $("#channel-webhook").value = channel.webhook_url || "";
  $("#channel-enabled").checked = channel.enabled;
  if (secrets) revealSecrets(secrets);
  else $("#channel-secrets").hidden = true;
  showDeliveries($("#channel-deliveries"), channel.id);
}

function newChannel() {
  view.current = null;
  renderList();
  $("#channel-detail").hidden = true;
  $("#channel-new-form").hidden = false;
  $("#channel-new-error").hidden = true;
  for (const id of ["name", "webhook", "app-id", "app-secret", "token", "aes-key"]) $(`#channel-new-${id}`).value = "";
  showKindFields();
  $("#channel-new-name").focus();
}

function showKindFields() {
  const kind = $("#channel-new-kind").value;
  for (const field of document.querySelectorAll("#channel-new-form [data-kind]")) field.hidden = field.dataset.kind !== kind;
}

async function createWeChat() {
  const body = {
    name: $("#channel-new-name").value.trim(),
    app_id: $("#channel-new-app-id").value.trim(),
    app_secret: $("#channel-new-app-secret").value,
    token: $("#channel-new-token").value.trim(),
    encoding_aes_key: $("#channel-new-aes-key").value.trim(),
  };
  const made = await api("POST", `${BASE}/wechat`, body);
  view.list = [...view.list, made].sort((a, b) => a.name.localeCompare(b.name));
  showChannel(made);
  toast(`WeChat account ${made.name} added: enter its server URL in WeChat.`, "success");
}

async function create(event) {
  event.preventDefault();
  if ($("#channel-new-kind").value === "wechat") {
    try {
      await createWeChat();
    } catch (failure) {
      showError($("#channel-new-error"), describe(failure), failure.details);
    }
    return;
  }
  const body = { kind: "api", name: $("#channel-new-name").value.trim() };
  const webhook = $("#channel-new-webhook").value.trim();
  if (webhook) body.webhook_url = webhook;
  try {
    const made = await api("POST", BASE, body);
    const { secret, signing_secret: signing, ...channel } = made;
    view.list = [...view.list, channel].sort((a, b) => a.name.localeCompare(b.name));
    showChannel(channel, { "Channel secret": secret, "Signing secret": signing });
    toast(`Channel ${channel.name} added.`, "success");
  } catch (failure) {
    showError($("#channel-new-error"), describe(failure), failure.details);
  }
}

async function save(event) {
  event.preventDefault();
  const channel = view.current;
  if (!channel) return;
  const body = { webhook_url: $("#channel-webhook").value.trim(), enabled: $("#channel-enabled").checked };
  try {
    showChannel(await api("PATCH", `${BASE}/${encodeURIComponent(channel.name)}`, body));
    await loadChannels();
    toast("Saved.", "success");
  } catch (failure) {
    showError($("#channel-error"), describe(failure), failure.details);
  }
}

async function rotate(which) {
  const channel = view.current;
  if (!channel) return;
  const inbound = which === "inbound";
  const text = inbound
    ? "The app's current secret stops working at once; it must use the new one."
    : "Events are signed with the new secret from now on; the app must check them with it.";
  if (!(await confirmAction(inbound ? "New channel secret" : "New signing secret", text, "Rotate"))) return;
  const path = `${BASE}/${encodeURIComponent(channel.name)}/${inbound ? "rotate-secret" : "rotate-signing-secret"}`;
  try {
    const made = await api("POST", path);
    const { secret, signing_secret: signing, ...fresh } = made;
    showChannel(fresh, inbound ? { "Channel secret": secret } : { "Signing secret": signing });
  } catch (failure) {
    toast(`Could not rotate: ${describe(failure)}`, "error");
  }
}

export function wireChannels() {
  $("#channel-new").addEventListener("click", newChannel);
  $("#channel-new-form").addEventListener("submit", create);
  $("#channel-new-kind").addEventListener("change", showKindFields);
  $("#channel-form").addEventListener("submit", save);
  $("#channel-rotate").addEventListener("click", () => rotate("inbound"));
  $("#channel-rotate-signing").addEventListener("click", () => rotate("signing"));
}
