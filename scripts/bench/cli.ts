/**
 * `npm run bench -- --only cli`: how long the RoamLedger CLI takes to answer, start to exit, as an operator
 * runs it (`hardhat <task>`, a process each run): Hardhat's help, a task's help, and read-only tasks against a
 * local node (anvil with RoamLedger deployed), next to a bare `node -e 0`. Medians of `runs`. The fast start's
 * manifest is built before the first measured run (see docs/testing.md, "How start-up works"); one run of the
 * full start (ROAMLEDGER_CLI=full: ts-node, every plugin and task) is shown beside for comparison.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { cliWorld } from "../../test/helpers/cli";
import { median } from "./util";

const ROOT = path.join(__dirname, "..", "..");
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");

export interface CliTiming {
  command: string;
  /** Wall time of each run, ms. */
  runsMs: number[];
  medianMs: number;
  /** Exit code of the last run. */
  exitCode: number | null;
}

export interface CliBenchResult {
  runs: number;
  nodeBareMs: number;
  timings: CliTiming[];
  /** One run each with ROAMLEDGER_CLI=full (the start before the manifest), ms. */
  fullStartMs: Record<string, number>;
}

/** Runs `command` (argv) `runs` times; wall time of each, from spawn to exit. */
function time(label: string, argv: string[], runs: number, env: NodeJS.ProcessEnv): CliTiming {
  const runsMs: number[] = [];
  let exitCode: number | null = null;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, env, encoding: "utf8" });
    runsMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    exitCode = r.status;
    if (r.status !== 0) throw new Error(`${label} exited ${r.status}: ${`${r.stderr}`.trim().split("\n").slice(-3).join(" ")}`);
  }
  return { command: label, runsMs: runsMs.map((x) => Math.round(x)), medianMs: Math.round(median(runsMs)), exitCode };
}

export async function measureCli(options: { runs: number; log: (line: string) => void }): Promise<CliBenchResult> {
  const { runs, log } = options;
  const env = { ...process.env };
  delete env.ROAMLEDGER_CLI;
  const hh = (...args: string[]) => [process.execPath, HARDHAT, ...args];
  // Builds the manifest if it is stale (not measured).
  spawnSync(process.execPath, [HARDHAT, "--help"], { cwd: ROOT, env, encoding: "utf8" });
  const world = await cliWorld();
  const worldEnv = world.env;
  try {
    const timings: CliTiming[] = [];
    const measure = (label: string, argv: string[], e: NodeJS.ProcessEnv = env) => {
      const t = time(label, argv, runs, e);
      log(`    ${label}: median ${t.medianMs} ms (${t.runsMs.join(", ")})`);
      timings.push(t);
    };
    measure("node -e 0", [process.execPath, "-e", "0"]);
    measure("hardhat --help", hh("--help"));
    measure("hardhat carrier:list --help", hh("carrier:list", "--help"));
    measure("hardhat usage:ingest --help", hh("usage:ingest", "--help"));
    measure("hardhat carrier:list --network localhost", hh("carrier:list", "--network", "localhost"), worldEnv);
    measure(
      "hardhat carrier:show --plmn 262-01 --network localhost",
      hh("carrier:show", "--plmn", "262-01", "--network", "localhost"),
      worldEnv,
    );
    const fullStartMs: Record<string, number> = {};
    for (const [label, argv, e] of [
      ["hardhat --help", hh("--help"), env],
      ["hardhat carrier:list --network localhost", hh("carrier:list", "--network", "localhost"), worldEnv],
    ] as const) {
      const t = time(label, [...argv], 1, { ...e, ROAMLEDGER_CLI: "full" });
      log(`    ${label}, full start (ROAMLEDGER_CLI=full): ${t.medianMs} ms`);
      fullStartMs[label] = t.medianMs;
    }
    return { runs, nodeBareMs: timings[0].medianMs, timings: timings.slice(1), fullStartMs };
  } finally {
    await world.stop();
  }
}
