/**
 * `npm run build` (after `hardhat compile`, which the npm script runs first): the installable package in dist/.
 *
 * - dist/lib and dist/typechain-types: CommonJS and declarations of lib/ and of the typechain bindings it
 *   imports by relative path. They are compiled from a staging copy, build/package-src, whose bindings are
 *   generated from the contracts' and OpenZeppelin's artifacts only: the repository's typechain-types/
 *   also binds the test mocks (with their bytecode), which a carrier backend has no use for.
 * - dist/abi/<Contract>.json: the ABI of each deployable contract (contracts/*.sol) and interface
 *   (contracts/interfaces/*.sol), for backends in other languages or with other clients.
 *
 *   npx ts-node --transpile-only scripts/build-package.ts
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { glob, runTypeChain } from "typechain";

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const STAGE = path.join(ROOT, "build", "package-src");
const ARTIFACTS = path.join(ROOT, "artifacts");

interface Artifact {
  contractName: string;
  sourceName: string;
  abi: unknown[];
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

/** lib/ as it is, TypeScript sources only. */
function stageLib(): void {
  fs.cpSync(path.join(ROOT, "lib"), path.join(STAGE, "lib"), {
    recursive: true,
    filter: (src) => fs.statSync(src).isDirectory() || src.endsWith(".ts"),
  });
}

/** The ethers-v6 bindings of every artifact outside test/, with the same layout and options as hardhat's typechain-types/. */
async function stageBindings(): Promise<void> {
  const files = glob(ROOT, ["artifacts/!(build-info|test)/**/+([a-zA-Z0-9_]).json"]);
  if (!files.some((f) => f.includes(`${path.sep}contracts${path.sep}`))) {
    fail(`no contract artifacts under ${ARTIFACTS}: run \`npx hardhat compile\` first`);
  }
  await runTypeChain({
    cwd: ROOT,
    filesToProcess: files,
    allFiles: files,
    inputDir: ARTIFACTS,
    outDir: path.join(STAGE, "typechain-types"),
    target: "ethers-v6",
    flags: { alwaysGenerateOverloads: false, discriminateTypes: false, tsNocheck: false, node16Modules: false, environment: undefined },
  });
}

function compile(): void {
  const tsc = require.resolve("typescript/bin/tsc");
  const run = spawnSync(process.execPath, [tsc, "-p", path.join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  if (run.status !== 0) fail("tsc -p tsconfig.build.json failed (see above)");
}

/** Deployable contracts and their interfaces: not libraries, types or mocks. */
function writeAbis(): string[] {
  const out = path.join(DIST, "abi");
  fs.mkdirSync(out, { recursive: true });
  const sources = [path.join(ARTIFACTS, "contracts"), path.join(ARTIFACTS, "contracts", "interfaces")];
  const written: string[] = [];
  for (const dir of sources) {
    for (const sol of fs.readdirSync(dir).filter((name) => name.endsWith(".sol"))) {
      const name = path.basename(sol, ".sol");
      const artifact = JSON.parse(fs.readFileSync(path.join(dir, sol, `${name}.json`), "utf8")) as Artifact;
      fs.writeFileSync(path.join(out, `${artifact.contractName}.json`), `${JSON.stringify(artifact.abi, null, 2)}\n`);
      written.push(artifact.contractName);
    }
  }
  return written;
}

async function main(): Promise<void> {
  fs.rmSync(DIST, { recursive: true, force: true });
  fs.rmSync(STAGE, { recursive: true, force: true });
  stageLib();
  await stageBindings();
  compile();
  // The ingest's worker thread loads this file by path (lib/usage/sealThread.ts): nothing imports it.
  if (!fs.existsSync(path.join(DIST, "lib", "usage", "sealWorker.js"))) fail("dist/lib/usage/sealWorker.js was not emitted");
  const abis = writeAbis();
  console.log(`dist/: lib and typechain-types (JavaScript and declarations), ABIs of ${abis.join(", ")}`);
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
