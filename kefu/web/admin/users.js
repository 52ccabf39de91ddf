// Users tab: the staff list with presence and load, and the form to add or edit a member.

import { api, describe } from "/staff/assets/api.js";
import { $, h, toast } from "/staff/assets/dom.js";
import { session } from "/staff/assets/session.js";
import { commaList } from "./format.js";
import { confirmAction, showError } from "./ui.js";

const users = { list: [], editing: null };

export async function loadUsers() {
  try {
    const [body, teams] = await Promise.all([api("GET", "/api/admin/users"), api("GET", "/api/agent/teams").catch(() => ({ teams: [] }))]);
    users.list = body.users || [];
    const names = ((teams && teams.teams) || []).map((t) => (typeof t === "string" ? t : t.name));
    $("#team-options").replaceChildren(...names.map((n) => h("option", { value: n })));
    renderUsers();
  } catch (failure) {
    toast(`Could not load the staff list: ${describe(failure)}`, "error");
  }
}

function renderUsers() {
  $("#user-count").textContent = String(users.list.length);
  $("#user-rows").replaceChildren(
    ...users.list.map((u) =>
      h(
        "tr",
        { dataset: { testid: "user-row", username: u.username }, className: u.disabled ? "row--disabled" : "" },
        h("td", {}, h("div", { className: "cell-title", text: u.display_name || u.username }), h("div", { className: "cell-sub mono", text: u.username })),
        h("td", {}, h("span", { className: `badge badge--role-${u.role}`, text: u.role, dataset: { testid: "role-badge" } })),
        h("td", { text: (u.teams || []).join(", ") || "—" }),
        h("td", { text: (u.languages || []).join(", ") || "any" }),
        h("td", { text: (u.topics || []).join(", ") || "any" }),
        h("td", { className: "num", text: `${u.active_chats}/${u.max_chats}` }),
        h("td", {}, h("span", { className: `presence-dot presence-dot--${u.presence}` }), ` ${u.presence}`),
        h("td", {}, u.disabled ? h("span", { className: "badge badge--archived", text: "disabled", dataset: { testid: "user-status" } }) : h("span", { className: "badge badge--ok", text: "active", dataset: { testid: "user-status" } })),
        h(
          "td",
          { className: "num nowrap" },
          h("button", { className: "btn btn--small", type: "button", text: "Edit", dataset: { testid: "user-edit" }, on: { click: () => editUser(u) } }),
          " ",
          session.user && u.username === session.user.username
            ? null
            : [
                h("button", { className: "btn btn--small btn--ghost", type: "button", text: u.disabled ? "Enable" : "Disable", dataset: { testid: "user-toggle" }, on: { click: () => setDisabled(u, !u.disabled) } }),
                h("button", { className: "btn btn--small btn--ghost", type: "button", text: "Reset password", dataset: { testid: "user-reset-password" }, on: { click: () => resetPassword(u) } }),
                u.mfa_enabled ? h("button", { className: "btn btn--small btn--ghost", type: "button", text: "Reset 2-step", dataset: { testid: "user-reset-mfa" }, on: { click: () => resetMfa(u) } }) : null,
              ],
        ),
      ),
    ),
  );
}

function editUser(user) {
  users.editing = user;
  $("#user-form-title").textContent = `Edit ${user.username}`;
  $("#user-form-reset").hidden = false;
  $("#user-username").value = user.username;
  $("#user-username").readOnly = true;
  $("#user-display-name").value = user.display_name || "";
  $("#user-password-field").hidden = true;
  $("#user-password").value = "";
  $("#user-role").value = user.role;
  $("#user-teams").value = (user.teams || []).join(", ");
  $("#user-languages").value = (user.languages || []).join(", ");
  $("#user-topics").value = (user.topics || []).join(", ");
  $("#user-max-chats").value = String(user.max_chats);
  $("#user-disabled-field").hidden = false;
  $("#user-disabled").checked = Boolean(user.disabled);
  $("#user-submit").textContent = "Save changes";
  $("#user-error").hidden = true;
  $("#user-display-name").focus();
}

function resetUserForm() {
  users.editing = null;
  $("#user-form").reset();
  $("#user-form-title").textContent = "Add a staff member";
  $("#user-form-reset").hidden = true;
  $("#user-username").readOnly = false;
  $("#user-password-field").hidden = false;
  $("#user-disabled-field").hidden = true;
  $("#user-submit").textContent = "Create";
  $("#user-error").hidden = true;
}

async function submitUser(event) {
  event.preventDefault();
  const error = $("#user-error");
  error.hidden = true;
  const maxChats = $("#user-max-chats").value.trim();
  const profile = {
    role: $("#user-role").value,
    teams: commaList($("#user-teams").value),
    languages: commaList($("#user-languages").value),
    topics: commaList($("#user-topics").value),
  };
  if (maxChats) profile.max_chats = Number(maxChats);
  const displayName = $("#user-display-name").value.trim();
  try {
    if (users.editing) {
      const body = { ...profile, disabled: $("#user-disabled").checked };
      if (displayName) body.display_name = displayName;
      const saved = await api("PATCH", `/api/admin/users/${encodeURIComponent(users.editing.username)}`, body);
      toast(`Saved ${saved.username}.`);
    } else {
      const username = $("#user-username").value.trim();
      const password = $("#user-password").value;
      if (!username || !password) {
        showError(error, "A username and a password are needed.");
        return;
      }
      if (!profile.teams.length) delete profile.teams; // the desk's default team
      const saved = await api("POST", "/api/admin/users", { username, password, display_name: displayName, ...profile });
      toast(`Created ${saved.username}.`);
    }
    resetUserForm();
    loadUsers();
  } catch (failure) {
    showError(error, failure.status === 409 ? "That username is taken." : describe(failure), failure.details);
  }
}

async function setDisabled(user, disabled) {
  if (disabled && !(await confirmAction(`Disable ${user.username}?`, "They are signed out at once (their open consoles close), cannot sign in and get no chats until enabled again.", "Disable"))) return;
  try {
    await api("PATCH", `/api/admin/users/${encodeURIComponent(user.username)}`, { disabled });
    toast(`${user.username} ${disabled ? "disabled" : "enabled"}.`);
    loadUsers();
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

async function resetPassword(user) {
  if (!(await confirmAction(`Reset ${user.username}'s password?`, "They are signed out and get a temporary password that they must change at their next sign-in.", "Reset"))) return;
  try {
    const body = await api("POST", `/api/admin/users/${encodeURIComponent(user.username)}/password`, {});
    await confirmAction(`Temporary password for ${user.username}`, `${body.temporary_password} — give it to them privately; it is not shown again.`, "Done");
    loadUsers();
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

async function resetMfa(user) {
  if (!(await confirmAction(`Turn off ${user.username}'s two-step sign-in?`, "For a lost phone: they are signed out and sign in with their password alone until they set it up again.", "Turn off"))) return;
  try {
    await api("DELETE", `/api/admin/users/${encodeURIComponent(user.username)}/mfa`);
    toast(`Two-step sign-in is off for ${user.username}.`);
    loadUsers();
  } catch (failure) {
    toast(describe(failure), "error");
  }
}

export function wireUsers() {
  $("#user-form").addEventListener("submit", submitUser);
  $("#user-form-reset").addEventListener("click", resetUserForm);
}
