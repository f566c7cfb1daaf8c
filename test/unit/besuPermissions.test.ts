/**
 * besu:permissions against a STAND-IN for a Besu node's PERM API (test/helpers/besuPermStandIn.ts; not a
 * real Besu): admission, suspension and reinstatement, operator and node changes, idempotence, a crash after
 * each possible number of calls followed by a run that converges, a restart with --follow that converges
 * and then follows the registry's events, --write-config, --dry-run, and the node's setup errors.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import { addressesOf, deployConsortium, PLMN, ROLE, testEncryptionKey, type Consortium } from "../helpers/fixtures";
import { captured, failureOf as message, useDeploymentForTasks } from "../helpers/tasks";
import { BesuPermStandIn, testNodeId } from "../helpers/besuPermStandIn";
import { parseFlatToml } from "../helpers/toml";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import {
  enodeKey,
  followPermissions,
  type FollowRound,
  httpPermRpc,
  permissionsDiff,
  reconcilePermissions,
} from "../../lib/besu/permissions";
import { nodeIdWords } from "../../lib/consortium/nodes";
import { PERMISSION_BITS } from "../../lib/core/roles";

const nodeId = (seed: number) => testNodeId(seed + 4000);
const enode = (seed: number, host = `10.0.0.${seed}`, port = 30303) => `enode://${nodeId(seed)}@${host}:${port}`;
const SELF = enode(100, "10.0.0.100");
const lower = (xs: string[]) => xs.map((x) => x.toLowerCase()).sort();

describe("besu:permissions (against a PERM API stand-in, not a real Besu)", function () {
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let c: Consortium;
  let client: RoamLedgerClient;
  let node: BesuPermStandIn;

  /** The consortium with nodes: DE 1 and 2, US 3, BR 4. */
  async function withNodes(): Promise<Consortium> {
    const k = await deployConsortium();
    const nodes = k.nodes;
    if (!nodes) throw new Error("no NodeRegistry");
    const reg = async (signer: typeof k.de, seed: number) =>
      nodes.connect(signer).registerNode(...nodeIdWords(nodeId(seed)), `10.0.0.${seed}`, 30303);
    await reg(k.de, 1);
    await reg(k.de2, 2);
    await reg(k.us, 3);
    await reg(k.br, 4);
    return k;
  }

  /** What the node should hold for the fixture as deployed. */
  const expected = () => ({
    accounts: lower([c.deployer.address, c.de.address, c.de2.address, c.us.address, c.br.address, c.maker.address]),
    nodes: [enode(1), enode(2), enode(3), enode(4), SELF].sort(),
  });
  const state = () => ({ accounts: lower(node.accounts), nodes: [...node.nodes].sort() });
  const run = (extra: object = {}) => captured(() => hre.run("besu:permissions", { node: node.url, ...extra }));
  const suspendBr = async () => {
    await c.carriers.connect(c.de).proposeStatusChange(1, PLMN.BR);
    await c.carriers.connect(c.us).approve(await c.carriers.proposalCount());
  };

  beforeEach(async function () {
    c = await loadFixture(withNodes);
    env = await useDeploymentForTasks(c);
    client = connectRoamLedger(await addressesOf(c), c.outsider);
    node = await new BesuPermStandIn({ selfEnode: SELF }).start();
  });
  afterEach(async () => {
    env.cleanup();
    await node.stop();
  });

  it("admission: fills an empty node, then a second run only reads; an admitted member and an offered account are added", async function () {
    const first = await run();
    expect(first).to.contain("applied:").and.contain("add accounts (6):").and.contain("add nodes (5):");
    expect(state()).to.deep.equal(expected());
    const calls = node.calls.length;
    expect(await run()).to.contain("in step with the registry: nothing to change.");
    expect(node.calls.slice(calls)).to.deep.equal(["net_enode", "perm_getAccountsAllowlist", "perm_getNodesAllowlist"]);
    const [newOp, offered] = c.spare;
    await c.carriers.connect(c.de).proposeAdmission({
      plmn: PLMN.NEWCOMER,
      roles: ROLE.CARRIER,
      name: "Newcomer",
      encryptionKey: testEncryptionKey(9),
      operators: [newOp.address],
    });
    await c.carriers.connect(c.us).approve(await c.carriers.proposalCount());
    await c.carriers.connect(c.de).addOperator(offered.address, PERMISSION_BITS.usage);
    expect(await run()).to.contain("add accounts (2):");
    expect(state().accounts).to.deep.equal(lower([...expected().accounts, newOp.address, offered.address]));
    // Once it accepts, it is an operator: still allowed, nothing to change.
    await c.carriers.connect(offered).acceptOperator(PLMN.DE);
    expect(await run()).to.contain("nothing to change");
  });

  it("finds an operator offer made more than 5000 blocks (Besu's default logs range) after the start, and honours --from-block", async function () {
    await mine(12_000);
    const [offered] = c.spare;
    await c.carriers.connect(c.de).addOperator(offered.address, PERMISSION_BITS.usage);
    const head = await hre.ethers.provider.getBlockNumber();
    expect(await run({ fromBlock: head + 1, dryRun: true })).to.not.contain(offered.address.toLowerCase());
    expect(await run({ fromBlock: head, dryRun: true })).to.contain(offered.address.toLowerCase());
    expect(await run()).to.contain(offered.address.toLowerCase()); // from block 0: three ranges of 5000
    expect(state().accounts).to.include(offered.address.toLowerCase());
    expect(await message(run({ fromBlock: -1 }))).to.contain("--from-block must be 0 or more");
  });

  it("suspension removes the member's accounts and nodes; reinstatement adds them back", async function () {
    await run();
    await suspendBr();
    const out = await run();
    expect(out).to.contain("remove accounts (1):").and.contain("remove nodes (1):");
    expect(state().accounts).to.not.include(c.br.address.toLowerCase());
    expect(state().nodes).to.not.include(enode(4));
    await c.carriers.connect(c.de).proposeStatusChange(2, PLMN.BR);
    await c.carriers.connect(c.us).approve(await c.carriers.proposalCount());
    await run();
    expect(state()).to.deep.equal(expected());
  });

  it("operator and node changes: a removed operator and node go, a moved node is replaced; the own enode and infrastructure stay", async function () {
    node.accounts.push("0x00000000000000000000000000000000000000aa"); // added by hand, in no registry
    await run();
    await c.carriers.connect(c.de).removeOperator(c.de2.address);
    const nodes = c.nodes;
    if (!nodes) throw new Error("no NodeRegistry");
    await nodes.connect(c.de).removeNode(...nodeIdWords(nodeId(1)));
    await nodes.connect(c.us).removeNode(...nodeIdWords(nodeId(3)));
    await nodes.connect(c.us).registerNode(...nodeIdWords(nodeId(3)), "10.1.0.3", 30305); // US's node moved
    await run();
    const want = expected();
    expect(state()).to.deep.equal({
      accounts: want.accounts.filter((a) => a !== c.de2.address.toLowerCase()),
      nodes: [enode(2), enode(3, "10.1.0.3", 30305), enode(4), SELF].sort(),
    });
    expect(node.accounts.map((a) => a.toLowerCase())).to.include(c.deployer.address.toLowerCase());
  });

  it("converges after a crash after any number of calls: the next run finishes the work", async function () {
    await run();
    await suspendBr();
    await c.carriers.connect(c.de).removeOperator(c.de2.address);
    const cleanRun = new BesuPermStandIn({ selfEnode: SELF, accounts: node.accounts, nodes: node.nodes });
    await cleanRun.start();
    await reconcilePermissions(client, httpPermRpc(cleanRun.url));
    const target = { accounts: lower(cleanRun.accounts), nodes: [...cleanRun.nodes].sort() };
    const total = cleanRun.calls.length;
    await cleanRun.stop();
    expect(total).to.be.greaterThan(4);
    for (let k = 0; k < total; k++) {
      const crashing = await new BesuPermStandIn({ selfEnode: SELF, accounts: node.accounts, nodes: node.nodes }).start();
      crashing.crashAfter = k;
      expect(await message(reconcilePermissions(client, httpPermRpc(crashing.url))), `crash after ${k}`).to.contain(
        "cannot reach the Besu node",
      );
      crashing.crashAfter = undefined; // the node is back, with what it had applied
      await reconcilePermissions(client, httpPermRpc(crashing.url));
      expect({ accounts: lower(crashing.accounts), nodes: [...crashing.nodes].sort() }, `crash after ${k}`).to.deep.equal(target);
      await crashing.stop();
    }
  });

  it("a restart with --follow converges, then follows the registry's events; a failed round is retried", async function () {
    node.crashAfter = 4; // accounts added, nodes not
    expect(await message(run())).to.contain("cannot reach the Besu node");
    expect(node.nodes).to.deep.equal([]);
    node.crashAfter = undefined;
    const rounds: FollowRound[] = [];
    const controller = new AbortController();
    const waitFor = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(pred()).to.equal(true);
    };
    const following = followPermissions(client, httpPermRpc(node.url), {
      intervalMs: 20,
      fullEveryMs: 3_600_000,
      signal: controller.signal,
      onRound: (r) => rounds.push(r),
    });
    await waitFor(() => rounds.length >= 1);
    expect(rounds[0].reason).to.equal("start");
    expect(state()).to.deep.equal(expected());
    await suspendBr();
    await waitFor(() => rounds.some((r) => r.reason === "events" && r.result?.applied));
    expect(state().nodes).to.not.include(enode(4));
    node.crashAfter = 0; // the node goes down: the round fails and is retried
    await c.carriers.connect(c.de).removeOperator(c.de2.address);
    await waitFor(() => rounds.some((r) => r.error !== undefined));
    node.crashAfter = undefined;
    await waitFor(() => !state().accounts.includes(c.de2.address.toLowerCase()));
    controller.abort();
    await following;
  });

  it("--write-config writes permissions_config.toml atomically; --dry-run changes nothing", async function () {
    const file = path.join(env.dir, "permissions_config.toml");
    const out = await captured(() => hre.run("besu:permissions", { writeConfig: file, enode: SELF }));
    expect(out).to.contain("6 accounts, 5 nodes");
    const toml = parseFlatToml(fs.readFileSync(file, "utf8"), file);
    expect(toml).to.deep.equal({ "accounts-allowlist": expected().accounts, "nodes-allowlist": expected().nodes });
    expect(fs.readdirSync(env.dir).filter((f) => f.includes(".tmp"))).to.deep.equal([]);
    const dry = await run({ dryRun: true });
    expect(dry).to.contain("dry run:").and.contain("would add accounts (6):");
    expect(node.accounts).to.deep.equal([]);
  });

  it("a node Besu finds invalid (a host name without DNS) is skipped and named; the other additions and the removals still happen", async function () {
    await run();
    const nodes = c.nodes;
    if (!nodes) throw new Error("no NodeRegistry");
    await nodes.connect(c.br).registerNode(...nodeIdWords(nodeId(5)), "node.example", 30303);
    await nodes.connect(c.us).registerNode(...nodeIdWords(nodeId(6)), "10.0.0.6", 30303);
    await c.carriers.connect(c.de).removeOperator(c.de2.address);
    const out = await run();
    expect(out).to.contain(`not added ${enode(5, "node.example")}: Besu finds it invalid`);
    const want = expected();
    expect(state()).to.deep.equal({
      accounts: want.accounts.filter((a) => a !== c.de2.address.toLowerCase()),
      nodes: [...want.nodes, enode(6)].sort(),
    });
  });

  it("keeps a fixed node Besu refuses to remove, and says so", async function () {
    const stray = enode(50);
    await node.stop();
    node = await new BesuPermStandIn({ selfEnode: SELF, nodes: [stray], fixedNodes: [stray] }).start();
    const out = await run();
    expect(out).to.contain(`kept ${stray}: Besu refuses to remove a bootnode or static node`);
    expect(node.nodes).to.include(stray);
  });

  it("refuses bad arguments and explains a node without the PERM API or allowlists", async function () {
    expect(await message(hre.run("besu:permissions", {}))).to.contain("give --node");
    expect(await message(run({ follow: true, dryRun: true }))).to.contain("--follow and --dry-run do not go together");
    expect(await message(hre.run("besu:permissions", { node: "127.0.0.1:8545" }))).to.contain("is not an http(s) URL");
    expect(await message(run({ enode: "enode://x" }))).to.contain("--enode");
    await node.stop();
    node = await new BesuPermStandIn({ selfEnode: SELF, accountsEnabled: false }).start();
    expect(await message(run()))
      .to.contain("has no account allowlist")
      .and.contain("--permissions-accounts-config-file-enabled=true");
    const other = await new BesuPermStandIn({ selfEnode: SELF }).start();
    const gone = other.url;
    await other.stop();
    expect(await message(hre.run("besu:permissions", { node: gone }))).to.contain("cannot reach the Besu node");
  });
});

describe("enodeKey and permissionsDiff", function () {
  it("match enodes as Besu does (id, host, listening port), whatever the query or the case", function () {
    const id = nodeId(1);
    expect(enodeKey(`enode://${id.toUpperCase()}@10.0.0.1:30303?discport=0`)).to.equal(enodeKey(`enode://${id}@10.0.0.1:30303`));
    expect(enodeKey(`enode://${id}@[FD00::1]:30303`)).to.equal(`${id}@fd00::1:30303`);
    expect(enodeKey(`enode://${id}@10.0.0.1:30304`)).to.not.equal(enodeKey(`enode://${id}@10.0.0.1:30303`));
    const desired = {
      accounts: ["0x00000000000000000000000000000000000000aa"],
      nodes: [`enode://${id}@10.0.0.1:30303`],
      protectedAccounts: [],
    };
    const current = {
      accounts: ["0x00000000000000000000000000000000000000AA"],
      nodes: [`enode://${id.toUpperCase()}@10.0.0.1:30303?discport=0`, SELF],
    };
    expect(permissionsDiff(current, desired, SELF)).to.deep.equal({ addAccounts: [], removeAccounts: [], addNodes: [], removeNodes: [] });
  });
});

describe("the PERM stand-in answers as Besu does", function () {
  it("validates entries and answers Besu's error messages", async function () {
    const node = await new BesuPermStandIn({ selfEnode: SELF }).start();
    const rpc = httpPermRpc(node.url);
    const a = "0x00000000000000000000000000000000000000aa";
    expect(await rpc.call("perm_addAccountsToAllowlist", [[a]])).to.equal("Success");
    const cases: [string, unknown[], string][] = [
      ["perm_addAccountsToAllowlist", [[]], "Request contains an empty list of accounts"],
      ["perm_addAccountsToAllowlist", [["0x12"]], "Request contains an invalid account"],
      ["perm_addAccountsToAllowlist", [[a.replace("aa", "ab"), a.replace("aa", "ab")]], "Request contains duplicate accounts"],
      ["perm_addAccountsToAllowlist", [[a.toUpperCase().replace("0X", "0x")]], "Cannot add an existing account to allowlist"],
      ["perm_removeAccountsFromAllowlist", [[a.replace("aa", "ac")]], "Cannot remove an absent account from allowlist"],
      ["perm_addNodesToAllowlist", [[`enode://${nodeId(1).slice(2)}@10.0.0.1:30303`]], "Request contains an invalid node"],
      ["perm_addNodesToAllowlist", [[`enode://${nodeId(1)}@node.example:30303`]], "Request contains an invalid node"],
      ["perm_addNodesToAllowlist", [[enode(1), `${enode(1)}?discport=30301`]], "Request contains duplicate nodes"],
      ["perm_removeNodesFromAllowlist", [[enode(2)]], "Cannot remove an absent node from allowlist"],
    ];
    for (const [method, params, msg] of cases) {
      expect(await message(rpc.call(method, params)), msg).to.contain(`${method}: ${msg} (JSON-RPC error -32000)`);
    }
    expect(await message(rpc.call("perm_nope"))).to.contain("does not offer perm_nope");
    await node.stop();
  });
});
