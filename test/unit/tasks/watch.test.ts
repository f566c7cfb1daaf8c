/**
 * `watch --once` says which blocks it read and what it found: from the deployment's first block (its
 * Ignition journal beside the deployment record) when no --from-block is given, else the last 5,000 blocks
 * (saying so), and "No events ... in blocks X..Y" when nothing concerned the member. Also `dev:time`, the
 * development clock, refused on a chain that is not a development one.
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { FROM, captured, failureOf, useDeploymentForTasks } from "../../helpers/tasks";
import { invoiceWorld, type InvoiceWorld } from "../../helpers/invoice";
import { deploymentBlock } from "../../../lib/chain/deploymentBlock";
import { advanceDevClock, parseDuration } from "../../../lib/dev/clock";

interface World extends InvoiceWorld {
  /** The block before the deployment's first transaction, and the last block of the world. */
  before: number;
  head: number;
}

/** BR's two batches for DE and DE's one for BR, all accepted (BATCH and decision events for DE). */
async function world(): Promise<World> {
  const before = await hre.ethers.provider.getBlockNumber();
  const w = await invoiceWorld({ brBatches: 2, records: 10, disputes: 0 });
  return { ...w, before, head: await hre.ethers.provider.getBlockNumber() };
}

/** An Ignition journal beside the deployment record whose confirmed transactions start at `first`. */
function writeJournal(dir: string, first: number): void {
  const confirm = (blockNumber: number) =>
    JSON.stringify({ type: "TRANSACTION_CONFIRM", futureId: "X#X", networkInteractionId: 1, hash: "0x00", receipt: { blockNumber } });
  fs.writeFileSync(
    path.join(dir, "journal.jsonl"),
    [JSON.stringify({ type: "DEPLOYMENT_INITIALIZE" }), confirm(first + 2), confirm(first), '{"type":"TRANSACTION_CONFIRM", cut'].join(
      "\n",
    ),
  );
}

describe("tasks: watch --once without --from-block, dev:time", function () {
  let w: World;
  let env: { dir: string; cleanup: () => void };
  const watchOnce = (extra: Record<string, unknown> = {}) => captured(() => hre.run("watch", { once: true, from: FROM.de, ...extra }));

  beforeEach(async function () {
    w = await loadFixture(world);
    env = await useDeploymentForTasks(w);
  });
  afterEach(() => env.cleanup());

  it("reads from the deployment's first block (Ignition's journal) and says so on its first line", async function () {
    writeJournal(env.dir, w.before + 1);
    expect(deploymentBlock(hre.config.paths.root, 31337)).to.deep.equal({
      block: w.before + 1,
      journal: path.join(env.dir, "journal.jsonl"),
    });
    const printed = await watchOnce();
    const lines = printed.split("\n");
    expect(lines[0]).to.equal(
      `Watching for 262-01: blocks ${w.before + 1}..${w.head}, since the deployment (block ${w.before + 1}); --from-block N to start elsewhere.`,
    );
    // BR's two batches and DE's one, each with DE's or BR's acceptance: what the live watcher would have shown.
    expect(lines.filter((l) => / BATCH 0x/.test(l))).to.have.length(3);
    expect(printed).to.not.contain("No events");
  });

  it("without a journal, reads the last 5,000 blocks and says how to read the whole history", async function () {
    expect(deploymentBlock(hre.config.paths.root, 31337)).to.equal(undefined);
    const printed = await watchOnce();
    const from = Math.max(0, w.head - 4999);
    expect(printed.split("\n")[0]).to.equal(
      `Watching for 262-01: blocks ${from}..${w.head}, the last 5,000 (no Ignition journal beside the deployment record tells its first block); --from-block 0 for the whole history.`,
    );
    expect(printed.split("\n").filter((l) => / BATCH 0x/.test(l))).to.have.length(3);
  });

  it("says when nothing concerned the member in the blocks it read, and how to read more", async function () {
    await hre.network.provider.send("evm_mine", []);
    writeJournal(env.dir, w.head + 1);
    const printed = await watchOnce();
    expect(printed.trim().split("\n").at(-1)).to.equal(
      `No events for 262-01 in blocks ${w.head + 1}..${w.head + 1}; pass --from-block 0 for the whole history.`,
    );
    const explicit = await watchOnce({ fromBlock: w.head + 1 });
    expect(explicit.split("\n")[0]).to.equal(`Watching for 262-01: blocks ${w.head + 1}..${w.head + 1}.`);
    expect(explicit).to.contain(`No events for 262-01 in blocks ${w.head + 1}..${w.head + 1}; pass --from-block 0`);
  });

  it("with --json, stdout holds only the events (the range goes to stderr)", async function () {
    writeJournal(env.dir, w.before + 1);
    const errors: string[] = [];
    const error = console.error;
    console.error = (line: string) => void errors.push(line);
    const printed = await watchOnce({ json: true }).finally(() => {
      console.error = error;
    });
    expect(errors).to.deep.equal([
      `Watching for 262-01: blocks ${w.before + 1}..${w.head}, since the deployment (block ${w.before + 1}); --from-block N to start elsewhere.`,
    ]);
    const events = printed
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string });
    expect(events.filter((e) => e.kind === "batch-submitted")).to.have.length(3);
  });

  it("dev:time moves the development chain's clock and mines a block; refuses a bad duration", async function () {
    const before = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    const printed = await captured(() => hre.run("dev:time", { advance: "2d" }));
    const after = await hre.ethers.provider.getBlock("latest");
    expect(after!.timestamp - before).to.be.within(2 * 86_400, 2 * 86_400 + 5);
    expect(printed).to.contain(`Chain clock moved 2d on hardhat:`).and.to.contain(`(block ${after!.number})`);
    expect(await failureOf(hre.run("dev:time", { advance: "two days" }))).to.contain('--advance "two days" is not a duration');
    expect(parseDuration("90m", "--advance")).to.equal(5400);
    expect(parseDuration("12h", "--advance")).to.equal(43_200);
    expect(() => parseDuration("0d", "--advance")).to.throw("is not a duration");
  });

  it("dev:time is refused, before anything is sent, on a chain that is not a development one", async function () {
    const sent: string[] = [];
    const consortium = {
      getNetwork: async () => ({ chainId: 2026n }),
      getBlock: async () => ({ timestamp: 0, number: 0 }),
      send: async (method: string) => void sent.push(method),
    };
    const error = await advanceDevClock(consortium, "besu", 3600).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).to.contain("network besu (chain id 2026) is not a development chain: its clock cannot be moved");
    expect(sent).to.deep.equal([]);
  });
});
