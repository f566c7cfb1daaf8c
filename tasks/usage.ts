import v8 from "node:v8";
import { task, types } from "hardhat/config";
import { formatPlmn } from "../lib/core/plmn";
import { cliProgress } from "./cli/progress";
import { ingestUsage, pairWorkDir, DEFAULT_BATCH_SIZE, type IngestSummary } from "../lib/usage/ingest";
import { parsePeriod } from "../lib/core/period";

import { pairKeyWith, storeFor } from "../lib/usage/pair";
import { action, clientFor, keystoreFor, memberOfSigner, out } from "./common";
import { FROM_HELP, plmnArg } from "./cli/args";
import type { Signer } from "ethers";
import { InputError } from "../lib/core/errors";
import { writeFileAtomic } from "../lib/util/fsAtomic";
import type { Hex } from "../lib/util/hex";
import { verifyBatch, type VerifyReport } from "../lib/usage/verify";
import { formatPeriod } from "../lib/core/period";
import { ROLE_BITS } from "../lib/core/enums";

const KEYSTORE_HELP = "Key store folder (default $ROAMLEDGER_HOME or ./.roamledger); local usage state lives there too";
const STORE_HELP = "Payload store folder both carriers reach (default $ROAMLEDGER_STORE or <key store>/store)";

const n = (x: number) => x.toLocaleString("en-US");

export function printIngestSummary(s: IngestSummary, period: string): void {
  if (s.alreadyDone) out(`Already ingested by an earlier run (${s.runKey}); nothing was sent.`);
  out(`Usage of ${period}: ${n(s.lines)} lines, ${n(s.accepted)} records committed, ${n(s.rejected)} rejected.`);
  for (const [code, count] of Object.entries(s.rejectsByCode)) out(`  rejected ${code}: ${n(count ?? 0)}`);
  if (s.rejectsFile) out(`  rejects with line numbers and reasons: ${s.rejectsFile}`);
  out(`  billable ${n(s.billable)}; not billable ${n(s.accepted - s.billable)}`);
  for (const [reason, count] of Object.entries(s.notBillableByReason)) out(`    ${reason}: ${n(count)}`);
  out(`  fraud: ${n(s.flaggedDevices)} device(s) flagged on-chain in ${s.flagTxs.length} transaction(s)`);
  out(`  permanent roamers reported: ${n(s.permanentRoamers)}`);
  out(
    `  devices: ${n(s.devices)}; processing ${n(s.recordsPerSec)} records/s (chain excluded)${s.peakRssMb ? `; peak memory ${n(s.peakRssMb)} MB` : ""}`,
  );
  for (const b of s.batches) {
    const how = b.submitted === "existing" ? "already on-chain" : `tx ${b.txHash}, gas ${b.gasUsed}`;
    out(`  batch ${b.id}: ${n(b.records)} records, ${how}`);
  }
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
  "Visited carrier: validates, checks against device policies, commits and bills one usage file of a home partner for a period (re-run after a crash finishes the job, nothing twice)",
)
  .addParam("file", "Usage records, CSV with header or JSON lines (.jsonl); see docs/usage-records.md")
  .addParam("home", "The home carrier billed, as MCC-MNC (e.g. 262-01)")
  .addParam("period", "Billing period, YYYY-MM; records outside it are rejected")
  .addOptionalParam("batchSize", `Records per batch (default ${DEFAULT_BATCH_SIZE})`, undefined, types.int)
  .addOptionalParam(
    "summary",
    "Also write the run's summary as JSON to this file: counts, rejects per reason, batches and their transactions, records/s, peak memory",
  )
  .addOptionalParam("store", STORE_HELP)
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(
      async (
        args: {
          file: string;
          home: string;
          period: string;
          batchSize?: number;
          summary?: string;
          store?: string;
          keystore?: string;
          from?: string;
        },
        hre,
      ) => {
        const home = plmnArg("home", args.home);
        const period = parsePeriod(args.period);
        const client = await clientFor(hre, args.from);
        const self = await memberOfSigner(client, ROLE_BITS.carrier);
        const ks = keystoreFor(args.keystore);
        const imsiKey = ks.partnerImsiKey(self.text, formatPlmn(home));
        const pairKey = await pairKeyWith(client, { keystore: ks, self: self.plmn, partner: home });
        const { chainId } = await hre.ethers.provider.getNetwork();
        collectGarbageSooner();
        const summary = await ingestUsage({
          progress: cliProgress,
          file: args.file,
          home,
          visited: self.plmn,
          period,
          client,
          signer: client.runner as Signer,
          chainId,
          imsiKey,
          pairKey,
          workDir: pairWorkDir(ks.root, self.plmn, home),
          store: storeFor(ks, args.store),
          batchSize: args.batchSize,
          log: (line) => out(`  ${line}`),
        });
        printIngestSummary(summary, args.period);
        if (args.summary) {
          writeFileAtomic(args.summary, `${JSON.stringify(summary, null, 2)}\n`);
          out(`  summary written to ${args.summary}`);
        }
      },
    ),
  );

task(
  "usage:verify",
  "Home carrier: fetches and decrypts a usage batch, checks it against its on-chain root and totals (and your own records), then accepts it, disputes the records that differ with Merkle proofs, or rejects it",
)
  .addParam("batch", "The batch id (0x + 64 hex digits), as usage:ingest or watch print it")
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
          batch: string;
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
        const batchId = args.batch.trim().toLowerCase();
        if (!/^0x[0-9a-f]{64}$/.test(batchId)) {
          throw new InputError(`--batch ${args.batch} is not a batch id`, { hint: "pass 0x followed by 64 hex digits." });
        }
        const tolerance = Number(args.tolerance);
        if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 100) {
          throw new InputError(`--tolerance ${args.tolerance} is not a percentage`, { hint: "pass a number from 0 to 100." });
        }
        const client = await clientFor(hre, args.from);
        const self = await memberOfSigner(client, ROLE_BITS.carrier);
        const ks = keystoreFor(args.keystore);
        const report = await verifyBatch({
          batchId: batchId as Hex,
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
        printVerifyReport(report);
        if (args.out) writeFileAtomic(args.out, JSON.stringify(report, null, 2));
      },
    ),
  );

export function printVerifyReport(r: VerifyReport): void {
  out(`Batch ${r.batchId} from ${formatPlmn(r.visited)} for ${formatPeriod(r.period)}: ${n(r.recordCount)} records (${r.statusBefore}).`);
  out(`  payload: ${r.payload === "ok" ? "decrypted; root and totals match the chain" : r.payload}`);
  for (const p of r.problems) out(`    ${p}`);
  if (r.compared) {
    out(`  compared with our ${n(r.compared.ownRecords)} records: ${n(r.compared.matched)} match`);
  }
  out(`  disputed: ${n(r.disputed.length)} of ${n(r.billableRecords)} billable records`);
  for (const d of r.disputed.slice(0, 20)) out(`    ${d.recordId}: ${d.reason} (${d.detail})`);
  if (r.disputed.length > 20) out(`    ... and ${n(r.disputed.length - 20)} more (--out writes them all)`);
  out(`  action: ${r.action}${r.txHashes.length ? ` (${r.txHashes.join(", ")})` : ""}`);
}
