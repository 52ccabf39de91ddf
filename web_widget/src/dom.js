// DOM building without markup: el() and markdown-lite. Text only ever becomes text nodes, so
// nothing from the server or the page can inject markup. window.KefuWidget.renderMarkdown is
// markdown() (the staff consoles preview answers with it).

export function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null) continue;
    if (k === "text") node.textContent = v;
    else if (k === "cls") node.className = v;
    else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  (children || []).forEach((c) => { if (c) node.appendChild(c); });
  return node;
}

export const txt = (text) => document.createTextNode(text);

// Paragraphs and line breaks, "- " / "1. " lists, **bold**, *italic*, `code`, [label](http…).
export function markdown(text, parent) {
  const lines = String(text == null ? "" : text).replace(/\r\n?/g, "\n").split("\n");
  let para = null;
  let list = null;
  lines.forEach((line) => {
    const item = /^\s*(?:([-*•])|(\d{1,3})[.)])\s+(.*)$/.exec(line);
    if (item) {
      const type = item[2] ? "ol" : "ul";
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
  const re = new RegExp(
    "`([^`\\n]+)`|\\*\\*(?=\\S)([^\\n]*?\\S)\\*\\*|\\*(?=[^\\s*])([^*\\n]*?[^\\s*])\\*|" +
    "\\[([^\\]\\n]+)\\]\\(([^)\\s]+)\\)|(https?:\\/\\/[^\\s<>\"'()\\[\\]]*[^\\s<>\"'()\\[\\].,;:!?，。！？、）])",
    "gi");
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) parent.appendChild(txt(text.slice(last, m.index)));
    if (m[1] != null) parent.appendChild(el("code", { text: m[1] }));
    else if (m[2] != null) inline(m[2], parent.appendChild(el("strong")));
    else if (m[3] != null) inline(m[3], parent.appendChild(el("em")));
    else if (m[4] != null) {
      const a = link(m[5]);
      if (a) inline(m[4], parent.appendChild(a));
      else parent.appendChild(txt(m[0]));
    } else {
      const bare = link(m[6]);
      if (bare) {
        bare.textContent = m[6];
        parent.appendChild(bare);
      } else parent.appendChild(txt(m[0]));
    }
    last = re.lastIndex;
  }
  if (last < text.length) parent.appendChild(txt(text.slice(last)));
}

function link(href) {
  let url;
  try {
    url = new URL(href);
  } catch (e) {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer" });
}
