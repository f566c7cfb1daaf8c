/**
 * `npm run bench -- --only cli`: how long the RoamLedger CLI takes to answer, start to exit, as an operator
 * runs it (`hardhat <task>`, a process each run): Hardhat's help, a task's help, and read-only tasks against a
 * local node (anvil with RoamLedger deployed), next to a bare `node -e 0`. Medians of `runs`. The fast start's
 * manifest is built before the first measured run (see docs/testing.md, "How start-up works"); one run of the
 * full start (ROAMLEDGER_CLI=full: ts-node, every plugin and task) is shown beside for comparison.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
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
  /** CPU time (user + system) of the process, median, ms: what a quiet machine's wall time comes close to. */
  cpuMedianMs: number;
  /** Exit code of the last run. */
  exitCode: number | null;
}

export interface CliBenchResult {
  runs: number;
  nodeBareMs: number;
  nodeBareCpuMs?: number;
  timings: CliTiming[];
  /** One run each with ROAMLEDGER_CLI=full (the start before the manifest), ms. */
  fullStartMs: Record<string, number>;
}

/**
 * A `node --require` file that writes the process's CPU time (user + system, ms) to ROAMLEDGER_BENCH_CPU_FILE
 * as it exits: the machine is shared, and CPU time varies far less with its load than wall time.
 */
const CPU_HOOK = `process.on("exit", () => {
  const u = process.cpuUsage();
  require("fs").writeFileSync(process.env.ROAMLEDGER_BENCH_CPU_FILE, String((u.user + u.system) / 1000));
});
`;

/** Runs `command` (argv) `runs` times; wall time of each, from spawn to exit, and its CPU time. */
function time(label: string, argv: string[], runs: number, env: NodeJS.ProcessEnv): CliTiming {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-bench-cpu-"));
  const hook = path.join(dir, "cpu.js");
  const cpuFile = path.join(dir, "cpu.txt");
  fs.writeFileSync(hook, CPU_HOOK);
  const runsMs: number[] = [];
  const cpuMs: number[] = [];
  let exitCode: number | null = null;
  try {
    for (let i = 0; i < runs; i++) {
      const started = process.hrtime.bigint();
      const r = spawnSync(argv[0], ["--require", hook, ...argv.slice(1)], {
        cwd: ROOT,
        env: { ...env, ROAMLEDGER_BENCH_CPU_FILE: cpuFile },
        encoding: "utf8",
      });
      runsMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      exitCode = r.status;
      if (r.status !== 0) throw new Error(`${label} exited ${r.status}: ${`${r.stderr}`.trim().split("\n").slice(-3).join(" ")}`);
      cpuMs.push(Number(fs.readFileSync(cpuFile, "utf8")));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const medianMs = Math.round(median(runsMs));
  return { command: label, runsMs: runsMs.map((x) => Math.round(x)), medianMs, cpuMedianMs: Math.round(median(cpuMs)), exitCode };
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
      log(`    ${label}: median ${t.medianMs} ms (${t.runsMs.join(", ")}), CPU ${t.cpuMedianMs} ms`);
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
    return { runs, nodeBareMs: timings[0].medianMs, nodeBareCpuMs: timings[0].cpuMedianMs, timings: timings.slice(1), fullStartMs };
  } finally {
    await world.stop();
  }
}
