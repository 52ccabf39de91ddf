// DOM helpers for the staff pages. Rendering never uses innerHTML: server and customer text
// always becomes text nodes.

export const $ = (selector, root = document) => root.querySelector(selector);

/** Create an element; ``attrs`` sets attributes, ``dataset`` data-*, ``on`` listeners, the rest
 * properties; children are nodes or text. */
export function h(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  const { className, text, attrs, dataset, on, ...props } = options;
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  if (dataset) for (const [key, value] of Object.entries(dataset)) {
    if (value !== undefined && value !== null) node.dataset[key] = String(value);
  }
  if (on) for (const [name, handler] of Object.entries(on)) node.addEventListener(name, handler);
  Object.assign(node, props);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A short notice in the page's corner (#toasts, made on first use); errors stay longer and
 * are announced at once. */
export function toast(message, kind = "info") {
  let corner = $("#toasts");
  if (!corner) {
    corner = h("div", { className: "toasts", id: "toasts", attrs: { "aria-live": "assertive" } });
    document.body.append(corner);
  }
  const node = h("div", { className: `toast toast--${kind}`, text: message, attrs: { role: kind === "error" ? "alert" : "status", "data-testid": "toast" } });
  corner.append(node);
  setTimeout(() => node.remove(), kind === "error" ? 7000 : 3500);
}
