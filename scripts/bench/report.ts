import type { IngestRun } from "./ingest";

/** bench/results.json: the keys issue 6 asks for, then the details they come from. */
export interface BenchResults {
  machine: string;
  date: string;
  quick: boolean;
  durationSec?: number;
  machineInfo: { cpu: string; memoryGiB: number; node: string; os: string; loadAverageAtStart: number[] };
  ingest?: {
    records: number;
    lines: number;
    batches: number;
    runs: number;
    /** Median of the runs with the sealing thread (the default for files of 16 MB and more). */
    recordsPerSec: number;
    recordsPerSecOneThread: number;
    keccakLeavesPerSec: number;
    ratioToKeccak: number;
    /** CPU time of the process (all threads) per million records, median. */
    cpuMsPerMillion: number;
    peakRssMb: Record<string, number | null>;
    bigRun: { records: number; recordsPerSec: number | null; error?: string };
    all: { threaded: IngestRun[]; single: IngestRun[] };
  };
  gas?: {
    perRecord: Record<string, number>;
    naivePerRecord: number;
    perDevice: number;
    settlePair: number;
    settlePairNetted: number;
    batchGas: Record<string, number>;
    firstOfPeriodGas: number;
    naivePerTx: number;
    policyCloneGasPerDevice: number;
  };
  chain?: {
    /** The sustained rate when measured (full runs), else the burst's. */
    batchesPerSec: number;
    burstBatchesPerSec?: number;
    batches: number;
    blocksUsed: number;
    blockTimeSec: number;
    gasPerBatch: number;
    blockGasLimit: number;
    batchesPerBlockByGas: number;
    sustained?: { batches: number; batchesPerSec: number; blocksUsed: number; blockGasLimit: number };
  };
}

const n = (x: number | undefined | null, digits = 0) =>
  x === undefined || x === null || Number.isNaN(x)
    ? "not measured"
    : x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (records: string) => `${Number(records) >= 1e6 ? `${Number(records) / 1e6}M` : `${Number(records) / 1e3}k`}`;

/** The rows of the table: what, measured, target (where the issue sets one). */
export function rows(r: BenchResults): [string, string, string][] {
  const out: [string, string, string][] = [];
  const i = r.ingest;
  if (i) {
    out.push([`ingest ${n(i.records)} records, records/s (median of ${i.runs}, sealing thread)`, n(i.recordsPerSec), ">= 150,000"]);
    out.push(["  same, one thread", n(i.recordsPerSecOneThread), ""]);
    out.push(["  raw keccak256 of the same leaves (hash-wasm, one thread), leaves/s", n(i.keccakLeavesPerSec), ""]);
    out.push(["  ratio ingest / keccak", n(i.ratioToKeccak, 3), ""]);
    out.push(["  CPU time per million records (all threads), ms", n(i.cpuMsPerMillion), ""]);
    for (const [records, rss] of Object.entries(i.peakRssMb)) {
      out.push([`peak RSS of usage:ingest, ${mb(records)} records, MB`, n(rss), Number(records) >= 1e7 ? "<= 1,024" : ""]);
    }
    out.push([`  records/s of the ${n(i.bigRun.records)}-record run`, n(i.bigRun.recordsPerSec), ""]);
    if (i.bigRun.error) out.push([`  the ${n(i.bigRun.records)}-record run failed (see below)`, "", ""]);
  }
  const g = r.gas;
  if (g) {
    for (const [size, perRecord] of Object.entries(g.perRecord)) {
      out.push([
        `gas per record, batch of ${n(Number(size))} (batch gas ${n(g.batchGas[size])})`,
        n(perRecord, perRecord < 10 ? 4 : 1),
        size === "100000" ? "<= 1" : "",
      ]);
    }
    out.push(["gas per record, naive design (stores every record)", n(g.naivePerRecord), ""]);
    out.push(["gas of the first batch of a period", n(g.firstOfPeriodGas), ""]);
    out.push(["gas per device registered (bulk of 1,000, policy contract included)", n(g.perDevice), ""]);
    out.push(["  of which its policy contract (clone)", n(g.policyCloneGasPerDevice), ""]);
    out.push(["gas to settle one pair-period, one direction", n(g.settlePair), ""]);
    out.push(["gas to settle one pair-period, netted", n(g.settlePairNetted), ""]);
  }
  const c = r.chain;
  if (c) {
    if (!c.sustained || c.burstBatchesPerSec !== undefined) {
      out.push([
        `batches/s committed to anvil, a burst of ${n(c.batches)} batches, ${c.blockTimeSec} s blocks (${c.blocksUsed} block(s))`,
        n(c.burstBatchesPerSec ?? c.batchesPerSec),
        "",
      ]);
    }
    if (c.sustained) {
      out.push([
        `batches/s committed to anvil, sustained: ${n(c.sustained.batches)} batches over ${c.sustained.blocksUsed} blocks of ${n(c.sustained.blockGasLimit)} gas, ${c.blockTimeSec} s blocks`,
        n(c.sustained.batchesPerSec),
        "",
      ]);
    }
    out.push([`  batches a block of ${n(c.blockGasLimit)} gas holds (${n(c.gasPerBatch)} gas each)`, n(c.batchesPerBlockByGas), ""]);
  }
  return out;
}

export function renderTable(r: BenchResults): string {
  const table = rows(r);
  const w0 = Math.max(...table.map((x) => x[0].length), 10);
  const w1 = Math.max(...table.map((x) => x[1].length), 8);
  const line = (a: string, b: string, c: string) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`;
  return [
    line("measure", "value", "target"),
    line("-".repeat(w0), "-".repeat(w1), "------"),
    ...table.map(([a, b, c]) => line(a, b, c)),
  ].join("\n");
}

export function renderMarkdown(r: BenchResults): string {
  const table = rows(r)
    .map(([a, b, c]) => `| ${a.replace(/^ {2}/, "&nbsp;&nbsp;")} | ${b} | ${c} |`)
    .join("\n");
  return `# Benchmarks

Written by \`npm run bench\` (scripts/bench/): every number below comes from its last full run. Re-run it
to measure your machine; \`npm run bench -- --quick\` checks the harness in about a minute (and leaves
this file alone). The raw numbers, every ingest run included, are in bench/results.json.

- Machine: ${r.machine}; ${r.machineInfo.os}
- Date: ${r.date}
- Load average when the run started: ${r.machineInfo.loadAverageAtStart.join(", ")} (the machine is shared: wall-clock rates vary with it; gas is exact)
- Duration of the run: ${r.durationSec ?? "?"} s

| measure | value | target |
|---|---:|---|
${table}
${r.ingest?.bigRun.error ? `\nThe ${n(r.ingest.bigRun.records)}-record run did not finish: ${r.ingest.bigRun.error}.\n` : ""}
## How each figure is measured

- **Ingest records/s**: \`usage:ingest\` runs as an operator runs it (a \`hardhat\` process) against an anvil
  node where the home carrier registered the generated fleet, each run with fresh local state and payload
  store. The figure is the command's own: accepted records over processing time (parse, validate,
  resolve devices from the cache, policy check, aggregate, pack, Merkle tree, encrypt, store), with chain
  time (device and policy reads, fraud flags) taken off. The runs with and without the sealing thread
  alternate, so load on the machine hits both alike; medians.
- **Keccak rate**: the packed records of the batches the last run sealed, opened from its store, hashed
  one by one with hash-wasm in the benchmark's process: the ceiling of a one-thread ingest.
- **Peak RSS**: the ingest process's \`maxRSS\` at the end of the command (processing, batch submissions
  and roamer reports; Node, ts-node and Hardhat included), as its summary reports it. The node the ingest
  runs read from mines a block per transaction and keeps the state of its last 8 blocks only
  (\`--prune-history 8\`); with a block every second and all history kept, anvil copied its whole state
  into each block and, with the 10M-record fleet, ran out of memory at 23 GB.
- **Gas per record**: \`submitBatch\` receipts on the in-process Hardhat network for real batches (real
  leaves, Merkle root, EIP-712 signature) of that many records, not the first batch of their period;
  the batch gas over the record count. The naive design is test/contracts/NaiveUsageLedger__Mock.sol,
  which stores every record, measured in the same run.
- **Gas per device**: \`registerDevices\` of 1,000 devices in one transaction, policy clones included.
- **Settle**: \`SettlementEscrow.settle\` of one pair-period after both invoices are closed.
- **Batches/s**: signed \`submitBatch\` transactions sent as fast as possible to an anvil process mining a
  block every second; batches over the time from the first send to the last receipt.
`;
}
