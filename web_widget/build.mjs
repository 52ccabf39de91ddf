// The widget's bundles, built with esbuild's JavaScript API. Run by build.py (python -m
// web_widget.build), which installs esbuild first and moves the files into place:
//
//   node build.mjs [--analyze] <widget.js out> <widget-chat.en.js out> <widget-chat.zh.js out> <build id>
//
// widget.js, from src/main.js: the launcher, which every page that embeds the widget loads.
// widget-chat.en.js and widget-chat.zh.js, both from src/chat.js: the chat panel in English and
// in Chinese, one of which widget.js loads when the chat is wanted (the page's language). They
// are the same modules built twice with KEFU_LANG defined as "en" or "zh", so each carries only
// its language's texts (texts.js). Every module the launcher carries is taken from it at run
// time, not bundled again: the chat's imports of them resolve to the modules widget.js hands
// over on the chat's script tag (loader.js), checked against this build's id. Stylesheets
// (src/*.css) are minified as CSS and imported as text. Prints, as JSON, the source files each
// bundle is made of.

import { analyzeMetafile, build, transform } from "esbuild";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(HERE, "src");
// ES2019 (optional catch binding, Object.entries) and the DOM of browsers with Shadow DOM v1;
// esbuild refuses syntax newer than this instead of shipping it. The stylesheets aim at the
// same browsers, so esbuild writes what they understand (inset as top/right/bottom/left).
const TARGET = "es2019";
const CSS_TARGET = ["chrome73", "edge79", "firefox67", "safari12.1"];

const args = process.argv.slice(2);
// --analyze: what each module adds to each bundle, on stderr.
const analyze = args[0] === "--analyze" && args.shift();
// The chat panel's languages, in the order of their outputs on the command line.
const LANGS = ["en", "zh"];
const [launcherOut, ...rest] = args;
const buildId = rest.pop();
if (!buildId || rest.length !== LANGS.length) {
  console.error("usage: node build.mjs [--analyze] <widget.js out> <widget-chat.en.js out> " +
    "<widget-chat.zh.js out> <build id>");
  process.exit(2);
}

const minifiedCss = {
  name: "minified-css",
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.css$/ }, async (args) => {
      const css = await readFile(args.path, "utf8");
      const { code } = await transform(css, { loader: "css", minify: true, target: CSS_TARGET });
      return { contents: code.trim(), loader: "text" };
    });
  },
};

// The chat's imports of the launcher's modules become constants taken from the launcher's
// modules as the chat starts (`exports`: each module's export names; `wanted`: the names the
// chat's modules import from each, as only those are taken). A constant, not a live binding:
// so that minified code calls them by short local names, as if bundled. Hence no launcher
// module may export a `let` (checked below).
function fromLauncher(exports, wanted) {
  return {
    name: "from-launcher",
    setup(esbuild) {
      esbuild.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const file = path.join(args.resolveDir, args.path);
        if (!exports.has(file)) return undefined;
        return { path: path.relative(HERE, file), namespace: "launcher" };
      });
      esbuild.onResolve({ filter: /^widget\.js$/, namespace: "launcher" }, () => ({
        path: "modules",
        namespace: "launcher-modules",
      }));
      esbuild.onLoad({ filter: /.*/, namespace: "launcher" }, (args) => {
        const file = path.join(HERE, args.path);
        const names = exports.get(file).filter((name) => wanted.get(file).has(name));
        const named = names.filter((name) => name !== "default");
        return {
          contents: [
            `import modules from "widget.js";`,
            `const m = modules[${JSON.stringify(path.basename(args.path))}];`,
            named.length ? `export const ${named.map((n) => `${n} = m.${n}`).join(", ")};` : "",
            names.includes("default") ? "export default m.default;" : "",
          ].join("\n"),
          loader: "js",
        };
      });
      // The script tag loader.js made, as this bundle starts to run.
      esbuild.onLoad({ filter: /.*/, namespace: "launcher-modules" }, () => ({
        contents: `const tag = document.currentScript, given = tag && tag.kefu;
if (!given || given.build !== ${JSON.stringify(buildId)}) {
  throw new Error("kefu widget: the chat panel runs only for widget.js of the same build (reload the page)");
}
export default given.modules;`,
        loader: "js",
      }));
    },
  };
}

// The names the other modules in src/ import from each launcher module (`import { a, b as c }`
// or `export { a } from`; a name this misses fails the build as a missing export, and any other
// form of import takes every name).
async function importedNames(exports) {
  const wanted = new Map([...exports.keys()].map((file) => [file, new Set()]));
  for (const name of await readdir(SRC)) {
    const file = path.join(SRC, name);
    if (!name.endsWith(".js") || wanted.has(file)) continue;
    const source = await readFile(file, "utf8");
    for (const found of source.matchAll(/^\s*(import|export)\b([^;"']*?)\bfrom\s*["']\.\/([\w-]+\.js)["']/gm)) {
      const names = wanted.get(path.join(SRC, found[3]));
      if (!names) continue;
      const listed = /^\s*\{([^}]*)\}\s*$/.exec(found[2]);
      if (!listed) {
        exports.get(path.join(SRC, found[3])).forEach((n) => names.add(n));
        continue;
      }
      listed[1].split(",").map((part) => part.trim().split(/\s+as\s+/)[0]).filter(Boolean)
        .forEach((n) => names.add(n));
    }
  }
  return wanted;
}

// Each launcher module's export names, as esbuild reads them.
async function exportsOf(files) {
  const scripts = files.filter((file) => file.endsWith(".js"));
  const { metafile } = await build({
    entryPoints: scripts,
    outdir: "exports",
    write: false,
    metafile: true,
    format: "esm",
    logLevel: "warning",
  });
  const found = new Map();
  for (const output of Object.values(metafile.outputs)) {
    const file = path.resolve(output.entryPoint);
    const source = await readFile(file, "utf8");
    if (/^\s*export\s+(let|var)\b/m.test(source)) {
      throw new Error(`${path.relative(HERE, file)} exports a let or var: the chat panel takes a ` +
        "copy of each of widget.js's exports as it loads, so they must not change (use const)");
    }
    found.set(file, output.exports);
  }
  return found;
}

// The entry's leading /*! ... */ comment goes first in its bundle, as the file's header.
async function banner(entry) {
  const found = /^\s*(\/\*!.*?\*\/)/s.exec(await readFile(entry, "utf8"));
  if (!found) throw new Error(`${entry} must start with its /*! ... */ header comment`);
  return found[1];
}

async function bundle(entry, outfile, plugins, define = {}) {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "iife",
    minify: true,
    target: TARGET,
    // Chinese text stays UTF-8 (3 bytes a character, not a 6-byte \u escape); the app serves
    // the files with charset=utf-8.
    charset: "utf8",
    legalComments: "none",
    banner: { js: await banner(entry) },
    define,
    plugins,
    metafile: true,
    logLevel: "warning",
  });
  if (analyze) console.error(await analyzeMetafile(result.metafile));
  return Object.keys(result.metafile.inputs)
    .filter((input) => !input.includes(":"))
    .map((input) => path.resolve(input));
}

const launcherFiles = await bundle(path.join(SRC, "main.js"), launcherOut, [minifiedCss], {
  KEFU_BUILD: JSON.stringify(buildId),
});
const launcherExports = await exportsOf(launcherFiles);
const wanted = await importedNames(launcherExports);
const relative = (files) => files.map((file) => path.relative(HERE, file)).sort();
const chat = {};
for (const [i, lang] of LANGS.entries()) {
  const files = await bundle(path.join(SRC, "chat.js"), rest[i],
    [minifiedCss, fromLauncher(launcherExports, wanted)], { KEFU_LANG: JSON.stringify(lang) });
  chat[lang] = relative(files);
}
console.log(JSON.stringify({ launcher: relative(launcherFiles), chat }));
