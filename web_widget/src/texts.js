// The chat's texts, joined to the launcher's few (strings.js) when the chat panel runs, and the
// texts made from server times. The chat's modules take t() from here, so the texts are in place
// before any of them asks for one. Both languages are written here, but each panel carries one:
// build.mjs builds widget-chat.en.js and widget-chat.zh.js from the same modules with KEFU_LANG
// set to "en" or "zh" (esbuild's define), the minifier drops the other language's texts, and
// loader.js fetches the panel of the page's language (LANG, which never changes on a page).

import { BOT_NAME, LANG, LOCALE, MAX_CHARS } from "./config.js";
import { addTexts, t } from "./strings.js";

export { t };

/** "{n} / {max} characters" (or, over the limit, "Too long to send: …") for a text of n. */
export const lengthText = (n) =>
  t(n > MAX_CHARS ? "tooLong" : "charsLeft", { n: n.toLocaleString(LOCALE), max: MAX_CHARS.toLocaleString(LOCALE) });

const TEXTS = KEFU_LANG === "en" ? {
  title: "Customer service",
  greeting: "Hi! I'm the virtual assistant. Ask me about orders, delivery, returns, refunds, " +
    "payments, invoices, your account, points and coupons, or warranty.",
  placeholder: "Type your message…", inputLabel: "Message",
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
  followUp: "Did the problem stay solved?",
  followUpAsk: "You talked to us about it a few days ago. Is everything still fine?",
  followUpSolved: "Yes, it stayed solved", followUpNotSolved: "No, I still need help",
  followUpThanks: "Thank you! We're glad the problem stayed solved.",
  followUpHelp: "Thank you for telling us. Our team has been told. Start a new chat below to talk to us now.",
  followUpAlready: "You already answered this question. Thank you!",
  ended: "This chat has ended.", reopen: "Reopen chat", newChat: "Start a new chat",
  gone: "Your earlier chat is no longer available.", error: "Something went wrong. Please try again.",
  windowPassed: "This chat can no longer be reopened.", humanText: "I'd like to talk to a person"
} : {
  title: "在线客服",
  greeting: "您好！我是智能客服助手，可以帮您解答订单、物流、退换货、退款、支付、发票、账户、" +
    "积分优惠券和保修等问题。",
  placeholder: "请输入您的问题…", inputLabel: "消息",
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
  followUp: "问题是否已经彻底解决？",
  followUpAsk: "几天前您就此联系过我们。现在一切都好吗？",
  followUpSolved: "是的，问题已解决", followUpNotSolved: "没有，我仍需要帮助",
  followUpThanks: "谢谢！很高兴问题已经解决。",
  followUpHelp: "谢谢您的反馈，我们已通知客服团队。如需立即联系我们，请点击下方“开始新对话”。",
  followUpAlready: "您已经回答过这个问题，谢谢！",
  ended: "本次对话已结束。", reopen: "重新打开对话", newChat: "开始新对话",
  gone: "之前的对话已无法继续。", error: "出了点问题，请稍后再试。",
  windowPassed: "已超过可重新打开对话的时间。", humanText: "转人工"
};
// data-bot-name: the bot speaks under its own name.
if (BOT_NAME) {
  Object.assign(TEXTS, {
    bot: BOT_NAME,
    leftBack: KEFU_LANG === "en" ? "{name} handed the chat back to " + BOT_NAME : "{name} 已将对话交还给" + BOT_NAME,
    returned: KEFU_LANG === "en" ? "You're chatting with " + BOT_NAME + " again" : "已切换回" + BOT_NAME
  });
}
addTexts({ [LANG]: TEXTS });

// Server times are UTC; one written without a zone is read as UTC too, not as local time.
export function parseTime(iso) {
  if (!iso) return NaN;
  iso = String(iso);
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + "Z");
}

// Why nobody is online, and when people are back.
export function offlineWhen(offline) {
  let text = offline.reason === "outside_hours" ? t("outsideHours") : "";
  if (offline.next_open) {
    const when = new Date(parseTime(offline.next_open));
    if (!isNaN(when.getTime())) {
      text += (text ? " " : "") + t("nextOpen", { when: when.toLocaleString(LOCALE, {
        weekday: "short", hour: "2-digit", minute: "2-digit" }) });
    }
  }
  return text;
}
