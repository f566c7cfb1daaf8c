import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { rpc } from "../helpers/node";
import {
  RpcRelay,
  deployRunWorld,
  expectSuccess,
  ingestArgs,
  ingestOutcome,
  makeTemplate,
  runHardhat,
  startNode,
  type CrashNode,
  type CrashTemplate,
} from "../helpers/crash";
import { PLMN } from "../helpers/fixtures";

/**
 * The node stops in the middle of `usage:ingest`: the command fails with a message that names the node
 * and says to run it again; once the node is back, the same command completes, and the chain and files
 * end as after one clean run.
 *
 * How the node stops: anvil runs with `--state <file>` and is stopped with SIGTERM, so it writes every
 * block it has to the file on its way out and comes back with all of them (`--state` loads it again) on
 * the same port. A consortium node (Besu, QBFT) likewise keeps every block it finalized across a crash;
 * a SIGKILL of anvil would instead lose its in-memory chain, which models no real node. The moment: the
 * relay in front of anvil lets the ingest's 2nd batch transaction reach the node and be mined,
 * then stops the node before the answer goes back, and from then on refuses connections as the dead
 * node does: the run loses a transaction it sent, the nastiest moment for a resume.
 */
describe("crash: the node stops in the middle of usage:ingest", function () {
  let node: CrashNode;
  let relay: RpcRelay;
  let t: CrashTemplate;
  let stateFile: string;

  before(async function () {
    const latestTime = async (url: string) =>
      Number((await rpc<{ timestamp: string }>(url, "eth_getBlockByNumber", ["latest", false])).timestamp);
    const probe = await startNode();
    const now = await latestTime(probe.url);
    await probe.stop();
    t = await makeTemplate(now, { devices: 150, seed: 11 });
    stateFile = path.join(t.dir, "anvil-state.json");
    node = await startNode({ state: stateFile });
    relay = await RpcRelay.start(node.url);
  });

  after(async function () {
    await relay?.close();
    await node?.stop();
    t?.cleanup();
  });

  it("fails with a message naming the node and saying to run it again, then completes once the node is back", async function () {
    const clean = await deployRunWorld(t, { url: node.url, name: "clean", fleet: true });
    expectSuccess(await runHardhat(ingestArgs(t, clean, 400), { env: clean.env(relay.url, "br"), relay }), "clean ingest");
    const expected = await ingestOutcome(t, clean);
    expect(expected.chain.batchIds.length).to.be.greaterThan(3);

    const w = await deployRunWorld(t, { url: node.url, name: "faulted", fleet: true });
    const env = w.env(relay.url, "br");
    const submitBatch = w.reader.ledger.interface.getFunction("submitBatch")!.selector;
    let batches = 0;
    let lostTx: string | undefined;
    let stoppedAt: number | undefined;
    relay.reset();
    const failed = runHardhat(ingestArgs(t, w, 400), { env });
    relay.onResponse = async (methods, request, answer) => {
      if (!methods.includes("eth_sendTransaction")) return "reply";
      const [tx] = (JSON.parse(request) as { params: { data?: string }[] }).params;
      if (!tx.data?.startsWith(submitBatch) || ++batches !== 2) return "reply";
      // The 2nd batch reached the node: wait until it is mined (the node mines on arrival), then stop the
      // node before its answer goes back.
      lostTx = (JSON.parse(answer) as { result: string }).result;
      for (let i = 0; i < 100 && !(await rpc<unknown>(node.url, "eth_getTransactionReceipt", [lostTx])); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await node.stop("SIGTERM");
      await relay.cut();
      stoppedAt = Date.now();
      return "drop";
    };
    const run = await failed;
    expect(stoppedAt, "the node was stopped mid-run").to.not.equal(undefined);
    expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(1);
    const message = run.stderr.trim();
    expect(message).to.match(/^Error: /);
    expect(message)
      .to.match(/chain node/i)
      .and.to.match(/network localhost/);
    expect(message).to.contain(relay.url);
    expect(message).to.match(/run the same command again/i);
    expect(message, "no stack trace").to.not.match(/^\s+at /m);
    console.log(`      the failed run said: ${message.split("\n").join(" | ")}`);

    // While the node is down, the same command fails the same way before doing anything.
    const down = await runHardhat(ingestArgs(t, w, 400), { env });
    expect(down.code).to.equal(1);
    expect(down.stderr)
      .to.match(/chain node/i)
      .and.to.match(/run the same command again/i);
    expect(down.stderr).to.not.match(/^\s+at /m);

    // The node comes back with its chain; the same command finishes the job.
    expect(fs.existsSync(stateFile)).to.equal(true);
    node = await startNode({ port: node.port, state: stateFile });
    await relay.listen();
    expect(await rpc<unknown>(node.url, "eth_getTransactionReceipt", [lostTx]), "the lost answer's transaction is on-chain").to.be.an(
      "object",
    );
    const onChain = Number((await w.reader.ledger.getPeriod(PLMN.DE, PLMN.BR, t.period)).batchCount);
    expect(onChain, "the batch whose answer was lost is on-chain").to.equal(2);
    const again = await runHardhat(ingestArgs(t, w, 400), { env });
    expectSuccess(again, "ingest after the node came back");
    expect(await ingestOutcome(t, w)).to.deep.equal(expected);
  });
});
