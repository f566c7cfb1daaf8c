/**
 * `npm run bench [-- --quick] [-- --runs N] [-- --only ingest,gas,chain,tap]`: RoamLedger's benchmarks,
 * measured side by side in one run on this machine. Prints a table; a full run writes
 * bench/results.json and the table into BENCHMARKS.md, a quick run (smaller sizes, a few minutes, for
 * checking the harness) writes out/bench/results.quick.json only. Not part of `npm test`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startNode, type CrashNode } from "../../test/helpers/crash";
import { ingestWorld, runIngest, keccakOnSameLeaves, type IngestRun } from "./ingest";
import { measureBatchGas, measureDeviceGas, measureNaiveGas } from "./gas";
import { measureLedgerGas } from "./ledgerGas";
import { measureSettlementGas } from "./settleGas";
import { measureBatchesPerSec } from "./chain";
import { median, stepper } from "./util";
import { renderMarkdown, renderTable, type BenchResults } from "./report";
import { measureZk } from "./zk";
import { measureCli } from "./cli";
import { measureTap } from "./tap";
import { measureServe } from "./serve";
import { measureStream } from "./stream";

const HELP = `npm run bench [-- options]

Measures, side by side in one run, and prints a table:
  1. usage:ingest throughput, records/s end to end with chain time excluded (parse, validate, policy
     check, aggregate, Merkle tree, encrypt, store) for 1M synthetic records, next to the raw keccak256
     rate (hash-wasm) of this machine on the same leaves; with and without the sealing thread
  2. peak memory (RSS) of usage:ingest on 1M and 10M records
  3. gas per usage record at batch sizes 1, 1k, 100k, 1M, next to a naive design that stores every record
  4. gas per device registered (1,000 in transactions of device:register's default size)
  5. gas of every step of settlement v2 (confidential): sealed agreement, bulk decisions, disputes by leaf
     index, closePeriod, invoices proposed / co-signed / closed, claim and reveal, settle, withdrawals,
     next to v1's figures where v1 had the step
  6. batches/s committed to a local node process (anvil) with a block every second
  7. zero-knowledge adjudication: the rating circuit's constraints, a phase-2 ceremony's steps, the proving
     key's size, prove time (cold and warm) and peak memory, the verifier's gas
  8. CLI start-up: \`hardhat --help\`, a task's --help and read-only tasks against a local node, start
     to exit (median of 5), next to \`node -e 0\`
  9. TAP 3.12: call events per second decoded, and decoded and mapped to usage records, and the reading
     process's peak memory, on a TAP file of 8M call events (about 1 GB; quick: 1M), written once by the
     TAP writer to the temp folder and removed after; median of --runs readings each
  10. the policy decision service (serve): decisions/s and p50/p99 latency under autocannon from another
      process, its cache filled to 1M devices; memory per million devices; chain-change-to-answer delay
  11. usage:stream: from a usage file landing in the spool to its first fraud flag on chain (target
      <= 10 s) and to its batches, usage:stream running as a process against anvil, 5 files (quick: 3)

A full run writes bench/results.json and BENCHMARKS.md (machine, date, table). It takes about
12 minutes on a 2-core machine and writes a 1 GB usage file to the temp folder (removed after).

Options:
  --quick        smaller sizes (100k and 300k records, batches up to 10k, closePeriod after 100 batches,
                 bulk decisions of 32), a few minutes; writes
                 out/bench/results.quick.json only
  --runs N       ingest runs per variant (median; default 3, quick 1)
  --only LIST    comma-separated parts: ingest, gas, chain, zk, cli, tap, serve, stream (default: all); the results file keeps the
                 other parts' numbers as it has them when this run ends, with their dates
  --render       only write BENCHMARKS.md again from bench/results.json (measures nothing)
  --help         this text
`;

const PARTS = ["ingest", "gas", "chain", "zk", "cli", "tap", "serve", "stream"] as const;

interface Args {
  render: boolean;
  quick: boolean;
  runs: number;
  only: Set<string>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { render: false, quick: false, runs: 0, only: new Set(PARTS) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      process.stdout.write(HELP);
      process.exit(0);
    } else if (a === "--render") {
      args.render = true;
    } else if (a === "--quick") {
      args.quick = true;
    } else if (a === "--runs") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 20) fail(`--runs ${argv[i]}: give a whole number from 1 to 20`);
      args.runs = n;
    } else if (a === "--only") {
      const parts = (argv[++i] ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean);
      const bad = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
      if (parts.length === 0 || bad.length > 0) fail(`--only ${argv[i] ?? ""}: give a comma-separated list of ${PARTS.join(", ")}`);
      args.only = new Set(parts);
    } else {
      fail(`unknown option ${a}`);
    }
  }
  if (args.runs === 0) args.runs = args.quick ? 1 : 3;
  return args;
}

function fail(message: string): never {
  process.stderr.write(`Error: ${message}\nWhat to do: see npm run bench -- --help\n`);
  process.exit(2);
}

function machine(): BenchResults["machineInfo"] {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model.trim() ?? "unknown"} x ${cpus.length}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/**
 * The node the ingest runs read their devices from: a block per transaction, and the state of the last 8
 * blocks only (`--prune-history 8`). With a block every second and all history kept, anvil copies its
 * whole state into each block: with the 10M-record fleet (193,754 devices) it grew by 5 GB a minute and
 * ran out of memory. With no history at all (`--prune-history` alone), a device read at "latest" fails
 * when a fraud flag's block is mined during it ("block height is 50 but requested was 49").
 */
const INGEST_NODE = { mining: "auto", pruneHistory: 8 } as const;

async function benchIngest(args: Args, log: (l: string) => void): Promise<BenchResults["ingest"]> {
  const step = stepper(log);
  const [small, big] = args.quick ? [100_000, 300_000] : [1_000_000, 10_000_000];
  let node: CrashNode | undefined;
  try {
    const smallNode = await startNode(INGEST_NODE);
    node = smallNode;
    const x = await ingestWorld(smallNode, small, step);
    const threaded: IngestRun[] = [];
    const single: IngestRun[] = [];
    for (let i = 0; i < args.runs; i++) {
      // Side by side: the two variants alternate, so load on the machine hits both alike.
      threaded.push(
        await step(`ingest ${x.t.generated.lines.toLocaleString("en-US")} lines, sealing thread (run ${i + 1}/${args.runs})`, () =>
          runIngest(x, smallNode, { label: `t${i}`, env: { ROAMLEDGER_SEAL_THREAD: "1" }, log }),
        ),
      );
      single.push(
        await step(`ingest, one thread (run ${i + 1}/${args.runs})`, () =>
          runIngest(x, smallNode, { label: `s${i}`, env: { ROAMLEDGER_SEAL_THREAD: "0" }, log }),
        ),
      );
      log(
        `    ${threaded[i].recordsPerSec.toLocaleString("en-US")} records/s with the thread, ${single[i].recordsPerSec.toLocaleString("en-US")} without`,
      );
    }
    const keccak = await step("keccak256 of the same leaves (hash-wasm, one thread)", () => keccakOnSameLeaves(x, Math.max(3, args.runs)));
    x.t.cleanup();
    await node.stop();
    let bigRun: IngestRun | undefined;
    let bigError: string | undefined;
    try {
      const bigNode = await startNode(INGEST_NODE);
      node = bigNode;
      const y = await ingestWorld(bigNode, big, step);
      bigRun = await step(`ingest ${y.t.generated.lines.toLocaleString("en-US")} lines (peak memory)`, () =>
        runIngest(y, bigNode, { label: "big", log, timeoutMs: 20 * 60_000 }),
      );
      y.t.cleanup();
    } catch (error) {
      // Recorded, not hidden: the table says the figure is missing and why.
      bigError = (error as Error).message.split("\n").slice(0, 3).join(" ");
      log(`    the ${big.toLocaleString("en-US")}-record run failed: ${bigError}`);
    }
    const rps = median(threaded.map((r) => r.recordsPerSec));
    return {
      records: threaded[0].accepted,
      lines: threaded[0].lines,
      batches: threaded[0].batches,
      runs: args.runs,
      recordsPerSec: rps,
      recordsPerSecOneThread: median(single.map((r) => r.recordsPerSec)),
      keccakLeavesPerSec: keccak.leavesPerSec,
      ratioToKeccak: Math.round((rps / keccak.leavesPerSec) * 1000) / 1000,
      cpuMsPerMillion: Math.round(median(threaded.map((r) => r.cpuMs / r.accepted)) * 1e6),
      peakRssMb: { [String(small)]: median(threaded.map((r) => r.peakRssMb)), [String(big)]: bigRun ? bigRun.peakRssMb : null },
      bigRun: bigRun
        ? { records: bigRun.accepted, recordsPerSec: bigRun.recordsPerSec }
        : { records: big, recordsPerSec: null, error: bigError },
      all: { threaded, single },
    };
  } finally {
    if (node) await node.stop();
  }
}

async function benchGas(args: Args, log: (l: string) => void): Promise<BenchResults["gas"]> {
  const step = stepper(log);
  const sizes = args.quick ? [1, 1_000, 10_000] : [1, 1_000, 100_000, 1_000_000];
  const batches = await step(`submitBatch of ${sizes.map((x) => x.toLocaleString("en-US")).join(", ")} records`, () =>
    measureBatchGas(sizes, { log: (l) => log(`    ${l}`) }),
  );
  const naive = await step("naive design, every record stored", () => measureNaiveGas(args.quick ? 500 : 1_000));
  const device = await step("device registration, 1,000 devices", () => measureDeviceGas({ devices: 1_000 }));
  const [closeAfter, bulk] = args.quick ? [100, 32] : [1_000, 256];
  const ledger = await step(`ledger v2: decisions of 1 and ${bulk}, disputes at depth 17, closePeriod after 1 and ${closeAfter}`, () =>
    measureLedgerGas({ closeAfter, bulk, log: (l) => log(`    ${l}`) }),
  );
  const settlement = await step("agreement and settlement v2", () => measureSettlementGas({ log: (l) => log(`    ${l}`) }));
  const bySize = (f: (row: (typeof batches.rows)[number]) => number) =>
    Object.fromEntries(batches.rows.map((row) => [String(row.records), f(row)]));
  return {
    perRecord: bySize((row) => row.gasPerRecord),
    naivePerRecord: naive.gasPerRecord,
    perDevice: device.gasPerDevice,
    deviceTransactions: device.transactions,
    batchGas: bySize((row) => row.gasUsed),
    firstOfPeriodGas: batches.firstOfPeriodGas,
    naivePerTx: naive.gasPerTx,
    policyCloneGasPerDevice: device.policyCloneGasPerDevice,
    ledger,
    settlement,
  };
}

async function benchChain(args: Args, log: (l: string) => void): Promise<BenchResults["chain"]> {
  const step = stepper(log);
  const burst = args.quick ? 200 : 1_000;
  const a = await step(`${burst.toLocaleString("en-US")} batches to anvil, 1 s blocks`, () =>
    measureBatchesPerSec({ batches: burst, log: (l) => log(`    ${l}`) }),
  );
  const result: NonNullable<BenchResults["chain"]> = {
    batchesPerSec: a.batchesPerSec,
    batches: a.batches,
    blocksUsed: a.blocksUsed,
    blockTimeSec: a.blockTimeSec,
    gasPerBatch: a.gasPerBatch,
    blockGasLimit: a.blockGasLimit,
    batchesPerBlockByGas: a.batchesPerBlockByGas,
  };
  if (!args.quick) {
    // Enough batches to fill blocks (when a pair-period takes that many): the rate the chain sustains.
    // v2 takes at most MAX_BATCHES_PER_PERIOD (2,048) batches per pair and period, the warm-up included.
    const many = Math.min(Math.ceil(a.batchesPerBlockByGas * 2.5), 2_047);
    const b = await step(`${many.toLocaleString("en-US")} batches to anvil (fills blocks)`, () =>
      measureBatchesPerSec({ batches: many, log: (l) => log(`    ${l}`) }),
    );
    result.sustained = { batches: b.batches, batchesPerSec: b.batchesPerSec, blocksUsed: b.blocksUsed, blockGasLimit: b.blockGasLimit };
    // The figure of record is the sustained rate; the burst's stays beside it.
    result.burstBatchesPerSec = a.batchesPerSec;
    result.batchesPerSec = b.batchesPerSec;
  }
  return result;
}

/**
 * `fresh` with the parts it did not run (--only) taken from the results file as it is now, at the end of
 * this run (another run with other parts may have written it meanwhile), each with the date it was measured.
 */
function withOtherParts(file: string, fresh: BenchResults, ran: ReadonlySet<string>): BenchResults {
  const saved: Partial<BenchResults> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
  const measured: NonNullable<BenchResults["measured"]> = {};
  const out: BenchResults = { ...fresh, measured };
  for (const part of PARTS) {
    if (ran.has(part)) {
      measured[part] = fresh.date;
    } else if (saved[part] !== undefined) {
      (out as unknown as Record<string, unknown>)[part] = saved[part];
      measured[part] = saved.measured?.[part] ?? saved.date ?? "unknown";
    }
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const root = path.join(__dirname, "..", "..");
  const resultsFile = args.quick ? path.join(root, "out", "bench", "results.quick.json") : path.join(root, "bench", "results.json");
  if (args.render) {
    const saved = JSON.parse(fs.readFileSync(resultsFile, "utf8")) as BenchResults;
    fs.writeFileSync(path.join(root, "BENCHMARKS.md"), renderMarkdown(saved));
    log(renderTable(saved));
    log("\nwrote BENCHMARKS.md from bench/results.json");
    return;
  }
  const started = Date.now();
  const machineInfo = machine();
  const results: BenchResults = {
    machine: `${machineInfo.cpu}, ${machineInfo.memoryGiB} GiB, Node ${machineInfo.node}`,
    date: new Date().toISOString(),
    quick: args.quick,
    machineInfo,
  };
  log(
    `RoamLedger benchmarks${args.quick ? " (quick)" : ""}: ${results.machine}; load average ${results.machineInfo.loadAverageAtStart.join(" ")}`,
  );
  if (args.only.has("ingest")) {
    log("1-2. ingestion throughput and memory");
    results.ingest = await benchIngest(args, log);
  }
  if (args.only.has("gas")) {
    log("3-4. gas");
    results.gas = await benchGas(args, log);
  }
  if (args.only.has("chain")) {
    log("5. batches/s to a node process");
    results.chain = await benchChain(args, log);
  }
  if (args.only.has("zk")) {
    log("7. zero-knowledge adjudication");
    results.zk = await measureZk({ runs: args.quick ? 2 : 5, log });
  }
  if (args.only.has("serve")) {
    log("9. the policy decision service");
    results.serve = await measureServe({ quick: args.quick, log });
  }
  if (args.only.has("cli")) {
    log("8. CLI start-up");
    results.cli = await measureCli({ runs: args.quick ? 3 : 5, log });
  }
  if (args.only.has("tap")) {
    log("9. TAP 3.12 decoding and mapping");
    results.tap = await measureTap({ events: args.quick ? 1_000_000 : 8_000_000, runs: args.runs, log });
  }
  if (args.only.has("stream")) {
    log("10. usage:stream: file landed to fraud flag on chain");
    results.stream = await measureStream({ files: args.quick ? 3 : 5, log });
  }
  results.durationSec = Math.round((Date.now() - started) / 1000);
  const all = withOtherParts(resultsFile, results, args.only);
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.writeFileSync(resultsFile, `${JSON.stringify(all, null, 2)}\n`);
  log("");
  log(renderTable(all));
  if (!args.quick) {
    fs.writeFileSync(path.join(root, "BENCHMARKS.md"), renderMarkdown(all));
    log(`\nwrote ${path.relative(process.cwd(), resultsFile)} and BENCHMARKS.md`);
  } else {
    log(`\nwrote ${path.relative(process.cwd(), resultsFile)} (quick: BENCHMARKS.md is left as it is)`);
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`Error: the benchmark failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
