/**
 * The stream's record-to-flag delay: `usage:stream` runs as an operator runs it (a Hardhat process against
 * a node process, anvil with a block per transaction) on a spool folder; usage files land one after the
 * other (written as `name.tmp`, then renamed), each holding the records of devices of its own (devices
 * dealt round robin to the files), so each file's out-of-policy devices are new fraud flags. For each file:
 * the time from its rename into the spool to the first FraudFlagged event of its devices seen on chain
 * (polled every 50 ms with raw eth_getLogs), and to its first UsageBatchSubmitted event. Target: flags within 10 s.
 *
 *   npx ts-node --transpile-only scripts/bench/stream.ts [files]     (or npm run bench -- --only stream)
 */
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { JsonRpcProvider } from "ethers";
import { deployRunWorld, makeTemplate, runHardhat, startNode, type RunWorld } from "../../test/helpers/crash";
import { median } from "./util";

export interface StreamBenchResult {
  files: number;
  recordsPerFile: number;
  /** Landing of a file to the first fraud flag of its records on chain, ms, over the files that had one. */
  flagDelayMs: { median: number; max: number; samples: number[] };
  /** Landing of a file to its last batch submitted, ms. */
  batchDelayMs: { median: number; max: number };
  settleSeconds: number;
  pollSeconds: number;
}

/** The usage file's lines dealt to `count` files by device (IMSI, the second column), each with the header. */
function dealByDevice(file: string, count: number): string[] {
  const [header, ...lines] = fs.readFileSync(file, "utf8").trimEnd().split("\n");
  const fileOf = new Map<string, number>();
  const out: string[][] = Array.from({ length: count }, () => [header]);
  for (const line of lines) {
    const imsi = line.split(",")[1] ?? "";
    if (!fileOf.has(imsi)) fileOf.set(imsi, fileOf.size % count);
    out[fileOf.get(imsi) as number].push(line);
  }
  return out.map((l) => `${l.join("\n")}\n`);
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const got = await probe();
    if (got !== undefined) return got;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${ms / 1000} s`);
}

export async function measureStream(
  options: { files?: number; devices?: number; log?: (l: string) => void } = {},
): Promise<StreamBenchResult> {
  const log = options.log ?? (() => {});
  const count = options.files ?? 5;
  const node = await startNode();
  const t = await makeTemplate(Math.floor(Date.now() / 1000), { devices: options.devices ?? 200, seed: 3, fraudRate: 0.05 });
  let kill!: () => void;
  const killed = new Promise<void>((resolve) => (kill = resolve));
  let running: Promise<unknown> | undefined;
  try {
    const w = await deployRunWorld(t, { url: node.url, name: "stream-bench", fleet: true });
    const spool = path.join(w.dir, "spool");
    fs.mkdirSync(spool);
    const files = dealByDevice(t.generated.usageFile, count);
    const settleSeconds = 1;
    const pollSeconds = 0.5;
    const args = ["usage:stream", "--dir", spool, "--home", "262-01", "--settle-seconds", String(settleSeconds)];
    args.push("--poll-seconds", String(pollSeconds), "--from", String(w.from.br));
    running = runHardhat(args, { env: w.env(node.url, "br"), killWhen: killed, timeoutMs: 600_000 });
    // Ready once it holds the spool's lock (after its start-up and its reads of the keys and the member).
    await waitFor("usage:stream start", 120_000, () => (fs.existsSync(path.join(spool, ".stream", "lock")) ? true : undefined));
    const logs = logCounter(node.url, w);
    const flagSamples: number[] = [];
    const batchSamples: number[] = [];
    for (let i = 0; i < count; i++) {
      const { flag, batch } = await landAndTime(logs, spool, `cdr-${i}.csv`, files[i]);
      await waitFor(`cdr-${i}.csv in done/`, 120_000, () => (fs.existsSync(path.join(spool, "done", `cdr-${i}.csv`)) ? true : undefined));
      if (flag !== undefined) flagSamples.push(flag);
      batchSamples.push(batch);
      log(`    file ${i + 1}/${count}: first flag ${flag === undefined ? "(none in it)" : `${flag} ms`}, batches on chain ${batch} ms`);
    }
    logs.destroy();
    if (flagSamples.length === 0) throw new Error("no file held an out-of-policy record: nothing to time");
    return {
      files: count,
      recordsPerFile: Math.round(t.generated.lines / count),
      flagDelayMs: { median: median(flagSamples), max: Math.max(...flagSamples), samples: flagSamples },
      batchDelayMs: { median: median(batchSamples), max: Math.max(...batchSamples) },
      settleSeconds,
      pollSeconds,
    };
  } finally {
    kill();
    await running?.catch(() => {});
    t.cleanup();
    await node.stop();
  }
}

/**
 * How many logs of an event the node has now: a raw eth_getLogs through a provider that caches nothing (an
 * ethers provider answers a repeated request, and its block number, from a cache for a while).
 */
function logCounter(url: string, w: RunWorld) {
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true });
  const count = async (address: string, topic: string) =>
    ((await provider.send("eth_getLogs", [{ address, topics: [topic], fromBlock: "0x0", toBlock: "latest" }])) as unknown[]).length;
  const { deviceRegistry: devices, usageLedger: ledger } = w.addresses;
  return {
    flags: () => count(devices, w.reader.devices.interface.getEvent("FraudFlagged").topicHash),
    batches: () => count(ledger, w.reader.ledger.interface.getEvent("UsageBatchSubmitted").topicHash),
    destroy: () => provider.destroy(),
  };
}

/** Drops a file into the spool and times its first fraud flag and its batches on chain (wall clock, from the rename). */
async function landAndTime(
  logs: ReturnType<typeof logCounter>,
  spool: string,
  name: string,
  text: string,
): Promise<{ flag?: number; batch: number }> {
  const flagsBefore = await logs.flags();
  const batchesBefore = await logs.batches();
  fs.writeFileSync(path.join(spool, `${name}.tmp`), text);
  fs.renameSync(path.join(spool, `${name}.tmp`), path.join(spool, name));
  const landed = Date.now();
  let flag: number | undefined;
  const batch = await waitFor(`${name} moved to done/`, 120_000, async () => {
    if (flag === undefined && (await logs.flags()) > flagsBefore) flag = Date.now() - landed;
    return (await logs.batches()) > batchesBefore ? Date.now() - landed : undefined;
  });
  if (flag === undefined && (await logs.flags()) > flagsBefore) flag = batch;
  return { flag, batch };
}

if (require.main === module) {
  const files = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
  measureStream({ files, log: (l) => process.stdout.write(`${l}\n`) }).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.exit(0);
    },
    (error: Error) => {
      process.stderr.write(`Error: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
