// The full Hardhat configuration: every plugin (the toolbox, viem) and every task, for compile, test, run,
// coverage, node, console and deploy. hardhat.config.js loads it (under ts-node) for every command the fast
// start does not take; see docs/testing.md, "How start-up works".
import { subtask, type HardhatUserConfig } from "hardhat/config";
import {
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS,
  TASK_TEST_GET_TEST_FILES,
} from "hardhat/builtin-tasks/task-names";
import fs from "node:fs";
import path from "node:path";
import { getAllFilesMatching } from "hardhat/internal/util/fs-utils";
import "@nomicfoundation/hardhat-toolbox";
import "@nomicfoundation/hardhat-viem";
import "../tasks";
import { config, SOLC_VERSION } from "./base";

// No compiler download works on the consortium's build machines: compile with the solc-js build that
// ships inside the pinned npm package `solc` instead of letting Hardhat fetch one.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version(),
  };
});

// Test-only contracts (mocks, gas probes) live in test/contracts/ and compile with the rest.
subtask(TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS, async (_args, hre, runSuper) => {
  const paths: string[] = await runSuper();
  const dir = path.join(hre.config.paths.root, "test", "contracts");
  if (!fs.existsSync(dir)) return paths;
  const mocks = fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".sol"))
    .map((f) => path.join(dir, f));
  return [...paths, ...mocks];
});

// `npx hardhat test test/integration --network besu`: a folder stands for the test files in it. With no
// files, every .js and .ts file under test/: Hardhat looks for .ts test files only when its config file is
// TypeScript, and hardhat.config.js is JavaScript (the fast start).
subtask(TASK_TEST_GET_TEST_FILES, async (args: { testFiles: string[] }, hre, runSuper) => {
  if (args.testFiles.length === 0) {
    const js = await getAllFilesMatching(hre.config.paths.tests, (f) => /\.(js|cjs|mjs)$/i.test(f));
    const ts = await getAllFilesMatching(hre.config.paths.tests, (f) => /\.(ts|cts|mts)$/i.test(f));
    return runSuper({ testFiles: [...js, ...ts] });
  }
  const files = args.testFiles.flatMap((f) => {
    const abs = path.resolve(process.cwd(), f);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) return [f];
    return fs
      .readdirSync(abs, { recursive: true, encoding: "utf8" })
      .filter((x) => /\.(ts|js)$/.test(x))
      .sort()
      .map((x) => path.join(abs, x));
  });
  return runSuper({ testFiles: files });
});

// The plugins' settings (their types exist only where the plugins are imported).
const full: HardhatUserConfig = {
  ...config,
  ignition: {
    // QBFT blocks are final once added: waiting for more confirmations only slows deployments down.
    requiredConfirmations: 1,
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
    // The toolbox turns typechain's compile hook off when the config file Hardhat found is JavaScript
    // (hardhat.config.js): compile must still generate the bindings the tasks, lib/ and tests import.
    dontOverrideCompile: false,
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
  },
};

export default full;
