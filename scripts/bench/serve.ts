/**
 * The decision service under load (`npm run bench -- --only serve`, or alone:
 * `npx ts-node --transpile-only scripts/bench/serve.ts [--quick]`): the service runs in a process of its own
 * (scripts/bench/serveChild.ts on the in-process Hardhat network, its cache filled to a million devices),
 * autocannon in this one, keep-alive connections asking GET /v1/decision for the fleet's IMSIs in turn.
 * Reports decisions/s and latency percentiles, the device table's memory per million devices (a synthetic
 * fill in this process, the heap measured around it), and the delay from a suspension's block to the
 * answer that reflects it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { DecisionClient, type DecisionQuery } from "../../lib/realtime/client";
import { DeviceTable } from "../../lib/realtime/deviceTable";
import { UsageCounters } from "../../lib/realtime/usageCounters";
import { loadState, newDeviceState, saveState, type DeviceState } from "../../lib/usage/state";
import { median } from "./util";

/** What this bench uses of autocannon (it ships no type declarations). */
interface LoadResult {
  requests: { total: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    pipelining: number;
    duration: number;
    requests: {
      setupRequest: (req: { path: string }) => { path: string; method?: string; body?: string; headers?: Record<string, string> };
    }[];
  },
  done: (err: Error | null, result: LoadResult) => void,
) => unknown;
const autocannon = require("autocannon") as Autocannon;

export interface ServeBenchResult {
  devices: number;
  durationSec: number;
  runs: {
    connections: number;
    pipelining: number;
    /** Queries in each POST /v1/decisions (absent: GET /v1/decision, one a request). Latencies are then a batch's. */
    batch?: number;
    decisionsPerSec: number;
    p50Ms: number;
    p90Ms: number;
    p99Ms: number;
    maxMs: number;
    errors: number;
    non2xx: number;
    /**
     * The service process's CPU time per decision in the run (user + system, with its chain polling), and
     * the decisions one core of the service would answer at that cost: its capacity apart from the share
     * of the machine the load generator takes.
     */
    serverCpuUsPerDecision: number;
    perServerCore: number;
  }[];
  /**
   * The service as `serve` runs it on a node reached over JSON-RPC: a process of its own without Hardhat
   * (lib/realtime/standalone.ts), 64 connections: decisions/s, latency and its CPU per decision.
   */
  standalone?: ServeBenchResult["runs"][number];
  /** The same process asked POST /v1/decisions: batches of queries (a burst of attaches), decisions/s. */
  standaloneBatches?: ServeBenchResult["runs"];
  /** The same process asked through the SDK's DecisionClient (lib/realtime/client.ts) by concurrent callers. */
  clientRuns?: ClientRun[];
  /** Decisions/s in the service's process without HTTP (IMSI to device and decision), one core. */
  inProcessPerSec: number;
  /** A Fastify hello-world route under the same load, for scale: what HTTP alone costs on this machine. */
  helloWorldPerSec: number;
  /** Its process's CPU per request, µs (to set beside the service's per decision). */
  helloWorldCpuUs?: number;
  memory: { devices: number; tableBytesPerDevice: number; heapBytesPerDevice: number; mbPerMillion: number };
  changeToAnswerMs: { samples: number[]; median: number; max: number; pollMs: number };
  /** capsLeft's usage counters of `devices` devices read again: in the reading thread, the service's worst stall meanwhile, and the same parse on the service's thread. */
  counters?: { devices: number; fileMb: number; threadReadMs: number; loopMaxStallMs: number; sameThreadParseMs: number };
}

/**
 * The usage counters of `n` devices (one pair's state.json, as usage:ingest commits it) read again by the
 * service's UsageCounters: how long the reading thread takes, the event loop's longest stall meanwhile (what
 * an answer may wait), and, for scale, the same parse on the service's own thread.
 */
export async function measureCountersReload(n: number): Promise<NonNullable<ServeBenchResult["counters"]>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "serve-counters-"));
  try {
    const state = new Map<string, DeviceState>();
    for (let i = 0; i < n; i++) {
      const s = newDeviceState();
      Object.assign(s, {
        capDay: 20_000,
        capPeriod: 202_612,
        dayBytes: i % 10_000,
        monthBytes: i,
        dayEvents: i % 50,
        monthEvents: i % 1000,
      });
      state.set(`0x${randomBytes(32).toString("hex")}`, s);
    }
    const file = path.join(root, "usage", "724-05_262-01", "state.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    saveState(file, state);
    state.clear();
    const counters = new UsageCounters(root, "724-05");
    await counters.refresh(); // starts the thread (its start-up is not a reload)
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const started = performance.now();
    await counters.refresh();
    const threadReadMs = Math.round(performance.now() - started);
    loop.disable();
    await counters.close();
    const parseStarted = performance.now();
    loadState(file);
    return {
      devices: n,
      fileMb: Math.round(fs.statSync(file).size / 1e5) / 10,
      threadReadMs,
      loopMaxStallMs: Math.round(loop.max / 1e5) / 10,
      sameThreadParseMs: Math.round(performance.now() - parseStarted),
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The device table's memory for `n` synthetic devices: its arrays, and the process's heap + array buffers around the fill. */
export function measureTableMemory(n: number): ServeBenchResult["memory"] {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const table = new DeviceTable();
  const id = new Uint8Array(32);
  for (let i = 0; i < n; i++) {
    id.set(randomBytes(32));
    table.set(table.upsert(id), { home: 0x62f210, status: 1, policyVersion: 1, policyId: 1 });
  }
  gc?.();
  const after = process.memoryUsage();
  const used = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  return {
    devices: n,
    tableBytesPerDevice: Math.round((table.byteLength() / n) * 10) / 10,
    heapBytesPerDevice: Math.round((used / n) * 10) / 10,
    mbPerMillion: Math.round((((table.byteLength() / n) * 1e6) / 2 ** 20) * 10) / 10,
  };
}

/** What a run asks: GET paths in turn, or POST /v1/decisions bodies of `batch` queries each in turn. */
type Asked = { paths: string[] } | { bodies: string[]; batch: number };

function load(url: string, asked: Asked, connections: number, pipelining: number, duration: number): Promise<LoadResult> {
  let next = 0;
  const json = { "content-type": "application/json" };
  const setupRequest =
    "paths" in asked
      ? (req: { path: string }) => ({ ...req, path: asked.paths[next++ % asked.paths.length] })
      : (req: { path: string }) => ({
          ...req,
          path: "/v1/decisions",
          method: "POST",
          headers: json,
          body: asked.bodies[next++ % asked.bodies.length],
        });
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, pipelining, duration, requests: [{ setupRequest }] }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/** A process's CPU time (user + system) in microseconds, from /proc (Linux); NaN elsewhere. */
function processCpuUs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

/**
 * Requests/s of a Fastify hello-world route in a process of its own, 64 connections (a scale for the
 * figures), and that process's CPU time per request.
 */
async function helloWorld(durationSec: number): Promise<{ perSec: number; cpuUsPerRequest: number }> {
  const code = `const app=require("fastify")();app.get("/",(q,r)=>{r.send({hello:"world"})});app.listen({port:0}).then(u=>console.log(u))`;
  const child = spawn(process.execPath, ["-e", code], { cwd: path.resolve(__dirname, "..", ".."), stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()));
      child.once("exit", () => reject(new Error("the hello-world server ended")));
    });
    await load(url, { paths: ["/"] }, 64, 1, 2); // warm-up
    const before = processCpuUs(child.pid as number);
    const r = await load(url, { paths: ["/"] }, 64, 1, durationSec);
    const cpu = processCpuUs(child.pid as number) - before;
    return { perSec: Math.round(r.requests.total / durationSec), cpuUsPerRequest: Math.round((cpu / r.requests.total) * 10) / 10 };
  } finally {
    child.kill();
  }
}

type ServeRun = ServeBenchResult["runs"][number];

/** The next line of `input` that starts with `prefix`, as its words after the prefix. */
function lineReader(input: NodeJS.ReadableStream): (prefix: string) => Promise<string[]> {
  const iterator = readline.createInterface({ input })[Symbol.asyncIterator]();
  return async (prefix) => {
    for (;;) {
      const { value, done } = await iterator.next();
      if (done) throw new Error(`the service process ended before ${prefix}`);
      if (value.startsWith(prefix)) return value.split(" ").slice(1);
    }
  };
}

/** One load run after a 2 s warm-up, with the service's CPU time (`cpuUs`, microseconds) before and after it. */
async function measuredRun(
  url: string,
  asked: Asked,
  o: { connections: number; pipelining: number; durationSec: number; cpuUs: () => Promise<number> },
): Promise<ServeRun> {
  await load(url, asked, o.connections, o.pipelining, 2); // warm-up
  const before = await o.cpuUs();
  const r = await load(url, asked, o.connections, o.pipelining, o.durationSec);
  const batch = "batch" in asked ? asked.batch : 1;
  const decisions = r.requests.total * batch;
  const perDecision = ((await o.cpuUs()) - before) / decisions;
  return {
    connections: o.connections,
    pipelining: o.pipelining,
    ...(batch > 1 ? { batch } : {}),
    decisionsPerSec: Math.round(decisions / o.durationSec),
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    errors: r.errors,
    non2xx: r.non2xx,
    serverCpuUsPerDecision: Math.round(perDecision * 10) / 10,
    perServerCore: Math.round(1e6 / perDecision),
  };
}

/** (connections, queries a batch) of the POST /v1/decisions runs. */
const BATCH_RUNS = (process.env.SERVE_BENCH_BATCHES ?? "2x10,4x10,4x50")
  .split(",")
  .map((run) => run.split("x").map(Number) as [number, number]);

/** Concurrent callers of the DecisionClient runs (each asks its next query when its last is answered). */
const CLIENT_CALLERS = (process.env.SERVE_BENCH_CALLERS ?? "16,32,64,256").split(",").map(Number);

/** A DecisionClient run: decisions/s, each decision's latency (decide() to its answer), requests made. */
export interface ClientRun {
  callers: number;
  decisionsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Queries a request on average. */
  meanBatch: number;
  failed: number;
  serverCpuUsPerDecision: number;
}

/** The POST /v1/decisions runs of BATCH_RUNS against `url`. */
async function batchRuns(
  url: string,
  queries: { imsi: string; service: string; home: string }[],
  durationSec: number,
  cpuUs: () => Promise<number>,
  log: (line: string) => void,
): Promise<ServeRun[]> {
  const out: ServeRun[] = [];
  for (const [connections, batch] of BATCH_RUNS) {
    const asked = { bodies: batchBodies(queries, batch), batch };
    out.push(await measuredRun(url, asked, { connections, pipelining: 1, durationSec, cpuUs }));
    log(`    standalone, POST /v1/decisions of ${batch}, ${connections} connections: ${describeRun(out.at(-1) as ServeRun)}`);
  }
  return out;
}

/**
 * `callers` loops in this process each asking the service through one DecisionClient (default options) for
 * the queries in turn, for `durationSec` after a 2 s warm-up: each decision timed from decide() to its answer.
 */
async function clientRun(
  url: string,
  queries: { imsi: string; service: string; home: string }[],
  callers: number,
  durationSec: number,
  cpuUs: () => Promise<number>,
): Promise<ClientRun> {
  const client = new DecisionClient({ url });
  const ask = async (until: number, times: number[] | undefined) => {
    let next = Math.floor(Math.random() * queries.length);
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          await client.decide(queries[next++ % queries.length] as DecisionQuery).catch(() => {});
          times?.push(performance.now() - started);
        }
      }),
    );
  };
  try {
    await ask(performance.now() + 2000, undefined);
    const before = { cpu: await cpuUs(), ...client.stats };
    const times: number[] = [];
    await ask(performance.now() + durationSec * 1000, times);
    const answered = client.stats.answered - before.answered;
    times.sort((a, b) => a - b);
    const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 100) / 100;
    return {
      callers,
      decisionsPerSec: Math.round(answered / durationSec),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: Math.round((times.at(-1) ?? 0) * 100) / 100,
      meanBatch: Math.round((answered / (client.stats.requests - before.requests)) * 10) / 10,
      failed: client.stats.failed - before.failed,
      serverCpuUsPerDecision: Math.round((((await cpuUs()) - before.cpu) / answered) * 10) / 10,
    };
  } finally {
    await client.close();
  }
}

function describeClientRun(r: ClientRun): string {
  return `${r.decisionsPerSec.toLocaleString("en-US")} decisions/s, each p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; ${r.meanBatch} queries a request; the service's CPU ${r.serverCpuUsPerDecision} µs a decision; ${r.failed} failed`;
}

/** Bodies of `batch` queries each, the queries in turn. */
function batchBodies(queries: { imsi: string; service: string; home: string }[], batch: number): string[] {
  const bodies: string[] = [];
  for (let i = 0; i + batch <= queries.length; i += batch) bodies.push(JSON.stringify({ queries: queries.slice(i, i + batch) }));
  return bodies;
}

function describeRun(r: ServeRun): string {
  return `${r.decisionsPerSec.toLocaleString("en-US")} decisions/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; the service's CPU ${r.serverCpuUsPerDecision} µs a decision (${r.perServerCore.toLocaleString("en-US")}/s per core)`;
}

export async function measureServe(options: { quick: boolean; log: (line: string) => void }): Promise<ServeBenchResult> {
  const { log } = options;
  const devices = options.quick ? 100_000 : 1_000_000;
  const durationSec = options.quick ? 5 : 15;
  const pollMs = 100;
  const root = path.resolve(__dirname, "..", "..");
  const child = spawn(process.execPath, [path.join(root, "node_modules", ".bin", "hardhat"), "run", "scripts/bench/serveChild.ts"], {
    cwd: root,
    env: { ...process.env, SERVE_BENCH_DEVICES: String(devices), SERVE_BENCH_POLL_MS: String(pollMs), ROAMLEDGER_QUIET: "1" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const nextLine = lineReader(child.stdout);
  try {
    const [url, file, size] = await nextLine("READY");
    log(`    service at ${url}, ${Number(size).toLocaleString("en-US")} devices in its cache`);
    const imsis = JSON.parse(fs.readFileSync(file, "utf8")) as { imsi: string; home: string }[];
    const paths = imsis.flatMap((d) => ["data", "sms", "voice"].map((s) => `/v1/decision?imsi=${d.imsi}&service=${s}&home=${d.home}`));
    const queries = imsis.flatMap((d) => ["data", "sms", "voice"].map((service) => ({ imsi: d.imsi, service, home: d.home })));
    const cpuOfService = async () => {
      child.stdin.write("CPU\n");
      return Number((await nextLine("CPU"))[0]);
    };
    const runs: ServeBenchResult["runs"] = [];
    for (const [connections, pipelining] of [
      [16, 1],
      [64, 1],
      [64, 8],
    ]) {
      runs.push(await measuredRun(url, { paths }, { connections, pipelining, durationSec, cpuUs: cpuOfService }));
      log(`    ${connections} connections, pipelining ${pipelining}: ${describeRun(runs.at(-1) as ServeRun)}`);
    }
    child.stdin.write("STANDALONE\n");
    const [standaloneUrl, standalonePid] = await nextLine("STANDALONE");
    const cpuUs = async () => processCpuUs(Number(standalonePid));
    const standalone = await measuredRun(standaloneUrl, { paths }, { connections: 64, pipelining: 1, durationSec, cpuUs });
    log(`    standalone process (no Hardhat), 64 connections: ${describeRun(standalone)}`);
    const standaloneBatches = await batchRuns(standaloneUrl, queries, durationSec, cpuUs, log);
    const clientRuns: ClientRun[] = [];
    for (const callers of CLIENT_CALLERS) {
      clientRuns.push(await clientRun(standaloneUrl, queries, callers, durationSec, cpuUs));
      log(`    standalone, DecisionClient in this process, ${callers} callers: ${describeClientRun(clientRuns.at(-1) as ClientRun)}`);
    }
    child.stdin.write("STANDALONE_STOP\n");
    await nextLine("STANDALONE_STOPPED");
    child.stdin.write("INPROC\n");
    const inProcessPerSec = Number((await nextLine("INPROC"))[0]);
    log(`    in the service's process, without HTTP: ${inProcessPerSec.toLocaleString("en-US")} decisions/s`);
    child.stdin.write("DELAY 10\n");
    const samples = JSON.parse((await nextLine("DELAYS"))[0]) as number[];
    child.stdin.write("STOP\n");
    const memory = measureTableMemory(devices);
    const counters = await measureCountersReload(devices);
    log(
      `    capsLeft counters of ${counters.devices.toLocaleString("en-US")} devices (${counters.fileMb} MB) read again in ${counters.threadReadMs} ms in their thread; longest stall of the service's loop meanwhile ${counters.loopMaxStallMs} ms (the same parse on its thread: ${counters.sameThreadParseMs} ms)`,
    );
    const hello = await helloWorld(durationSec);
    const helloWorldPerSec = hello.perSec;
    log(
      `    Fastify hello world under the same load: ${helloWorldPerSec.toLocaleString("en-US")} requests/s, its CPU ${hello.cpuUsPerRequest} µs a request`,
    );
    return {
      devices,
      inProcessPerSec,
      helloWorldPerSec,
      helloWorldCpuUs: hello.cpuUsPerRequest,
      standalone,
      standaloneBatches,
      clientRuns,
      durationSec,
      runs,
      memory,
      counters,
      changeToAnswerMs: { samples, median: median(samples), max: Math.max(...samples), pollMs },
    };
  } finally {
    child.stdin.end();
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
  }
}

if (require.main === module) {
  measureServe({ quick: process.argv.includes("--quick"), log: (l) => console.log(l) }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
