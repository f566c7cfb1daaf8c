import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import {
  BlockProducer,
  RpcRelay,
  SLOTS,
  deployRunWorld,
  devAddress,
  pendingInPool,
  envInt,
  within,
  expectSuccess,
  ingestArgs,
  ingestOutcome,
  makeTemplate,
  registerArgs,
  registerOutcome,
  runHardhat,
  startNode,
  type CrashNode,
  type CrashTemplate,
  type RunWorld,
} from "../helpers/crash";
import { PLMN } from "../helpers/fixtures";
import { prng } from "../helpers/usage";

/**
 * `usage:ingest` and `device:register` are killed with SIGKILL at random points of a run and run again
 * each time; the chain and the local files must end exactly as after one clean run: nothing lost,
 * nothing twice.
 *
 * The kill points: a clean run is timed first, from its first request to the node (Hardhat's start-up
 * before it touches nothing) to its exit; each crashed run is killed after a delay drawn uniformly from
 * that span (seeded: ROAMLEDGER_CRASH_SEED, printed with the delays; ROAMLEDGER_CRASH_POINTS kill points
 * per command, 20 by default). Each run has its own deployment and its own copies of the key stores,
 * store and input files (test/helpers/crash.ts), so every comparison is against the clean run's own, and
 * ROAMLEDGER_CRASH_JOBS trials (2 by default) run side by side on one anvil per command.
 *
 * Then each command is killed right after the node accepted one of its transactions, which the node
 * keeps in its pool, unmined, until the re-run has started: the re-run must wait for it rather than send
 * its work a second time (tasks/common.ts, waitForEarlierTransactions).
 *
 * Part of `npm test`: about 2 minutes on a 2-core machine (ROAMLEDGER_CRASH_VERBOSE=1 prints each trial).
 */
describe("crash: commands killed at random points and run again", function () {
  const POINTS = envInt("ROAMLEDGER_CRASH_POINTS", 20);
  const SEED = envInt("ROAMLEDGER_CRASH_SEED", 20_261_126);
  /** Trials run at a time (each a deployment of its own): 2 by default, for a 2-core machine. */
  const JOBS = Math.min(SLOTS, Math.max(1, envInt("ROAMLEDGER_CRASH_JOBS", 2)));
  const DEVICES = 150;
  /** Records per batch: 7,784 records make 52 batches, so a good share of the kills land while they are sent. */
  const BATCH_SIZE = 150;
  let t: CrashTemplate;
  /** What a clean run of each command leaves, once the random-point trials have established it. */
  const cleanOutcomes = new Map<string, unknown>();

  before(async function () {
    this.timeout(120_000);
    // anvil's genesis takes the wall clock too: the period is the nodes' current month.
    t = await makeTemplate(Math.floor(Date.now() / 1000), { devices: DEVICES, seed: 7 });
    // One start first fills the subprocesses' transpile cache (runHardhat), so that the clean runs do
    // not all make it at once.
    expectSuccess(await runHardhat(["help"], { env: {} }), "hardhat help");
  });

  after(function () {
    t?.cleanup();
  });

  /** A label's own seed, so that one command's delays do not depend on the other's count. */
  const seedOf = (label: string) => [...label].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16_777_619) >>> 0, SEED >>> 0);

  interface Trials<T> {
    label: string;
    fleet: boolean;
    home: "de" | "br";
    args(w: RunWorld): string[];
    outcome(w: RunWorld): Promise<T>;
    /** Where the crashed run stopped, for the report. */
    phase(w: RunWorld): Promise<string>;
  }

  /** A node of its own for each command (with JOBS relays in front of it), so one's chain does not slow the other's. */
  async function killAndResume<T>(trials: Trials<T>): Promise<void> {
    const node = await startNode();
    const relays = await Promise.all(Array.from({ length: JOBS }, () => RpcRelay.start(node.url)));
    try {
      await trialsOn(node, relays, trials);
    } finally {
      await Promise.all(relays.map((r) => r.close()));
      await node.stop();
    }
  }

  async function trialsOn<T>(node: CrashNode, relays: RpcRelay[], trials: Trials<T>): Promise<void> {
    // Clean runs, JOBS side by side as the trials will run (so their timing is the trials' timing); all
    // end in the same state, the reference.
    const cleans = await Promise.all(
      relays.map(async (relay, slot) => {
        const w = await within(
          deployRunWorld(t, { url: node.url, name: `${trials.label}-clean-${slot}`, fleet: trials.fleet, slot }),
          120_000,
          "deploying a clean world",
        );
        const run = await runHardhat(trials.args(w), { env: w.env(relay.url, trials.home), relay });
        expectSuccess(run, `${trials.label} (clean run)`);
        return { run, outcome: await trials.outcome(w) };
      }),
    );
    const expected = cleans[0].outcome;
    for (const c of cleans.slice(1)) expect(differences(expected, c.outcome), "clean runs agree").to.deep.equal([]);
    cleanOutcomes.set(trials.label, expected);
    const active = Math.round(cleans.reduce((sum, c) => sum + c.run.activeMs!, 0) / cleans.length);
    const random = prng(seedOf(trials.label));
    const delays = Array.from({ length: POINTS }, () => Math.floor(random() * active));
    console.log(
      `      ${trials.label}: clean runs ${cleans.map((c) => c.run.ms).join(", ")} ms, ${active} ms on average after their ` +
        `first request; seed ${SEED}; SIGKILL after ${delays.join(", ")} ms`,
    );

    const phases = new Map<string, number>();
    const count = (phase: string) => phases.set(phase, (phases.get(phase) ?? 0) + 1);
    let killed = 0;
    const verbose = process.env.ROAMLEDGER_CRASH_VERBOSE === "1";
    const trial = async (i: number, relay: RpcRelay, slot: number) => {
      const delay = delays[i];
      const t0 = Date.now();
      const w = await within(
        deployRunWorld(t, { url: node.url, name: `${trials.label}-${i}`, fleet: trials.fleet, slot }),
        120_000,
        `deploying world #${i}`,
      );
      const deployMs = Date.now() - t0;
      const env = w.env(relay.url, trials.home);
      const first = await runHardhat(trials.args(w), { env, relay, killAfterMs: delay, timeoutMs: 90_000 });
      if (first.signal === "SIGKILL") {
        killed++;
        count(await trials.phase(w));
      } else {
        expectSuccess(first, `${trials.label} #${i} (the kill at ${delay} ms came after its end)`);
        count("after the end");
      }
      const again = await runHardhat(trials.args(w), { env, relay, timeoutMs: 90_000 });
      if (verbose)
        console.log(
          `        #${i}: world in ${deployMs} ms, killed after ${delay} ms (${first.code ?? first.signal}, ${first.ms} ms), run again in ${again.ms} ms`,
        );
      expectSuccess(again, `${trials.label} #${i}: run again after a SIGKILL at ${delay} ms`);
      const outcome = await trials.outcome(w);
      const differs = differences(expected, outcome);
      expect(differs, `${trials.label} #${i}: SIGKILL at ${delay} ms, run again: differs from the clean run`).to.deep.equal([]);
      fs.rmSync(w.dir, { recursive: true, force: true });
    };
    // JOBS trials at a time, each through its own relay (its own first-request clock), on the one node.
    let next = 0;
    await Promise.all(
      relays.map(async (relay, slot) => {
        while (next < delays.length) await trial(next++, relay, slot);
      }),
    );
    console.log(`      ${trials.label}: where the kills landed: ${[...phases].map(([p, n]) => `${p} ${n}`).join("; ")}`);
    // The delays spread over the run: most kills land before its end.
    expect(killed, "runs actually killed").to.be.at.least(Math.ceil(POINTS / 2));
  }

  /**
   * A run is killed right after the node accepted its `nth` transaction, which the node then holds in
   * its pool unmined (blocks stop, as on a consortium chain between two blocks or with slow validators)
   * until `holdMs` after the re-run's first request: the re-run starts while the killed run's transaction
   * is still pending, reads the chain without it, and must neither send what it carries a second time
   * nor collide with its nonce. Against a node of its own (manual mining, a block every 200 ms from the
   * test); compared with the clean runs of the random-point trials (with a clean run of its own when
   * run alone, e.g. with --grep).
   */
  async function killedWithTransactionInPool<T>(trials: Trials<T>, nth: number, holdMs: number): Promise<void> {
    const held = await startNode({ mining: "manual" });
    const producer = new BlockProducer(held.url, 200);
    const relay = await RpcRelay.start(held.url);
    try {
      let expected = cleanOutcomes.get(trials.label) as T | undefined;
      if (expected === undefined) {
        const clean = await within(
          deployRunWorld(t, { url: held.url, name: `${trials.label}-held-clean`, fleet: trials.fleet, slot: 0 }),
          120_000,
          "deploying a clean world",
        );
        expectSuccess(
          await runHardhat(trials.args(clean), { env: clean.env(relay.url, trials.home), relay }),
          `${trials.label} (clean run)`,
        );
        expected = await trials.outcome(clean);
      }

      const w = await within(
        deployRunWorld(t, { url: held.url, name: `${trials.label}-held`, fleet: trials.fleet, slot: 1 }),
        120_000,
        "deploying a world",
      );
      const env = w.env(relay.url, trials.home);
      const sender = devAddress(trials.home === "de" ? w.from.de : w.from.br);
      // The nth eth_sendTransaction: blocks stop before it reaches the node; the run dies once the node answered.
      // Whatever the dying run still asks after that never reaches the node.
      let sends = 0;
      let nthRequest: string | undefined;
      let isAccepted = false;
      let accepted!: () => void;
      const killWhen = new Promise<void>((resolve) => (accepted = resolve));
      relay.reset();
      relay.onRequest = async (methods, request) => {
        if (isAccepted) return "drop";
        if (!methods.includes("eth_sendTransaction") || ++sends !== nth) return "forward";
        nthRequest = request;
        await producer.pause();
        return "forward";
      };
      relay.onResponse = (_methods, request) => {
        if (request === nthRequest) {
          isAccepted = true;
          accepted();
        }
        return "reply";
      };
      const first = await runHardhat(trials.args(w), { env, killWhen, timeoutMs: 90_000 });
      expect(first.signal, `${trials.label}: killed after its transaction #${nth} (${first.code} ${first.stderr})`).to.equal("SIGKILL");
      // The nth at least (usage:ingest sends batches without waiting for each to be mined).
      const inPool = await pendingInPool(held.url, sender);
      expect(inPool, "the killed run's transactions wait in the pool").to.be.at.least(1);

      // Run again; blocks come back holdMs after its first request.
      relay.reset();
      let stillPending = -1;
      relay.onFirstRequest = () => {
        void pendingInPool(held.url, sender).then((n) => (stillPending = n));
        setTimeout(() => producer.resume(), holdMs);
      };
      const again = await runHardhat(trials.args(w), { env, timeoutMs: 90_000 });
      expectSuccess(again, `${trials.label}: run again while the killed run's transaction #${nth} waited in the pool`);
      expect(stillPending, "still pending when the re-run started").to.equal(inPool);
      const differs = differences(expected, await trials.outcome(w));
      expect(differs, `${trials.label}: killed with transaction #${nth} in the pool, run again: differs from the clean run`).to.deep.equal(
        [],
      );
    } finally {
      producer.resume();
      await producer.stop();
      await relay.close();
      await held.stop();
    }
  }

  /** The paths (a.b.c) where two outcomes differ, with both values cut short. */
  function differences(a: unknown, b: unknown, at = ""): string[] {
    if (JSON.stringify(a) === JSON.stringify(b)) return [];
    if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      return [...keys].flatMap((k) =>
        differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k),
      );
    }
    const show = (x: unknown) => JSON.stringify(x)?.slice(0, 300);
    return [`${at}: clean ${show(a)}, crashed ${show(b)}`];
  }

  const ingestTrials: Trials<Awaited<ReturnType<typeof ingestOutcome>>> = {
    label: "usage:ingest",
    fleet: true,
    home: "br",
    args: (w) => ingestArgs(t, w, BATCH_SIZE),
    outcome: (w) => ingestOutcome(t, w),
    phase: async (w) => {
      const runs = path.join(w.workDir, "runs");
      const journals = fs.existsSync(runs) ? fs.readdirSync(runs) : [];
      if (journals.length === 0) return "processing";
      const journal = JSON.parse(fs.readFileSync(path.join(runs, journals[0]), "utf8")) as { batches: unknown[] };
      const onChain = Number((await w.reader.ledger.getPeriod(PLMN.DE, PLMN.BR, t.period)).batchCount);
      return `sealed, ${onChain}/${journal.batches.length} batches on-chain`;
    },
  };

  const registerTrials: Trials<Awaited<ReturnType<typeof registerOutcome>>> = {
    label: "device:register",
    fleet: false,
    home: "de",
    args: (w) => registerArgs(w, 10),
    outcome: (w) => registerOutcome(w),
    phase: async (w) => {
      const policies = Number(await w.reader.devices.policyCount());
      const registered = (await w.reader.devices.queryFilter(w.reader.devices.filters.DeviceRegistered(), 0)).length;
      return policies < 3 ? `defining policies (${policies}/3)` : `${registered}/${DEVICES} registered`;
    },
  };

  it(`usage:ingest of ${DEVICES} devices' month (52 batches): SIGKILL at random points, run again, same chain and files as one clean run`, async function () {
    this.timeout(1_200_000);
    await killAndResume(ingestTrials);
  });

  it(`device:register of ${DEVICES} devices, 10 per transaction: SIGKILL at random points, run again, same chain as one clean run`, async function () {
    this.timeout(1_200_000);
    await killAndResume(registerTrials);
  });

  it("device:register killed while its registration waits in the node's pool: the re-run waits for it, then finishes as one clean run", async function () {
    this.timeout(300_000);
    // Transactions 1-3 define the policies; #5 registers the 2nd ten devices.
    await killedWithTransactionInPool(registerTrials, 5, 3000);
  });

  it("usage:ingest killed while a batch waits in the node's pool: the re-run waits for it, then finishes as one clean run", async function () {
    this.timeout(300_000);
    // #5 is one of the first batch submissions, which go out without waiting for each other to be mined.
    await killedWithTransactionInPool(ingestTrials, 5, 3000);
  });
});
