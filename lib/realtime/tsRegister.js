// Loads TypeScript sources in the decision service's own process (lib/realtime/standalone.ts, started by
// `npx hardhat serve` from the sources) without Node's `domain` module. ts-node loads Node's `repl` when it
// starts (for its REPL, unused here), and `repl` loads `domain`, whose process-wide async hook and emit
// wrapper cost every HTTP request about 5 µs. `repl` is handed to ts-node as a stand-in that loads the real
// module on first use. A built package (dist/, plain JavaScript) does not need this file.
const Module = require("node:module");

const load = Module._load;
Module._load = function loadWithLazyRepl(request, parent, isMain) {
  if (request === "repl" && parent && /[\\/]ts-node[\\/]/.test(parent.filename)) {
    let real;
    return new Proxy(
      {},
      {
        get(_target, key) {
          real ??= load.call(Module, "repl", parent, isMain);
          return real[key];
        },
      },
    );
  }
  return load.call(this, request, parent, isMain);
};
require("ts-node/register/transpile-only");
Module._load = load;
