// The message box: Enter sends (Shift+Enter is a new line), it grows with the text, and a
// counter shows from 90 % of the length limit.

import { MAX_CHARS } from "./config.js";
import { send, stopTyping, typed } from "./messages.js";
import { lengthText } from "./texts.js";
import { ui } from "./view.js";

export function wireComposer() {
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = ui.input.value;
    if (!text.trim() || count() > MAX_CHARS) return;  // too long: kept whole, the counter says so
    ui.input.value = "";
    grow();
    counted();
    send(text);
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      if (ui.form.requestSubmit) ui.form.requestSubmit();
      else ui.send.click();
    }
  });
  ui.input.addEventListener("input", () => {
    grow();
    counted();
    typed();
  });
  ui.input.addEventListener("blur", stopTyping);
}

function grow() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
}

// Characters as the server counts them (code points), shown from 90 % of the limit; over it,
// the message is refused here as the server would refuse it, never cut.
const count = () => Array.from(ui.input.value).length;
function counted() {
  const n = count();
  const state = n > MAX_CHARS ? "over" : n >= MAX_CHARS * 0.9 ? "near" : "";
  ui.count.hidden = !state;
  ui.count.dataset.state = state;
  ui.count.textContent = state ? lengthText(n) : "";
  ui.input.setAttribute("aria-invalid", state === "over" ? "true" : "false");
  ui.send.disabled = state === "over";
}
