// Every RoamLedger task, `area:action`; each file parses arguments and calls lib/.
//
// The tasks use the typechain bindings that `hardhat compile` generates into typechain-types/. On a
// fresh clone they do not exist yet, and Hardhat must still start to compile: so the tasks register
// only once the bindings load. The npm scripts (test, demo) compile first.
// Bindings generated before a contract was added lack its factory: reading its ABI then fails the same way
// (`X__factory` is undefined), and compile, which regenerates them, must still start.
function typechainMissing(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code === "MODULE_NOT_FOUND" && /typechain-types/.test(`${e.message}`)) return true;
  return err instanceof TypeError && /reading 'abi'/.test(e.message ?? "");
}

try {
  require("./besu");
  require("./deploy");
  require("./carrier");
  require("./operator");
  require("./keys");
  require("./device");
  require("./agreement");
  require("./usage");
  require("./usageStream");
  require("./watch");
  require("./serve");
  require("./usageGenerate");
  require("./usageTap");
  require("./usageRap");
  require("./escrow");
  require("./invoice");
  require("./zk");
  require("./zkVerifier");
  require("./devTime");
  require("./profile");
} catch (err) {
  if (!typechainMissing(err)) throw err;
  if (!process.argv.some((a) => a === "compile" || a === "typechain" || a === "clean")) {
    console.error(
      "RoamLedger tasks are not loaded yet: run `npx hardhat compile` once to generate the contract bindings (or again: they are older than the contracts).",
    );
  }
}
