/**
 * carrier:node (register, remove and list a member's Besu nodes) and lib/consortium/nodes.ts's enode URL
 * parsing: the shapes Besu writes, and every way an URL can be wrong.
 */
import { expect } from "chai";
import hre from "hardhat";
import { PLMN, addressesOf } from "../../helpers/fixtures";
import { testNodeId } from "../../helpers/besuPermStandIn";
import { captured, FROM, failureOf as message, tasksOnConsortium } from "../../helpers/tasks";
import { formatEnode, nodeRegistryOf, nodesOf, parseEnode } from "../../../lib/consortium/nodes";
import { connectRoamLedger } from "../../../lib/chain/client";
import type { Hex } from "../../../lib/util/hex";

const enode = (seed: number, host = "10.0.0.1", port = 30303) => `enode://${testNodeId(seed)}@${host}:${port}`;

describe("parseEnode", function () {
  it("parses IPv4, bracketed IPv6 and DNS hosts, lower-cases the id, drops a discport", function () {
    const id = testNodeId(1);
    expect(parseEnode(`enode://${id.toUpperCase()}@10.0.0.1:30303`)).to.deep.equal({ id, host: "10.0.0.1", port: 30303, hostKind: "ipv4" });
    expect(parseEnode(`enode://${id}@[FD00::1]:1?discport=30301`)).to.deep.equal({ id, host: "fd00::1", port: 1, hostKind: "ipv6" });
    expect(parseEnode(` enode://${id}@node-1.telekom.example:65535 `)).to.deep.equal({
      id,
      host: "node-1.telekom.example",
      port: 65535,
      hostKind: "dns",
    });
    expect(formatEnode(parseEnode(`enode://${id}@[fd00::1]:30303`))).to.equal(`enode://${id}@[fd00::1]:30303`);
  });

  it("refuses malformed URLs, naming the parameter and why", function () {
    const id = testNodeId(1);
    const offCurve = `${id.slice(0, 127)}${id.endsWith("0") ? "1" : "0"}`;
    const cases: [string, string][] = [
      ["enode//x@h:1", "it does not have the shape of one"],
      [`enode://0x${id.slice(2)}@10.0.0.1:30303`, "exactly 128 hex digits"],
      [`enode://${id.slice(1)}@10.0.0.1:30303`, "found 127 characters"],
      [`enode://${offCurve}@10.0.0.1:30303`, "not a secp256k1 public key"],
      [`enode://${id}@10.0.0.256:30303`, 'the host "10.0.0.256"'],
      [`enode://${id}@[10.0.0.1]:30303`, "the host"],
      [`enode://${id}@fd00::1:30303`, "is not a port 1-65535"],
      [`enode://${id}@bad_host:30303`, "the host"],
      [`enode://${id}@-bad.example:30303`, "the host"],
      [`enode://${id}@:30303`, "the host"],
      [`enode://${id}@10.0.0.1:0`, 'the port "0" is not a port 1-65535'],
      [`enode://${id}@10.0.0.1:65536`, "not a port"],
      [`enode://${id}@10.0.0.1:x`, "not a port"],
      [`enode://${id}@10.0.0.1:30303?discport=0`, 'the discport "0"'],
    ];
    for (const [url, why] of cases) {
      expect(() => parseEnode(url, "add"), url).to.throw(why);
    }
  });
});

describe("tasks: carrier:node", function () {
  const t = tasksOnConsortium();

  const nodesOfMember = async (plmn: Hex) =>
    (await nodesOf(connectRoamLedger(await addressesOf(t.c), t.c.outsider), plmn)).map(formatEnode);

  it("adds, lists and removes a member's nodes", async function () {
    expect(await captured(() => hre.run("carrier:node", { from: FROM.de }))).to.contain("262-01 has no node registered; add one with");
    const added = await captured(() => hre.run("carrier:node", { add: enode(1), from: FROM.de }));
    expect(added).to.match(/Registered node enode:\/\/[0-9a-f]{128}@10\.0\.0\.1:30303 for 262-01 \(transaction 0x[0-9a-f]{64}\)\./);
    const dns = await captured(() => hre.run("carrier:node", { add: enode(2, "node2.telekom.example", 30304), from: FROM.de2 }));
    expect(dns).to.contain("--Xdns-enabled=true");
    expect(await nodesOfMember(PLMN.DE)).to.deep.equal([enode(1), enode(2, "node2.telekom.example", 30304)]);
    const listed = await captured(() => hre.run("carrier:node", { from: FROM.de }));
    expect(listed)
      .to.contain("262-01 has 2 of at most 16 nodes registered:")
      .and.contain(`  ${enode(1)}`);
    // Removal names the node by id: the old host and port do not matter.
    const removed = await captured(() => hre.run("carrier:node", { remove: enode(1, "10.9.9.9", 1), from: FROM.de }));
    expect(removed).to.contain(`Removed node enode://${testNodeId(1)}@10.9.9.9:1 of 262-01`);
    expect(await nodesOfMember(PLMN.DE)).to.deep.equal([enode(2, "node2.telekom.example", 30304)]);
  });

  it("refuses bad input and another member's node before sending, naming the flag and the holder", async function () {
    expect(await message(hre.run("carrier:node", { add: "enode://nope", from: FROM.de }))).to.contain(
      '--add: "enode://nope" is not an enode URL',
    );
    expect(await message(hre.run("carrier:node", { add: enode(1), remove: enode(1), from: FROM.de }))).to.contain(
      "--add and --remove go one at a time",
    );
    await hre.run("carrier:node", { add: enode(1), from: FROM.de });
    expect(await message(hre.run("carrier:node", { add: enode(1, "10.0.0.2"), from: FROM.br }))).to.contain(
      "is registered by 262-01 Telekom Deutschland",
    );
    expect(await message(hre.run("carrier:node", { add: enode(1), from: FROM.de }))).to.contain("is registered by your member, 262-01");
    expect(await message(hre.run("carrier:node", { remove: enode(1), from: FROM.br }))).to.contain(
      "--remove: 724-05 has not registered node",
    );
    expect(await message(hre.run("carrier:node", { remove: enode(3), from: FROM.de }))).to.contain("no member has");
    expect(await nodesOfMember(PLMN.BR)).to.deep.equal([]);
  });

  it("refuses a 17th node, and says what to do when the deployment has no NodeRegistry", async function () {
    const registry = nodeRegistryOf(connectRoamLedger(await addressesOf(t.c), t.c.de));
    for (let i = 1; i <= 16; i++)
      await registry.registerNode(`0x${testNodeId(i).slice(0, 64)}`, `0x${testNodeId(i).slice(64)}`, "10.0.0.1", 30000 + i);
    expect(await message(hre.run("carrier:node", { add: enode(17), from: FROM.de }))).to.contain("262-01 has 16 nodes registered already");
    const { nodeRegistry: _, ...older } = await addressesOf(t.c);
    expect(() => nodeRegistryOf(connectRoamLedger(older, t.c.de))).to.throw("this deployment has no NodeRegistry");
  });
});
