import fs from "node:fs";
import path from "node:path";
import { task, types } from "hardhat/config";
import { InputError } from "../lib/core/errors";
import { readRap, type RapAcknowledgement, type RapReturn, type RapReturnBatch } from "../lib/tap/rap";
import { writeReturnBatch } from "../lib/tap/rapEncode";
import { checkUnused, nextRapSequence, type RapLog, rapLogPath, readRapLog, recordRap } from "../lib/tap/rapLog";
import { readTapRejects } from "../lib/tap/rapRejects";
import type { TapTimestamp } from "../lib/tap/tapTime";
import { FolderStore } from "../lib/usage/store";
import { storeFor } from "../lib/usage/pair";
import { writeFileAtomic } from "../lib/util/fsAtomic";
import { Progress } from "./cli/progress";
import { action, keystoreFor, out } from "./common";

interface Args {
  rejects?: string;
  out?: string;
  tap?: string;
  sequence?: number;
  utcOffset?: string;
  read?: string;
  store?: string;
  keystore?: string;
}

const REJECTS_SUFFIX = ".rejects.csv";

task(
  "usage:rap",
  "Writes a RAP 1.5 ReturnBatch (GSMA TD.32) for what a TAP file's import rejected, to send back to the visited network; or, with --read, prints a RAP file (ReturnBatch or Acknowledgement) a partner sent",
)
  .addOptionalParam(
    "rejects",
    "The rejects file usage:tap or usage:ingest wrote for a TAP file (<file>.rejects.csv): rejected call events become severe returns (the call event copied from the TAP file, with a TD.32 error code), a refused file one fatal return; NOT_BILLABLE rows are not returned",
  )
  .addOptionalParam("out", "RAP file to write (written whole or not at all; an existing file is not overwritten)")
  .addOptionalParam("tap", "The TAP file the rejects are of (default: the rejects file's name without .rejects.csv)")
  .addOptionalParam(
    "sequence",
    "RAP file sequence number, 1 to 99999 (default: the one after the last RAP file this carrier wrote to that partner, from the sequence log <payload store>/rap/<sender>-<recipient>.json)",
    undefined,
    types.int,
  )
  .addOptionalParam("utcOffset", "UTC offset of the RAP file's timestamps, +hhmm or -hhmm (default: this machine's)")
  .addOptionalParam(
    "read",
    "Instead of writing: print this RAP file (a ReturnBatch with its returns and error codes, or an Acknowledgement)",
  )
  .addOptionalParam(
    "store",
    "Payload store folder that holds the sequence log (default: the carrier profile's, else $ROAMLEDGER_STORE, else <key store>/store)",
  )
  .addOptionalParam("keystore", "Key store folder (default: the carrier profile's, else $ROAMLEDGER_HOME or ./.roamledger)")
  .setAction(
    action(async (args: Args) => {
      if (args.read !== undefined) {
        if (args.rejects !== undefined || args.out !== undefined) {
          throw new InputError("--read prints a RAP file; it takes no --rejects or --out", { hint: "run usage:rap --read F.rap alone." });
        }
        await printRap(args.read);
        return;
      }
      await writeRap(args);
    }),
  );

async function writeRap(args: Args): Promise<void> {
  if (!args.rejects)
    throw new InputError("--rejects is required (or --read to print a RAP file)", {
      hint: "pass --rejects F.tap.rejects.csv --out F.rap.",
    });
  if (!args.out) throw new InputError("--out is required", { hint: "pass the RAP file to write, e.g. --out RCALPHABRAVO00001." });
  const tap = args.tap ?? defaultTap(args.rejects);
  for (const [flag, file] of [
    ["rejects", args.rejects],
    ["tap", tap],
  ]) {
    if (!fs.existsSync(file)) throw new InputError(`no file ${file}`, { location: { param: flag }, hint: "check the path." });
  }
  if (fs.existsSync(args.out)) {
    throw new InputError(`${args.out} exists`, {
      location: { param: "out" },
      hint: "a RAP file is written once: choose another --out, or remove the old file if it was never sent.",
    });
  }
  const rejects = await readTapRejects(args.rejects);
  const progress = new Progress({ label: `reading ${path.basename(tap)}`, unit: "call events" });
  const sequence = args.sequence === undefined ? undefined : sequenceArg(args.sequence);
  const dir = storeDir(args);
  let log: RapLog | undefined;
  let logFile = "";
  const result = await writeReturnBatch({
    rejects,
    tap,
    utcOffset: args.utcOffset,
    onProgress: (n) => progress.update(n),
    // The pair (and so its sequence log) is known once the TAP file's BatchControlInfo is read.
    rapFileSequenceNumber: (pair) => {
      logFile = rapLogPath(dir, pair.sender, pair.recipient);
      log = readRapLog(logFile, pair.sender, pair.recipient);
      const number = sequence ?? nextRapSequence(log);
      checkUnused(log, number, logFile);
      return number;
    },
  });
  progress.done();
  const number = result.rapFileSequenceNumber;
  writeFileAtomic(args.out, result.bytes);
  try {
    recordRap(logFile, log as RapLog, {
      rapFileSequenceNumber: number,
      tapFileSequenceNumber: result.tapFileSequenceNumber,
      file: path.resolve(args.out),
      kind: result.kind,
      returnDetails: result.returnDetails,
      writtenAt: new Date().toISOString(),
    });
  } catch (err) {
    fs.rmSync(args.out, { force: true });
    throw err;
  }
  const what =
    result.kind === "fatal"
      ? `a fatal return (${rejects.kind === "fatal" ? rejects.code : ""}: the whole file)`
      : `${result.returnDetails} severe return(s)`;
  out(
    `RAP file ${number} ${result.sender} -> ${result.recipient} for TAP file ${result.tapFileSequenceNumber}: ${what}, TotalSevereReturnValue ${result.totalSevereReturnValue} -> ${args.out}`,
  );
  if (result.notBillable > 0)
    out(`${result.notBillable} NOT_BILLABLE call event(s) not returned (RoamLedger does not bill them; they are not errors of the file)`);
  out(`Sequence log: ${logFile}`);
}

function defaultTap(rejects: string): string {
  if (!rejects.endsWith(REJECTS_SUFFIX)) {
    throw new InputError(`cannot tell the TAP file from ${rejects} (its name does not end with ${REJECTS_SUFFIX})`, {
      location: { param: "tap" },
      hint: "pass --tap with the TAP file the rejects are of.",
    });
  }
  return rejects.slice(0, -REJECTS_SUFFIX.length);
}

function sequenceArg(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 99_999) {
    throw new InputError(`--sequence ${n} is not from 1 to 99999`, {
      location: { param: "sequence" },
      hint: "RAP file sequence numbers have five digits.",
    });
  }
  return String(n).padStart(5, "0");
}

function storeDir(args: Args): string {
  const store = storeFor(keystoreFor(args.keystore), args.store);
  if (!(store instanceof FolderStore)) throw new InputError("the payload store is not a folder", { location: { param: "store" } });
  return store.dir;
}

// ---- --read ----

const stamp = (t?: TapTimestamp) => (t ? `${t.local} ${t.utcOffset ?? ""}${t.utc ? ` (${t.utc})` : ""}` : "not given");

async function printRap(file: string): Promise<void> {
  if (!fs.existsSync(file)) throw new InputError(`no file ${file}`, { location: { param: "read" }, hint: "check the path." });
  const rap = await readRap(file);
  if (rap.kind === "acknowledgement") printAck(file, rap);
  else printReturnBatch(file, rap);
}

function printAck(file: string, a: RapAcknowledgement): void {
  out(
    `RAP Acknowledgement ${file}: ${a.sender} acknowledges RAP file ${a.rapFileSequenceNumber} to ${a.recipient}${a.fileTypeIndicator === "T" ? " (test data)" : ""}`,
  );
  out(`  created ${stamp(a.ackFileCreation)}, available ${stamp(a.ackFileAvailable)}`);
}

function printReturnBatch(file: string, b: RapReturnBatch): void {
  const tapVersion = b.specificationVersion === undefined ? "" : `, returns TAP ${b.specificationVersion}.${b.releaseVersion ?? "?"} files`;
  out(
    `RAP ReturnBatch ${file}: ${b.sender} -> ${b.recipient}, RAP file ${b.rapFileSequenceNumber} (RAP ${b.rapSpecificationVersion}.${b.rapReleaseVersion}${tapVersion})${b.fileTypeIndicator === "T" ? ", test data" : ""}`,
  );
  out(`  created ${stamp(b.rapFileCreation)}, available ${stamp(b.rapFileAvailable)}`);
  const places = b.tapDecimalPlaces;
  const money = (v: number) =>
    places === undefined ? String(v) : `${v} (${(v / 10 ** places).toFixed(places)}${b.tapCurrency ? ` ${b.tapCurrency}` : ""})`;
  out(`Returns: ${b.returns.length}`);
  b.returns.forEach((r, i) => {
    out(`  ${i + 1}. ${describeReturn(r, money)}`);
    if (r.kind === "severe" || r.kind === "fatal") {
      for (const e of r.errors)
        out(
          `       error ${e.errorCode} at ${e.context.map((c) => `${c.name ?? c.pathItemId}${c.itemOccurrence ? `[${c.itemOccurrence}]` : ""}`).join("/") || "(no context)"}`,
        );
    }
  });
  if (!b.audit) out("RapAuditControlInfo: missing");
  else {
    out(
      `RapAuditControlInfo: TotalSevereReturnValue ${money(b.audit.totalSevereReturnValue ?? 0)}, ReturnDetailsCount ${b.audit.returnDetailsCount ?? "missing"}`,
    );
    for (const p of b.audit.problems) out(`  mismatch: ${p}`);
  }
  for (const g of b.otherGroups) out(`Skipped: ${g.name ?? `APPLICATION ${g.tag}`} at byte ${g.offset}`);
}

function describeReturn(r: RapReturn, money: (v: number) => string): string {
  switch (r.kind) {
    case "severe": {
      const ev = r.callEvent;
      const what = ev
        ? `${ev.kind}${ev.imsi ? ` IMSI ${ev.imsi}` : ""}${ev.start ? ` start ${ev.start.local}` : ""}`
        : "a call event of a kind TAP 3.12 does not define";
      return `severe: TAP file ${r.fileSequenceNumber}, ${what}, charge ${money(r.charge)}`;
    }
    case "fatal":
      return `fatal: TAP file ${r.fileSequenceNumber} refused whole, ${r.group}`;
    case "missing":
      return `missing: TAP file(s) ${r.startMissingSeqNumber}${r.endMissingSeqNumber ? ` to ${r.endMissingSeqNumber}` : ""} never received`;
    default:
      return `${r.name ?? `APPLICATION ${r.tag}`} at byte ${r.offset} (not decoded)`;
  }
}
