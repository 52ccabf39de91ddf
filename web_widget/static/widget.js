/*! kefu web widget: the customer chat, embeddable with one script tag.
 * <script src="https://host/widget.js" data-server="https://host" data-language="auto|en|zh"
 *   data-title="..." data-greeting="..." data-accent="#0a7cff" data-position="right|left"
 *   data-customer-name="..." data-customer-email="..." data-bot-name="..." data-max-chars="2000"
 *   async></script>
 * An accent too light for white text on it is darkened until it reaches WCAG AA (a console
 * warning says so).
 * A signed-in customer's identity, signed by the site's server (docs/security.md, "Signed
 * identity"): data-customer-id, -email, -name, -tier, -expires and data-customer-hash.
 * Vanilla JS, no dependencies, no build step. Renders in a Shadow DOM on <kefu-widget>; the only
 * global it defines is window.KefuWidget. Protocol: docs/protocol.md and docs/handoff.md. */
(function () {
"use strict";
if (window.KefuWidget) return;

// -- configuration

var script = document.currentScript || (() => {
  var all = document.getElementsByTagName("script");
  for (var i = all.length - 1; i >= 0; i--) {
    if (/\/widget\.js([?#]|$)/.test(all[i].src)) return all[i];
  }
  return null;
})();

function attr(name) {
  var value = script && script.getAttribute("data-" + name);
  return value && value.trim() ? value.trim() : "";
}

var SERVER = (attr("server") ||
  (script && script.src ? new URL(script.src, location.href).origin : location.origin))
  .replace(/\/+$/, "");
var LANG = (() => {
  var wanted = attr("language").toLowerCase();
  if (wanted === "en" || wanted === "zh") return wanted;
  var nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return /^zh\b/i.test(nav) ? "zh" : "en";
})();
var POSITION = attr("position") === "left" ? "left" : "right";
// The server's KEFU_MAX_MESSAGE_CHARS; set data-max-chars when the server's differs.
var MAX_CHARS = Math.max(1, parseInt(attr("max-chars"), 10) || 2000);
var CUSTOMER = { name: attr("customer-name"), email: attr("customer-email"), id: attr("customer-id"),
  tier: attr("customer-tier"), expires: attr("customer-expires"), hash: attr("customer-hash") };
var KEY = "kefu:v1:" + SERVER;
var BACKOFF_BASE = 500;
var BACKOFF_MAX = 8000;
// How long a tab whose token stopped working waits for another tab's rotated token to arrive.
var LOST_GRACE_MS = 1500;

// -- strings

var STRINGS = {
  en: {
    title: "Customer service",
    greeting: "Hi! I'm the virtual assistant. Ask me about orders, delivery, returns, refunds, " +
      "payments, invoices, your account, points and coupons, or warranty.",
    open: "Open chat", openUnread: "Open chat, {n} unread", minimize: "Minimize chat",
    unread: "{n} unread messages", placeholder: "Type your message…", inputLabel: "Message",
    charsLeft: "{n} / {max} characters", tooLong: "Too long to send: {n} / {max} characters",
    send: "Send", human: "Talk to a person", end: "End chat", endAsk: "End this chat?",
    cancel: "Cancel", bot: "Assistant", you: "You", agent: "Agent",
    connected: "Online", connecting: "Connecting…", reconnecting: "Reconnecting…",
    offline: "No connection. Messages will be sent when you're back online.",
    idle: "We usually reply in seconds",
    sending: "Sending…", sent: "Sent", failed: "Not sent", retry: "Retry",
    typing: "{name} is typing…", helpful: "Helpful", unhelpful: "Not helpful",
    rated: "Thanks for your feedback", suggestions: "Suggested questions",
    queueAt: "You're number {n} in the queue", queueNext: "You're next in line",
    queueWait: "Waiting for an agent…", eta: "about {m} min", etaSoon: "less than a minute",
      outsideHours: "We're outside our opening hours.", nextOpen: "We're back {when}.",
    joined: "{name} joined the chat", left: "{name} left the chat",
    leftTransfer: "{name} transferred the chat", leftBack: "{name} handed the chat back to the assistant",
    transferred: "Transferred to {to}", returned: "You're chatting with the assistant again",
    closedYou: "You ended the chat", closedAgent: "{name} ended the chat", closed: "The chat was closed",
    reopened: "The chat was reopened", offlineGot: "Message received. We'll reply to {email}.",
    feedbackGot: "You rated this chat {csat} out of 5",
    offlineTitle: "Leave us a message", offlineIntro: "We'll reply by email as soon as we can.",
    email: "Email", message: "Message", nameOpt: "Name (optional)", offlineSend: "Send message",
    badEmail: "Please enter a valid email address.",
    needText: "Please write a message.",
    survey: "How did we do?", csat: "Rate this chat", star: "{n} of 5 stars",
    comment: "Anything to add? (optional)", nps: "How likely are you to recommend us to a friend? (optional)",
    npsLow: "Not likely", npsHigh: "Very likely", submit: "Send feedback",
    needStars: "Please choose 1 to 5 stars.", surveyThanks: "Thank you for your feedback!",
    ended: "This chat has ended.", reopen: "Reopen chat", newChat: "Start a new chat",
    gone: "Your earlier chat is no longer available.", error: "Something went wrong. Please try again.",
    windowPassed: "This chat can no longer be reopened.", humanText: "I'd like to talk to a person"
  },
  zh: {
    title: "在线客服",
    greeting: "您好！我是智能客服助手，可以帮您解答订单、物流、退换货、退款、支付、发票、账户、" +
      "积分优惠券和保修等问题。",
    open: "打开客服对话", openUnread: "打开客服对话，{n} 条未读", minimize: "收起对话",
    unread: "{n} 条未读消息", placeholder: "请输入您的问题…", inputLabel: "消息",
    charsLeft: "{n} / {max} 字", tooLong: "消息过长，无法发送：{n} / {max} 字",
    send: "发送", human: "转人工客服", end: "结束对话", endAsk: "确定结束本次对话？",
    cancel: "取消", bot: "智能助手", you: "我", agent: "客服",
    connected: "在线", connecting: "正在连接…", reconnecting: "正在重新连接…",
    offline: "网络已断开，恢复后将自动发送消息。", idle: "通常几秒内回复",
    sending: "发送中…", sent: "已发送", failed: "发送失败", retry: "重试",
    typing: "{name}正在输入…", helpful: "有帮助", unhelpful: "没帮助",
    rated: "感谢您的反馈", suggestions: "推荐问题",
    queueAt: "您前面还有 {before} 位，当前排第 {n} 位", queueNext: "下一位就是您",
    queueWait: "正在为您排队等待人工客服…", eta: "预计约 {m} 分钟", etaSoon: "预计不到 1 分钟",
    outsideHours: "现在不在人工客服服务时间内。", nextOpen: "客服将于 {when} 上线。",
    joined: "{name} 已加入对话", left: "{name} 已离开对话",
    leftTransfer: "{name} 已将对话转接", leftBack: "{name} 已将对话交还给智能助手",
    transferred: "已转接至 {to}", returned: "已切换回智能助手",
    closedYou: "您已结束对话", closedAgent: "{name} 已结束对话", closed: "对话已结束",
    reopened: "对话已重新打开", offlineGot: "留言已收到，我们会回复到 {email}。",
    feedbackGot: "您为本次对话评了 {csat} 星",
    offlineTitle: "给我们留言", offlineIntro: "我们会尽快通过邮件回复您。",
    email: "邮箱", message: "留言内容", nameOpt: "称呼（选填）", offlineSend: "提交留言",
    badEmail: "请输入有效的邮箱地址。",
    needText: "请填写留言内容。",
    survey: "请为本次服务评分", csat: "满意度", star: "{n} 星（共 5 星）",
    comment: "其他意见（选填）", nps: "您有多大可能向朋友推荐我们？（选填）",
    npsLow: "不太可能", npsHigh: "非常可能", submit: "提交评价",
    needStars: "请选择 1 到 5 星。", surveyThanks: "感谢您的评价！",
    ended: "本次对话已结束。", reopen: "重新打开对话", newChat: "开始新对话",
    gone: "之前的对话已无法继续。", error: "出了点问题，请稍后再试。",
    windowPassed: "已超过可重新打开对话的时间。", humanText: "转人工"
  }
};
// data-bot-name: what the bot is called in the chat (default "Assistant", 智能助手).
var BOT_NAME = attr("bot-name");
var T = Object.assign({}, STRINGS[LANG], BOT_NAME ? {
  bot: BOT_NAME,
  leftBack: LANG === "zh" ? "{name} 已将对话交还给" + BOT_NAME : "{name} handed the chat back to " + BOT_NAME,
  returned: LANG === "zh" ? "已切换回" + BOT_NAME : "You're chatting with " + BOT_NAME + " again"
} : {});

function t(key, values) {
  return String(T[key] || STRINGS.en[key] || key).replace(/\{(\w+)\}/g, (whole, name) => {
    return values && values[name] != null ? String(values[name]) : whole;
  });
}

// -- storage (per server origin; memory when localStorage is unavailable)

var memory = {};
function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "{}") || {};
  } catch (e) {
    return memory;
  }
}
function save(patch) {
  var data = load();
  for (var k in patch) if (Object.prototype.hasOwnProperty.call(patch, k)) data[k] = patch[k];
  try {
    localStorage.setItem(KEY, JSON.stringify(data));
  } catch (e) {
    memory = data;
  }
  return data;
}
function outbox() {
  return load().outbox || [];
}
function outboxPut(item) {
  var items = outbox().filter((o) => o.client_id !== item.client_id);
  items.push(item);
  save({ outbox: items });
}
function outboxDrop(clientId) {
  save({ outbox: outbox().filter((o) => o.client_id !== clientId) });
}

// Open or not is per tab (sessionStorage): a reload keeps it, a new tab starts closed.
function remember(open) {
  try {
    if (open === undefined) return sessionStorage.getItem(KEY) === "open";
    sessionStorage.setItem(KEY, open ? "open" : "");
  } catch (e) { /* storage unavailable */ }
  return false;
}

function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  var s = "";
  for (var i = 0; i < 4; i++) s += Math.floor(Math.random() * 0x100000000).toString(16);
  return s;
}

// -- colours: the accent as given, darkened until white text on it passes WCAG AA

function accentColours(value) {
  var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value || "");
  var hex = m ? m[1] : "0a7cff";
  if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
  var rgb = [0, 2, 4].map((i) => parseInt(hex.substr(i, 2), 16));
  function luminance(c) {
    var l = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }
  for (var n = 0; n < 40 && 1.05 / (luminance(rgb) + 0.05) < 4.6; n++) {
    rgb = rgb.map((v) => Math.round(v * 0.92));
  }
  var colour = "rgb(" + rgb.join(",") + ")";
  if (n && m) {
    console.warn("kefu widget: data-accent #" + m[1] + " darkened to " + colour +
      " so that white text on it has a contrast of at least 4.5:1 (WCAG AA)");
  }
  return colour;
}
var ACCENT = accentColours(attr("accent"));

// -- markup

var FONT = LANG === "zh"
  ? '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Segoe UI", Roboto, sans-serif'
  : 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, ' +
    '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
var SIDE = POSITION;

var CSS = `
:host{all:initial!important;display:block!important;position:static!important}
.kw{all:initial;display:block;font:15px/1.45 ${FONT};color:#1c2329;--ac:${ACCENT};--mu:#56616b;-webkit-text-size-adjust:100%}
.kw *,.kw ::before,.kw ::after{box-sizing:border-box;font:inherit;color:inherit;letter-spacing:normal;text-transform:none;margin:0;padding:0}
[hidden]{display:none!important}
button{cursor:pointer;background:none;border:0;border-radius:8px}
button:disabled{cursor:default;opacity:.55}
:focus{outline:none}:focus-visible{outline:2px solid var(--ac);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
svg{display:block;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;width:20px;height:20px}
.launcher,.avatar,.icon,.rate,.star,.send{display:flex;align-items:center;justify-content:center;flex:none}
.launcher{position:fixed;bottom:20px;${SIDE}:20px;z-index:2147483000;width:58px;height:58px;border-radius:50%;background:var(--ac);color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}.launcher svg{width:28px;height:28px}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c62828;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;box-shadow:0 0 0 2px #fff}
.panel{position:fixed;bottom:92px;${SIDE}:20px;z-index:2147483001;width:380px;height:min(640px,calc(100vh - 112px));display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(0,0,0,.28);animation:kin .18s ease-out}
@keyframes kin{from{opacity:0;transform:translateY(12px)}}
@media (prefers-reduced-motion:reduce){.panel,.dots i{animation:none!important}.launcher{transition:none}}
.head{display:flex;align-items:center;gap:10px;padding:12px 10px 12px 14px;background:var(--ac);color:#fff}
.head :focus-visible{outline-color:#fff}
.avatar{width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.2)}
.ht{flex:1;min-width:0}.title{font-size:16px;font-weight:700;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.status{font-size:12.5px;display:flex;align-items:center;gap:6px}
.dot{width:8px;height:8px;border-radius:50%;background:#ffd54f}
[data-status=connected] .dot,[data-status=idle] .dot{background:#7cfc9a}[data-status=offline] .dot{background:#ff8a80}
.icon{width:36px;height:36px}.icon:hover{background:rgba(255,255,255,.16)}
.bar{display:flex;align-items:center;gap:8px;padding:9px 14px;font-size:13.5px;border-bottom:1px solid #e3e7eb;background:#f6f8fa}
.bar span{flex:1}.queue{background:#fff8e1;color:#4e3b00}
.scroll{flex:1;overflow-y:auto;padding:14px 12px 6px;overscroll-behavior:contain}
.log{display:flex;flex-direction:column;gap:10px}
.msg{display:flex;flex-direction:column;align-items:flex-start;max-width:86%}
.customer{align-self:flex-end;align-items:flex-end}
.who{font-size:12px;color:var(--mu);margin:0 4px 3px;font-weight:600}.agent .who{color:#1b5e20}
.bubble{padding:9px 12px;border-radius:4px 14px 14px;background:#f0f2f5;overflow-wrap:anywhere;max-width:100%}
.agent .bubble{background:#e8f5e9;border:1px solid #c8e6c9}
.customer .bubble{background:var(--ac);color:#fff;border-radius:14px 4px 14px 14px}
.customer[data-state=failed] .bubble{background:#fff;color:#1c2329;border:1px solid #c62828}
[data-state=sending] .bubble{opacity:.8}
.bubble>*+*{margin-top:6px}.bubble ul,.bubble ol{padding-left:20px}
.bubble strong{font-weight:700}.bubble em{font-style:italic}
.bubble code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;background:rgba(0,0,0,.07);padding:1px 4px;border-radius:4px}
.bubble a{color:#0b57b0;text-decoration:underline}.customer .bubble a{color:#fff}
.meta{display:flex;align-items:center;gap:6px;margin:3px 4px 0;font-size:12px;color:var(--mu)}
[data-state=sent]:not(.last) .meta{display:none}
[data-state=failed] .meta,.retry,.err{color:#b71c1c}
.retry{text-decoration:underline;font-weight:600;padding:2px 4px}
.rate{width:30px;height:28px;color:var(--mu);border:1px solid #d5dbe1;border-radius:14px}.rate svg{width:15px;height:15px}
.rate:hover,.ghost:hover,.human:hover{background:#f0f2f5}
.rate[aria-pressed=true],.nps [aria-pressed=true]{background:var(--ac);border-color:var(--ac);color:#fff}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin-top:7px}
.chip{border:1px solid var(--ac);color:var(--ac);background:#fff;border-radius:16px;padding:6px 12px;font-size:13.5px;text-align:left;line-height:1.3}
.chip:hover:not(:disabled){background:#eef5ff}
.note{align-self:center;text-align:center;font-size:12.5px;color:var(--mu);padding:2px 10px;max-width:92%}
.typing{display:flex;align-items:center;gap:8px;padding:8px 4px 2px;font-size:12.5px;color:var(--mu)}
.dots{display:flex;gap:4px;padding:10px 12px;background:#f0f2f5;border-radius:14px}
.dots i{width:7px;height:7px;border-radius:50%;background:#7b8794;animation:kdot 1.2s infinite}
.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}
@keyframes kdot{0%,80%,to{opacity:.3}40%{opacity:1;transform:translateY(-3px)}}
.card{margin:12px 2px 6px;padding:14px;border:1px solid #dde2e7;border-radius:12px;background:#fafbfc}
.card h3{font-size:15px;font-weight:700}.card p{font-size:13.5px;color:#3d4750}
.field{display:block;margin-top:10px;font-size:13px;font-weight:600}
.field input,.field textarea,.composer textarea{display:block;width:100%;margin-top:4px;padding:8px 10px;border:1px solid #b7c0c8;border-radius:8px;background:#fff;font-weight:400}
.field textarea{resize:vertical;min-height:64px}
input:focus,textarea:focus{border-color:var(--ac)!important}
.primary{margin-top:12px;background:var(--ac);color:#fff;font-weight:600;padding:9px 16px}
.ghost{border:1px solid #b7c0c8;padding:7px 12px;font-weight:600;font-size:13.5px;background:#fff}
.err{font-size:13px;margin-top:8px}.ok{color:#1b5e20;font-weight:600}
.stars{display:flex;gap:2px;margin-top:4px}
.star{width:38px;height:38px;color:#8a96a3}.star svg{width:28px;height:28px}.on{color:#e09b00}.on svg{fill:currentColor}
.nps{display:grid;grid-template-columns:repeat(11,1fr);gap:3px;margin-top:5px}
.nps button{height:30px;border:1px solid #b7c0c8;border-radius:6px;font-size:12.5px;background:#fff}
.scale{display:flex;justify-content:space-between;font-size:11.5px;color:var(--mu);margin-top:3px;font-weight:400}
.foot{border-top:1px solid #e3e7eb;padding:8px 10px 10px}
.actions{display:flex;margin-bottom:7px}
.human{display:flex;align-items:center;gap:6px;border:1px solid #c5cdd4;border-radius:16px;padding:5px 12px;font-size:13px}
.human svg{width:15px;height:15px}
.composer{display:flex;align-items:flex-end;gap:8px}
.composer textarea{flex:1;resize:none;margin:0;border-radius:12px;padding:9px 12px;max-height:120px;min-height:42px;line-height:1.4}
.send{width:42px;height:42px;border-radius:50%;background:var(--ac);color:#fff}
.count{margin:4px 4px 0;font-size:12px;text-align:right;color:#4a5560}.count[data-state=over]{color:#b3261e;font-weight:600}
.composer textarea[aria-invalid=true]{border-color:#b3261e}
.ended{display:flex;flex-wrap:wrap;align-items:center;gap:8px}.ended p{flex:1 1 100%;font-size:13.5px}
@media (max-width:480px){.panel{inset:0;width:auto;height:auto;border-radius:0}.open .launcher{display:none}.msg{max-width:90%}}`;

var ICONS = {
  chat: '<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/>',
  down: '<path d="M6 9l6 6 6-6"/>',
  end: '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9"/>',
  send: '<path d="M22 2L11 13M22 2l-7 20-4-9-9-4 20-7z"/>',
  person: '<circle cx="12" cy="8" r="4"/><path d="M4 21v-1a6 6 0 0 1 6-6h4a6 6 0 0 1 6 6v1"/>',
  up: '<path d="M7 10v11H3V10h4zM7 10l4-8a3 3 0 0 1 3 3v4h6a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.6 21H7"/>',
  star: '<path d="M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5L2.5 9.4l6.6-.9z"/>'
};
var icon = (name, extra) => `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"${extra || ""}>${ICONS[name]}</svg>`;

// Static markup only: every text from the server or the page goes in as textContent. data-t
// names the string for the text, data-l for aria-label and title; both are filled in below.
var TEMPLATE = `<div class="kw">
<button class="launcher" type="button" data-testid="kefu-launcher" aria-expanded="false" aria-controls="kefu-panel">${icon("chat")}<span class="badge" data-testid="kefu-badge" hidden></span></button>
<section class="panel" id="kefu-panel" data-testid="kefu-panel" role="dialog" aria-labelledby="kefu-title" hidden>
<header class="head"><div class="avatar">${icon("chat")}</div>
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
</footer></section></div>`;

// -- DOM helpers

function el(tag, props, children) {
  var node = document.createElement(tag);
  if (props) {
    for (var k in props) {
      if (!Object.prototype.hasOwnProperty.call(props, k) || props[k] == null) continue;
      if (k === "text") node.textContent = props[k];
      else if (k === "cls") node.className = props[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), props[k]);
      else node.setAttribute(k, props[k]);
    }
  }
  (children || []).forEach((c) => { if (c) node.appendChild(c); });
  return node;
}

// Markdown-lite into DOM nodes: text only ever becomes text nodes, so no markup can get in.
// Paragraphs and line breaks, "- " / "1. " lists, **bold**, *italic*, `code`, [label](http…).
function markdown(text, parent) {
  var lines = String(text == null ? "" : text).replace(/\r\n?/g, "\n").split("\n");
  var para = null;
  var list = null;
  lines.forEach((line) => {
    var item = /^\s*(?:([-*•])|(\d{1,3})[.)])\s+(.*)$/.exec(line);
    if (item) {
      var type = item[2] ? "ol" : "ul";
      if (!list || list.tagName.toLowerCase() !== type) {
        list = parent.appendChild(el(type));
        if (item[2] && item[2] !== "1") list.setAttribute("start", item[2]);
      }
      inline(item[3], list.appendChild(el("li")));
      para = null;
      return;
    }
    list = null;
    if (!line.trim()) {
      para = null;
      return;
    }
    if (para) para.appendChild(el("br"));
    else para = parent.appendChild(el("p"));
    inline(line, para);
  });
}

function inline(text, parent) {
  var re = new RegExp(
    "`([^`\\n]+)`|\\*\\*(?=\\S)([^\\n]*?\\S)\\*\\*|\\*(?=[^\\s*])([^*\\n]*?[^\\s*])\\*|" +
    "\\[([^\\]\\n]+)\\]\\(([^)\\s]+)\\)|(https?:\\/\\/[^\\s<>\"'()\\[\\]]*[^\\s<>\"'()\\[\\].,;:!?，。！？、）])",
    "gi");
  var last = 0;
  var m;
  while ((m = re.exec(text))) {
    if (m.index > last) parent.appendChild(txt(text.slice(last, m.index)));
    if (m[1] != null) parent.appendChild(el("code", { text: m[1] }));
    else if (m[2] != null) inline(m[2], parent.appendChild(el("strong")));
    else if (m[3] != null) inline(m[3], parent.appendChild(el("em")));
    else if (m[4] != null) {
      var a = link(m[5]);
      if (a) inline(m[4], parent.appendChild(a));
      else parent.appendChild(txt(m[0]));
    } else {
      var bare = link(m[6]);
      if (bare) {
        bare.textContent = m[6];
        parent.appendChild(bare);
      } else parent.appendChild(txt(m[0]));
    }
    last = re.lastIndex;
  }
  if (last < text.length) parent.appendChild(txt(text.slice(last)));
}

var txt = (text) => document.createTextNode(text);

function link(href) {
  var url;
  try {
    url = new URL(href);
  } catch (e) {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer" });
}

// -- state

var stored = load();
var S = {
  cid: stored.cid || null,
  token: stored.token || null,
  // When to rotate the token (ms); 0 (a token stored before tokens expired) means now.
  rotateAfter: stored.rotate || 0,
  rotating: null,
  lostTimer: null,
  seen: stored.seen || 0,
  lastSeq: 0,
  bySeq: {},
  pending: {},
  state: "bot",
  agent: null,
  queue: null,
  offline: null,
  offlineSent: false,
  closed: null,
  feedback: false,
  ws: null,
  ready: false,
  attempts: 0,
  timer: null,
  creating: null,
  open: false,
  unread: 0,
  waitingFor: 0,
  lastFrame: 0,
  statusSeq: 0,
  rated: stored.rated || {}
};

// -- build

var host = document.createElement("kefu-widget");
var shadow = host.attachShadow({ mode: "open" });
shadow.innerHTML = "<style>" + CSS + "</style>" + TEMPLATE;
function $(selector) { return shadow.querySelector(selector); }
var ui = {
  root: $(".kw"), launcher: $(".launcher"), badge: $(".badge"), panel: $(".panel"),
  title: $(".title"), status: $(".status"), statusText: $(".st"), end: $(".end"), min: $(".min"),
  confirm: $(".confirm"), queue: $(".queue"), scroll: $(".scroll"), log: $(".log"),
  typing: $(".typing"), extras: $(".extras"), actions: $(".actions"), human: $(".human"),
  form: $(".composer"), input: $(".composer textarea"), send: $(".send"), count: $(".count"), ended: $(".ended")
};
shadow.querySelectorAll("[data-t]").forEach((n) => n.textContent = t(n.dataset.t));
shadow.querySelectorAll("[data-l]").forEach((n) => { n.title = t(n.dataset.l); n.setAttribute("aria-label", n.title); });
ui.title.textContent = attr("title") || t("title");
ui.root.setAttribute("lang", LANG === "zh" ? "zh-CN" : "en");
ui.log.setAttribute("aria-label", ui.title.textContent);
ui.input.placeholder = t("placeholder");

function greet() {
  var g = el("div", { cls: "msg bot", "data-testid": "kefu-greeting", "data-who": "bot:" + t("bot") }, [
    el("div", { cls: "who", text: t("bot") }), el("div", { cls: "bubble" })]);
  markdown(attr("greeting") || t("greeting"), g.lastChild);
  ui.log.appendChild(g);
}
greet();

// -- connection status

function setConn(status) {
  ui.status.setAttribute("data-status", status);
  ui.statusText.textContent = t(status);
}
setConn("idle");

// -- messages

function authorOf(ev) {
  var a = String(ev.author || "");
  if (a === "customer" || a === "bot" || a === "system") return a;
  return a.indexOf("agent") === 0 ? "agent" : "system";
}

// Keep the log in seq order; messages still waiting for their seq stay at the end.
function place(node, seq) {
  var kids = ui.log.children;
  for (var i = 0; seq !== Infinity && i < kids.length; i++) {
    var s = kids[i].getAttribute("data-seq");
    var waiting = s == null && kids[i].hasAttribute("data-client-id");
    if (waiting || (s != null && +s > seq)) {
      ui.log.insertBefore(node, kids[i]);
      return lastOut();
    }
  }
  ui.log.appendChild(node);
  lastOut();
}

function lastOut() {
  var outs = ui.log.querySelectorAll(".msg.customer");
  for (var i = 0; i < outs.length; i++) outs[i].classList.toggle("last", i === outs.length - 1);
}

function nearBottom() {
  var s = ui.scroll;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}
function toBottom() {
  ui.scroll.scrollTop = ui.scroll.scrollHeight;
}

// A speaker's name shows once per run of messages from the same speaker.
function relabel(node) {
  [node, node && node.nextElementSibling].forEach((n) => {
    if (!n || !n.querySelector) return;
    var who = n.querySelector(".who");
    if (!who) return;
    var prev = n.previousElementSibling;
    who.hidden = !!(prev && prev.getAttribute("data-who") === n.getAttribute("data-who"));
  });
}

function bubble(author, text, name) {
  var node = el("div", { cls: "msg " + author, "data-testid": "kefu-message", "data-author": author,
    "data-who": author === "customer" ? "customer" : author + ":" + (name || "") });
  if (author !== "customer") node.appendChild(el("div", { cls: "who", text: name }));
  var b = node.appendChild(el("div", { cls: "bubble" }));
  markdown(text, b);
  return node;
}

function outgoing(item) {
  var node = bubble("customer", item.text);
  node.setAttribute("data-client-id", item.client_id);
  node.appendChild(el("div", { cls: "meta" }));
  S.pending[item.client_id] = node;
  markState(node, item.state || "sending", item.error);
  return node;
}

function markState(node, state, error) {
  node.setAttribute("data-state", state);
  var meta = node.querySelector(".meta");
  meta.textContent = "";
  meta.appendChild(el("span", { text: t(state) + (state === "failed" && error ? " · " + error : "") }));
  if (state === "failed") {
    meta.appendChild(el("button", {
      cls: "retry", type: "button", "data-testid": "kefu-retry", text: t("retry"),
      onclick: () => retry(node.getAttribute("data-client-id"))
    }));
  }
}

function agentName(ev) {
  var p = ev.payload || {};
  return p.agent || String(ev.author || "").replace(/^agent:/, "") || t("agent");
}

function systemText(ev) {
  var p = ev.payload || {};
  switch (ev.type) {
    case "conversation.escalated":
      // The bot's own message says it; a note only adds when people are back.
      return p.offline && offlineWhen(p.offline) || null;
    case "agent.joined": return t("joined", { name: p.agent || t("agent") });
    case "agent.left":
      if (p.reason === "closed") return null;  // "… ended the chat" follows
      return t(p.reason === "transferred" ? "leftTransfer" : p.reason === "handed_back" ? "leftBack" : "left",
        { name: p.agent || t("agent") });
    case "conversation.transferred": return t("transferred", { to: p.agent || p.team || "" });
    case "conversation.returned_to_bot": return t("returned");
    case "conversation.closed":
      if (p.by === "customer") return t("closedYou");
      var by = p.agent || S.lastAgent;
      return p.by === "agent" && by ? t("closedAgent", { name: by }) : t("closed");
    case "conversation.reopened": return t("reopened");
    case "offline_message.received": return t("offlineGot", { email: p.email || "" });
    case "feedback.received": return p.csat ? t("feedbackGot", { csat: p.csat }) : null;
    default: return null;
  }
}

// Server times are UTC; one written without a zone is read as UTC too, not as local time.
function parseTime(iso) {
  if (!iso) return NaN;
  iso = String(iso);
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + "Z");
}

function offlineWhen(offline) {
  var text = offline.reason === "outside_hours" ? t("outsideHours") : "";
  if (offline.next_open) {
    var when = new Date(parseTime(offline.next_open));
    if (!isNaN(when.getTime())) {
      text += (text ? " " : "") + t("nextOpen", { when: when.toLocaleString(LANG === "zh" ? "zh-CN" : "en", {
        weekday: "short", hour: "2-digit", minute: "2-digit" }) });
    }
  }
  return text;
}

function onEvent(ev, live) {
  var seq = +ev.seq;
  if (!seq) return;
  if (seq > S.lastSeq) S.lastSeq = seq;
  if (S.bySeq[seq]) return;
  var author = authorOf(ev);
  var p = ev.payload || {};
  var stick = nearBottom();
  var node = null;
  if (ev.type === "message" && author === "customer") {
    node = ev.client_id && S.pending[ev.client_id];
    if (node) {
      delete S.pending[ev.client_id];
      outboxDrop(ev.client_id);
    } else {
      node = bubble("customer", p.text);
      node.appendChild(el("div", { cls: "meta" }));
    }
    node.setAttribute("data-seq", seq);
    if (node.parentNode) node.parentNode.removeChild(node);
    place(node, seq);
    markState(node, "sent");
    disableChips();
  } else if (ev.type === "message") {
    var name = author === "agent" ? agentName(ev) : t("bot");
    node = bubble(author, p.text, name);
    node.setAttribute("data-seq", seq);
    if (author === "bot" && p.kind) node.setAttribute("data-kind", p.kind);
    if (author === "bot" && p.kind === "clarify" && p.suggestions && p.suggestions.length) {
      node.appendChild(chips(p.suggestions));
    }
    if (author === "bot" && p.rateable) node.appendChild(rating(seq));
    place(node, seq);
    if (seq > S.waitingFor || author === "agent") botTyping(false);
    if (author === "agent") showTyping(null);
    if (!S.open && seq > S.seen) S.unread++;
  } else {
    var text = systemText(ev);
    applyEvent(ev);
    if (text) {
      node = el("div", { cls: "note", "data-testid": "kefu-message", "data-author": "system",
        "data-type": ev.type, "data-seq": seq, text });
      place(node, seq);
    }
    if (live) refreshStatusSoon();
  }
  if (node) {
    S.bySeq[seq] = node;
    relabel(node);
    if (ev.created_at) node.title = new Date(parseTime(ev.created_at)).toLocaleString();
  } else {
    S.bySeq[seq] = true;
  }
  if (S.open) markSeen();
  badge();
  sync();
  if (stick) toBottom();
}

function applyEvent(ev) {
  var p = ev.payload || {};
  switch (ev.type) {
    case "conversation.escalated":
      S.state = p.state || "waiting_for_agent";
      S.queue = p.queue || null;
      S.offline = p.offline || null;
      S.offlineSent = false;
      break;
    case "agent.joined":
      S.state = "agent"; S.agent = S.lastAgent = p.agent; S.queue = null; S.offline = null;
      break;
    case "agent.left":
      if (p.reason === "handed_back") S.state = "bot";
      else if (S.state === "agent") S.state = "waiting_for_agent";
      S.lastAgent = p.agent || S.lastAgent;
      S.agent = null;
      showTyping(null);
      break;
    case "conversation.returned_to_bot":
      S.state = "bot"; S.agent = null; S.queue = null;
      break;
    case "conversation.closed":
      S.state = "closed"; S.closed = p; S.queue = null; S.offline = null; S.feedback = false;
      showTyping(null);
      botTyping(false);
      break;
    case "conversation.reopened":
      S.state = p.state || "bot"; S.closed = null;
      break;
    case "offline_message.received":
      S.offlineSent = true;
      break;
    case "feedback.received":
      S.feedback = true;
      break;
  }
}

function chips(suggestions) {
  var box = el("div", { cls: "chips", role: "group", "aria-label": t("suggestions") });
  suggestions.forEach((s) => {
    box.appendChild(el("button", {
      cls: "chip", type: "button", "data-testid": "kefu-chip", "data-entry-id": s.entry_id,
      text: s.question,
      onclick: () => {
        disableChips();
        send(s.question, s.entry_id);
      }
    }));
  });
  return box;
}

function disableChips() {
  var all = ui.log.querySelectorAll(".chip");
  for (var i = 0; i < all.length; i++) all[i].disabled = true;
}

function rating(seq) {
  var box = el("div", { cls: "meta", role: "group", "aria-label": t("helpful") + " / " + t("unhelpful") });
  [true, false].forEach((helpful) => {
    box.appendChild(el("button", {
      cls: "rate", type: "button", "data-testid": helpful ? "kefu-rate-up" : "kefu-rate-down",
      "aria-label": t(helpful ? "helpful" : "unhelpful"), title: t(helpful ? "helpful" : "unhelpful"),
      "aria-pressed": String(S.rated[seq] === helpful),
      onclick: () => rate(seq, helpful)
    }));
    box.lastChild.innerHTML = icon("up", helpful ? "" : ' style="transform:rotate(180deg)"');
  });
  return box;
}

function markRated(seq, helpful) {
  S.rated[seq] = helpful;
  save({ rated: S.rated });
  var node = S.bySeq[seq];
  if (!node || node === true) return;
  var up = node.querySelector("[data-testid=kefu-rate-up]");
  var down = node.querySelector("[data-testid=kefu-rate-down]");
  if (up) up.setAttribute("aria-pressed", String(helpful === true));
  if (down) down.setAttribute("aria-pressed", String(helpful === false));
}

function rate(seq, helpful) {
  markRated(seq, helpful);
  if (S.ready) {
    wsSend({ type: "rate", seq, helpful });
  } else {
    api("POST", "/ratings", { seq, helpful }).catch(() => {});
  }
}

// -- typing

var typingTimer = null;
var typingWho = null;
function showTyping(name, bot) {
  clearTimeout(typingTimer);
  typingWho = name ? (bot ? "bot" : "agent") : null;
  ui.typing.hidden = !name;
  if (!name) return;
  var stick = nearBottom();
  ui.typing.lastChild.textContent = t("typing", { name });
  if (stick) toBottom();
  typingTimer = setTimeout(() => showTyping(null), bot ? 20000 : 8000);
}
function botTyping(on) {
  if (on) showTyping(t("bot"), true);
  else if (typingWho === "bot") showTyping(null);
}

var myTyping = false;
var myTypingAt = 0;
var myTypingIdle = null;
function typed() {
  if (!S.ready || !ui.input.value.trim()) {
    stopTyping();
    return;
  }
  var now = Date.now();
  if (!myTyping || now - myTypingAt > 3000) {
    wsSend({ type: "typing", typing: true });
    myTyping = true;
    myTypingAt = now;
  }
  clearTimeout(myTypingIdle);
  myTypingIdle = setTimeout(stopTyping, 4000);
}
function stopTyping() {
  clearTimeout(myTypingIdle);
  if (myTyping && S.ready) wsSend({ type: "typing", typing: false });
  myTyping = false;
}

// -- REST

function request(method, url, body, token) {
  var headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  return fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined,
    credentials: "omit", mode: "cors" })
    .then((response) => {
      return response.text().then((raw) => {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var err = new Error((data && data.error && data.error.message) || response.statusText);
          err.status = response.status;
          err.code = data && data.error ? data.error.code : null;
          throw err;
        }
        return data;
      });
    });
}
function api(method, path, body) {
  return request(method, SERVER + "/api/chat/conversations/" + encodeURIComponent(S.cid) + path,
    body, S.token);
}

function create(unsigned) {
  if (S.creating) return S.creating;
  var body = { language: LANG };
  if (CUSTOMER.name) body.name = CUSTOMER.name;
  if (CUSTOMER.email) body.email = CUSTOMER.email;
  if (CUSTOMER.tier === "standard" || CUSTOMER.tier === "vip") body.tier = CUSTOMER.tier;
  if (CUSTOMER.hash && !unsigned) {
    body.identity_hash = CUSTOMER.hash;
    if (CUSTOMER.id) body.external_id = CUSTOMER.id;
    if (CUSTOMER.expires) body.identity_expires = +CUSTOMER.expires;
  }
  S.creating = request("POST", SERVER + "/api/chat/conversations", body).then((data) => {
    S.creating = null;
    S.cid = data.conversation_id;
    keepToken(data);
    save({ cid: S.cid, token: S.token, rotate: S.rotateAfter, seen: 0 });
    return data;
  }, (err) => {
    S.creating = null;
    // A signature the server refuses (expired, another secret): the customer chats on, and
    // the claims go unsigned, shown to agents as unverified.
    if (body.identity_hash && err && /^identity_/.test(err.code || "")) {
      if (window.console) console.warn("kefu: " + err.message);
      return create(true);
    }
    throw err;
  });
  return S.creating;
}

// -- the token: it expires; it is rotated once half its life has passed, before connecting

// Counted from this browser's clock, which may be hours or days off the server's.
function keepToken(data) {
  S.token = data.token;
  var rotateIn = Number(data.token_rotate_in_seconds);
  S.rotateAfter = isFinite(rotateIn) ? Date.now() + rotateIn * 1000
    : parseTime(data.token_rotate_after) || 0;
}

function rotationDue() {
  return S.cid && S.token && !S.rotating && Date.now() >= S.rotateAfter;
}

function rotateToken() {
  var cid = S.cid, token = S.token;
  S.rotating = request("POST", SERVER + "/api/chat/conversations/" + encodeURIComponent(cid) +
    "/token", null, token).then((data) => {
    S.rotating = null;
    if (cid !== S.cid || token !== S.token) return; // forgotten, or another tab's token taken
    keepToken(data);
    save({ token: S.token, rotate: S.rotateAfter });
  }, (err) => {
    S.rotating = null;
    if (cid !== S.cid || token !== S.token) return;
    if (err && err.status === 401) tokenLost();
    else if (err && err.status === 404) gone();
    else scheduleReconnect();
    throw err;
  });
  return S.rotating;
}

// Another tab rotated the token: use the new one.
function adopt(data) {
  clearTimeout(S.lostTimer);
  dropped();
  S.token = data.token;
  S.rotateAfter = data.rotate || 0;
  S.attempts = 0;
  connect();
}

// The token stopped working: another tab rotated it (take its new one), or it expired (start
// a new conversation with the unsent messages; the old one is no longer reachable).
function tokenLost() {
  dropped();
  clearTimeout(S.lostTimer);
  var cid = S.cid, token = S.token;
  function settle() {
    var data = load();
    if (cid !== S.cid || token !== S.token) return;
    if (data.cid === cid && data.token && data.token !== token) adopt(data);
    else gone();
  }
  var data = load();
  if (data.cid === cid && data.token && data.token !== token) adopt(data);
  // Another tab's rotation closes this socket a moment before that tab stores its new token.
  else S.lostTimer = setTimeout(settle, LOST_GRACE_MS);
}

function gone() {
  forget(true);
  if (outbox().length) connect();
}

// A status describes the conversation as of its last_seq: an older one (a slow response) is ignored.
function applyStatus(st) {
  if (!st || st.conversation_id !== S.cid || st.last_seq < Math.max(S.lastSeq, S.statusSeq)) return;
  S.statusSeq = st.last_seq;
  S.state = st.state || S.state;
  S.queue = st.state === "waiting_for_agent" ? st.queue || null : null;
  S.agent = st.agent ? st.agent.display_name : null;
  S.offline = st.offline || null;
  if (st.state === "closed") {
    S.closed = S.closed || { survey: { csat: true, nps: true } };
    S.closed.reopen_until = st.reopen_until;
    if (st.feedback) S.feedback = true;
  } else {
    S.closed = null;
  }
  sync();
}

var statusTimer = null;
function refreshStatus() {
  if (!S.cid) return;
  var cid = S.cid;
  api("GET", "/status").then((st) => {
    if (cid === S.cid) applyStatus(st);
  }, () => {});
}
function refreshStatusSoon() {
  clearTimeout(statusTimer);
  statusTimer = setTimeout(refreshStatus, 250);
}

// -- WebSocket

function wsSend(frame) {
  if (!S.ws || !S.ready) return false;
  try {
    S.ws.send(JSON.stringify(frame));
    return true;
  } catch (e) {
    return false;
  }
}

function connect() {
  clearTimeout(S.timer);
  S.timer = null;
  if (S.ws) return;
  if (!S.cid) {
    if (!outbox().length) return;
    setConn(S.attempts ? "reconnecting" : "connecting");
    create().then(connect, scheduleReconnect);
    return;
  }
  if (S.rotating) return;
  if (rotationDue()) {
    setConn(S.attempts ? "reconnecting" : "connecting");
    rotateToken().then(connect, () => {});
    return;
  }
  // The token goes in the subprotocol header, never in the URL, which servers and proxies log.
  var url = SERVER.replace(/^http/i, "ws") + "/api/chat/ws?conversation_id=" +
    encodeURIComponent(S.cid) + "&last_seq=" + S.lastSeq;
  var ws;
  try {
    ws = new WebSocket(url, ["kefu.v1", "kefu.token." + S.token]);
  } catch (e) {
    scheduleReconnect();
    return;
  }
  S.ws = ws;
  setConn(S.attempts ? "reconnecting" : "connecting");
  ws.onmessage = (message) => {
    if (S.ws !== ws) return;
    S.lastFrame = Date.now();
    var frame;
    try { frame = JSON.parse(message.data); } catch (e) { return; }
    onFrame(frame);
  };
  ws.onclose = (event) => {
    if (S.ws !== ws) return;
    dropped();
    if (event.code === 4401) return tokenLost();
    if (event.code === 4404) return gone();
    if (event.code === 4403) return notice(t("error")); // this site may not embed the chat
    scheduleReconnect();
  };
}

function dropped() {
  var ws = S.ws;
  S.ws = null;
  S.ready = false;
  myTyping = false;
  botTyping(false);
  if (ws) {
    ws.onmessage = ws.onclose = null;
    try { ws.close(); } catch (e) { /* already closed */ }
  }
}

function scheduleReconnect() {
  clearTimeout(S.timer);
  setConn(navigator.onLine === false ? "offline" : "reconnecting");
  // Exponential backoff with jitter: half the step plus a random part of the other half.
  var step = Math.min(BACKOFF_MAX, BACKOFF_BASE * Math.pow(2, S.attempts));
  S.attempts = Math.min(S.attempts + 1, 20);
  S.timer = setTimeout(connect, step / 2 + Math.random() * step / 2);
}

// A dead connection does not always say so: ping when quiet, and reconnect if nothing answers.
setInterval(() => {
  if (!S.ws || !S.ready) return;
  var quiet = Date.now() - S.lastFrame;
  if (quiet > 45000) {
    dropped();
    scheduleReconnect();
  } else if (quiet > 20000) {
    wsSend({ type: "ping" });
  }
}, 10000);

function onFrame(frame) {
  switch (frame.type) {
    case "ready":
      S.ready = true;
      S.attempts = 0;
      setConn("connected");
      refreshStatus();
      flush();
      break;
    case "event":
      if (frame.event) onEvent(frame.event, true);
      break;
    case "ack":
      onAck(frame);
      break;
    case "rated":
      markRated(frame.seq, frame.helpful);
      break;
    case "queue":
      S.queue = { position: frame.position, eta_seconds: frame.eta_seconds };
      sync();
      break;
    case "typing":
      if (frame.who !== "customer") showTyping(frame.typing ? frame.name || S.agent || t("agent") : null);
      break;
    case "error":
      onError(frame);
      break;
  }
}

function onAck(frame) {
  var node = S.pending[frame.client_id];
  if (!node) return;
  delete S.pending[frame.client_id];
  outboxDrop(frame.client_id);
  var seq = +frame.seq;
  if (S.bySeq[seq] && S.bySeq[seq] !== node) {
    node.parentNode && node.parentNode.removeChild(node);
    return;
  }
  node.setAttribute("data-seq", seq);
  S.bySeq[seq] = node;
  markState(node, "sent");
  if (!frame.duplicate && S.state === "bot") {
    S.waitingFor = seq;
    botTyping(true);
  }
}

function onError(frame) {
  // The message was not taken because the token no longer works: it stays in the outbox and
  // goes again once there is a working token or a new conversation.
  if (frame.code === "token_expired" || frame.code === "invalid_token") return tokenLost();
  var node = frame.client_id && S.pending[frame.client_id];
  if (node) {
    var item = { client_id: frame.client_id, text: node.querySelector(".bubble").textContent,
      state: "failed", error: frame.message };
    var kept = outbox().filter((o) => o.client_id === frame.client_id)[0];
    if (kept) {
      kept.state = "failed";
      kept.error = frame.message;
      outboxPut(kept);
    } else outboxPut(item);
    markState(node, "failed", frame.message);
    // Over the rate limit: nothing was stored; it goes again by itself when allowed.
    if (frame.code === "rate_limited" && frame.retry_after > 0) {
      setTimeout(() => retry(frame.client_id), Math.min(frame.retry_after, 300) * 1000);
    }
  }
}

// -- sending

function send(text, suggestion) {
  text = String(text || "").trim();
  if (!text) return;
  var item = { client_id: newId(), text, state: "sending" };
  if (suggestion) item.suggestion = suggestion;
  outboxPut(item);
  place(outgoing(item), Infinity);
  toBottom();
  stopTyping();
  if (S.ready) transmit(item);
  else if (!S.ws && !S.creating) {
    S.attempts = Math.min(S.attempts, 1);
    connect();
  }
}

function transmit(item) {
  var frame = { type: "message", text: item.text, client_id: item.client_id };
  if (item.suggestion) frame.suggestion = item.suggestion;
  wsSend(frame);
}

// After (re)connecting: everything not yet acknowledged goes again with the same client_id;
// the server stores each client_id once.
function flush() {
  outbox().forEach((item) => {
    if (!S.pending[item.client_id]) place(outgoing(item), Infinity);
    if (item.state !== "failed") transmit(item);
  });
}

function retry(clientId) {
  var item = outbox().filter((o) => o.client_id === clientId)[0];
  var node = S.pending[clientId];
  if (!item && node) item = { client_id: clientId, text: node.querySelector(".bubble").textContent };
  if (!item) return;
  item.state = "sending";
  delete item.error;
  outboxPut(item);
  if (node) markState(node, "sending");
  if (S.ready) transmit(item);
  else connect();
}

// -- handoff, offline message, close, feedback, reopen

function askForPerson() {
  ui.human.disabled = true;
  var ready = S.cid ? Promise.resolve() : create().then(() => connect());
  ready.then(() => {
    return api("POST", "/handoff");
  }).then((st) => {
    applyStatus(st);
    var form = cards.offline;
    if (form && S.open) form.querySelector("input").focus();
  }, (err) => {
    if (err && err.status === 404 && !err.code) {
      // A server without the handoff API: asking in words escalates too.
      send(t("humanText"));
    } else {
      notice(t("error"));
    }
  }).then(() => {
    ui.human.disabled = false;
    sync();
  });
}

function notice(text) {
  var node = el("div", { cls: "note", role: "alert", text });
  ui.log.appendChild(node);
  toBottom();
  setTimeout(() => { if (node.parentNode) node.parentNode.removeChild(node); }, 6000);
}

var cards = {};
function card(name, build) {
  if (!cards[name]) {
    cards[name] = build();
    ui.extras.appendChild(cards[name]);
  }
  return cards[name];
}
function dropCard(name) {
  if (cards[name]) {
    cards[name].parentNode.removeChild(cards[name]);
    delete cards[name];
  }
}

// A labelled control in a form card, and a card-level error.
var field = (label, control, tag) => el(tag || "label", { cls: "field" }, [txt(label), control]);
function fail(error, message, focus) {
  error.textContent = message || t("error");
  error.hidden = false;
  if (focus) focus.focus();
}

function offlineForm() {
  var email = el("input", { type: "email", required: "", autocomplete: "email", "data-testid": "kefu-offline-email" });
  var name = el("input", { autocomplete: "name", "data-testid": "kefu-offline-name" });
  var text = el("textarea", { required: "", maxlength: "2000", rows: "3", "data-testid": "kefu-offline-text" });
  var error = el("p", { cls: "err", role: "alert", hidden: "" });
  var submit = el("button", { cls: "primary", type: "submit", "data-testid": "kefu-offline-submit", text: t("offlineSend") });
  email.value = CUSTOMER.email;
  name.value = CUSTOMER.name;
  var form = el("form", { cls: "card", "data-testid": "kefu-offline-form", novalidate: "", "aria-label": t("offlineTitle") }, [
    el("h3", { text: t("offlineTitle") }),
    el("p", { text: (S.offline ? offlineWhen(S.offline) + " " : "") + t("offlineIntro") }),
    field(t("email"), email), field(t("nameOpt"), name), field(t("message"), text), error, submit]);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.hidden = true;
    var body = { email: email.value.trim(), text: text.value.trim() };
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email)) return fail(error, t("badEmail"), email);
    if (!body.text) return fail(error, t("needText"), text);
    if (name.value.trim()) body.name = name.value.trim();
    submit.disabled = true;
    api("POST", "/offline-message", body).then(() => {
      // The "message received" note comes as an event; the form has done its job.
      S.offlineSent = true;
      dropCard("offline");
      ui.input.focus();
    }, (err) => {
      submit.disabled = false;
      fail(error, err.message);
    });
  });
  return form;
}

function survey() {
  var want = (S.closed && S.closed.survey) || {};
  var csat = 0;
  var nps = null;
  var stars = el("div", { cls: "stars", role: "radiogroup", "aria-label": t("csat") });
  var scale = el("div", { cls: "nps", role: "group", "aria-label": t("nps") });
  for (let n = 1; n <= 5; n++) {
    let label = t("star", { n });
    stars.appendChild(el("button", { cls: "star", type: "button", role: "radio", "aria-checked": "false",
      "data-testid": "kefu-csat-" + n, "aria-label": label, title: label, onclick: () => {
        csat = n;
        stars.childNodes.forEach((s, i) => {
          s.classList.toggle("on", i < n);
          s.setAttribute("aria-checked", String(i + 1 === n));
        });
      } })).innerHTML = icon("star");
  }
  for (let n = 0; n <= 10; n++) {
    scale.appendChild(el("button", { type: "button", "aria-pressed": "false", "data-testid": "kefu-nps-" + n,
      text: String(n), onclick: () => {
        nps = nps === n ? null : n;
        scale.childNodes.forEach((x, i) => x.setAttribute("aria-pressed", String(i === nps)));
      } }));
  }
  var comment = el("textarea", { maxlength: "1000", rows: "2", "data-testid": "kefu-survey-comment" });
  var error = el("p", { cls: "err", role: "alert", hidden: "" });
  var submit = el("button", { cls: "primary", type: "submit", "data-testid": "kefu-survey-submit", text: t("submit") });
  var form = el("form", { cls: "card", "data-testid": "kefu-survey", "aria-label": t("survey"), novalidate: "" }, [
    el("h3", { text: t("survey") }), field(t("csat"), stars, "div"), field(t("comment"), comment),
    want.nps === false ? null : field(t("nps"), el("div", {}, [scale, el("div", { cls: "scale" },
      [el("span", { text: t("npsLow") }), el("span", { text: t("npsHigh") })])]), "div"),
    error, submit]);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!csat) return fail(error, t("needStars"), stars.firstChild);
    var body = { csat };
    if (comment.value.trim()) body.comment = comment.value.trim();
    if (nps !== null) body.nps = nps;
    submit.disabled = true;
    error.hidden = true;
    form.sent = true;
    api("POST", "/feedback", body).catch((err) => {
      submit.disabled = false;
      form.sent = err.status === 409;  // already rated (in another tab)
      if (!form.sent) throw err;
    }).then(() => {
      S.feedback = true;
      sync();
    }, (err) => fail(error, err.message));
  });
  return form;
}

function endChat() {
  ui.confirm.hidden = true;
  if (!S.cid) return;
  ui.end.disabled = true;
  api("POST", "/close").then(applyStatus, () => notice(t("error")))
    .then(() => ui.end.disabled = false);
}

function reopen() {
  var button = $("[data-testid=kefu-reopen]");
  button.disabled = true;
  api("POST", "/reopen").then((st) => {
    S.closed = null;
    applyStatus(st);
    ui.input.focus();
  }, (err) => {
    if (err && err.code === "reopen_window_passed") {
      if (S.closed) S.closed.reopen_until = null;
      notice(t("windowPassed"));
    } else notice(t("error"));
  }).then(() => {
    button.disabled = false;
    sync();
  });
}

// Forget the conversation: a new one starts with the next message. (From another tab's change,
// the storage is already as it should be and is left alone.)
function forget(gone, followed) {
  dropped();
  clearTimeout(S.timer);
  clearTimeout(S.lostTimer);
  S.timer = null;
  var keep = gone ? outbox() : [];
  if (!followed) save({ cid: null, token: null, rotate: 0, seen: 0, outbox: keep, rated: {} });
  S.cid = S.token = null;
  S.rotateAfter = 0;
  S.lastSeq = S.seen = S.unread = S.waitingFor = S.statusSeq = 0;
  S.bySeq = {};
  S.pending = {};
  S.rated = {};
  S.state = "bot";
  S.agent = S.queue = S.offline = S.closed = null;
  S.offlineSent = S.feedback = false;
  ui.log.textContent = "";
  ["offline", "survey"].forEach(dropCard);
  greet();
  if (gone) {
    ui.log.appendChild(el("div", { cls: "note", text: t("gone") }));
    keep.forEach((item) => place(outgoing(item), Infinity));
  }
  setConn("idle");
  badge();
  sync();
}

// -- view sync

var reopenTimer = null;
function sync() {
  var closed = S.state === "closed";
  var waiting = S.state === "waiting_for_agent";
  ui.human.hidden = S.state !== "bot" || !!(S.offline && !S.offlineSent);
  ui.actions.hidden = ui.human.hidden;
  ui.end.hidden = !S.cid || closed;
  if (closed) ui.confirm.hidden = true;

  ui.queue.hidden = !waiting;
  if (waiting) {
    var q = S.queue;
    var text = !q || !q.position ? t("queueWait")
      : q.position === 1 ? t("queueNext") : t("queueAt", { n: q.position, before: q.position - 1 });
    if (q && q.eta_seconds != null) {
      text += " · " + (q.eta_seconds < 60 ? t("etaSoon") : t("eta", { m: Math.round(q.eta_seconds / 60) }));
    }
    ui.queue.firstChild.textContent = text;
  }

  if (S.offline && !S.offlineSent && !closed && S.state !== "agent") card("offline", offlineForm);
  else dropCard("offline");

  if (closed && !S.feedback && S.closed && (!S.closed.survey || S.closed.survey.csat !== false)) {
    card("survey", survey);
  } else if (closed && cards.survey && cards.survey.sent) {
    // Answered here: the card says thank you. (Answered elsewhere: the note says so.)
    if (!cards.survey.querySelector(".ok")) {
      cards.survey.textContent = "";
      cards.survey.appendChild(el("p", { cls: "ok", role: "status", "data-testid": "kefu-survey-thanks",
        text: t("surveyThanks") }));
    }
  } else {
    dropCard("survey");
  }

  ui.form.hidden = closed;
  ui.ended.hidden = !closed;
  clearTimeout(reopenTimer);
  var until = closed && S.closed && S.closed.reopen_until ? parseTime(S.closed.reopen_until) : 0;
  var canReopen = until > Date.now();
  $("[data-testid=kefu-reopen]").hidden = !canReopen;
  if (canReopen) reopenTimer = setTimeout(sync, Math.min(until - Date.now() + 50, 2147483000));
  if (closed) {
    showTyping(null);
  }
}

function badge() {
  var n = S.open ? 0 : S.unread;
  ui.badge.hidden = !n;
  ui.badge.textContent = n > 99 ? "99+" : String(n);
  ui.badge.setAttribute("aria-label", t("unread", { n }));
  ui.launcher.setAttribute("aria-label", S.open ? t("minimize") : n ? t("openUnread", { n }) : t("open"));
}

function markSeen() {
  if (S.lastSeq > S.seen) {
    S.seen = S.lastSeq;
    save({ seen: S.seen });
  }
  S.unread = 0;
}

// -- open and close

function open(focus) {
  S.open = true;
  ui.panel.hidden = false;
  ui.root.classList.add("open");
  ui.launcher.setAttribute("aria-expanded", "true");
  remember(true);
  markSeen();
  badge();
  toBottom();
  if (focus !== false) {
    if (!ui.form.hidden) ui.input.focus();
    else ui.panel.querySelector("button:not([hidden])").focus();
  }
  if (S.cid && !S.ws && !S.timer) connect();
}

function close(focusLauncher) {
  S.open = false;
  ui.panel.hidden = true;
  ui.root.classList.remove("open");
  ui.launcher.setAttribute("aria-expanded", "false");
  ui.confirm.hidden = true;
  remember(false);
  badge();
  if (focusLauncher !== false) ui.launcher.focus();
}

// -- events

ui.launcher.addEventListener("click", () => {
  if (S.open) close();
  else open();
});
ui.min.addEventListener("click", () => close());
ui.human.addEventListener("click", askForPerson);
ui.end.addEventListener("click", () => {
  ui.confirm.hidden = false;
  $("[data-testid=kefu-end-confirm]").focus();
});
$("[data-testid=kefu-end-confirm]").addEventListener("click", endChat);
$("[data-testid=kefu-end-cancel]").addEventListener("click", () => {
  ui.confirm.hidden = true;
  ui.end.focus();
});
$("[data-testid=kefu-reopen]").addEventListener("click", reopen);
$("[data-testid=kefu-new-chat]").addEventListener("click", () => {
  forget(false);
  ui.input.focus();
});
ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  var text = ui.input.value;
  if (!text.trim() || count() > MAX_CHARS) return;  // too long: kept whole, the counter says so
  ui.input.value = "";
  grow();
  counted();
  send(text);
});
ui.input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    ui.form.requestSubmit ? ui.form.requestSubmit() : ui.send.click();
  }
});
function grow() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
}
// Characters as the server counts them (code points), shown from 90 % of the limit; over it,
// the message is refused here as the server would refuse it, never cut.
function count() { return Array.from(ui.input.value).length; }
function counted() {
  var n = count();
  var state = n > MAX_CHARS ? "over" : n >= MAX_CHARS * 0.9 ? "near" : "";
  var values = { n: n.toLocaleString(LANG === "zh" ? "zh-CN" : "en"), max: MAX_CHARS.toLocaleString(LANG === "zh" ? "zh-CN" : "en") };
  ui.count.hidden = !state;
  ui.count.dataset.state = state;
  ui.count.textContent = state ? t(state === "over" ? "tooLong" : "charsLeft", values) : "";
  ui.input.setAttribute("aria-invalid", state === "over" ? "true" : "false");
  ui.send.disabled = state === "over";
}
ui.input.addEventListener("input", () => {
  grow();
  counted();
  typed();
});
ui.input.addEventListener("blur", stopTyping);
shadow.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || !S.open) return;
  e.stopPropagation();
  if (!ui.confirm.hidden) {
    ui.confirm.hidden = true;
    ui.end.focus();
    return;
  }
  close();
});

window.addEventListener("online", () => {
  if (!S.ws && S.timer) connect();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !S.ws && S.timer) connect();
});
// Another tab started or forgot a conversation: follow it.
window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  var data = load();
  if ((data.cid || null) === S.cid) {
    if (S.cid && data.token && data.token !== S.token) adopt(data);
    return;
  }
  forget(false, true);
  if (data.cid) {
    S.cid = data.cid;
    S.token = data.token;
    S.rotateAfter = data.rotate || 0;
    S.seen = data.seen || 0;
    connect();
  }
});

// -- start

function mount() {
  document.body.appendChild(host);
  outbox().forEach((item) => place(outgoing(item), Infinity));
  badge();
  sync();
  if (remember()) open(false);
  if (S.cid || outbox().length) connect();
}
// data-mount="none" loads the renderer only: the admin console previews answers with it.
if (attr("mount") !== "none") {
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}

window.KefuWidget = {
  // Renders markdown-lite exactly as the chat shows it, as safe DOM nodes under `parent`.
  renderMarkdown: (text, parent) => markdown(text, parent),
  open: () => open(),
  close: () => close(false),
  toggle: () => { if (S.open) close(false); else open(); },
  send: (text) => send(text),
  reset: () => forget(false),
  get conversationId() { return S.cid; },
  get connected() { return S.ready; }
};
})();
