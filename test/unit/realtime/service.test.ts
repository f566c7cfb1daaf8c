import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { plmnNumber } from "../../../lib/realtime/chainSync";
import type { DecisionService } from "../../../lib/realtime/service";
import { hexToBytes } from "../../../lib/util/hex";
import { PLMN } from "../../helpers/fixtures";
import { formatPlmn } from "../../../lib/core/plmn";
import { bytesToHex } from "../../../lib/util/hex";
import type { DecisionCache } from "../../../lib/realtime/cache";
import type { ChainFollower } from "../../../lib/realtime/follower";
import { type AppliedStep, stepsToSave } from "../../../lib/realtime/snapshot";
import { emptyChanges } from "../../../lib/realtime/chainSync";
import { meterPolicy } from "../../helpers/fixtures";
import { RecordChecker } from "../../../lib/usage/check";
import { saveState, type DeviceState } from "../../../lib/usage/state";
import { pairWorkDir } from "../../../lib/usage/ingest";
import { STATUS, type ResolvedDevice } from "../../../lib/devices/resolver";
import type { ParsedRecord } from "../../../lib/usage/types";
import { brFollower, brService, buildFleet, catchUp, churn, flaky, type Fleet } from "../../helpers/realtime";

async function get(service: DecisionService, query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${service.url}${query}`);
  const text = await res.text();
  return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : { text } };
}

/** POSTs `payload` (a string as is, anything else as JSON). */
async function post(service: DecisionService, route: string, payload: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${service.url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls `query` until `done(body)`; returns the milliseconds it took. */
async function until(
  service: DecisionService,
  query: string,
  done: (body: Record<string, unknown>) => boolean,
  limitMs = 5000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { body } = await get(service, query);
    if (done(body)) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`${query} still answers ${JSON.stringify(body)} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A new DE policy and three devices on it (the branch's own IMSIs): the policy id is the next one either way. */
async function branchDevices(f: Fleet, branch: string, rules: Parameters<typeof meterPolicy>[1]): Promise<{ policyId: number }> {
  const de = f.c.devices.connect(f.c.de);
  const policy = meterPolicy(PLMN.DE, rules);
  const policyId = Number(await de.definePolicy.staticCall(policy));
  await (await de.definePolicy(policy)).wait();
  const deriver = f.derivers[PLMN.DE];
  const imsis = [1, 2, 3].map((i) => `26201${branch === "kept" ? "8" : "9"}${String(i).padStart(9, "0")}`);
  await (
    await de.registerDevices(imsis.map((imsi) => ({ localId: deriver.localId(imsi), deviceClass: 0, maker: "0x000000", policyId })))
  ).wait();
  return { policyId };
}

/** DE's data-only policy (meterPolicy's caps) on a resolved device, as the ingest's check takes it. */
function resolvedDataDevice(id: string, imsi: string): ResolvedDevice {
  return {
    index: 0,
    imsi,
    deviceId: id as `0x${string}`,
    status: STATUS.Active,
    home: PLMN.DE,
    maker: "0x000000",
    policy: {
      policyId: 1n,
      services: 0b001,
      tariffClass: 1,
      maxVisitedDays: 0,
      validFrom: 0,
      validUntil: 0,
      dailyBytesCap: 10_000,
      monthlyBytesCap: 200_000,
      dailyEventsCap: 50,
      monthlyEventsCap: 1000,
      allowedNetworks: new Set(),
    },
    policyVersion: 1,
    policySince: 0,
    history: undefined,
    ids: new Uint8Array(32),
    idAt: 0,
    state: undefined,
    stateOwner: undefined,
  };
}

function dataRecord(imsi: string, startTime: number, bytes: number): ParsedRecord {
  return {
    line: 1,
    recordId: `r${startTime}`,
    imsi,
    home: PLMN.DE,
    visited: PLMN.BR,
    service: 0,
    rat: 0,
    startTime,
    duration: 60,
    bytesUp: bytes,
    bytesDown: 0,
    events: 0,
    latencyMs: 0,
    throughputKbps: 0,
  };
}

/** Everything a cache holds, in a form two caches compare by (devices by id, unknown ones left out). */
function view(cache: DecisionCache) {
  const t = cache.devices;
  const devices: Record<string, number[]> = {};
  for (let slot = 0; slot < t.size; slot++) {
    if (t.status[slot] !== 0) devices[bytesToHex(t.idOf(slot))] = [t.home[slot], t.status[slot], t.version[slot], t.policy[slot]];
  }
  const flags = [...cache.flags].flatMap(([slot, list]) => list.map((r) => `${bytesToHex(t.idOf(slot))}/${r}`)).sort();
  const byKey = <V>(m: Map<number, V>) => [...m].sort((a, b) => a[0] - b[0]);
  return {
    block: [cache.block, cache.blockHash, cache.blockTime],
    devices,
    flags,
    policies: byKey(cache.policies),
    members: byKey(cache.members),
    agreements: byKey(cache.agreements),
  };
}

/** Every fleet device's decision for BR, each service, equals DeviceRegistry.decide at the cache's block. */
async function expectDecisionsEqualChain(f: Fleet, follower: ChainFollower): Promise<void> {
  const cache = follower.cache;
  for (const d of f.devices.slice(0, 40)) {
    const slot = cache.devices.find(hexToBytes(d.id));
    for (const service of [0, 1, 2]) {
      const chain = await f.c.devices.decide(d.id, PLMN.BR, service, { blockTag: cache.block });
      expect(cache.decide(slot, plmnNumber(PLMN.BR), service, cache.blockTime).reason, `${d.imsi} service ${service}`).to.equal(
        Number(chain.reason),
      );
    }
  }
}

describe("realtime: the decision service", function () {
  this.timeout(120_000);
  let service: DecisionService | undefined;
  let stateDir: string;

  async function fleetFixture() {
    return buildFleet(60, 3);
  }

  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "serve-"));
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** A DE device of the fleet on the data-only policy, active. */
  async function activeDataDevice(f: Fleet) {
    for (const d of f.devices) {
      const dev = await f.c.devices.getDevice(d.id);
      if (d.home === PLMN.DE && dev.status === 1n && dev.policyId === f.policies.data) return d;
    }
    throw new Error("no active data-only DE device in the fleet");
  }

  it("answers from the IMSI: serve with steering, routing, class, caps and block; refuses an unknown home or device with why", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    const d = await activeDataDevice(f);
    const { status, body } = await get(service, `/v1/decision?imsi=${d.imsi}&service=data`);
    expect(status).to.equal(200);
    expect(body).to.deep.include({
      serve: true,
      reason: "none",
      steerable: true,
      homeRouted: true,
      localBreakout: false,
      tariffClass: 1,
      policyVersion: 1,
      home: "262-01",
      capsLeft: null, // no usage counters given
    });
    expect(body.caps).to.deep.equal({ dailyBytes: 10_000, monthlyBytes: 200_000, dailyEvents: 50, monthlyEvents: 1000 });
    expect(body.block).to.equal(await hre.ethers.provider.getBlockNumber());
    expect((await get(service, `/v1/decision?imsi=${d.imsi}&service=voice&home=262-01`)).body).to.deep.include({
      serve: false,
      reason: "service-not-allowed",
    });
    const unknown = (await get(service, "/v1/decision?imsi=262019999999999&service=data")).body;
    expect(unknown).to.deep.include({ serve: false, reason: "unknown-device", home: "262-01" });
    const noKey = (await get(service, "/v1/decision?imsi=724051234567890&service=sms")).body;
    expect(noKey).to.deep.include({ serve: false, reason: "unknown-device" });
    expect(String(noKey.detail)).to.match(/shared its IMSI key/);
    const us = f.devices.find((x) => x.home === PLMN.US)!;
    expect((await get(service, `/v1/decision?imsi=${us.imsi}&service=sms&home=310-410`)).body).to.deep.include({
      home: "310-410",
      serve: false,
      reason: "service-not-allowed",
      localBreakout: true,
    });
  });

  it("capsLeft: the caps less the usage the member's own ingest counted today and this month, read again when its counters change", async function () {
    const f = await loadFixture(fleetFixture);
    const d = await activeDataDevice(f);
    const other = f.devices.find((x) => x.home === PLMN.DE && x.id !== d.id)!;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "serve-usage-"));
    try {
      service = await brService(f, { usageRoot: root, usagePollMs: 50 });
      const q = `/v1/decision?imsi=${d.imsi}&service=data`;
      const first = (await get(service, q)).body;
      expect(first.capsLeft, "no counters of the pair yet").to.equal(null);
      // the ingest's own check counts the usage: two records today, one yesterday (the month's only)
      const time = Number(first.time);
      const d0 = new Date(time * 1000);
      const period = d0.getUTCFullYear() * 100 + d0.getUTCMonth() + 1;
      const dayStart = Math.floor(time / 86_400) * 86_400;
      const state = new Map<string, DeviceState>();
      const checker = new RecordChecker({ state, visited: PLMN.BR, period, agreementRoamingDays: 0 });
      const device = resolvedDataDevice(d.id, d.imsi);
      const yesterday = dayStart - 3600 >= Date.UTC(d0.getUTCFullYear(), d0.getUTCMonth(), 1) / 1000 ? dayStart - 3600 : dayStart;
      for (const [at, bytes] of [
        [yesterday, 700],
        [dayStart + 60, 1500],
        [dayStart + 120, 2500],
      ]) {
        checker.check(dataRecord(d.imsi, at, bytes), device);
      }
      const counted = state.get(d.id)!;
      saveState(path.join(pairWorkDir(root, PLMN.BR, PLMN.DE), "state.json"), state);
      await until(service, q, (b) => b.capsLeft !== null);
      const left = (await get(service, q)).body.capsLeft as Record<string, unknown>;
      expect(left).to.deep.include({
        dailyBytes: 10_000 - counted.dayBytes,
        monthlyBytes: 200_000 - counted.monthBytes,
        dailyEvents: 50,
        monthlyEvents: 1000,
      });
      expect(counted.monthBytes).to.equal(4700);
      expect(Date.parse(String(left.countedAt))).to.be.greaterThan(0);
      // a device of the pair with no usage counted has its whole caps left; US shared no counters here
      const whole = (await get(service, `/v1/decision?imsi=${other.imsi}&service=data`)).body;
      const caps = whole.caps as Record<string, number>;
      const wholeLeft = whole.capsLeft as Record<string, number | null>;
      for (const k of Object.keys(caps)) expect(wholeLeft[k], k).to.equal(caps[k] > 0 ? caps[k] : null);
      const us = f.devices.find((x) => x.home === PLMN.US)!;
      expect((await get(service, `/v1/decision?imsi=${us.imsi}&service=sms&home=310-410`)).body.capsLeft).to.equal(null);
      // more usage committed: the answer follows; over the cap it says 0, never less
      checker.check(dataRecord(d.imsi, dayStart + 180, 9000), device);
      saveState(path.join(pairWorkDir(root, PLMN.BR, PLMN.DE), "state.json"), state);
      await until(service, q, (b) => (b.capsLeft as { dailyBytes: number }).dailyBytes === 0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("bad queries get a 400 that says what is wrong with each parameter", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    const cases: [string, RegExp][] = [
      ["/v1/decision?service=data", /imsi is missing/],
      ["/v1/decision?imsi=26201&service=data", /imsi must be the 15 digits/],
      ["/v1/decision?imsi=262010000000001&service=video", /service must be one of data, sms, voice, signalling/],
      ["/v1/decision?imsi=262010000000001&service=data&home=DE", /home must be the home network's MCC-MNC/],
      ["/v1/decision?imsi=262010000000001&service=data&home=000-01", /home: 000-01 is not a PLMN/],
      ["/v1/decision?imsi=262010000000001&service=data&apn=x", /apn is not a parameter/],
    ];
    for (const [query, message] of cases) {
      const { status, body } = await get(service, query);
      expect(status, query).to.equal(400);
      expect(JSON.stringify(body), query).to.match(message);
    }
    const metrics = (await get(service, "/metrics")).body.text as string;
    expect(metrics).to.match(/roamledger_decisions_total\{outcome="bad-request"\} 6/);
  });

  it("POST /v1/decisions answers a batch in order, each decision equal to GET /v1/decision's at the same block", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    const queries = f.devices.flatMap((d) =>
      ["data", "sms", "voice", "signalling"].map((s, i) => ({ imsi: d.imsi, service: s, ...(i % 2 ? { home: formatPlmn(d.home) } : {}) })),
    );
    queries.push({ imsi: "262019999999999", service: "data" }, { imsi: "724051234567890", service: "sms" });
    const { status, body } = await post(service, "/v1/decisions", { queries });
    expect(status, JSON.stringify(body)).to.equal(200);
    const decisions = body.decisions as Record<string, unknown>[];
    expect(decisions).to.have.length(queries.length);
    expect(body.block).to.equal(await hre.ethers.provider.getBlockNumber());
    const outcomes = new Set<string>();
    for (const [i, q] of queries.entries()) {
      const one = (await get(service, `/v1/decision?${new URLSearchParams(q)}`)).body;
      const { time: _t1, ...batched } = decisions[i];
      const { time: _t2, ...single } = one;
      expect(batched, JSON.stringify(q)).to.deep.equal(single);
      outcomes.add(String(one.reason));
    }
    expect([...outcomes]).to.include.members(["none", "service-not-allowed", "unknown-device"]);
    const served = decisions.filter((d) => d.serve).length;
    const metrics = (await get(service, "/metrics")).body.text as string;
    // each query counts once in the batch and once asked alone
    expect(metrics).to.match(new RegExp(`roamledger_decisions_total\\{outcome="serve"\\} ${2 * served}\\n`));
    expect(metrics).to.match(/roamledger_decision_batch_seconds_count 1\n/);
    expect(metrics).to.match(new RegExp(`roamledger_decision_seconds_count ${queries.length}\\n`));
  });

  it("a bad batch gets a 400 naming each bad query by its index, and nothing of it is answered", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    const ok = { imsi: f.devices[0].imsi, service: "data" };
    const cases: [unknown, RegExp][] = [
      [{}, /queries is missing: it must be an array of 1 to 1000 queries/],
      [{ queries: [] }, /queries must be an array of 1 to 1000/],
      [{ queries: Array.from({ length: 1001 }, () => ok) }, /queries must be an array of 1 to 1000/],
      [{ queries: [ok, ok, { imsi: "26201", service: "data" }] }, /queries\[2\]\.imsi must be the 15 digits/],
      [{ queries: [{ service: "data" }] }, /queries\[0\]\.imsi is missing/],
      [{ queries: [ok, { ...ok, apn: "x" }] }, /queries\[1\]\.apn is not a parameter of this query \(imsi, service, home\)/],
      [{ queries: [ok], at: 5 }, /at is not a parameter of this endpoint \(queries\)/],
      [{ queries: [ok, { ...ok, service: "video" }] }, /queries\[1\]\.service must be one of data, sms, voice, signalling/],
      [{ queries: [ok, { ...ok, home: "000-01" }] }, /queries\[1\]\.home: 000-01 is not a PLMN/],
      [[ok], /the body must be an object/],
      ["{not json", /JSON/],
    ];
    for (const [payload, message] of cases) {
      const { status, body } = await post(service, "/v1/decisions", payload);
      expect(status, JSON.stringify(payload).slice(0, 80)).to.equal(400);
      expect(JSON.stringify(body), JSON.stringify(payload).slice(0, 80)).to.match(message);
      expect(String(body.hint)).to.match(/^POST \/v1\/decisions/);
    }
    const metrics = (await get(service, "/metrics")).body.text as string;
    expect(metrics).to.match(new RegExp(`roamledger_decisions_total\\{outcome="bad-request"\\} ${cases.length}\\n`));
    expect(metrics).to.match(/roamledger_decisions_total\{outcome="serve"\} 0\n/);
  });

  it("a suspension, a fraud flag and a policy update are reflected within 2 seconds", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f, { pollMs: 100 });
    const active = [];
    for (const d of f.devices) {
      const dev = await f.c.devices.getDevice(d.id);
      if (d.home === PLMN.DE && dev.status === 1n && dev.policyId === f.policies.data) active.push(d);
    }
    expect(active.length).to.be.at.least(3);
    const [a, flagged, updated] = active;
    const q = (imsi: string) => `/v1/decision?imsi=${imsi}&service=data`;
    await (await f.c.devices.connect(f.c.de).suspendDevices([a.id], 1)).wait();
    const suspendMs = await until(service, q(a.imsi), (body) => body.reason === "device-suspended");
    await (await f.c.devices.connect(f.c.br).flagFraud([{ id: flagged.id, reason: 2, evidenceHash: hre.ethers.id("e1") }])).wait();
    const flagMs = await until(service, q(flagged.imsi), (body) => body.reason === "device-fraud-flagged");
    await (await f.c.devices.connect(f.c.de).updatePolicies([updated.id], f.policies.all)).wait();
    const updateMs = await until(
      service,
      `/v1/decision?imsi=${updated.imsi}&service=voice`,
      (body) => body.serve === true && body.policyVersion === 2,
    );
    for (const ms of [suspendMs, flagMs, updateMs]) expect(ms).to.be.lessThan(2000);
    const metrics = (await get(service, "/metrics")).body.text as string;
    expect(metrics).to.match(/roamledger_head_lag_blocks 0/);
    expect(metrics).to.match(/roamledger_decision_seconds_count \d+/);
    expect(metrics).to.match(/roamledger_cache_devices 60/);
  });

  it("a restart resumes from the saved block and applies what happened while it was down", async function () {
    const f = await loadFixture(fleetFixture);
    const lines: string[] = [];
    service = await brService(f, { stateDir, log: (l) => lines.push(l) });
    const d = await activeDataDevice(f);
    const savedAt = service.follower.cache.block;
    await service.close();
    service = undefined;
    expect(fs.readdirSync(stateDir).sort()).to.deep.equal([`devices-${savedAt}.bin`, "state.json"]);
    await (await f.c.devices.connect(f.c.de).suspendDevices([d.id], 1)).wait();
    lines.length = 0;
    service = await brService(f, { stateDir, log: (l) => lines.push(l) });
    expect(lines.join("\n")).to.contain(`Resumed from the snapshot in ${stateDir} at block ${savedAt}`);
    await until(service, `/v1/decision?imsi=${d.imsi}&service=data`, (body) => body.reason === "device-suspended");
    expect(service.follower.keys.size).to.equal(2); // the partners' keys were opened again (they are not in the snapshot)
  });

  it("a restart after a reorganisation dropped the snapshot's block repairs from the fork point among the steps saved with it", async function () {
    const f = await loadFixture(fleetFixture);
    const follower = await brFollower(f, stateDir);
    await churn(f, 21, 0.2);
    await catchUp(follower);
    const snapshot = await hre.network.provider.send("evm_snapshot");
    const fork = follower.cache.block;
    await churn(f, 22, 0.3);
    await catchUp(follower);
    await branchDevices(f, "dropped", { tariffClass: 3 });
    await catchUp(follower);
    follower.save(); // as the service does when it stops
    const saved = JSON.parse(fs.readFileSync(path.join(stateDir, "state.json"), "utf8")) as { steps: { block: number }[] };
    expect(saved.steps.map((s) => s.block)).to.include(fork);
    await hre.network.provider.send("evm_revert", [snapshot]);
    await churn(f, 23, 0.3);
    const kept = await branchDevices(f, "kept", { tariffClass: 2, services: 0b010 });
    await hre.network.provider.send("evm_mine");
    const lines: string[] = [];
    const again = await brFollower(f, stateDir, hre.ethers.provider, { log: (l) => lines.push(l) });
    expect(lines.join("\n")).to.contain(`re-applying from block ${fork}, the last one applied still on chain`);
    expect([again.reorgs, again.repairs, again.fullReloads]).to.deep.equal([1, 1, 0]);
    await catchUp(again);
    const fresh = await brFollower(f);
    expect(view(again.cache)).to.deep.equal(view(fresh.cache));
    expect(again.cache.policies.get(kept.policyId)?.tariffClass).to.equal(2);
    expect(again.keys.size).to.equal(fresh.keys.size);
    await expectDecisionsEqualChain(f, again);
  });

  it("saves the newest steps within the budget of ids named, ending at the snapshot's block; a snapshot without them reloads in full after a reorganisation", async function () {
    const f = await loadFixture(fleetFixture);
    const follower = await brFollower(f, stateDir);
    const steps = (follower as unknown as { recent: AppliedStep[] }).recent;
    const cache = follower.cache;
    const named = (n: number, block: number): AppliedStep => {
      const changes = emptyChanges();
      for (let i = 0; i < n; i++) changes.devices.add(`0x${String(block).padStart(4, "0")}${String(i).padStart(60, "0")}`);
      return { block, hash: `0x${String(block).padStart(64, "0")}`, changes };
    };
    const last = { block: cache.block, hash: cache.blockHash, changes: named(3, 1).changes };
    expect(stepsToSave([named(5, cache.block - 2), named(4, cache.block - 1), last], cache, 7).map((s) => s.block)).to.deep.equal([
      cache.block - 1,
      cache.block,
    ]);
    expect(stepsToSave([named(5, cache.block - 1), last], cache, 2)).to.deep.equal([]);
    expect(stepsToSave([named(5, cache.block - 1)], cache, 100)).to.deep.equal([]); // not ending at the cache's block
    expect(steps).to.have.length(1);
    // a snapshot of one step (or an older one without steps): a reorganisation while stopped reloads it in full
    const snapshot = await hre.network.provider.send("evm_snapshot");
    await churn(f, 24, 0.2);
    await catchUp(follower);
    (follower as unknown as { recent: AppliedStep[] }).recent = [
      { block: follower.cache.block, hash: follower.cache.blockHash, changes: emptyChanges() },
    ];
    follower.save();
    await hre.network.provider.send("evm_revert", [snapshot]);
    await churn(f, 25, 0.2);
    const lines: string[] = [];
    const again = await brFollower(f, stateDir, hre.ethers.provider, { log: (l) => lines.push(l) });
    expect(lines.join("\n")).to.match(/no longer on chain \(a reorganisation\): loading from the chain/);
    expect(view(again.cache)).to.deep.equal(view((await brFollower(f)).cache));
  });

  it("a reorganisation (evm_snapshot, evm_revert, other blocks) is detected and the cache repaired to the new chain", async function () {
    const f = await loadFixture(fleetFixture);
    const follower = await brFollower(f);
    const d = await activeDataDevice(f);
    const slot = follower.cache.devices.find(hexToBytes(d.id));
    const snapshot = await hre.network.provider.send("evm_snapshot");
    await (await f.c.devices.connect(f.c.de).suspendDevices([d.id], 1)).wait();
    await hre.network.provider.send("evm_mine");
    await catchUp(follower);
    expect(follower.cache.devices.status[slot]).to.equal(2);
    await hre.network.provider.send("evm_revert", [snapshot]);
    // the other branch: BR flags the device instead, and the chain grows past the first branch's height
    await (await f.c.devices.connect(f.c.br).flagFraud([{ id: d.id, reason: 1, evidenceHash: hre.ethers.id("other branch") }])).wait();
    for (let i = 0; i < 3; i++) await hre.network.provider.send("evm_mine");
    await catchUp(follower);
    expect(follower.reorgs).to.equal(1);
    expect([follower.repairs, follower.fullReloads]).to.deep.equal([1, 0]);
    const cache = follower.cache;
    const s = cache.devices.find(hexToBytes(d.id));
    expect(cache.devices.status[s]).to.equal(1);
    expect(cache.flaggedBy(s, plmnNumber(PLMN.BR))).to.equal(true);
    expect(cache.decide(s, plmnNumber(PLMN.BR), 0, cache.blockTime).reason).to.equal(
      Number((await f.c.devices.decide(d.id, PLMN.BR, 0)).reason),
    );
    expect(cache.blockHash).to.equal((await hre.ethers.provider.getBlock("latest"))!.hash);
  });

  it("repairs from the fork point: after churn, a policy and devices on the dropped branch and others on the new one, the cache equals a full load's", async function () {
    const f = await loadFixture(fleetFixture);
    const follower = await brFollower(f);
    await churn(f, 11, 0.2);
    await catchUp(follower);
    // a device BR flagged before the fork, reinstated on the dropped branch only: its flag stands on the new one
    const flagged = await activeDataDevice(f);
    await (await f.c.devices.connect(f.c.br).flagFraud([{ id: flagged.id, reason: 1, evidenceHash: hre.ethers.id("before") }])).wait();
    await catchUp(follower);
    const snapshot = await hre.network.provider.send("evm_snapshot");
    const before = follower.cache.block;
    await (await f.c.devices.connect(f.c.de).confirmFraud([flagged.id])).wait();
    await (await f.c.devices.connect(f.c.de).reinstateDevices([flagged.id])).wait();
    await catchUp(follower);
    await churn(f, 12, 0.3);
    await catchUp(follower);
    await branchDevices(f, "dropped", { tariffClass: 3 });
    await catchUp(follower);
    expect(follower.cache.flaggedBy(follower.cache.devices.find(hexToBytes(flagged.id)), plmnNumber(PLMN.BR))).to.equal(false);
    const droppedTo = follower.cache.block;
    await hre.network.provider.send("evm_revert", [snapshot]);
    await churn(f, 13, 0.3);
    const kept = await branchDevices(f, "kept", { tariffClass: 2, services: 0b010 });
    await hre.network.provider.send("evm_mine");
    await catchUp(follower);
    expect([follower.reorgs, follower.repairs, follower.fullReloads]).to.deep.equal([1, 1, 0]);
    expect(follower.lastRepairDepth).to.equal(droppedTo - before);
    const fresh = await brFollower(f);
    expect(fresh.cache.block).to.equal(follower.cache.block);
    expect(view(follower.cache)).to.deep.equal(view(fresh.cache));
    // the policy id both branches defined is the kept branch's definition
    expect(follower.cache.policies.get(kept.policyId)?.tariffClass).to.equal(2);
    expect(follower.cache.flaggedBy(follower.cache.devices.find(hexToBytes(flagged.id)), plmnNumber(PLMN.BR))).to.equal(true);
    await expectDecisionsEqualChain(f, follower);
  });

  it("a reorganisation older than every step remembered reloads the cache in full, equal to a full load's", async function () {
    const f = await loadFixture(fleetFixture);
    const follower = await brFollower(f, undefined, undefined, { recentSteps: 3 });
    const d = await activeDataDevice(f);
    const snapshot = await hre.network.provider.send("evm_snapshot");
    for (let i = 0; i < 4; i++) {
      await hre.network.provider.send("evm_mine");
      await catchUp(follower);
    }
    await (await f.c.devices.connect(f.c.de).suspendDevices([d.id], 1)).wait();
    await catchUp(follower);
    await hre.network.provider.send("evm_revert", [snapshot]);
    await branchDevices(f, "kept", { tariffClass: 2 });
    for (let i = 0; i < 6; i++) await hre.network.provider.send("evm_mine");
    await catchUp(follower);
    expect([follower.reorgs, follower.repairs, follower.fullReloads]).to.deep.equal([1, 0, 1]);
    expect(view(follower.cache)).to.deep.equal(view((await brFollower(f)).cache));
  });

  it("a repair after a reorganisation that fails (the node went away) is retried; the known-wrong cache is never used meanwhile", async function () {
    const f = await loadFixture(fleetFixture);
    const down = { on: false };
    const follower = await brFollower(f, undefined, flaky(hre.ethers.provider, down));
    const d = await activeDataDevice(f);
    const snapshot = await hre.network.provider.send("evm_snapshot");
    await (await f.c.devices.connect(f.c.de).suspendDevices([d.id], 1)).wait();
    await catchUp(follower);
    await hre.network.provider.send("evm_revert", [snapshot]);
    for (let i = 0; i < 3; i++) await hre.network.provider.send("evm_mine");
    const realGetBlock = hre.ethers.provider.getBlock.bind(hre.ethers.provider);
    // the reorganisation is seen (the check of the last block applied), then the node goes away before the repair reads anything
    let calls = 0;
    // (set through the proxy on the shared provider itself: deleted after, its prototype's method shows again)
    const provider = follower.opts.provider as { getBlock: typeof realGetBlock };
    provider.getBlock = async (...args: Parameters<typeof realGetBlock>) => {
      const block = await realGetBlock(...args);
      if (++calls === 1) down.on = true;
      return block;
    };
    let failed = false;
    await follower.step().catch(() => {
      failed = true;
    });
    Reflect.deleteProperty(provider, "getBlock");
    expect(failed).to.equal(true);
    expect(follower.reloading).to.equal(true);
    down.on = false;
    await catchUp(follower);
    expect(follower.reloading).to.equal(false);
    const s = follower.cache.devices.find(hexToBytes(d.id));
    expect(follower.cache.devices.status[s]).to.equal(1);
    expect(follower.cache.blockHash).to.equal((await hre.ethers.provider.getBlock("latest"))!.hash);
  });

  it("never answers from a cache stale beyond the bound: 503 with why while the node is down, ready again after", async function () {
    const f = await loadFixture(fleetFixture);
    const down = { on: false };
    service = await brService(f, { provider: flaky(hre.ethers.provider, down), maxStalenessMs: 400, pollMs: 50 });
    const d = await activeDataDevice(f);
    expect((await get(service, "/ready")).status).to.equal(200);
    down.on = true;
    await new Promise((r) => setTimeout(r, 700));
    const ready = await get(service, "/ready");
    expect(ready.status).to.equal(503);
    expect(ready.body).to.deep.include({ ready: false });
    expect(String(ready.body.why)).to.match(/over the bound of 0.4 s: the chain cannot be read \(connect ECONNREFUSED/);
    const decision = await get(service, `/v1/decision?imsi=${d.imsi}&service=data`);
    expect(decision.status).to.equal(503);
    expect(decision.body).to.deep.include({ error: "stale" });
    const batch = await post(service, "/v1/decisions", {
      queries: [
        { imsi: d.imsi, service: "data" },
        { imsi: d.imsi, service: "sms" },
      ],
    });
    expect(batch.status).to.equal(503);
    expect(batch.body).to.deep.include({ error: "stale" });
    down.on = false;
    await until(service, "/ready", (body) => body.ready === true, 15_000);
    expect((await get(service, `/v1/decision?imsi=${d.imsi}&service=data`)).body).to.deep.include({ serve: true });
    expect((await get(service, "/metrics")).body.text).to.match(/roamledger_decisions_total\{outcome="stale"\} 3\n/);
  });
});
