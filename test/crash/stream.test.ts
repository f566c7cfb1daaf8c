import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import {
  RpcRelay,
  SLOTS,
  deployRunWorld,
  envInt,
  expectSuccess,
  filesUnder,
  ingestOutcome,
  makeTemplate,
  runHardhat,
  startNode,
  within,
  type CrashTemplate,
  type RunWorld,
} from "../helpers/crash";
import { prng } from "../helpers/usage";

/**
 * `usage:stream --once` is killed with SIGKILL at random points while usage files keep landing in its
 * spool (written as `name.tmp`, then renamed, as the mediation does), then run again until drained: the
 * chain (batches, fraud flags), BR's local usage state, the payload store and the spool (done/, rejected/,
 * the rejects files, the stream's history) must end exactly as after one clean run that found every file
 * there: no file counted twice or skipped.
 *
 * ROAMLEDGER_STREAM_CRASH_POINTS kill points (4 by default, to keep `npm test` short: about a minute on a
 * 2-core machine; 20 or more for a long soak), seeded with ROAMLEDGER_CRASH_SEED.
 */
/** Runs trials 0..count-1, each relay (and its slot) one at a time, the relays side by side. */
async function trials(relays: RpcRelay[], count: number, trial: (i: number, relay: RpcRelay, slot: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    relays.map(async (relay, slot) => {
      while (next < count) await trial(next++, relay, slot);
    }),
  );
}

describe("crash: usage:stream killed at random points while files keep arriving", function () {
  const POINTS = envInt("ROAMLEDGER_STREAM_CRASH_POINTS", 4);
  const SEED = envInt("ROAMLEDGER_CRASH_SEED", 20_261_126);
  const JOBS = Math.min(SLOTS, Math.max(1, envInt("ROAMLEDGER_CRASH_JOBS", 2)));
  const FILES = 6;
  let t: CrashTemplate;
  let files: string[];

  before(async function () {
    this.timeout(120_000);
    t = await makeTemplate(Math.floor(Date.now() / 1000), { devices: 60, seed: 9 });
    const [header, ...lines] = fs.readFileSync(t.generated.usageFile, "utf8").trimEnd().split("\n");
    const size = Math.ceil(lines.length / FILES);
    files = Array.from({ length: FILES }, (_, i) => `${[header, ...lines.slice(i * size, (i + 1) * size)].join("\n")}\n`);
  });

  after(() => t?.cleanup());

  const spoolOf = (w: RunWorld) => path.join(w.dir, "spool");
  const args = (w: RunWorld, more: string[] = []) => [
    "usage:stream",
    ...more,
    "--dir",
    spoolOf(w),
    "--home",
    "262-01",
    "--batch-records",
    "100",
    "--settle-seconds",
    "0",
    "--poll-seconds",
    "0.1",
    "--once",
    "--from",
    String(w.from.br),
  ];

  /** Drops file i as the mediation does: `name.tmp`, its mtime set to keep the landing order, renamed. */
  function drop(w: RunWorld, i: number): void {
    const name = `cdr-${String(i).padStart(3, "0")}.csv`;
    const temp = path.join(spoolOf(w), `${name}.tmp`);
    fs.writeFileSync(temp, files[i]);
    const at = new Date(Date.UTC(2026, 0, 1) + i * 1000);
    fs.utimesSync(temp, at, at);
    fs.renameSync(temp, path.join(spoolOf(w), name));
  }

  /** The chain and local state, and the spool as the stream leaves it (history without its wall-clock times). */
  async function outcome(w: RunWorld) {
    const spool = spoolOf(w);
    const stream = path.join(spool, ".stream");
    const history = fs
      .readFileSync(path.join(stream, "history.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const { takenAt: _t, parts, ...rest } = JSON.parse(l);
        return { ...rest, parts: parts.map(({ runKey: _k, ...p }: Record<string, unknown>) => p) };
      });
    const read = (f: string) => fs.readFileSync(path.join(spool, f)).toString("hex");
    return {
      ...(await ingestOutcome(t, w)),
      spool: {
        top: fs.readdirSync(spool).sort(),
        done: filesUnder(path.join(spool, "done")).map((f) => [f, read(path.join("done", f))]),
        rejected: filesUnder(path.join(spool, "rejected")),
        work: filesUnder(path.join(stream, "work")),
        active: JSON.parse(fs.readFileSync(path.join(stream, "journal.json"), "utf8")).active ?? null,
        history,
      },
    };
  }

  it(`${FILES} files landing one after the other: SIGKILL at random points, run again, same chain, state and spool as one clean run`, async function () {
    this.timeout(900_000);
    const node = await startNode();
    const relays = await Promise.all(Array.from({ length: JOBS }, () => RpcRelay.start(node.url)));
    try {
      const world = (name: string, slot: number) =>
        within(deployRunWorld(t, { url: node.url, name, fleet: true, slot }), 120_000, `deploying ${name}`);
      const clean = await world("stream-clean", 0);
      fs.mkdirSync(spoolOf(clean));
      for (let i = 0; i < FILES; i++) drop(clean, i);
      const cleanRun = await runHardhat(args(clean), { env: clean.env(relays[0].url, "br"), relay: relays[0] });
      expectSuccess(cleanRun, "usage:stream (clean run)");
      const expected = await outcome(clean);
      expect(expected.spool.done.filter(([f]) => /^cdr-\d+\.csv$/.test(f as string))).to.have.length(FILES);
      expect(expected.chain.flagged.length, "fraud flags in the month").to.be.greaterThan(0);

      const active = cleanRun.activeMs as number;
      const random = prng(SEED ^ 0x5eed);
      const delays = Array.from({ length: POINTS }, () => Math.floor(random() * active));
      // Files land over the span of a whole run (Hardhat's start-up included).
      const gap = Math.ceil(cleanRun.ms / FILES);
      console.log(
        `      clean run ${cleanRun.ms} ms (${active} ms after its first request); a file every ${gap} ms; SIGKILL after ${delays.join(", ")} ms`,
      );
      let killed = 0;
      const trial = async (i: number, relay: RpcRelay, slot: number) => {
        const w = await world(`stream-${i}`, slot);
        fs.mkdirSync(spoolOf(w));
        drop(w, 0);
        let landed = 1;
        const feeder = setInterval(() => {
          if (landed < FILES) drop(w, landed++);
        }, gap);
        const env = w.env(relay.url, "br");
        try {
          const first = await runHardhat(args(w), { env, relay, killAfterMs: delays[i], timeoutMs: 120_000 });
          if (first.signal === "SIGKILL") killed++;
          else expectSuccess(first, `usage:stream #${i} (not killed)`);
        } finally {
          clearInterval(feeder);
        }
        while (landed < FILES) drop(w, landed++);
        const again = await runHardhat(args(w), { env, relay, timeoutMs: 120_000 });
        expectSuccess(again, `usage:stream #${i}: run again after a SIGKILL at ${delays[i]} ms`);
        const got = await outcome(w);
        expect(got, `usage:stream #${i}: SIGKILL at ${delays[i]} ms, run again: differs from the clean run`).to.deep.equal(expected);
        fs.rmSync(w.dir, { recursive: true, force: true });
      };
      await trials(relays, delays.length, trial);
      expect(killed, "runs actually killed").to.be.at.least(Math.ceil(POINTS / 2));
    } finally {
      await Promise.all(relays.map((r) => r.close()));
      await node.stop();
    }
  });

  it(`--batch-seconds: ${FILES} files in the spool go in one run; SIGKILL at random points, run again, same chain, state and spool as one clean run`, async function () {
    this.timeout(900_000);
    const grouped = ["--batch-seconds", "60"];
    const node = await startNode();
    const relays = await Promise.all(Array.from({ length: JOBS }, () => RpcRelay.start(node.url)));
    try {
      const world = (name: string, slot: number) =>
        within(deployRunWorld(t, { url: node.url, name, fleet: true, slot }), 120_000, `deploying ${name}`);
      const start = async (name: string, slot: number) => {
        const w = await world(name, slot);
        fs.mkdirSync(spoolOf(w));
        for (let i = 0; i < FILES; i++) drop(w, i);
        return w;
      };
      const clean = await start("group-clean", 0);
      const cleanRun = await runHardhat(args(clean, grouped), { env: clean.env(relays[0].url, "br"), relay: relays[0] });
      expectSuccess(cleanRun, "usage:stream --batch-seconds (clean run)");
      const expected = await outcome(clean);
      expect(expected.spool.history, "one run").to.have.length(1);
      expect(expected.spool.history[0].files).to.have.length(FILES);
      const random = prng(SEED ^ 0x6709);
      const delays = Array.from({ length: POINTS }, () => Math.floor(random() * (cleanRun.activeMs as number)));
      console.log(`      clean run ${cleanRun.ms} ms; SIGKILL after ${delays.join(", ")} ms`);
      let killed = 0;
      const trial = async (i: number, relay: RpcRelay, slot: number) => {
        const w = await start(`group-${i}`, slot);
        const env = w.env(relay.url, "br");
        const first = await runHardhat(args(w, grouped), { env, relay, killAfterMs: delays[i], timeoutMs: 120_000 });
        if (first.signal === "SIGKILL") killed++;
        else expectSuccess(first, `usage:stream --batch-seconds #${i} (not killed)`);
        const again = await runHardhat(args(w, grouped), { env, relay, timeoutMs: 120_000 });
        expectSuccess(again, `usage:stream --batch-seconds #${i}: run again after a SIGKILL at ${delays[i]} ms`);
        expect(await outcome(w), `#${i}: SIGKILL at ${delays[i]} ms, run again: differs from the clean run`).to.deep.equal(expected);
        fs.rmSync(w.dir, { recursive: true, force: true });
      };
      await trials(relays, delays.length, trial);
      expect(killed, "runs actually killed").to.be.at.least(Math.ceil(POINTS / 2));
    } finally {
      await Promise.all(relays.map((r) => r.close()));
      await node.stop();
    }
  });
});
