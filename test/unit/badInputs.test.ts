import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { agreeDeBrWith, deployConsortium, meterPolicy, addressesOf, PLMN } from "../helpers/fixtures";
import { ingestTerms, testPrivateKey, POLICIES } from "../helpers/ingest";
import { connectRoamLedger } from "../../lib/chain/client";
import { parseUsageFile } from "../../lib/usage/parse";
import { ingestUsage, pairWorkDir } from "../../lib/usage/ingest";
import { FolderStore } from "../../lib/usage/store";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { createDeviceIdDeriver } from "../../lib/core/imsi";
import { readDevices, ensurePolicies, registerDevices, NO_MAKER, type DeviceLine } from "../../lib/devices/registration";
import { readPolicies } from "../../lib/devices/policy";
import { readAgreementTerms } from "../../lib/agreements/terms";
import { readDeployParameters } from "../../lib/consortium/parameters";
import { Keystore } from "../../lib/keys/keystore";
import { BaseError, InputError, InputErrors } from "../../lib/core/errors";
import type { Hex } from "../../lib/util/hex";
import { monthsBefore } from "../helpers/period";

/**
 * The corpus of bad inputs (test/fixtures/bad/, listed with the outcome each must have in cases.json):
 * every file goes through the library entry point its command reads it with, and must end exactly as
 * the manifest says: a whole-file InputError with a message that names the file (and the line), every
 * problem of a file at once (InputErrors), or records with per-line reject codes; never a crash, a stack
 * trace, a silent drop or a commit of a file that cannot be read.
 */

const BAD = path.join(__dirname, "..", "fixtures", "bad");
const MANIFEST = path.join(BAD, "cases.json");

type Command = "usage-parse" | "usage-ingest" | "devices-file" | "policies-file" | "terms-file" | "deploy-parameters";
interface Expect {
  error?: string;
  line?: number;
  errors?: [number | null, string][];
  records?: number;
  rejects?: [number, string][];
  reasons?: Record<string, string>;
  accepted?: number;
  billable?: number;
  notBillable?: Record<string, number>;
  flagged?: number;
  devices?: number;
}
interface Case {
  kind: string;
  file: string;
  command: Command;
  generate?: "huge-line" | "directory";
  expect: Expect;
}

const manifest = JSON.parse(fs.readFileSync(MANIFEST, "utf8")) as { cases: Case[] };
const HEADER =
  "recordId,imsi,homePlmn,visitedPlmn,service,callEventStartTimeStamp,totalCallEventDuration,dataVolumeOutgoing,dataVolumeIncoming,eventCount,rat,latencyMs,throughputKbps";
const line = (id: string) => `${id},262010000000001,262-01,724-05,data,2026-11-01T00:00:00Z,12,300,120,0,nb-iot,2100,45`;
const DAY = 24 * 3600;

/** A case's file: a copy in `dir` (the ingest writes its rejects file beside its input), or made there. */
function materialize(c: Case, dir: string): string {
  const file = path.join(dir, c.file);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (c.generate === "directory") {
    fs.mkdirSync(file, { recursive: true });
  } else if (c.generate === "huge-line") {
    // Line 3 is 1.2 MiB (over the 1 MiB limit); the records around it still count.
    fs.writeFileSync(file, `${HEADER}\n${line("r1")}\n${line("r2").replace("r2,", `r2${"x".repeat(1_200_000)},`)}\n${line("r3")}\n`);
  } else {
    fs.copyFileSync(path.join(BAD, c.file), file);
  }
  return file;
}

/** A message a user can act on: no placeholders leaked, no stack. */
function expectClear(message: string): void {
  expect(message).to.not.match(/undefined|\[object |NaN|^\s+at /m);
}

function expectError(err: unknown, e: Expect, file: string): void {
  if (e.errors) {
    expect(err, (err as Error).message).to.be.instanceOf(InputErrors);
    const errors = (err as InputErrors).errors;
    expect(
      errors.map((x) => x.location?.line ?? null),
      "lines of the problems",
    ).to.deep.equal(e.errors.map(([l]) => l));
    errors.forEach((x, i) => {
      expect(x.shortMessage).to.match(new RegExp(e.errors![i][1]));
      expect(x.location?.file, "each problem names the file").to.equal(file);
      expectClear(x.message);
    });
    expect((err as InputErrors).message).to.match(/nothing was sent|problems? in the input/);
    return;
  }
  expect(err, (err as Error).message).to.be.instanceOf(InputError);
  const input = err as InputError;
  expect(input.message, "the message (with what to do)").to.match(new RegExp(e.error!, "s"));
  expect(input.location?.file, "the message names the file").to.equal(file);
  expect(input.message.startsWith(file)).to.equal(true);
  if (e.line !== undefined) expect(input.location?.line, "the line").to.equal(e.line);
  expectClear(input.message);
}

/** DE's devices 262010000000001 (meter), -2 (meter, suspended), -3 (tracker); -4 registered by US. */
async function ingestWorld() {
  // The fixtures' records are dated in 2026-11; the test bills them to the month before the chain's clock (run()
  // moves their dates there), which a grace of 60 days keeps open for submissions whatever the day of the month.
  const c = await deployConsortium({ submissionGrace: 60 * DAY });
  const month = monthsBefore((await hre.ethers.provider.getBlock("latest"))!.timestamp);
  const start = month.start;
  const terms = { ...ingestTerms(start, await c.token.getAddress()), validUntil: start + 20 * 365 * DAY };
  await agreeDeBrWith(c, terms);
  const addresses = await addressesOf(c);
  const de = connectRoamLedger(addresses, c.de);
  const br = connectRoamLedger(addresses, c.br);
  const imsiKey = new Uint8Array(32).fill(9);
  const id = createDeviceIdDeriver(imsiKey, PLMN.DE);
  const policies = readPolicies(POLICIES, PLMN.DE);
  const { ids } = await ensurePolicies(de, policies, ["meter", "tracker"]);
  const fleet: DeviceLine[] = [
    ["262010000000001", 0, "meter"],
    ["262010000000002", 0, "meter"],
    ["262010000000003", 1, "tracker"],
  ].map(([imsi, deviceClass, policyName], i) => ({
    line: i + 2,
    imsi: imsi as string,
    deviceId: id(imsi as string),
    localId: id.localId(imsi as string),
    deviceClass: deviceClass as number,
    policyName: policyName as string,
    maker: NO_MAKER,
  }));
  await registerDevices(de, fleet, { policyIds: ids, batchSize: 10 });
  await c.devices.connect(c.de).suspendDevices([id("262010000000002")], 1);
  await c.devices.connect(c.us).definePolicy(meterPolicy(PLMN.US));
  const usPolicy = await c.devices.policyCount();
  await c.devices
    .connect(c.us)
    .registerDevices([{ localId: id.localId("262010000000004"), deviceClass: 0, maker: NO_MAKER, policyId: usPolicy }]);
  const pairKey = pairwiseKey({
    myPrivateKey: testPrivateKey(3),
    theirPublicKey: (await c.carriers.getMember(PLMN.DE)).encryptionKey as Hex,
    plmnA: PLMN.BR,
    plmnB: PLMN.DE,
  });
  const { chainId } = await hre.ethers.provider.getNetwork();
  return { c, br, imsiKey, pairKey, chainId, month };
}

/** `file`'s records (dated 2026-11-DD) moved to the same days of `period` (yyyymm). */
function moveToPeriod(file: string, period: number): void {
  const month = `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}-`;
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replaceAll("2026-11-", month));
}

describe("bad inputs (test/fixtures/bad)", function () {
  let dir: string;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-bad-"));
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lists every file of the corpus once, with at least 30 kinds of bad input", function () {
    const listed = manifest.cases.map((c) => c.file);
    expect(new Set(listed).size, "each file once").to.equal(listed.length);
    const onDisk = fs
      .readdirSync(BAD, { recursive: true, encoding: "utf8" })
      .filter((f) => fs.statSync(path.join(BAD, f)).isFile() && f !== "cases.json")
      .map((f) => f.split(path.sep).join("/"))
      .sort();
    expect(onDisk).to.deep.equal(
      manifest.cases
        .filter((c) => !c.generate)
        .map((c) => c.file)
        .sort(),
    );
    expect(new Set(manifest.cases.map((c) => c.kind)).size).to.be.at.least(30);
  });

  for (const c of manifest.cases) {
    it(`${c.command}: ${c.kind} (${c.file})`, async function () {
      const e = c.expect;
      const file = materialize(c, c.command === "usage-ingest" ? fs.mkdtempSync(path.join(dir, "ingest-")) : dir);
      let outcome: unknown;
      try {
        outcome = await run(c.command, file);
      } catch (err) {
        if (!(err instanceof BaseError)) throw err;
        if (!e.error && !e.errors) throw err;
        expectError(err, e, file);
        return;
      }
      expect(e.error ?? e.errors, "the manifest expects an error").to.equal(undefined);
      if (c.command === "usage-parse") {
        const { records, rejects } = outcome as { records: number; rejects: { line: number; code: string; reason: string }[] };
        expect(records, "records").to.equal(e.records);
        expect(
          rejects.map((r) => [r.line, r.code]),
          "rejects",
        ).to.deep.equal(e.rejects);
        for (const [at, pattern] of Object.entries(e.reasons ?? {})) {
          const reject = rejects.find((r) => r.line === Number(at));
          expect(reject?.reason, `reason of line ${at}`).to.match(new RegExp(pattern));
        }
        for (const r of rejects) expectClear(r.reason);
      } else if (c.command === "usage-ingest") {
        const s = outcome as Awaited<ReturnType<typeof ingestUsage>>;
        expect(s.accepted, "accepted").to.equal(e.accepted);
        expect(s.billable, "billable").to.equal(e.billable);
        expect(s.notBillableByReason, "not billable").to.deep.equal(e.notBillable);
        expect(s.flaggedDevices, "flagged").to.equal(e.flagged);
        const rows = fs.readFileSync(`${file}.rejects.csv`, "utf8").trim().split("\n").slice(1);
        const rejects = rows.map((row) => row.split(",")).map(([l, code]) => [Number(l), code]);
        expect(
          rejects.sort((a, b) => (a[0] as number) - (b[0] as number)),
          "rejects file",
        ).to.deep.equal(e.rejects);
        expect(s.rejected).to.equal(e.rejects!.length);
      } else if (c.command === "devices-file") {
        expect((outcome as DeviceLine[]).length).to.equal(e.devices);
      } else {
        expect.fail(`${c.command} read ${c.file} without an error`);
      }
    });
  }

  async function run(command: Command, file: string): Promise<unknown> {
    switch (command) {
      case "usage-parse": {
        let records = 0;
        const rejects = [];
        for await (const chunk of parseUsageFile(file, { home: PLMN.DE, visited: PLMN.BR, period: 202611 })) {
          records += chunk.records.length;
          rejects.push(...chunk.rejects);
        }
        return { records, rejects };
      }
      case "usage-ingest": {
        const w = await loadFixture(ingestWorld);
        moveToPeriod(file, w.month.period);
        const local = path.dirname(file);
        const block = await hre.ethers.provider.getBlockNumber();
        const summary = await ingestUsage({
          file,
          home: PLMN.DE,
          visited: PLMN.BR,
          period: w.month.period,
          client: w.br,
          signer: w.c.br,
          chainId: w.chainId,
          imsiKey: w.imsiKey,
          pairKey: w.pairKey,
          workDir: pairWorkDir(path.join(local, "br-home"), PLMN.BR, PLMN.DE),
          store: new FolderStore(path.join(local, "store")),
        });
        // What was accepted is on-chain: one batch.
        expect(await hre.ethers.provider.getBlockNumber()).to.be.greaterThan(block);
        expect(summary.batches.map((b) => b.records)).to.deep.equal([summary.accepted]);
        return summary;
      }
      case "devices-file":
        return readDevices(file, {
          home: PLMN.DE,
          imsiKey: new Uint8Array(32).fill(7),
          policyNames: new Set(["meter", "tracker", "drone"]),
        });
      case "policies-file":
        return readPolicies(file, PLMN.DE);
      case "terms-file":
        return readAgreementTerms(file, { self: PLMN.DE, partner: PLMN.BR, decimals: 6, now: BigInt(Math.floor(Date.now() / 1000)) });
      case "deploy-parameters": {
        const accounts = (await hre.ethers.getSigners()).slice(0, 5).map((s) => s.address);
        return readDeployParameters(file, accounts, new Keystore(fs.mkdtempSync(path.join(dir, "keys-"))));
      }
    }
  }
});
