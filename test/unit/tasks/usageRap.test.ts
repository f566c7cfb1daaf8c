/**
 * usage:rap (issue 17 point 4): a RAP ReturnBatch for a TAP file's rejects, numbered from the pair's RAP
 * sequence log, written whole or not at all; --read prints the RAP files partners send (the public
 * ReturnBatch and Acknowledgement samples). No chain is needed.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { ber } from "../../../lib/tap/berEncode";
import { readRap, type RapReturnBatch } from "../../../lib/tap/rap";
import { T } from "../../../lib/tap/tags";
import { encodeAuditControl, encodeBatchHead, encodeCallEvent } from "../../../lib/tap/tapEncode";
import { captured, failureOf } from "../../helpers/tasks";
import { sample } from "../tap/samples";

/** A TAP file BRAVO -> ALPHA with two call events; returns its bytes and the call events' offsets. */
function tapFile(fsn: string) {
  const head = encodeBatchHead({
    sender: "BRAVO",
    recipient: "ALPHA",
    fileSequenceNumber: fsn,
    created: "20261201080000",
    utcOffset: "+0100",
    currency: "EUR",
    tapDecimalPlaces: 2,
    offsets: new Map([[1, "+0100"]]),
  });
  const events = [
    encodeCallEvent({
      kind: "mobileOriginatedCall",
      imsi: "262011234567890",
      local: "20261203120000",
      offsetCode: 1,
      duration: 60,
      charge: 250,
    }),
    encodeCallEvent({
      kind: "gprsCall",
      imsi: "262011234567891",
      local: "20261203130000",
      offsetCode: 1,
      duration: 60,
      volumeIncoming: 10,
      charge: 75,
    }),
  ];
  const bytes = ber.seq(T.TransferBatch, [head, ber.seq(T.CallEventDetailList, events), encodeAuditControl(2, 325)]);
  return { bytes, offsets: events.map((e) => bytes.indexOf(e)) };
}

describe("usage:rap", function () {
  let dir: string;
  let store: string;
  const saved = {
    ROAMLEDGER_CONFIG: process.env.ROAMLEDGER_CONFIG,
    ROAMLEDGER_HOME: process.env.ROAMLEDGER_HOME,
    ROAMLEDGER_QUIET: process.env.ROAMLEDGER_QUIET,
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-usage-rap-"));
    store = path.join(dir, "store");
    process.env.ROAMLEDGER_CONFIG = path.join(dir, "roamledger.json");
    process.env.ROAMLEDGER_HOME = path.join(dir, "keys");
    process.env.ROAMLEDGER_QUIET = "1";
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes TAP file `fsn` and its rejects (rows built from the call events' offsets). */
  function tapWithRejects(fsn: string, rows: (offsets: number[]) => string[]): { tap: string; rejects: string } {
    const { bytes, offsets } = tapFile(fsn);
    const tap = path.join(dir, `CDBRAVOALPHA${fsn}`);
    fs.writeFileSync(tap, bytes);
    fs.writeFileSync(`${tap}.rejects.csv`, `line,code,reason,raw\n${rows(offsets).join("\n")}\n`);
    return { tap, rejects: `${tap}.rejects.csv` };
  }

  it("writes a ReturnBatch numbered from the pair's sequence log, and refuses a used number or an existing file", async () => {
    const a = tapWithRejects("00001", (o) => [`2,NEGATIVE_VOLUME,bytesUp is negative,GprsCall at byte ${o[1]}`]);
    const outA = path.join(dir, "RCALPHABRAVO00001");
    const printed = await captured(() => hre.run("usage:rap", { rejects: a.rejects, out: outA, store }));
    expect(printed).to.contain(
      `RAP file 00001 ALPHA -> BRAVO for TAP file 00001: 1 severe return(s), TotalSevereReturnValue 75 -> ${outA}`,
    );
    const rapA = (await readRap(outA)) as RapReturnBatch;
    expect(rapA).to.deep.include({ sender: "ALPHA", recipient: "BRAVO", rapFileSequenceNumber: "00001", tapDecimalPlaces: 2 });
    expect(rapA.returns[0]).to.deep.include({ kind: "severe", fileSequenceNumber: "00001", charge: 75 });

    const logFile = path.join(store, "rap", "ALPHA-BRAVO.json");
    const b = tapWithRejects("00002", (o) => [
      `1,OUTSIDE_PERIOD,before the period,MobileOriginatedCall at byte ${o[0]}`,
      `2,NOT_BILLABLE,x,GprsCall at byte ${o[1]}`,
    ]);
    const outB = path.join(dir, "RCALPHABRAVO00002");
    const second = await captured(() => hre.run("usage:rap", { rejects: b.rejects, out: outB, store }));
    expect(second).to.contain("RAP file 00002 ALPHA -> BRAVO for TAP file 00002");
    expect(second).to.contain("1 NOT_BILLABLE call event(s) not returned");
    const log = JSON.parse(fs.readFileSync(logFile, "utf8"));
    expect(
      log.written.map((e: { rapFileSequenceNumber: string; tapFileSequenceNumber: string }) => [
        e.rapFileSequenceNumber,
        e.tapFileSequenceNumber,
      ]),
    ).to.deep.equal([
      ["00001", "00001"],
      ["00002", "00002"],
    ]);

    const used = await failureOf(hre.run("usage:rap", { rejects: b.rejects, out: path.join(dir, "again"), sequence: 2, store }));
    expect(used).to.contain("RAP file sequence number 00002 was already written to BRAVO");
    expect(fs.existsSync(path.join(dir, "again"))).to.equal(false);
    expect(await failureOf(hre.run("usage:rap", { rejects: b.rejects, out: outB, store }))).to.contain(`${outB} exists`);
    expect(JSON.parse(fs.readFileSync(logFile, "utf8")).written).to.have.length(2);

    const explicit = path.join(dir, "RCALPHABRAVO00009");
    await hre.run("usage:rap", { rejects: b.rejects, tap: b.tap, out: explicit, sequence: 9, store });
    expect(((await readRap(explicit)) as RapReturnBatch).rapFileSequenceNumber).to.equal("00009");
  });

  it("writes a fatal return for a refused file and prints it with --read", async () => {
    const f = tapWithRejects("00003", () => ["0,TAP_SEQUENCE_DUPLICATE,file sequence number 00003 was already imported,file"]);
    const outF = path.join(dir, "RCALPHABRAVO-fatal");
    await hre.run("usage:rap", { rejects: f.rejects, out: outF, store });
    const printed = await captured(() => hre.run("usage:rap", { read: outF }));
    expect(printed).to.contain("ALPHA -> BRAVO, RAP file 00010 (RAP 1.5, returns TAP 3.12 files)");
    expect(printed).to.contain("1. fatal: TAP file 00003 refused whole, BatchControlError");
    expect(printed).to.contain("error 201 at TransferBatch/BatchControlInfo/FileSequenceNumber");
    expect(printed).to.contain("RapAuditControlInfo: TotalSevereReturnValue 0 (0.00), ReturnDetailsCount 1");
  });

  it("reads the public ReturnBatch and Acknowledgement samples, and refuses a TAP file given to --read", async () => {
    const ack = await captured(() => hre.run("usage:rap", { read: sample("rap_ack.ber") }));
    expect(ack).to.contain("DGS01 acknowledges RAP file 123 to XYZ02");
    expect(ack).to.contain("created 20160501222324 +0002 (2016-05-01T22:21:24Z)");
    const mini = await captured(() => hre.run("usage:rap", { read: sample("rap_mini.ber") }));
    expect(mini).to.contain("ABC08 -> DEF15, RAP file 00023 (RAP 1.5, returns TAP 3.12 files)");
    expect(mini).to.contain("Returns: 0");
    expect(mini).to.contain("RapAuditControlInfo: missing");
    const tap = await failureOf(hre.run("usage:rap", { read: sample("tap_3_12_valid.ber") }));
    expect(tap).to.match(/byte 0.*not a RAP ReturnBatch .* \(it is a TAP file\)/s);
  });

  it("explains missing or wrong arguments", async () => {
    expect(await failureOf(hre.run("usage:rap", { out: "x" }))).to.contain("--rejects is required");
    const odd = path.join(dir, "odd.csv");
    fs.writeFileSync(odd, "line,code,reason,raw\n");
    expect(await failureOf(hre.run("usage:rap", { rejects: odd, out: path.join(dir, "o"), store }))).to.contain("cannot tell the TAP file");
    expect(await failureOf(hre.run("usage:rap", { read: sample("rap_ack.ber"), out: "x" }))).to.contain("--read prints a RAP file");
    const f = tapWithRejects("00004", (o) => [`1,INVALID_IMSI,x,MobileOriginatedCall at byte ${o[0]}`]);
    expect(await failureOf(hre.run("usage:rap", { rejects: f.rejects, out: path.join(dir, "o2"), sequence: 100000, store }))).to.contain(
      "is not from 1 to 99999",
    );
  });
});
