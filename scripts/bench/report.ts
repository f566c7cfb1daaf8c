import type { ZkBenchResult } from "./zk";
import type { CliBenchResult } from "./cli";
import type { TapBenchResult } from "./tap";
import type { StreamBenchResult } from "./stream";
import type { ServeBenchResult } from "./serve";
import type { IngestRun } from "./ingest";
import type { LedgerGasResult } from "./ledgerGas";
import type { SettlementGasResult } from "./settleGas";

/** bench/results.json: the keys issue 6 asks for, then the details they come from. */
export interface BenchResults {
  machine: string;
  date: string;
  quick: boolean;
  durationSec?: number;
  /** When each part's figures were measured (ISO dates): a run with --only keeps the others' from earlier runs. */
  measured?: Partial<Record<"ingest" | "gas" | "chain" | "zk" | "cli" | "tap" | "serve" | "stream", string>>;
  /** TAP 3.12 reading (scripts/bench/tap.ts). */
  tap?: TapBenchResult;
  /** The policy decision service (scripts/bench/serve.ts). */
  serve?: ServeBenchResult;
  /** usage:stream's record-to-flag delay (scripts/bench/stream.ts). */
  stream?: StreamBenchResult;
  /** CLI start-up (scripts/bench/cli.ts). */
  cli?: CliBenchResult;
  /** Zero-knowledge adjudication (scripts/bench/zk.ts). */
  zk?: ZkBenchResult;
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
    /** Registration transactions of the 1,000 devices (device:register's default batch size). */
    deviceTransactions?: number;
    batchGas: Record<string, number>;
    firstOfPeriodGas: number;
    naivePerTx: number;
    policyCloneGasPerDevice: number;
    ledger?: LedgerGasResult;
    settlement?: SettlementGasResult;
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
    out.push([
      `gas per device registered (1,000 in ${g.deviceTransactions ?? "?"} transactions, policy contract included)`,
      n(g.perDevice),
      "",
    ]);
    out.push(["  of which its policy contract (clone)", n(g.policyCloneGasPerDevice), ""]);
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
  if (r.zk) out.push(...zkRows(r.zk));
  if (r.cli) out.push(...cliRows(r.cli));
  if (r.tap) out.push(...tapRows(r.tap));
  if (r.serve) out.push(...serveRows(r.serve));
  if (r.stream) out.push(...streamRows(r.stream));
  return out;
}

/** The stream's rows: landing of a file to its first fraud flag and to its batches on chain. */
function streamRows(s: StreamBenchResult): [string, string, string][] {
  const files = `${s.files} files of ~${n(s.recordsPerFile)} records, ${s.settleSeconds} s settle, ${s.pollSeconds} s poll`;
  return [
    [`stream: file landed to its first fraud flag on chain, ms (median; ${files})`, n(s.flagDelayMs.median), "<= 10,000"],
    [
      `stream: file landed to its first fraud flag on chain, ms (worst of ${s.flagDelayMs.samples.length})`,
      n(s.flagDelayMs.max),
      "<= 10,000",
    ],
    ["stream: file landed to its batches on chain, ms (median)", n(s.batchDelayMs.median), ""],
  ];
}

/** How the stream's delay is measured (a line of the list), when the results have it. */
function streamNote(s: StreamBenchResult | undefined): string {
  if (!s) return "";
  return `- **Stream** (scripts/bench/stream.ts, \`npm run bench -- --only stream\`): \`usage:stream\` runs as a process against anvil (a block per
  transaction); ${s.files} usage files land in its spool one after the other (written as \`name.tmp\`, renamed), each with devices of its own
  (a fleet with 5% out-of-policy devices); from each rename to the first FraudFlagged log of the node (raw \`eth_getLogs\` every 50 ms) and to
  its first UsageBatchSubmitted. The delay is mostly the settle time (${s.settleSeconds} s) and the spool poll (${s.pollSeconds} s).
`;
}

/** How the TAP figures are measured (a line of the list), when the results have them. */
function tapNote(t: TapBenchResult | undefined): string {
  if (!t) return "";
  return `- **TAP** (scripts/bench/tap.ts, \`npm run bench -- --only tap\`): a TransferBatch of ${n(t.callEvents)} call events (a third each voice calls, SMS and
  GPRS calls; ${n(t.fileMb)} MB, indefinite lengths) written once by the TAP writer (lib/tap/fromUsage.ts, ${t.writeSeconds} s),
  then read ${t.runs} times each way, alternating, each reading in a fresh \`node\` process (ts-node): decoded with
  \`TapFile.callEvents()\` (and the AuditControlInfo check), and mapped with \`TapMapper\` (lib/tap/map.ts: the
  checks, record ids, charges) the fast way (lib/tap/fastMap.ts, the default) and the full way (\`decoder: "full"\`).
  Call events over wall time and over the process's CPU time (medians; on a loaded machine the CPU figure is the
  steadier); peak RSS is the reading process's \`maxRSS\`, the largest of its runs. The file is removed after.
`;
}

/** The TAP rows: call events per second decoded, decoded and mapped, and the reading process's peak RSS. */
function tapRows(t: TapBenchResult): [string, string, string][] {
  const file = `a ${n(t.fileMb)} MB file of ${n(t.callEvents)} call events`;
  const load = `load ${t.loadBefore?.[0] ?? "?"} to ${t.loadAfter?.[0] ?? "?"} on 2 shared cores`;
  return [
    [`tap: call events/s decoded, ${file} (median of ${t.runs}, one core; ${load})`, n(t.decodedPerSec), ""],
    [`tap: call events/s decoded and mapped to usage records, fast path (median of ${t.runs})`, n(t.mappedPerSec), ">= 300,000"],
    [`tap: call events/s decoded and mapped, the full decoder (TapCallEvent) first (median of ${t.runs})`, n(t.fullMappedPerSec), ""],
    [
      "tap: call events per CPU second, decoded / mapped fast / mapped full (medians)",
      `${n(t.decodedCpuPerSec)} / ${n(t.mappedCpuPerSec)} / ${n(t.fullMappedCpuPerSec)}`,
      ">= 300,000 mapped",
    ],
    ["tap: peak RSS reading it, decoded only, MB", n(t.decodePeakRssMb), ""],
    ["tap: peak RSS reading it, mapped fast / full (no per-record state), MB", `${n(t.mapPeakRssMb)} / ${n(t.fullMapPeakRssMb)}`, "flat"],
  ];
}

/** The decision service's rows: each load's rate and latency, the in-process rate, memory, delay. */
function serveRows(s: ServeBenchResult): [string, string, string][] {
  return [
    ...s.runs.flatMap((x): [string, string, string][] => [
      [
        `serve: decisions/s, ${x.connections} connections, pipelining ${x.pipelining} (${n(s.devices)} devices cached)`,
        n(x.decisionsPerSec),
        ">= 50,000",
      ],
      [`  p50 / p99 latency, ms`, `${x.p50Ms} / ${x.p99Ms}`, "p99 <= 2"],
      ...(x.serverCpuUsPerDecision
        ? [
            [
              `  the service's CPU per decision, µs (decisions/s one core of it answers at that cost)`,
              `${x.serverCpuUsPerDecision} (${n(x.perServerCore)})`,
              "",
            ] as [string, string, string],
          ]
        : []),
    ]),
    ...(s.standalone
      ? [
          [
            `serve, as \`serve\` runs it on a JSON-RPC node (its own process, no Hardhat), 64 connections: decisions/s (p50 / p99 ${s.standalone.p50Ms} / ${s.standalone.p99Ms} ms; CPU ${s.standalone.serverCpuUsPerDecision} µs a decision, ${n(s.standalone.perServerCore)}/s a core)`,
            n(s.standalone.decisionsPerSec),
            ">= 50,000",
          ] as [string, string, string],
        ]
      : []),
    ...(s.standaloneBatches ?? []).map((x): [string, string, string] => [
      `serve, the same process asked \`POST /v1/decisions\` in batches of ${x.batch}, ${x.connections} connections: decisions/s (p50 / p99 of a batch ${x.p50Ms} / ${x.p99Ms} ms; CPU ${x.serverCpuUsPerDecision} µs a decision)`,
      n(x.decisionsPerSec),
      ">= 50,000, p99 <= 2",
    ]),
    ...(s.clientRuns ?? []).map((x): [string, string, string] => [
      `serve, the same process asked through the SDK's DecisionClient by ${x.callers} concurrent callers in the benchmark's process: decisions/s (p50 / p99 of each decision ${x.p50Ms} / ${x.p99Ms} ms; ${x.meanBatch} queries a request; service CPU ${x.serverCpuUsPerDecision} µs a decision; ${x.failed} failed)`,
      n(x.decisionsPerSec),
      ">= 50,000, p99 <= 2",
    ]),
    [
      `serve: Fastify hello world under the same load, requests/s (HTTP alone${s.helloWorldCpuUs ? `; its CPU ${s.helloWorldCpuUs} µs a request` : ""})`,
      n(s.helloWorldPerSec),
      "",
    ],
    ["serve: decisions/s in the service's process without HTTP (one core)", n(s.inProcessPerSec), ""],
    [`serve: device cache, MB per million devices (${n(s.memory.tableBytesPerDevice)} bytes each)`, String(s.memory.mbPerMillion), ""],
    [
      `serve: chain change to answer, ms (median of ${s.changeToAnswerMs.samples.length}, max ${n(s.changeToAnswerMs.max)}; polls every ${s.changeToAnswerMs.pollMs} ms)`,
      n(s.changeToAnswerMs.median),
      "<= 2,000",
    ],
    ...(s.counters
      ? [
          [
            `serve: capsLeft counters of ${n(s.counters.devices)} devices (${s.counters.fileMb} MB) read again, ms in their thread (same parse on the service's thread: ${n(s.counters.sameThreadParseMs)})`,
            n(s.counters.threadReadMs),
            "",
          ] as [string, string, string],
          ["  longest stall of the service's event loop meanwhile, ms", String(s.counters.loopMaxStallMs), ""] as [string, string, string],
        ]
      : []),
  ];
}

/** The CLI start-up rows: each command's median next to a bare node, and the full start's one run. */
function cliRows(c: CliBenchResult): [string, string, string][] {
  return [
    [`cli: \`node -e 0\`, ms (median of ${c.runs}; CPU ${n(c.nodeBareCpuMs)} ms)`, n(c.nodeBareMs), ""],
    ...c.timings.map((t): [string, string, string] => [
      `cli: \`${t.command}\`, ms (median of ${c.runs}; CPU ${n(t.cpuMedianMs)} ms${c.fullStartMs[t.command] ? `; full start ${n(c.fullStartMs[t.command])} ms` : ""})`,
      n(t.medianMs),
      "<= 1,000",
    ]),
  ];
}

/** The zero-knowledge rows: circuit, ceremony, proving key, prover, verifier. */
function zkRows(z: ZkBenchResult): [string, string, string][] {
  const c = z.ceremonySec;
  return [
    [`zk: constraints of ${z.circuit} (8 classes x 4 tiers)`, n(z.constraints), "<= 32,768 (2^15)"],
    ["zk: ceremony phase 2, start (zkey new from the 2^15 phase 1), s", n(c.start, 1), ""],
    ["zk: ceremony, one carrier's contribution, s", n(c.contribute, 1), ""],
    ["zk: ceremony, verify the chain of contributions, s", n(c.verify, 1), ""],
    ["zk: ceremony, finalize with a beacon, s", n(c.finalize, 1), ""],
    ["zk: proving key, MB", n(z.provingKeyMb, 1), ""],
    [`zk: prove, warm, ms (median of ${z.prove.runs}; cold ${n(z.prove.coldMs)} ms)`, n(z.prove.warmMedianMs), "<= 3,000"],
    [`zk: prover's peak RSS, MB (${z.prove.compiled ? "the package's JavaScript" : "through ts-node"})`, n(z.prove.peakRssMb), "<= 400"],
    ["zk: verifyProof gas (a transaction calling it)", n(z.verifyProofGas), "<= 250,000"],
  ];
}

/**
 * v1's gas, from BENCHMARKS.md as main had it (2026-11-26) before confidential settlement: gas is exact, so
 * these stand as measured. Keys are those of {@link gasRows}; v1's file has no figure where a key is missing.
 */
export const V1_GAS: Record<string, number> = {
  "submitBatch 1": 90_509,
  "submitBatch 1000": 93_615,
  "submitBatch 100000": 93_651,
  "submitBatch 1000000": 93_723,
  "submitBatch first": 107_609,
  perDevice: 78_541,
  settleNetted: 68_861,
  settleOne: 70_861,
};

/** The gas of settlement v2, step by step: [key, what, v2 gas]. */
export function gasRows(g: NonNullable<BenchResults["gas"]>): [string, string, number | undefined][] {
  const out: [string, string, number | undefined][] = [];
  const s = g.settlement;
  const l = g.ledger;
  if (s) {
    out.push([
      "propose",
      `RoamingAgreements.propose, sealed terms (${s.ratePlans} plans, ${s.sealedTermsBytes} bytes sealed)`,
      s.agreementPropose,
    ]);
    out.push(["accept", "RoamingAgreements.accept (re-states the commitment)", s.agreementAccept]);
  }
  for (const [size, gas] of Object.entries(g.batchGas))
    out.push([`submitBatch ${size}`, `submitBatch, ${n(Number(size))} record(s) (header only)`, gas]);
  out.push(["submitBatch first", "submitBatch, the first of its period (1 record)", g.firstOfPeriodGas]);
  if (l) {
    for (const [kind, m] of [
      ["acceptBatches", l.accept],
      ["rejectBatches", l.reject],
      ["expireBatches", l.expire],
    ] as const) {
      for (const [count, gas] of Object.entries(m)) out.push([`${kind} ${count}`, `${kind} of ${count} batch(es)`, gas]);
    }
    for (const [count, gas] of Object.entries(l.dispute)) {
      out.push([`dispute ${count}`, `disputeRecords of ${count} leaf/leaves, tree depth ${l.disputeTreeDepth}`, gas]);
    }
    for (const [count, gas] of Object.entries(l.closePeriod))
      out.push([`close ${count}`, `closePeriod after ${n(Number(count))} batch(es)`, gas]);
  }
  if (s) {
    out.push(["proposeInvoice", "proposeInvoice (payee-signed, sealed invoice)", s.proposeInvoice]);
    out.push(["cosignInvoice", "cosignInvoice (payer's signature)", s.cosignInvoice]);
    out.push(["closeInvoice", "closeInvoice, co-signed off chain (both signatures)", s.closeInvoice]);
    out.push(["fileClaim", "fileClaim (bond and reservation)", s.fileClaim]);
    for (const [count, gas] of Object.entries(s.openBatches)) {
      out.push([`openBatches ${count}`, `openBatches of ${count} batch(es) (${s.recordsPerBatch} records each)`, gas]);
    }
    out.push(["finishReveal", "finishReveal (terms opened and rated on chain)", s.finishReveal]);
    out.push(["settleNetted", "settle, both directions closed (netted)", s.settleNetted]);
    out.push(["settleOne", "settle, one direction (v2: solo, after the delay; v1: other invoice zero)", s.settleSolo]);
    out.push(["requestWithdrawal", "requestWithdrawal", s.requestWithdrawal]);
    out.push(["withdraw", "withdraw, after the delay", s.withdraw]);
  }
  out.push(["perDevice", "registerDevices, per device (policy clone included)", g.perDevice]);
  return out;
}

/** [what, v2, v1, v2 / v1] as text. */
function gasTable(r: BenchResults): [string, string, string, string][] {
  if (!r.gas) return [];
  return gasRows(r.gas).map(([key, what, v2]) => {
    const v1 = V1_GAS[key];
    const ratio = v1 !== undefined && v2 !== undefined ? (v2 / v1).toFixed(2) : "";
    return [what, n(v2), v1 === undefined ? "not measured" : n(v1), ratio];
  });
}

export function renderTable(r: BenchResults): string {
  const gas = gasTable(r);
  const table = [...rows(r), ...gas.map(([a, b, c, d]): [string, string, string] => [`gas: ${a}`, b, `v1 ${c}${d ? ` (x${d})` : ""}`])];
  const w0 = Math.max(...table.map((x) => x[0].length), 10);
  const w1 = Math.max(...table.map((x) => x[1].length), 8);
  const line = (a: string, b: string, c: string) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`;
  return [
    line("measure", "value", "target"),
    line("-".repeat(w0), "-".repeat(w1), "------"),
    ...table.map(([a, b, c]) => line(a, b, c)),
  ].join("\n");
}

/** What the header-only batch costs against issue 6's target of at most 1 gas per record at 100,000 records. */
function perRecordNote(r: BenchResults): string {
  const g = r.gas;
  const gas = g?.batchGas["100000"];
  if (gas === undefined) return "";
  const v1 = V1_GAS["submitBatch 100000"];
  return (
    `A batch is a header whatever its size: \`submitBatch\` of 1 and of 100,000 records cost the same (${n(g?.batchGas["1"])} and ${n(gas)} gas). ` +
    `It costs ${n(gas - v1)} gas more than v1's (the header is stored with its totals commitment, the dispute window is fixed from the agreement ` +
    `at submission), so the target of at most 1 gas per record is ${gas <= 100_000 ? "met" : "not met"} at 100,000 records ` +
    `(${n(gas / 100_000, 4)}); it is met from ${n(gas)} records a batch on.\n`
  );
}

/** How the decision service was measured (scripts/bench/serve.ts). */
const SERVE_NOTE = `- **Decision service** (scripts/bench/serve.ts, serveChild.ts): BR's \`startDecisionService\` in a process of its own
  (\`hardhat run\` on the in-process network: a fleet of 600 devices on chain, the cache then filled with synthetic
  devices up to the count shown), autocannon in the benchmark's process with 16 or 64 keep-alive connections
  asking \`GET /v1/decision\` for the fleet's IMSIs and services in turn, after a 2 s warm-up. Both share the
  machine's two cores with each other (and with whatever else runs: see the load average). The CPU rows are
  the service process's CPU time (user + system, its chain polling included) over the run divided by the
  decisions answered: what one core of the service answers at that cost, apart from the load generator's
  share. The hello-world row is a bare Fastify route in plain Node under the same load (its CPU from
  /proc), the ceiling HTTP sets here. The service runs under Hardhat, whose error reporter (Sentry) loads
  Node's \`domain\` module: its async hook and emit wrapper cost every request about 5 µs (the same route
  measured 19.9 µs a request in plain Node, 25.4 µs under \`hardhat run\`). Memory: the device table's arrays and index for
  that many random ids. Delay: a suspension sent with automine, from its receipt to the first HTTP answer that
  says \`device-suspended\`. The in-process row: the same IMSI-to-device look-ups (ids cached after the first, as
  in the service) and decisions in a loop of 1,000,000, no HTTP. Run alone with \`npm run bench -- --only serve\`.
  Where the HTTP rate stays under the target while the hello-world route is no faster, HTTP request handling on
  the machine is the limit, not the decision. The batch rows ask the standalone process \`POST /v1/decisions\`
  with bodies of 10 or 50 of the same queries in turn (JSON, built before the run): decisions/s counts each
  query, and the latency is a whole batch's, arrival to reply, so every decision in it was answered within it.
  The DecisionClient rows: that many async callers in the benchmark's process, each asking its next query
  when its last is answered, through one \`DecisionClient\` (lib/realtime/client.ts, default options: a query
  goes at once while a request slot is free, with the others of the same turn of the event loop; up to 50 a
  request; 4 requests in flight, queries asked meanwhile going together when one returns); each decision is
  timed from \`decide()\` to its answer, the wait to join a request included. The client and the load share
  the benchmark's process, on the core the service does not use.
`;

export function renderMarkdown(r: BenchResults): string {
  const table = rows(r)
    .map(([a, b, c]) => `| ${a.replace(/^ {2}/, "&nbsp;&nbsp;")} | ${b} | ${c} |`)
    .join("\n");
  return `# Benchmarks

Written by \`npm run bench\` (scripts/bench/): every number below comes from its last full run. Re-run it
to measure your machine; \`npm run bench -- --quick\` checks the harness in a few minutes (and leaves
this file alone). The raw numbers, every ingest run included, are in bench/results.json.

- Machine: ${r.machine}; ${r.machineInfo.os}
- Date: ${r.date}
- Load average when the run started: ${r.machineInfo.loadAverageAtStart.join(", ")} (the machine is shared: wall-clock rates vary with it; gas is exact)
- Duration of the run: ${r.durationSec ?? "?"} s${
    r.measured
      ? `\n- When each part was measured: ${Object.entries(r.measured)
          .map(([part, date]) => `${part} ${date}`)
          .join(", ")} (\`--only\` runs keep the other parts' figures)`
      : ""
  }

| measure | value | target |
|---|---:|---|
${table}

## Gas of confidential settlement (v2) next to v1

Receipt gasUsed of one transaction on the in-process Hardhat network, for every step of settlement v2
(docs/confidentiality.md). The v1 column is "v1 (before confidential settlement)": the figures this file
held from main's last full run (2026-11-26), exact since gas does not vary between runs; "not measured"
where v1's file has no figure for the step (v1 had no sealed terms, bulk decisions, claims, reveal or
withdrawal delay; it closed an invoice by rating the batches on chain). Every transaction measured here is
under the EIP-7825 cap of 16,777,216 gas, which the hardhat network now enforces (docs/testing.md).

${perRecordNote(r)}
| step | v2 gas | v1 (before confidential settlement) | v2 / v1 |
|---|---:|---:|---:|
${gasTable(r)
  .map(([a, b, c, d]) => `| ${a} | ${b} | ${c} | ${d} |`)
  .join("\n")}
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
- **Gas per device**: \`registerDevices\` of 1,000 devices, ${r.gas?.deviceTransactions ?? "?"} transactions of \`device:register\`'s
  default size (v1 sent all 1,000 in one transaction of ~79M gas, over today's per-transaction cap), policy
  clones included.
- **Settlement v2** (scripts/bench/ledgerGas.ts, settleGas.ts): real contracts (the Ignition module). Bulk
  decisions take made-up headers signed by the visited carrier (the ledger checks the signature, not the
  payload); disputes are of real salted leaves with positional proofs in a 70,000-record batch (depth 17);
  closePeriod after 1 and after many accepted batches; invoices, claims, reveal, settle and withdrawals go
  through lib/settlement as the tasks do, on a period of ${r.gas?.settlement?.batches ?? "?"} batches of
  ${r.gas?.settlement?.recordsPerBatch ?? "?"} records (2 records disputed). The claim path and the netted settle are each undone
  (chain snapshot) before the next step, so each is measured from the same state.
- **CLI start-up** (scripts/bench/cli.ts): \`node node_modules/.bin/hardhat <args>\` spawned and waited for, wall
  time from spawn to exit, ${r.cli?.runs ?? "?"} runs each (median), with the process's own CPU time (user + system,
  written by a \`--require\` hook as it exits: on a loaded machine, closer to what a quiet one takes), after the fast start's manifest is built
  (docs/testing.md, "How start-up works"). The read-only tasks run against anvil with RoamLedger deployed (DE
  and BR); "full start" is one run with ROAMLEDGER_CLI=full, as every command started before (ts-node, every
  plugin and task). \`npx\` adds its own start (npm's) on top.
${tapNote(r.tap)}${streamNote(r.stream)}- **Batches/s**: signed \`submitBatch\` transactions sent as fast as possible to an anvil process mining a
  block every second; batches over the time from the first send to the last receipt.
${r.serve ? SERVE_NOTE : ""}`;
}
