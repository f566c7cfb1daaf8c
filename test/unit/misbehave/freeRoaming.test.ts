/**
 * F10, free roaming (docs/../THREATS.md): a home carrier moved its devices to a tariff class the agreement does
 * not price, after the usage and before the visited carrier's ingest; `decide()` kept serving and the usage
 * was rated at 0. Replayed here as the home carrier would play it, and shown refused:
 * - `decide()` denies a class no rate plan of the visited network prices (`ClassNotPriced`);
 * - the ingest checks each record against the policy version in force at its start: a move after the usage
 *   does not change the class billed (usage from before the registration takes the first version);
 * - usage in an unpriced class is not billed (at 0 or otherwise): it is reported as unpriced, with its line;
 * - an agreement whose public priced classes are not its sealed plans' is refused by `agreement:accept`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { PLMN } from "../../helpers/fixtures";
import { agreeSealed, deployUsageConsortium, ingestTerms, testPrivateKey } from "../../helpers/ingest";
import { connectRoamLedger } from "../../../lib/chain/client";
import { pairwiseKey } from "../../../lib/crypto/pairwise";
import { randomSalt } from "../../../lib/crypto/commitment";
import { deviceIdFromImsi } from "../../../lib/core/imsi";
import { readPolicies } from "../../../lib/devices/policy";
import { ensurePolicies, NO_MAKER } from "../../../lib/devices/registration";
import { ingestUsage, pairWorkDir } from "../../../lib/usage/ingest";
import { pricedAt } from "../../../lib/usage/ingest/terms";
import { openPayload } from "../../../lib/usage/payload";
import { FolderStore } from "../../../lib/usage/store";
import { dataCharge } from "../../../lib/settlement/rating";
import { sealTerms } from "../../../lib/agreements/sealed";
import { acceptAgreement } from "../../../lib/agreements/chain";
import { MismatchError } from "../../../lib/core/errors";
import { Keystore } from "../../../lib/keys/keystore";
import type { Hex } from "../../../lib/util/hex";
import { DENY_REASONS, SERVICES } from "../../../lib/core/enums";

const DAY = 86_400;
const HOUR = 3_600;
const MB = 1_000_000n;
/** Rates do not depend on the token: any address stands in when only the plans are read. */
const ZERO_TOKEN = "0x0000000000000000000000000000000000000000";

/** DE's policies: `plain` is priced by BR (class 1), `free` is in class 9, which no plan prices. */
const POLICIES = {
  plain: { services: ["data"], tariffClass: 1, routing: "home-routed" },
  free: { services: ["data"], tariffClass: 9, routing: "home-routed" },
};

const IMSI = { moved: "262010000000001", bornFree: "262010000000002" } as const;

const HEADER =
  "recordId,imsi,homePlmn,visitedPlmn,service,callEventStartTimeStamp,totalCallEventDuration,dataVolumeOutgoing,dataVolumeIncoming,eventCount,rat,latencyMs,throughputKbps";

function record(id: string, imsi: string, at: number, bytes: bigint): string {
  const when = new Date(at * 1000).toISOString().replace(".000Z", "Z");
  return `${id},${imsi},262-01,724-05,data,${when},60,${bytes / 2n},${bytes - bytes / 2n},0,lte-m,,`;
}

/**
 * DE and BR in agreement from the start of the next month (BR prices classes 1-3 for DE's devices); at a day
 * into it, DE registers `moved` in class 1 and `bornFree` straight into class 9.
 */
async function freeRoamingWorld() {
  const c = await deployUsageConsortium();
  const now = await time.latest();
  const d = new Date(now * 1000);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
  const next = new Date(start * 1000);
  const period = next.getUTCFullYear() * 100 + next.getUTCMonth() + 1;
  await time.increaseTo(start + DAY);
  const pairKey = pairwiseKey({
    myPrivateKey: testPrivateKey(3),
    theirPublicKey: (await c.carriers.getMember(PLMN.DE)).encryptionKey as Hex,
    plmnA: PLMN.BR,
    plmnB: PLMN.DE,
  });
  await agreeSealed(c, ingestTerms(start, await c.token.getAddress()), pairKey);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-f10-"));
  const policiesFile = path.join(dir, "policies.json");
  fs.writeFileSync(policiesFile, JSON.stringify(POLICIES));
  const de = connectRoamLedger(c.addresses, c.de);
  const br = connectRoamLedger(c.addresses, c.br);
  const { ids: policyIds } = await ensurePolicies(de, readPolicies(policiesFile, PLMN.DE), ["plain", "free"]);
  const imsiKey = randomBytes(32);
  const id = (imsi: string) => deviceIdFromImsi(imsiKey, imsi);
  const registration = (imsi: string, policy: string) => ({
    id: id(imsi),
    deviceClass: 1,
    maker: NO_MAKER,
    policyId: policyIds.get(policy)!,
  });
  await c.devices.connect(c.de).registerDevices([registration(IMSI.moved, "plain"), registration(IMSI.bornFree, "free")]);
  const registeredAt = await time.latest();
  return { c, de, br, dir, period, start, pairKey, imsiKey, id, policyIds, registeredAt };
}

type World = Awaited<ReturnType<typeof freeRoamingWorld>>;

/** BR ingests `lines` (CSV records) for DE's devices: the summary and the class totals of its batches. */
async function ingest(w: World, lines: string[]) {
  const local = fs.mkdtempSync(path.join(w.dir, "local-"));
  const file = path.join(local, "usage.csv");
  fs.writeFileSync(file, `${HEADER}\n${lines.join("\n")}\n`);
  const store = new FolderStore(path.join(local, "store"));
  const { chainId } = await hre.ethers.provider.getNetwork();
  const pair = { visited: PLMN.BR as Hex, home: PLMN.DE as Hex, period: w.period };
  const summary = await ingestUsage({
    file,
    ...pair,
    client: w.br,
    signer: w.c.br,
    chainId,
    imsiKey: w.imsiKey,
    pairKey: w.pairKey,
    workDir: pairWorkDir(path.join(local, "br-home"), PLMN.BR, PLMN.DE),
    store,
  });
  const totals = [];
  for (const b of summary.batches) totals.push(...openPayload(w.pairKey, await store.get(b.payloadHash), pair).header.totals);
  const rejects = summary.rejectsFile ? fs.readFileSync(summary.rejectsFile, "utf8") : "";
  return { summary, totals, rejects };
}

describe("F10: free roaming (a home carrier moves its devices to a class the agreement does not price)", function () {
  it("F10: decide() denies a device whose tariff class the visited network does not price (ClassNotPriced)", async function () {
    const w = await loadFixture(freeRoamingWorld);
    const data = SERVICES.indexOf("data");
    const classNotPriced = DENY_REASONS.indexOf("class-not-priced");
    // Class 1 is priced by BR: served. Class 9 is not: denied, with the reason, by the registry and the clone.
    const answer = async (imsi: string) => {
      const d = await w.c.devices.decide(w.id(imsi), PLMN.BR, data);
      return [d.serve, Number(d.reason), Number(d.tariffClass)];
    };
    expect(await answer(IMSI.moved)).to.deep.equal([true, 0, 1]);
    expect(await answer(IMSI.bornFree)).to.deep.equal([false, classNotPriced, 9]);
    const clone = await hre.ethers.getContractAt("DevicePolicy", await w.c.devices.predictPolicyAddress(w.id(IMSI.bornFree)));
    const [fromClone] = await clone.decide(PLMN.BR, data);
    expect(fromClone.reason).to.equal(BigInt(classNotPriced));
    // What the check costs a visited network's eth_call (one more agreements lookup than before).
    const registryGas = await w.c.devices.decide.estimateGas(w.id(IMSI.moved), PLMN.BR, data);
    const cloneGas = await clone.decide.estimateGas(PLMN.BR, data);
    console.log(`      gas: decide served via the registry ${registryGas}, via the device's clone ${cloneGas}`);

    // The home moves the served device to the free class: it is denied from that block on.
    await w.c.devices.connect(w.c.de).updatePolicies([w.id(IMSI.moved)], w.policyIds.get("free")!);
    expect(await answer(IMSI.moved)).to.deep.equal([false, classNotPriced, 9]);
    // Each direction has its own set: BR prices classes 1-3 for DE's devices, DE class 1 for BR's.
    expect(await w.c.agreements.pricedClassesAt(PLMN.DE, PLMN.BR, await time.latest())).to.equal(0b1110n);
    expect(await w.c.agreements.pricedClassesAt(PLMN.BR, PLMN.DE, await time.latest())).to.equal(0b10n);
  });

  it("F10: a move to an unpriced class after the usage does not change what the ingest bills: 1,000 MB stay in class 1", async function () {
    const w = await loadFixture(freeRoamingWorld);
    const usedAt = w.registeredAt + HOUR;
    await time.increaseTo(usedAt + HOUR);
    // The usage happened in class 1; before BR ingests it, DE moves the device to class 9, which no plan prices.
    await w.c.devices.connect(w.c.de).updatePolicies([w.id(IMSI.moved)], w.policyIds.get("free")!);
    const movedAt = await time.latest();
    await time.increaseTo(movedAt + HOUR);
    const { summary, totals, rejects } = await ingest(w, [
      record("f10-1", IMSI.moved, usedAt, 1_000n * MB),
      // After the move: usage in class 9 is not billed, at 0 or otherwise.
      record("f10-2", IMSI.moved, movedAt + 60, 500n * MB),
    ]);
    expect(summary.accepted).to.equal(1);
    expect(summary.billable).to.equal(1);
    expect(totals.map((t) => [t.tariffClass, t.dataBytes])).to.deep.equal([[1, 1_000n * MB]]);
    // Rated as the agreement prices class 1 for BR (2,000 a MB, 10 % off above 10 MB), not at 0.
    const plan = ingestTerms(w.start, ZERO_TOKEN).ratePlans[0];
    expect(dataCharge(totals[0].dataBytes, plan.perMb, plan.tiers)).to.equal(1_802_000n);
    expect(summary.rejectsByCode).to.deep.equal({ UNPRICED_CLASS: 1 });
    expect(rejects).to.match(/^3,UNPRICED_CLASS,.*tariff class 9/m);
  });

  it("F10: usage of a device in an unpriced class is reported as unpriced with its line, never billed at 0", async function () {
    const w = await loadFixture(freeRoamingWorld);
    const usedAt = w.registeredAt + HOUR;
    await time.increaseTo(usedAt + HOUR);
    const { summary, totals, rejects } = await ingest(w, [
      record("f10-3", IMSI.bornFree, usedAt, 1_000n * MB),
      record("f10-4", IMSI.moved, usedAt, 10n * MB),
      record("f10-5", IMSI.bornFree, usedAt + 60, 1n * MB),
      // Before the device was registered: its first policy (set at registration, unchangeable) applies.
      record("f10-6", IMSI.moved, w.start + 60, 1n * MB),
    ]);
    expect(summary.billable).to.equal(2);
    expect(totals.map((t) => [t.tariffClass, t.dataBytes])).to.deep.equal([[1, 11n * MB]]);
    expect(summary.rejectsByCode).to.deep.equal({ UNPRICED_CLASS: 2 });
    const lines = rejects.split("\n").filter((l) => l.includes("UNPRICED_CLASS"));
    expect(lines.map((l) => l.split(",").slice(0, 2).join(","))).to.deep.equal(["2,UNPRICED_CLASS", "4,UNPRICED_CLASS"]);
  });

  it("F10: agreement:accept refuses a proposal whose public priced classes are not its sealed plans'", async function () {
    const w = await loadFixture(freeRoamingWorld);
    // DE proposes an amendment whose sealed plans price class 1 only for BR, but declares BR pricing classes
    // 1 and 9 in public: the class-9 devices would be served, and their usage rated at 0.
    const keystore = new Keystore(path.join(w.dir, "br-keys"));
    fs.mkdirSync(path.dirname(keystore.encryptionKeyPath("724-05")), { recursive: true, mode: 0o700 });
    fs.writeFileSync(keystore.encryptionKeyPath("724-05"), `${testPrivateKey(3)}\n`, { mode: 0o600 });
    const { chainId } = await hre.ethers.provider.getNetwork();
    const terms = { ...ingestTerms(w.start, await w.c.token.getAddress()) };
    terms.ratePlans = terms.ratePlans.filter((p) => p.visited === PLMN.BR && p.tariffClass === 1);
    const context = { chainId, agreements: w.c.addresses.roamingAgreements, proposer: PLMN.DE as Hex, counterparty: PLMN.BR as Hex };
    const { sealed, publicTerms } = sealTerms({ key: w.pairKey, context, terms, salt: randomSalt() });
    const lie = { ...publicTerms, pricedClassesLo: publicTerms.pricedClassesLo | (1n << 9n) }; // BR (0x27f450) is lo
    expect(publicTerms.pricedClassesLo).to.equal(0b10n);
    await w.c.agreements.connect(w.c.de).propose(PLMN.BR, lie, sealed);
    const version = Number(await w.c.agreements.pendingVersion(PLMN.DE, PLMN.BR));
    await expect(acceptAgreement(w.br, { self: PLMN.BR as Hex, partner: PLMN.DE as Hex, version, keystore }))
      .to.be.rejectedWith(MismatchError, /tariff classes 724-05 prices as the visited network does not match: expected \[1, 9\]/)
      .and.eventually.have.property("hint")
      .that.matches(/do not accept this proposal/);
    // Nothing was accepted: version 1 stays in force, class 9 stays unpriced.
    expect(await w.c.agreements.pendingVersion(PLMN.DE, PLMN.BR)).to.equal(BigInt(version));
    expect(await w.c.agreements.pricedClassesAt(PLMN.DE, PLMN.BR, await time.latest())).to.equal(0b1110n);
  });
});

describe("F10: lib/usage/ingest pricedAt (the agreements' lookup rule, off chain)", function () {
  const window = (version: number, validFrom: number, validUntil: number, classes: number[]) => {
    const priced = new Uint8Array(256);
    for (const c of classes) priced[c] = 1;
    return { version, validFrom, validUntil, classes: classes.reduce((m, c) => m | (1n << BigInt(c)), 0n), priced };
  };

  it("F10: prices a record's class by the version in force at its start: an amendment that drops a class applies from its validFrom on", function () {
    // v1 prices 1 and 2 from 100 to 1,000; v2 (accepted later) prices 1 only from 500 to 800; then nothing.
    const windows = [window(1, 100, 1_000, [1, 2]), window(2, 500, 800, [1, 255])];
    expect([99, 100, 499, 500, 799, 800].map((t) => pricedAt(windows, t, 2))).to.deep.equal([false, true, true, false, false, false]);
    expect([499, 500, 799, 800].map((t) => pricedAt(windows, t, 1))).to.deep.equal([true, true, true, false]);
    expect(pricedAt(windows, 600, 255)).to.equal(true);
    expect(pricedAt([], 600, 1)).to.equal(false);
  });
});
