/**
 * NodeRegistry: who may register and remove a member's Besu nodes (through the CarrierRegistry), the node
 * id's curve check, the host and port checks, one holder per node id, the 16-node cap, removal (swap and
 * pop), a suspended member's nodes, and the views (nodeHolder, nodesOf, allNodes).
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { deployConsortium, PLMN, type Consortium } from "../helpers/fixtures";
import type { NodeRegistry } from "../../typechain-types";
import { PERMISSION_BITS } from "../../lib/core/roles";

const NONE = "0x000000";
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const hex32 = (n: bigint) => `0x${n.toString(16).padStart(64, "0")}`;

/** The node id (x, y as two bytes32) of a deterministic secp256k1 key: a real node key's public key. */
function nodeId(seed: number): [string, string] {
  const pub = new Wallet(hex32(BigInt(seed) + 1000n)).signingKey.publicKey; // 0x04 || x || y
  return [`0x${pub.slice(4, 68)}`, `0x${pub.slice(68)}`];
}

async function withNodes(): Promise<Consortium & { nodes: NodeRegistry }> {
  const c = await deployConsortium();
  if (!c.nodes) throw new Error("the RoamLedger module deployed no NodeRegistry");
  return c as Consortium & { nodes: NodeRegistry };
}

describe("NodeRegistry", function () {
  describe("registerNode", function () {
    it("registers a node for the caller's member: event, nodeHolder, nodesOf, allNodes", async function () {
      const { nodes, carriers, de, de2 } = await loadFixture(withNodes);
      expect(await nodes.carrierRegistry()).to.equal(await carriers.getAddress());
      const [hi, lo] = nodeId(1);
      await expect(nodes.connect(de).registerNode(hi, lo, "10.0.0.1", 30303))
        .to.emit(nodes, "NodeRegistered")
        .withArgs(PLMN.DE, hi, lo, "10.0.0.1", 30303);
      const [hi2, lo2] = nodeId(2);
      await nodes.connect(de2).registerNode(hi2, lo2, "node2.telekom.example", 65535);
      expect(await nodes.nodeHolder(hi, lo)).to.equal(PLMN.DE);
      expect(await nodes.nodeHolder(...nodeId(3))).to.equal(NONE);
      const listed = await nodes.nodesOf(PLMN.DE);
      expect(listed.map((n) => [n.plmn, n.port, n.idHigh, n.idLow, n.host])).to.deep.equal([
        [PLMN.DE, 30303n, hi, lo, "10.0.0.1"],
        [PLMN.DE, 65535n, hi2, lo2, "node2.telekom.example"],
      ]);
      expect(await nodes.nodesOf(PLMN.US)).to.deep.equal([]);
    });

    it("lets any member with an ADMIN key register (a device maker too), and refuses everyone else", async function () {
      const { nodes, carriers, maker, outsider, de, de2 } = await loadFixture(withNodes);
      await expect(nodes.connect(maker).registerNode(...nodeId(1), "10.0.0.9", 30303)).to.emit(nodes, "NodeRegistered");
      await expect(nodes.connect(outsider).registerNode(...nodeId(2), "10.0.0.1", 30303))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(outsider.address);
      await carriers.connect(de).setOperatorPermissions(de2.address, PERMISSION_BITS.usage);
      await expect(nodes.connect(de2).registerNode(...nodeId(2), "10.0.0.1", 30303))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryMissingPermission")
        .withArgs(de2.address, PLMN.DE, PERMISSION_BITS.admin);
    });

    it("refuses a node id that is not a point of secp256k1", async function () {
      const { nodes, de } = await loadFixture(withNodes);
      const [hi, lo] = nodeId(1);
      const flipped = `${lo.slice(0, 65)}${lo.endsWith("0") ? "1" : "0"}`;
      const cases: [string, string][] = [
        [hi, flipped], // off the curve
        [`0x${"00".repeat(32)}`, `0x${"00".repeat(32)}`], // zero
        [hex32(P), lo], // x not below the prime
        [hi, hex32(P)], // y not below the prime
      ];
      for (const [h, l] of cases) {
        await expect(nodes.connect(de).registerNode(h, l, "10.0.0.1", 30303), `${h} ${l}`)
          .to.be.revertedWithCustomError(nodes, "NodeRegistryInvalidNodeId")
          .withArgs(h, l);
      }
    });

    it("accepts IPv4, IPv6 (no brackets) and DNS hosts up to 253 bytes, and refuses other hosts", async function () {
      const { nodes, de } = await loadFixture(withNodes);
      const good = ["10.0.0.1", "fd00::1", "A-z.0-9.example", "a".repeat(253), "x"];
      for (const [i, host] of good.entries()) {
        await expect(nodes.connect(de).registerNode(...nodeId(i + 1), host, 30303), host).to.emit(nodes, "NodeRegistered");
      }
      const bad = ["", "a".repeat(254), "[fd00::1]", "host name", "host_name", "h/st", "hóst", "10.0.0.1@", "@", "`", "{", "/"];
      for (const host of bad) {
        await expect(nodes.connect(de).registerNode(...nodeId(20), host, 30303), JSON.stringify(host))
          .to.be.revertedWithCustomError(nodes, "NodeRegistryInvalidHost")
          .withArgs(host);
      }
    });

    it("refuses port 0", async function () {
      const { nodes, de } = await loadFixture(withNodes);
      await expect(nodes.connect(de).registerNode(...nodeId(1), "10.0.0.1", 0))
        .to.be.revertedWithCustomError(nodes, "NodeRegistryInvalidPort")
        .withArgs(0);
      await expect(nodes.connect(de).registerNode(...nodeId(1), "10.0.0.1", 1)).to.emit(nodes, "NodeRegistered");
    });

    it("refuses a node id any member holds, the caller's own included", async function () {
      const { nodes, de, us } = await loadFixture(withNodes);
      const [hi, lo] = nodeId(1);
      await nodes.connect(de).registerNode(hi, lo, "10.0.0.1", 30303);
      for (const signer of [de, us]) {
        await expect(nodes.connect(signer).registerNode(hi, lo, "10.0.0.2", 30304))
          .to.be.revertedWithCustomError(nodes, "NodeRegistryNodeTaken")
          .withArgs(hi, lo, PLMN.DE);
      }
    });

    it("caps a member at 16 nodes; removing one makes room", async function () {
      const { nodes, de, us } = await loadFixture(withNodes);
      for (let i = 1; i <= 16; i++) await nodes.connect(de).registerNode(...nodeId(i), "10.0.0.1", 30000 + i);
      await expect(nodes.connect(de).registerNode(...nodeId(17), "10.0.0.1", 30303))
        .to.be.revertedWithCustomError(nodes, "NodeRegistryNodeLimit")
        .withArgs(PLMN.DE, 16);
      await expect(nodes.connect(us).registerNode(...nodeId(17), "10.0.0.1", 30303)).to.emit(nodes, "NodeRegistered");
      await nodes.connect(de).removeNode(...nodeId(16));
      await expect(nodes.connect(de).registerNode(...nodeId(18), "10.0.0.1", 30303)).to.emit(nodes, "NodeRegistered");
    });
  });

  describe("removeNode", function () {
    it("removes a node (the last one moves into its place) and frees its id for any member", async function () {
      const { nodes, de, us } = await loadFixture(withNodes);
      for (let i = 1; i <= 3; i++) await nodes.connect(de).registerNode(...nodeId(i), "10.0.0.1", 30000 + i);
      const [hi, lo] = nodeId(1);
      await expect(nodes.connect(de).removeNode(hi, lo)).to.emit(nodes, "NodeRemoved").withArgs(PLMN.DE, hi, lo);
      expect((await nodes.nodesOf(PLMN.DE)).map((n) => n.port)).to.deep.equal([30003n, 30002n]);
      expect(await nodes.nodeHolder(hi, lo)).to.equal(NONE);
      await nodes.connect(de).removeNode(...nodeId(2)); // the last one: popped
      expect((await nodes.nodesOf(PLMN.DE)).map((n) => n.port)).to.deep.equal([30003n]);
      await expect(nodes.connect(us).registerNode(hi, lo, "10.1.0.1", 30303)).to.emit(nodes, "NodeRegistered");
    });

    it("refuses a node the caller's member does not hold, and a caller that is no ADMIN of a member", async function () {
      const { nodes, carriers, de, us, outsider } = await loadFixture(withNodes);
      const [hi, lo] = nodeId(1);
      await expect(nodes.connect(de).removeNode(hi, lo))
        .to.be.revertedWithCustomError(nodes, "NodeRegistryNodeNotHeld")
        .withArgs(hi, lo, PLMN.DE);
      await nodes.connect(de).registerNode(hi, lo, "10.0.0.1", 30303);
      await expect(nodes.connect(us).removeNode(hi, lo))
        .to.be.revertedWithCustomError(nodes, "NodeRegistryNodeNotHeld")
        .withArgs(hi, lo, PLMN.US);
      await expect(nodes.connect(outsider).removeNode(hi, lo))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(outsider.address);
    });
  });

  describe("a suspended member", function () {
    it("keeps its nodes, may remove them, may not register new ones", async function () {
      const { nodes, carriers, de, us, br } = await loadFixture(withNodes);
      await nodes.connect(br).registerNode(...nodeId(1), "10.0.0.3", 30303);
      await nodes.connect(br).registerNode(...nodeId(2), "10.0.0.4", 30303);
      await carriers.connect(de).proposeStatusChange(1, PLMN.BR);
      await carriers.connect(us).approve(await carriers.proposalCount());
      expect(await carriers.isActive(PLMN.BR)).to.equal(false);
      expect(await nodes.nodesOf(PLMN.BR)).to.have.length(2);
      await expect(nodes.connect(br).registerNode(...nodeId(3), "10.0.0.5", 30303))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(br.address);
      await expect(nodes.connect(br).removeNode(...nodeId(2))).to.emit(nodes, "NodeRemoved");
      expect(await nodes.nodeHolder(...nodeId(1))).to.equal(PLMN.BR);
    });
  });

  describe("threats (docs/threat-model.md, TADIG codes and Besu nodes)", function () {
    it("an operator's removal leaves the member's nodes: the removed key can no longer remove one, another ADMIN key can", async function () {
      const { nodes, carriers, de, de2 } = await loadFixture(withNodes);
      const [hi, lo] = nodeId(1);
      await nodes.connect(de2).registerNode(hi, lo, "10.0.0.1", 30303);
      await carriers.connect(de).removeOperator(de2.address);
      expect(await nodes.nodeHolder(hi, lo)).to.equal(PLMN.DE);
      await expect(nodes.connect(de2).removeNode(hi, lo))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(de2.address);
      await expect(nodes.connect(de2).registerNode(...nodeId(2), "10.0.0.2", 30303))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(de2.address);
      await expect(nodes.connect(de).removeNode(hi, lo)).to.emit(nodes, "NodeRemoved").withArgs(PLMN.DE, hi, lo);
    });

    it("a member that registers another's node id first (front-running) blocks it until it removes the id; suspending the squatter stops it squatting the next one", async function () {
      const { nodes, carriers, de, us, br } = await loadFixture(withNodes);
      const [hi, lo] = nodeId(1);
      // BR saw DE's pending registration and got its own in first, with a host of its choosing.
      await expect(nodes.connect(br).registerNode(hi, lo, "10.9.9.9", 30303))
        .to.emit(nodes, "NodeRegistered")
        .withArgs(PLMN.BR, hi, lo, "10.9.9.9", 30303);
      await expect(nodes.connect(de).registerNode(hi, lo, "10.0.0.1", 30303))
        .to.be.revertedWithCustomError(nodes, "NodeRegistryNodeTaken")
        .withArgs(hi, lo, PLMN.BR);
      // Suspending the squatter drops its entries from the reconciliations but frees nothing.
      await carriers.connect(de).proposeStatusChange(1, PLMN.BR);
      await carriers.connect(us).approve(await carriers.proposalCount());
      await expect(nodes.connect(de).registerNode(hi, lo, "10.0.0.1", 30303))
        .to.be.revertedWithCustomError(nodes, "NodeRegistryNodeTaken")
        .withArgs(hi, lo, PLMN.BR);
      await expect(nodes.connect(de).removeNode(hi, lo))
        .to.be.revertedWithCustomError(nodes, "NodeRegistryNodeNotHeld")
        .withArgs(hi, lo, PLMN.DE);
      // The suspended squatter can no longer front-run: the victim's node with a new key registers.
      await expect(nodes.connect(br).registerNode(...nodeId(2), "10.9.9.9", 30303))
        .to.be.revertedWithCustomError(carriers, "CarrierRegistryNotActiveOperator")
        .withArgs(br.address);
      await expect(nodes.connect(de).registerNode(...nodeId(2), "10.0.0.1", 30303)).to.emit(nodes, "NodeRegistered");
      // Only the holder frees the old id (a suspended member may still remove: removing is defensive).
      await nodes.connect(br).removeNode(hi, lo);
      await expect(nodes.connect(de).registerNode(hi, lo, "10.0.0.1", 30304)).to.emit(nodes, "NodeRegistered");
    });

    it("bounds what one member adds to allNodes: 16 nodes of 253-byte hosts, read well under a block's gas", async function () {
      const { nodes, de, us, br, maker } = await loadFixture(withNodes);
      const host = "a".repeat(253);
      let seed = 1;
      for (const signer of [de, us, br, maker]) {
        for (let i = 0; i < 16; i++) await nodes.connect(signer).registerNode(...nodeId(seed++), host, 30303);
        await expect(nodes.connect(signer).registerNode(...nodeId(seed), host, 30303)).to.be.revertedWithCustomError(
          nodes,
          "NodeRegistryNodeLimit",
        );
      }
      expect(await nodes.allNodes()).to.have.length(64);
      // Measured: 1,847,958 gas for 4 members at the cap (about 462,000 per full member): an eth_call of
      // 30,000,000 gas reads about 64 full members; nodesOf reads one member at a time.
      expect(await nodes.allNodes.estimateGas()).to.be.below(2_000_000n);
    });
  });

  describe("allNodes", function () {
    it("lists every member's nodes in the registry's member order, suspended members' included", async function () {
      const { nodes, de, us, maker } = await loadFixture(withNodes);
      expect(await nodes.allNodes()).to.deep.equal([]);
      await nodes.connect(maker).registerNode(...nodeId(4), "10.0.0.9", 30303);
      await nodes.connect(us).registerNode(...nodeId(3), "10.0.0.2", 30303);
      await nodes.connect(de).registerNode(...nodeId(1), "10.0.0.1", 30303);
      await nodes.connect(de).registerNode(...nodeId(2), "10.0.0.1", 30304);
      const all = await nodes.allNodes();
      expect(all.map((n) => [n.plmn, n.idHigh])).to.deep.equal([
        [PLMN.DE, nodeId(1)[0]],
        [PLMN.DE, nodeId(2)[0]],
        [PLMN.US, nodeId(3)[0]],
        [PLMN.MAKER, nodeId(4)[0]],
      ]);
    });
  });
});
