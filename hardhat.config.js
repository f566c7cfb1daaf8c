// Hardhat's configuration. It is JavaScript so that Hardhat starts without the TypeScript compiler: the
// fast start (config/cli/fast.ts) declares RoamLedger's tasks from .cli/manifest.json and loads a task's
// code only when it runs, for `--help` and RoamLedger's tasks; every other command (compile, test, run,
// coverage, node, console, deploy) loads config/full.ts under ts-node, as a TypeScript config did.
// ROAMLEDGER_CLI=full forces the full start. See docs/testing.md, "How start-up works".

const hadTypeScript = Boolean(require.extensions[".ts"]); // ts-node already there (`hardhat run x.ts`, ts-node scripts)
const ownHook = require("./config/cli/tsCache").register();
const start = require("./config/cli/fast.ts").chooseStart();

if (start.kind === "fast") {
  module.exports = require("./config/cli/fast.ts").fastConfig(start.manifest);
} else {
  if (ownHook) require("./config/cli/tsCache").unregister();
  if (!hadTypeScript) {
    // What Hardhat does for a TypeScript config (hardhat/internal/core/typescript-support.js loadTsNode).
    if (process.env.TS_NODE_FILES === undefined) process.env.TS_NODE_FILES = "true";
    require("ts-node/register/transpile-only");
  }
  module.exports = require("./config/full.ts").default;
}
