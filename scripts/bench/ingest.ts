import { DEFAULT_REGISTER_BATCH } from "../../lib/devices/registration";
import fs from "node:fs";
import path from "node:path";
import { Keystore } from "../../lib/keys/keystore";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { LeafHasher, RECORD_BYTES } from "../../lib/usage/leaf";
import { openPayload } from "../../lib/usage/payload";
import type { IngestSummary } from "../../lib/usage/ingest";
import { type Hex, hexToBytes } from "../../lib/util/hex";
import { PLMN } from "../../test/helpers/fixtures";
import {
  deployRunWorld,
  ingestArgs,
  makeTemplate,
  registerArgs,
  runHardhat,
  type CrashNode,
  type CrashTemplate,
  type RunWorld,
} from "../../test/helpers/crash";
import { rpc } from "../../test/helpers/node";
import { median, type Step } from "./util";

/** One `usage:ingest` run as the summary file of the command reports it. */
export interface IngestRun {
  accepted: number;
  lines: number;
  batches: number;
  processingMs: number;
  recordsPerSec: number;
  chainMs: number;
  cpuMs: number;
  peakRssMb: number;
}

export interface IngestWorldOf {
  t: CrashTemplate;
  w: RunWorld;
  fileBytes: number;
  prepareMs: number;
}

/**
 * A usage file of about `records` records (usage:generate's fleet of meters, trackers and drones, with
 * its malformed lines and out-of-policy devices) and a deployment on `node` where the home carrier has
 * registered that fleet: what `usage:ingest` needs, as a carrier has it.
 */
export async function ingestWorld(node: CrashNode, records: number, step: Step): Promise<IngestWorldOf> {
  const started = Date.now();
  const latest = (await rpc<{ timestamp: string }>(node.url, "eth_getBlockByNumber", ["latest", false])).timestamp;
  const t = await step(`generate ~${records.toLocaleString("en-US")} records`, () => makeTemplate(Number(latest), { records, seed: 2026 }));
  const w = await step("deploy", () => deployRunWorld(t, { url: node.url, name: `bench-${records}`, fleet: false }));
  await step(`device:register ${t.generated.devices.toLocaleString("en-US")} devices`, async () => {
    // As an operator registers a fleet: the command, which resumes where a failed run stopped.
    for (let attempt = 1; ; attempt++) {
      const run = await runHardhat(registerArgs(w, DEFAULT_REGISTER_BATCH), { env: w.env(node.url, "de"), timeoutMs: 30 * 60_000 });
      if (run.code === 0) return;
      if (attempt === 3) throw new Error(`device:register failed ${attempt} times; the last said:\n${run.stderr}`);
      process.stdout.write(`    device:register failed (${run.stderr.trim().split("\n")[0]}); running it again\n`);
    }
  });
  return { t, w, fileBytes: fs.statSync(w.usageFile).size, prepareMs: Date.now() - started };
}

/**
 * Runs `usage:ingest` as an operator runs it (a `hardhat` process against the node), each time with a
 * fresh copy of the visited carrier's local state and payload store, so each run does the whole work;
 * the batches are on-chain after the first run, so later runs send nothing: the throughput the command
 * reports excludes chain time in any case (device reads and fraud flags are taken off, see
 * lib/usage/ingest/). Extra environment (e.g. ROAMLEDGER_SEAL_THREAD) goes to the command.
 */
export async function runIngest(
  x: IngestWorldOf,
  node: CrashNode,
  o: { label: string; env?: Record<string, string>; log?: (line: string) => void; timeoutMs?: number },
): Promise<IngestRun & { attempts: number }> {
  const { label, env: extraEnv = {}, log = () => {}, timeoutMs = 30 * 60_000 } = o;
  const dir = fs.mkdtempSync(path.join(x.w.dir, `run-${label}-`));
  const home = path.join(dir, "home-br");
  const store = path.join(dir, "store");
  fs.cpSync(x.t.homeBr, home, { recursive: true });
  const summaryFile = path.join(dir, "summary.json");
  let attempts = 0;
  for (;;) {
    attempts++;
    const run = await runHardhat([...ingestArgs(x.t, x.w, 100_000), "--summary", summaryFile], {
      env: { ...x.w.env(node.url, "br"), ROAMLEDGER_HOME: home, ROAMLEDGER_STORE: store, ROAMLEDGER_QUIET: "0", ...extraEnv },
      timeoutMs,
    });
    if (run.code === 0) break;
    const said = `${run.stderr.trim()}\n--- its last output:\n${run.stdout.slice(-1500)}\n--- the node's last output:\n${node.output().slice(-1500)}`;
    // The command resumes where it stopped, as an operator would run it again; a run that failed while
    // processing does all of it again, so the figures stay those of one whole pass.
    const how = run.signal
      ? `was killed (${run.signal}) after ${Math.round(run.ms / 1000)} s, the time limit being ${Math.round(timeoutMs / 1000)} s`
      : `failed (exit code ${run.code})`;
    if (attempts === 2 || !/chain node/.test(run.stderr)) throw new Error(`usage:ingest ${how}:\n${said}`);
    log(`    usage:ingest lost the node (run again, as an operator would):\n${said.replace(/^/gm, "      ")}`);
  }
  const s = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as IngestSummary;
  lastRun.set(x, { home, store });
  return {
    attempts,
    accepted: s.accepted,
    lines: s.lines,
    batches: s.batches.length,
    processingMs: s.processingMs,
    recordsPerSec: s.recordsPerSec,
    chainMs: s.chainMs ?? 0,
    cpuMs: s.processingCpuMs ?? 0,
    peakRssMb: s.peakRssMb ?? 0,
  };
}

const lastRun = new WeakMap<IngestWorldOf, { home: string; store: string }>();

/**
 * The raw keccak256 rate of this machine on the same leaves: the packed records of the batches the last
 * run sealed (opened from its store with the pairwise key), each batch's salted with its totals salt, hashed one by one with hash-wasm as the
 * ingest does, `repeats` times; the median rate.
 */
export async function keccakOnSameLeaves(x: IngestWorldOf, repeats: number): Promise<{ leaves: number; leavesPerSec: number }> {
  const last = lastRun.get(x);
  if (!last) throw new Error("runIngest first");
  const ks = new Keystore(last.home);
  const pairKey = pairwiseKey({
    myPrivateKey: ks.ensureEncryptionKey("724-05").privateKey as Hex,
    theirPublicKey: x.t.dePublicKey,
    plmnA: PLMN.BR,
    plmnB: PLMN.DE,
  });
  const pair = { visited: PLMN.BR as Hex, home: PLMN.DE as Hex, period: x.t.period };
  const batches = fs
    .readdirSync(last.store)
    .filter((f) => f.endsWith(".bin"))
    .map((f) => openPayload(pairKey, fs.readFileSync(path.join(last.store, f)), pair))
    .map(({ records, header }) => ({ records, salt: hexToBytes(header.totalsSalt) }));
  const leaves = batches.reduce((n, b) => n + b.records.length / RECORD_BYTES, 0);
  const hasher = await LeafHasher.create();
  const rates: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = process.hrtime.bigint();
    for (const b of batches) hasher.leavesOf(b.records, b.records.length / RECORD_BYTES, b.salt);
    const ns = Number(process.hrtime.bigint() - started);
    rates.push(Math.round(leaves / (ns / 1e9)));
  }
  return { leaves, leavesPerSec: median(rates) };
}
