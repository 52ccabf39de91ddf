// The stylesheet inside the Shadow DOM, with the page's accent colour: as given, darkened
// until white text on it passes WCAG AA (a console warning says so).

import { LANG, POSITION } from "./config.js";

function accentColour(value) {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value || "");
  let hex = m ? m[1] : "0a7cff";
  if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
  let rgb = [0, 2, 4].map((i) => parseInt(hex.substr(i, 2), 16));
  const luminance = (c) => {
    const l = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  let n = 0;
  for (; n < 40 && 1.05 / (luminance(rgb) + 0.05) < 4.6; n++) {
    rgb = rgb.map((v) => Math.round(v * 0.92));
  }
  const colour = "rgb(" + rgb.join(",") + ")";
  if (n && m) {
    console.warn("kefu widget: data-accent #" + m[1] + " darkened to " + colour +
      " so that white text on it has a contrast of at least 4.5:1 (WCAG AA)");
  }
  return colour;
}

const CJK = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei"';
const FONT = LANG === "zh"
  ? CJK + ', "Segoe UI", Roboto, sans-serif'
  : 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, ' + CJK + ", sans-serif";

export function stylesheet(accent) {
  const ACCENT = accentColour(accent);
  return `
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
.launcher{position:fixed;bottom:20px;${POSITION}:20px;z-index:2147483000;width:58px;height:58px;border-radius:50%;background:var(--ac);color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}.launcher svg{width:28px;height:28px}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c62828;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;box-shadow:0 0 0 2px #fff}
.panel{position:fixed;bottom:92px;${POSITION}:20px;z-index:2147483001;width:380px;height:min(640px,calc(100vh - 112px));display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(0,0,0,.28);animation:kin .18s ease-out}
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
.choices{display:flex;flex-wrap:wrap;gap:8px;align-items:center}.choices button{margin-top:10px}
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
}
