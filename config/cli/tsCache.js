// A require hook for the project's TypeScript that keeps what it transpiles: the fast CLI start (see
// config/cli/fast.ts and docs/testing.md, "How start-up works"). Each .ts file is transpiled once per
// content (TypeScript's transpileModule with tsconfig.json's options, as ts-node --transpile-only does) and
// the JavaScript is kept in .cli/js/<sha1 of options, compiler version, path and source>.js. A later start
// reads the source, hashes it and loads the kept JavaScript: TypeScript itself is loaded only when a file
// changed. Modules keep their .ts paths (__dirname, __filename, one module per file, as under ts-node).
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const CACHE_DIR = path.join(process.env.ROAMLEDGER_CLI_CACHE || path.join(ROOT, ".cli"), "js");

let state;
/** tsconfig.json's compiler options and the compiler's version: part of every cache key. */
function settings() {
  if (state) return state;
  const tsconfig = fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8");
  const version = JSON.parse(fs.readFileSync(require.resolve("typescript/package.json"), "utf8")).version;
  state = { tsconfig, version, options: undefined, ts: undefined };
  return state;
}

/** Transpiles like ts-node --transpile-only (loads TypeScript on first use only). */
function transpile(source, filename) {
  const s = settings();
  if (!s.ts) {
    s.ts = require("typescript");
    const parsed = s.ts.parseConfigFileTextToJson("tsconfig.json", s.tsconfig);
    const converted = s.ts.convertCompilerOptionsFromJson(parsed.config.compilerOptions ?? {}, ROOT);
    s.options = { ...converted.options, sourceMap: false, inlineSourceMap: false, declaration: false, noEmit: false };
  }
  return s.ts.transpileModule(source, { compilerOptions: s.options, fileName: filename }).outputText;
}

/** The cache key of one file's source. */
function keyOf(source, filename) {
  const s = settings();
  return crypto.createHash("sha1").update(`${s.version}\0${s.tsconfig}\0${filename}\0`).update(source).digest("hex");
}

/**
 * Removes kept JavaScript older than `olderThanMs` that no module loaded in this process came from (after a
 * manifest build, which loads every task and all they import): the cache does not grow with every edit.
 */
function prune(olderThanMs) {
  const keep = new Set();
  for (const filename of Object.keys(require.cache)) {
    if (!filename.endsWith(".ts")) continue;
    try {
      keep.add(`${keyOf(fs.readFileSync(filename, "utf8"), filename)}.js`);
    } catch {
      // gone since: nothing to keep
    }
  }
  let names = [];
  try {
    names = fs.readdirSync(CACHE_DIR);
  } catch {
    return;
  }
  const before = Date.now() - olderThanMs;
  for (const name of names) {
    const file = path.join(CACHE_DIR, name);
    try {
      if (!keep.has(name) && fs.statSync(file).mtimeMs < before) fs.rmSync(file, { force: true });
    } catch {
      // removed by another process
    }
  }
}

/** The file's JavaScript: from the cache, or transpiled now and kept (written whole: never half a file). */
function javascriptOf(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const file = path.join(CACHE_DIR, `${keyOf(source, filename)}.js`);
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    const js = transpile(source, filename);
    try {
      fs.mkdirSync(CACHE_DIR, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, js);
      fs.renameSync(tmp, file);
    } catch {
      // A read-only checkout: run without keeping it.
    }
    return js;
  }
}

/** Registers the hook for .ts files (once; not when ts-node or another hook already handles them). */
function register() {
  if (require.extensions[".ts"]) return false;
  require.extensions[".ts"] = (module, filename) => {
    module._compile(javascriptOf(filename), filename);
  };
  return true;
}

/** Takes the hook away again (before ts-node registers). A property with a setter (a test's hook) is set, not deleted. */
function unregister() {
  const descriptor = Object.getOwnPropertyDescriptor(require.extensions, ".ts");
  if (descriptor?.set) require.extensions[".ts"] = undefined;
  else delete require.extensions[".ts"];
}

module.exports = { register, unregister, prune, javascriptOf, CACHE_DIR, ROOT };
