import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DENY_REASONS } from "../../../lib/core/enums";
import { plmnNumber } from "../../../lib/realtime/chainSync";
import type { ChainFollower } from "../../../lib/realtime/follower";
import { hexToBytes, type Hex } from "../../../lib/util/hex";
import { DevicePolicy__factory } from "../../../typechain-types";
import { PLMN } from "../../helpers/fixtures";
import { brFollower, buildFleet, catchUp, churn, type Fleet, prng } from "../../helpers/realtime";

const DAY = 86_400;
const VISITED = [PLMN.BR, PLMN.BR, PLMN.US, PLMN.DE, PLMN.MAKER, PLMN.NEWCOMER];
const PARALLEL = 250;

interface Draw {
  id: Hex;
  visited: Hex;
  service: number;
}

/** `n` random (device, visited network, service) draws; one in ten of a device id no one registered. */
function draws(f: Fleet, n: number, seed: number): Draw[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => ({
    id: rand() < 0.1 ? (hre.ethers.hexlify(hre.ethers.randomBytes(32)) as Hex) : f.devices[Math.floor(rand() * f.devices.length)].id,
    visited: VISITED[Math.floor(rand() * VISITED.length)],
    service: Math.floor(rand() * 4),
  }));
}

const fields = (d: {
  serve: boolean;
  reason: unknown;
  steerable: boolean;
  homeRouted: boolean;
  tariffClass: unknown;
  policyVersion: unknown;
}) => [d.serve, Number(d.reason), d.steerable, d.homeRouted, Number(d.tariffClass), Number(d.policyVersion)].join(",");

/** Compares the cache's decisions with DeviceRegistry.decide at the cache's block; returns the reasons seen. */
async function compare(f: Fleet, follower: ChainFollower, list: Draw[]): Promise<Map<number, number>> {
  const cache = follower.cache;
  const blockTag = cache.block;
  const seen = new Map<number, number>();
  for (let i = 0; i < list.length; i += PARALLEL) {
    const part = list.slice(i, i + PARALLEL);
    const onChain = await Promise.all(part.map((d) => f.c.devices.decide(d.id, d.visited, d.service, { blockTag })));
    part.forEach((d, k) => {
      const mine = cache.decide(cache.devices.find(hexToBytes(d.id)), plmnNumber(d.visited), d.service, cache.blockTime);
      const what = `device ${d.id} visited ${d.visited} service ${d.service} block ${blockTag}`;
      expect(fields(mine), what).to.equal(fields(onChain[k]));
      seen.set(mine.reason, (seen.get(mine.reason) ?? 0) + 1);
    });
  }
  return seen;
}

describe("realtime: the cache's decisions equal the chain's decide()", function () {
  // The coverage run's instrumented contracts answer the 10,000 eth_calls about 8 times slower (161 s there
  // against 17-20 s in npm test): its own bound.
  this.timeout(process.env.SOLIDITY_COVERAGE ? 900_000 : 180_000);

  async function fleetFixture() {
    return buildFleet(400, 7);
  }

  it("10,000 random (device, visited network, service, time) decisions equal DeviceRegistry.decide at the same block, every deny reason among them", async function () {
    const f = await loadFixture(fleetFixture);
    const follower = await brFollower(f); // a full load from the chain
    await churn(f, 11); // then followed block by block
    await catchUp(follower);
    const seen = new Map<number, number>();
    const add = (m: Map<number, number>) => {
      for (const [k, v] of m) seen.set(k, (seen.get(k) ?? 0) + v);
    };
    // now; 15 days on (a policy became valid); 25 days on (one expired); 400 days on (the agreements ended)
    const moves = [0, 15 * DAY, 10 * DAY, 375 * DAY];
    for (const [round, move] of moves.entries()) {
      if (move > 0) await time.increase(move);
      if (round === 1) await churn(f, 100 + round, 0.05);
      await catchUp(follower);
      add(await compare(f, follower, draws(f, 2500, round + 1)));
    }
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    expect(total).to.equal(10_000);
    for (let reason = 0; reason < DENY_REASONS.length; reason++) {
      expect(seen.get(reason) ?? 0, `decisions with reason ${DENY_REASONS[reason]}`).to.be.greaterThan(0);
    }
  });

  it("they equal each device's own policy contract's decide() too", async function () {
    const f = await loadFixture(fleetFixture);
    await churn(f, 5);
    const follower = await brFollower(f);
    const cache = follower.cache;
    const list = draws(f, 300, 99).filter((d) => cache.devices.find(hexToBytes(d.id)) >= 0);
    const onChain = await Promise.all(
      list.map(async (d) => {
        const policy = DevicePolicy__factory.connect(await f.c.devices.predictPolicyAddress(d.id), hre.ethers.provider);
        return (await policy.decide(d.visited, d.service, { blockTag: cache.block })).decision;
      }),
    );
    list.forEach((d, k) => {
      const mine = cache.decide(cache.devices.find(hexToBytes(d.id)), plmnNumber(d.visited), d.service, cache.blockTime);
      expect(fields(mine), `device ${d.id} in ${d.visited}`).to.equal(fields(onChain[k]));
    });
    expect(list.length).to.be.greaterThan(200);
  });
});
