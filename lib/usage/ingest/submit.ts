import { BATCH_STATUSES } from "../../core/enums";
import { ConfigError } from "../../core/errors";
import { TxQueue } from "../../chain/txQueue";
import { noProgress } from "../../util/progress";
import { ledgerDomain, signBatch, toContractBatch } from "../batch";
import { batchFromJson, type Journal, writeJournal } from "./journal";
import type { BatchOutcome, IngestOptions } from "./types";

/** Where a sealed run is recorded, and where its status lines go. */
export interface RunRecord {
  journal: Journal;
  journalFile: string;
  log: (line: string) => void;
}

/** Signs and submits the journal's batches that are not on-chain yet; records their transactions. */
export async function submitBatches(opts: IngestOptions, run: RunRecord): Promise<void> {
  const { journal } = run;
  const ledger = opts.client.ledger;
  const domain = ledgerDomain(opts.chainId, await ledger.getAddress());
  const queue = new TxQueue(run.log);
  const progress = (opts.progress ?? noProgress)({ label: "submit batches", total: journal.batches.length, unit: "batches" });
  const sent: { entry: BatchOutcome; index: number }[] = [];
  for (const entry of journal.batches) {
    const info = await ledger.getBatch(entry.id);
    if (BATCH_STATUSES[Number(info.status)] !== "none") {
      entry.submitted ??= "existing";
      progress.tick();
      continue;
    }
    const batch = batchFromJson(entry.batch).header;
    if (!(await opts.store.has(batch.payloadHash))) {
      throw new ConfigError(`the payload of batch ${entry.id} is missing from the store ${opts.store.describe()}`, {
        hint: "restore the store folder; the batch cannot be committed without the payload the home carrier will fetch.",
      });
    }
    const signature = await signBatch(opts.signer, domain, batch);
    const index = await queue.send(
      `batch ${entry.id} (${entry.sequence + 1} of ${journal.batches.length}, ${entry.records.toLocaleString("en-US")} records)`,
      () => ledger.submitBatch(toContractBatch(batch), signature),
    );
    sent.push({ entry, index });
    progress.tick();
  }
  const receipts = await queue.drain();
  for (const { entry, index } of sent) {
    entry.submitted = "new";
    entry.txHash = receipts[index].hash;
    entry.gasUsed = receipts[index].gasUsed.toString();
  }
  progress.done();
  writeJournal(run.journalFile, journal);
}
