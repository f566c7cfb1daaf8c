import v8 from "node:v8";
import { isoTime } from "../lib/agreements/terms";
import { task, types } from "hardhat/config";
import { formatPlmn } from "../lib/core/plmn";
import { cliProgress } from "./cli/progress";
import {
  abandonUnfinished,
  DEFAULT_BATCH_SIZE,
  describeAbandoned,
  ingestUsage,
  type IngestSummary,
  pairWorkDir,
} from "../lib/usage/ingest";
import type { UsageFormat } from "../lib/usage/parse";
import { parsePeriod } from "../lib/core/period";

import { pairKeyWith, storeFor, tapSequenceDir } from "../lib/usage/pair";
import { tadigPartyCheck } from "../lib/tap/map";
import { plmnOfTadig } from "../lib/consortium/tadig";
import { action, clientFor, defendingMemberOfSigner, keystoreFor, memberOfSigner, out, stepBy } from "./common";
import { commandLine } from "./cli/errors";
import { FROM_HELP, plmnArg } from "./cli/args";
import type { Signer } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { RoamLedgerClient } from "../lib/chain/client";
import type { Keystore } from "../lib/keys/keystore";
import { InputError } from "../lib/core/errors";
import { writeFileAtomic } from "../lib/util/fsAtomic";
import type { Hex } from "../lib/util/hex";
import { openBatchesOf, verifyBatches, type VerifyReport } from "../lib/usage/verify";
import { closePeriod, expireBatches } from "../lib/usage/period";
import { formatPeriod } from "../lib/core/period";
import { ROLE_BITS } from "../lib/core/enums";
import { PERMISSION_BITS } from "../lib/core/roles";

const KEYSTORE_HELP =
  "Key store folder (default: the carrier profile's, else $ROAMLEDGER_HOME or ./.roamledger); local usage state lives there too";
const STORE_HELP =
  "Payload store folder both carriers reach (default: the carrier profile's, else $ROAMLEDGER_STORE, else <key store>/store)";

const n = (x: number) => x.toLocaleString("en-US");

/** Where a run's batches are verified: the `usage:verify` command line the home carrier pastes (commandLine). */
export interface VerifyTarget {
  command: string;
}

export function printIngestSummary(s: IngestSummary, period: string, where: VerifyTarget): void {
  if (s.alreadyDone) out(`Already ingested by an earlier run (${s.runKey}); nothing was sent.`);
  out(`Usage of ${period}: ${n(s.lines)} lines, ${n(s.accepted)} records committed, ${n(s.rejected)} rejected.`);
  for (const [code, count] of Object.entries(s.rejectsByCode)) out(`  rejected ${code}: ${n(count ?? 0)}`);
  if (s.rejectsFile) out(`  rejects with line numbers and reasons: ${s.rejectsFile}`);
  if (s.rejectsByCode.UNPRICED_CLASS) {
    out(
      `  unpriced: ${n(s.rejectsByCode.UNPRICED_CLASS)} record(s) in a tariff class no rate plan of the agreement prices: not billed (they would be rated at 0); the lines are in the rejects file. Ask the home carrier to move those devices to a priced class, or amend the agreement to price it.`,
    );
  }
  out(`  billable ${n(s.billable)}; not billable ${n(s.accepted - s.billable)}`);
  for (const [reason, count] of Object.entries(s.notBillableByReason)) out(`    ${reason}: ${n(count)}`);
  const standing = s.flagsStanding ?? 0;
  out(
    `  fraud: ${n(s.flaggedDevices)} device(s) flagged on-chain${standing > 0 ? ` (${n(standing)} of them flagged by us before)` : ""}, ${s.flagTxs.length} transaction(s) sent`,
  );
  if (s.flagsHeld > 0) {
    out(
      `  fraud flags held back: ${n(s.flagsHeld)} device(s) in our 7-day cooldown after the home cleared them, or over today's quota of flags; their records are not billable all the same (device:show lists a device's flags).`,
    );
  }
  out(`  permanent roamers found: ${n(s.permanentRoamers)} (their roamer days are in the sealed totals)`);
  out(
    `  devices: ${n(s.devices)}; processing ${n(s.recordsPerSec)} records/s (chain excluded)${s.peakRssMb ? `; peak memory ${n(s.peakRssMb)} MB` : ""}`,
  );
  printBatchIds(s, where);
}

/**
 * The run's batch ids (what the home carrier verifies; their transactions are in the --summary JSON) and the
 * `usage:verify` command that verifies every open batch of the pair's period.
 */
function printBatchIds(s: IngestSummary, where: VerifyTarget): void {
  if (s.batches.length === 0) return;
  out(`Batch ids (${s.batches.length}), for usage:verify:`);
  for (const b of s.batches) {
    if (b.submitted === "refused") out(`  not billed: batch ${b.id} of ${n(b.records)} records, refused by the ledger (never on chain)`);
    else out(`  batch ${b.id}: ${n(b.records)} records${b.submitted === "existing" ? ", already on chain before this run" : ""}`);
  }
  out("The home carrier verifies them (with every other open batch of the period) with:");
  out(`  ${where.command}`);
}

/** Default of ROAMLEDGER_HEAP_GROWING_PERCENT for usage:ingest. */
export const INGEST_HEAP_GROWING_PERCENT = 50;

/**
 * Lets V8's old generation grow by ROAMLEDGER_HEAP_GROWING_PERCENT (default 50) of what is live before a
 * full collection, instead of up to 4 times it. An ingest allocates a few hundred bytes per record that
 * die soon after promotion; with V8's default, a 10M-record file took 700 MB of heap for 160 MB live
 * and the process peaked at 1.3 GB. The command is a process of its own, so the setting is too; 0 keeps
 * V8's default.
 */
function collectGarbageSooner(): void {
  const raw = process.env.ROAMLEDGER_HEAP_GROWING_PERCENT ?? String(INGEST_HEAP_GROWING_PERCENT);
  const percent = Number(raw);
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) {
    throw new InputError(`ROAMLEDGER_HEAP_GROWING_PERCENT=${raw} is not a percentage`, {
      hint: "set a whole number from 0 to 1000 (0: V8's default), or unset it.",
    });
  }
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

task(
  "usage:ingest",
  "Visited carrier: validates, checks against device policies, commits and bills one usage file of a home partner for a period (re-run after a crash finishes the job, nothing twice); --abandon drops an unfinished run none of whose batches is on chain",
)
  .addOptionalParam(
    "file",
    "Usage records, CSV with header or JSON lines (.jsonl), or a TAP 3.12 file (told by its content; docs/tap.md); see docs/usage-records.md (not with --abandon)",
  )
  .addParam("home", "The home carrier billed, as MCC-MNC (e.g. 262-01)")
  .addParam("period", "Billing period, YYYY-MM; records outside it are rejected")
  .addOptionalParam("format", "csv or jsonl (default: from the file's extension, .csv, .jsonl or .ndjson)")
  .addOptionalParam("batchSize", `Records per batch (default ${DEFAULT_BATCH_SIZE})`, undefined, types.int)
  .addOptionalParam(
    "summary",
    "Also write the run's summary as JSON to this file: counts, rejects per reason, batches and their transactions, records/s, peak memory",
  )
  .addFlag(
    "abandon",
    "Instead of ingesting: abandon the pair's unfinished run(s) of --period whose batches are not on chain (journal kept as abandoned, sealed payloads and pending state removed); refused when a batch is on chain",
  )
  .addOptionalParam("store", STORE_HELP)
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: IngestArgs, hre) => {
      const home = plmnArg("home", args.home);
      const period = parsePeriod(args.period);
      const format = formatArg(args.format);
      if (!args.abandon && args.file === undefined) {
        throw new InputError("missing", { location: { param: "file" }, hint: "pass the usage file to ingest (or --abandon)." });
      }
      if (args.abandon && args.file !== undefined) {
        throw new InputError("is not taken with --abandon", {
          location: { param: "file" },
          hint: "--abandon drops the unfinished runs of --home and --period, whatever their file; leave --file out.",
        });
      }
      const { client, self, ks, store, workDir } = await visitedSide(hre, { ...args, home }, "usage:ingest");
      if (args.abandon) {
        const runs = await abandonUnfinished({ client, store, workDir, visited: self.plmn, home, period });
        for (const run of runs) out(describeAbandoned(run));
        for (const run of runs) for (const b of run.batches) out(`  dropped batch ${b.id}: ${n(b.records)} records (never on chain)`);
        out(`The pair's local state is what it was before; the next file of ${args.home} ingests.`);
        return;
      }
      const { imsiKey, pairKey, chainId } = await pairKeys(hre, { client, self, ks, home });
      collectGarbageSooner();
      const summary = await ingestUsage({
        progress: cliProgress,
        file: args.file as string,
        format,
        home,
        visited: self.plmn,
        period,
        client,
        signer: client.runner as Signer,
        chainId,
        imsiKey,
        pairKey,
        workDir,
        store,
        batchSize: args.batchSize,
        log: (line) => out(`  ${line}`),
        // A TAP file (told by its content): its TADIG codes checked on chain, its number in <store>/tap.
        tapParties: tadigPartyCheck((code) => plmnOfTadig(client, code), { home, visited: self.plmn, file: args.file }),
        tapSequenceDir: tapSequenceDir(store),
      });
      const verify = await stepBy(hre, client, home, { operation: "usage:verify", args: { visited: self.text, period: args.period } });
      printIngestSummary(summary, args.period, { command: commandLine(verify) });
      if (args.summary) {
        writeFileAtomic(args.summary, `${JSON.stringify(summary, null, 2)}\n`);
        out(`  summary written to ${args.summary}`);
      }
    }),
  );

/**
 * What a visited carrier's command on a home partner's usage needs (usage:ingest, usage:stream): its
 * client and member, key store, payload store and the pair's work folder; refuses its own carrier as home.
 */
export async function visitedSide(
  hre: HardhatRuntimeEnvironment,
  args: { home: Hex; from?: string; keystore?: string; store?: string },
  command: string,
) {
  const client = await clientFor(hre, args.from);
  const self = await memberOfSigner(client, ROLE_BITS.carrier);
  if (self.plmn === args.home) {
    throw new InputError(`${formatPlmn(args.home)} is your own carrier`, {
      location: { param: "home" },
      hint: `${command} is run by the visited carrier (you, ${self.text}) for usage of another carrier's devices on your network: pass that home carrier, the one the file bills. Your own devices' usage abroad is ingested by the carrier they visited, and you verify it with usage:verify.`,
    });
  }
  const ks = keystoreFor(args.keystore);
  const store = storeFor(ks, args.store);
  const workDir = pairWorkDir(ks.root, self.plmn, args.home);
  return { client, self, ks, store, workDir };
}

/** The pair's keys (the home's shared IMSI key, the pairwise payload key) and the chain id. */
export async function pairKeys(
  hre: HardhatRuntimeEnvironment,
  side: { client: RoamLedgerClient; self: { plmn: Hex; text: string }; ks: Keystore; home: Hex },
) {
  const imsiKey = side.ks.partnerImsiKey(side.self.text, formatPlmn(side.home));
  const pairKey = await pairKeyWith(side.client, { keystore: side.ks, self: side.self.plmn, partner: side.home });
  const { chainId } = await hre.ethers.provider.getNetwork();
  return { imsiKey, pairKey, chainId };
}

interface IngestArgs {
  file?: string;
  home: string;
  period: string;
  format?: string;
  batchSize?: number;
  summary?: string;
  abandon: boolean;
  store?: string;
  keystore?: string;
  from?: string;
}

/** --format: csv or jsonl, or undefined (from the file's extension). */
export function formatArg(text: string | undefined): UsageFormat | undefined {
  if (text === undefined) return undefined;
  const format = text.trim().toLowerCase();
  if (format === "csv" || format === "jsonl") return format;
  throw new InputError(`${text} is not a usage file format`, { location: { param: "format" }, hint: "pass csv or jsonl." });
}

task(
  "usage:verify",
  "Home carrier: opens usage batches' sealed payloads, checks them against their on-chain commitments and roots (and your own records), then accepts them, disputes the records that differ by position with Merkle proofs, or rejects them",
)
  .addOptionalParam("batch", "Batch ids (0x + 64 hex digits), comma-separated, as usage:ingest or watch print them")
  .addOptionalParam("period", "Instead of --batch: every open (undecided) batch of this period, YYYY-MM, from --visited")
  .addOptionalParam("visited", "With --period: the visited carrier whose batches to verify, as MCC-MNC")
  .addOptionalParam("own", "Your own records of the same usage (CSV or JSON lines, same format) to compare with")
  .addOptionalParam("tolerance", "Data-volume difference tolerated before disputing, in percent (default 0)", "0")
  .addFlag("dryRun", "Check and report only; send nothing")
  .addFlag("noAccept", "After disputing, leave the batch open instead of accepting the rest")
  .addFlag("rejectMissing", "Reject the batch when its payload is not in the store (default: stop with an error)")
  .addOptionalParam("out", "Also write the report as JSON to this file")
  .addOptionalParam("store", STORE_HELP)
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(
      async (
        args: {
          batch?: string;
          period?: string;
          visited?: string;
          own?: string;
          tolerance: string;
          dryRun: boolean;
          noAccept: boolean;
          rejectMissing: boolean;
          out?: string;
          store?: string;
          keystore?: string;
          from?: string;
        },
        hre,
      ) => {
        const byPeriod = periodSelection(args);
        if (!byPeriod && args.batch === undefined) {
          throw new InputError("missing", {
            location: { param: "batch" },
            hint: "pass the batch ids to verify, or --visited and --period for every open batch of a period.",
          });
        }
        const batchIds = byPeriod ? [] : parseBatchIds(args.batch ?? "");
        const tolerance = Number(args.tolerance);
        if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 100) {
          throw new InputError(`--tolerance ${args.tolerance} is not a percentage`, { hint: "pass a number from 0 to 100." });
        }
        const client = await clientFor(hre, args.from);
        // A suspended home keeps its decisions and disputes (THREATS F5); the ledger asks for a USAGE key.
        const self = await defendingMemberOfSigner(client, ROLE_BITS.carrier, PERMISSION_BITS.usage);
        const ks = keystoreFor(args.keystore);
        if (byPeriod) {
          batchIds.push(...(await openBatchesOf(client, { home: self.plmn, ...byPeriod })));
          out(`${n(batchIds.length)} open batch(es) of ${args.period} from ${args.visited} to verify.`);
          if (batchIds.length === 0) return;
        }
        const reports = await verifyBatches({
          progress: cliProgress,
          batchIds,
          client,
          self: self.plmn,
          pairKeyFor: (visited) => pairKeyWith(client, { keystore: ks, self: self.plmn, partner: visited }),
          store: storeFor(ks, args.store),
          imsiKey: ks.imsiKey(self.text),
          ownFile: args.own,
          tolerance: tolerance / 100,
          dryRun: args.dryRun,
          noAccept: args.noAccept,
          rejectMissing: args.rejectMissing,
          log: (line) => out(`  ${line}`),
        });
        for (const report of reports) printVerifyReport(report);
        if (args.out) writeFileAtomic(args.out, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
      },
    ),
  );

/** --period and --visited of usage:verify, or undefined for --batch; InputError for a mix or a half. */
function periodSelection(args: { batch?: string; period?: string; visited?: string }): { visited: Hex; period: number } | undefined {
  if (args.period === undefined && args.visited === undefined) return undefined;
  if (args.batch !== undefined) {
    throw new InputError("is not taken with --period", {
      location: { param: "batch" },
      hint: "pass either --batch (those batches) or --period with --visited (every open batch of the period).",
    });
  }
  if (args.period === undefined || args.visited === undefined) {
    const missing = args.period === undefined ? "period" : "visited";
    throw new InputError("missing", { location: { param: missing }, hint: "--period and --visited go together." });
  }
  return { visited: plmnArg("visited", args.visited), period: parsePeriod(args.period) };
}

/** Batch ids from a comma-separated list, lower case; InputError naming the first that is not one. */
export function parseBatchIds(text: string): Hex[] {
  const ids = text
    .split(",")
    .map((id) => id.trim().toLowerCase())
    .filter((id) => id !== "");
  const bad = ids.find((id) => !/^0x[0-9a-f]{64}$/.test(id));
  if (bad !== undefined || ids.length === 0) {
    throw new InputError(`${bad ?? "(nothing)"} is not a batch id`, {
      location: { param: "batch" },
      hint: "pass 0x followed by 64 hex digits, comma-separated for several (or --visited and --period for every open batch of a period).",
    });
  }
  return [...new Set(ids)] as Hex[];
}

export function printVerifyReport(r: VerifyReport): void {
  out(
    `Batch ${r.batchId} from ${formatPlmn(r.visited)} for ${formatPeriod(r.period)}: ${n(r.recordCount)} records, tree depth ${r.treeDepth} (${r.statusBefore}).`,
  );
  out(
    `  payload: ${r.payload === "ok" ? "opened; it opens the totals commitment and payload hash, and its records give the root" : r.payload}`,
  );
  for (const p of r.problems) out(`    ${p}`);
  if (r.compared) {
    out(`  compared with our ${n(r.compared.ownRecords)} records: ${n(r.compared.matched)} match`);
  }
  out(`  disputed: ${n(r.disputed.length)} of ${n(r.billableRecords)} billable records`);
  for (const d of r.disputed.slice(0, 20)) out(`    #${d.leafIndex} ${d.recordId}: ${d.reason} (${d.detail})`);
  if (r.disputed.length > 20) out(`    ... and ${n(r.disputed.length - 20)} more (--out writes them all)`);
  out(`  action: ${r.action}${r.txHashes.length ? ` (${r.txHashes.join(", ")})` : ""}`);
}

/** The (home, visited, period) of usage:expire and usage:close. */
function periodKeyArgs(args: { home: string; visited: string; period: string }) {
  return { home: plmnArg("home", args.home), visited: plmnArg("visited", args.visited), period: parsePeriod(args.period) };
}

task(
  "usage:expire",
  "Anyone: expires the usage batches of a pair and period whose dispute windows have ended (they count as accepted), in chunks",
)
  .addParam("home", "The home carrier, as MCC-MNC")
  .addParam("visited", "The visited carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { home: string; visited: string; period: string; from?: string }, hre) => {
      const key = periodKeyArgs(args);
      const client = await clientFor(hre, args.from);
      const r = await expireBatches(client, { ...key, progress: cliProgress, log: (line) => out(`  ${line}`) });
      out(`Expired ${n(r.expired.length)} batch(es) of ${args.period} (${args.visited} -> ${args.home}).`);
      if (r.stillPending > 0) {
        out(`  ${n(r.stillPending)} batch(es) are still in their dispute window, the last until ${isoTime(r.lastWindowEnd)}.`);
      }
      for (const hash of r.txHashes) out(`  tx ${hash}`);
    }),
  );

task(
  "usage:close",
  "Anyone: closes a pair's period once its submission deadline has passed and no batch is pending (with --expire, expires the batches whose windows ended first); prints the accumulator its invoices bind to",
)
  .addParam("home", "The home carrier, as MCC-MNC")
  .addParam("visited", "The visited carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addFlag("expire", "First expire the batches whose dispute windows have ended")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { home: string; visited: string; period: string; expire: boolean; from?: string }, hre) => {
      const key = periodKeyArgs(args);
      const client = await clientFor(hre, args.from);
      const log = (line: string) => out(`  ${line}`);
      if (args.expire) {
        const expired = await expireBatches(client, { ...key, progress: cliProgress, log });
        out(`Expired ${n(expired.expired.length)} batch(es).`);
      }
      const r = await closePeriod(client, { ...key, log });
      out(`Period ${args.period} of ${args.visited} -> ${args.home} ${r.alreadyClosed ? "was already closed" : "closed"}.`);
      out(`  counted batches: ${n(r.countedBatches)}; rejected: ${n(r.rejectedBatches)}`);
      out(`  accumulator: ${r.accumulator}${r.txHash ? ` (tx ${r.txHash})` : ""}`);
    }),
  );
