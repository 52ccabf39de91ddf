// The chat panel's static markup and its icons (the launcher's are in launcher.js).

import { CHAT_ICON, svg } from "./launcher.js";

const ICONS = {
  down: '<path d="M6 9l6 6 6-6"/>',
  end: '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9"/>',
  send: '<path d="M22 2L11 13M22 2l-7 20-4-9-9-4 20-7z"/>',
  person: '<circle cx="12" cy="8" r="4"/><path d="M4 21v-1a6 6 0 0 1 6-6h4a6 6 0 0 1 6 6v1"/>',
  up: '<path d="M7 10v11H3V10h4zM7 10l4-8a3 3 0 0 1 3 3v4h6a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.6 21H7"/>',
  star: '<path d="M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5L2.5 9.4l6.6-.9z"/>'
};
export const icon = (name, extra) => svg(ICONS[name], extra);

// Static markup only: every text from the server or the page goes in as textContent. data-t
// names the string for the text, data-l for aria-label and title; view.js fills both in.
export const TEMPLATE = `<section class="panel" id="kefu-panel" data-testid="kefu-panel" role="dialog" aria-labelledby="kefu-title" hidden>
<header class="head"><div class="avatar">${CHAT_ICON}</div>
<div class="ht"><h2 class="title" id="kefu-title"></h2><p class="status" data-testid="kefu-status" data-status="idle"><span class="dot"></span><span class="st"></span></p></div>
<button class="icon end" type="button" data-testid="kefu-end" data-l="end">${icon("end")}</button>
<button class="icon min" type="button" data-testid="kefu-close" data-l="minimize">${icon("down")}</button></header>
<div class="bar confirm" hidden><span data-t="endAsk"></span><button class="ghost" type="button" data-testid="kefu-end-confirm" data-t="end"></button><button class="ghost" type="button" data-testid="kefu-end-cancel" data-t="cancel"></button></div>
<div class="bar queue" data-testid="kefu-queue" role="status" hidden><span></span></div>
<div class="scroll"><div class="log" data-testid="kefu-log" role="log" aria-live="polite" aria-relevant="additions"></div>
<div class="typing" data-testid="kefu-typing" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span><span></span></div>
<div class="extras"></div></div>
<footer class="foot"><div class="actions"><button class="human" type="button" data-testid="kefu-human">${icon("person")}<span data-t="human"></span></button></div>
<form class="composer"><label class="sr" for="kefu-input" data-t="inputLabel"></label><textarea id="kefu-input" data-testid="kefu-input" rows="1" enterkeyhint="send" aria-describedby="kefu-count"></textarea>
<button class="send" type="submit" data-testid="kefu-send" data-l="send">${icon("send")}</button></form>
<p class="count" id="kefu-count" data-testid="kefu-count" aria-live="polite" hidden></p>
<div class="ended" hidden><p data-t="ended"></p><button class="ghost" type="button" data-testid="kefu-reopen" data-t="reopen"></button><button class="ghost" type="button" data-testid="kefu-new-chat" data-t="newChat"></button></div>
</footer></section>`;
