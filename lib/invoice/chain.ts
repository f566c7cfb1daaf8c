/**
 * Reads everything an invoice says from the chain (and, when the pairwise key is at hand, from the
 * encrypted payloads): the escrow's invoice and its `InvoiceClosed` rating, the agreement version it was
 * rated with, the ledger's final period totals, every batch of the period with its transactions, disputes
 * and rejections, and the settlement. `buildInvoiceModel` (./model) turns it into the document's model.
 */
import type { Log } from "ethers";
import { ConfigError, InputError, type NextStep } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { tokenInfo } from "../agreements/chain";
import { providerOf } from "../chain/send";
import { ratingFromStruct } from "../settlement/rating";
import {
  chainNow,
  closability,
  describeClosability,
  periodBatchStates,
  requireMember,
  settlementEvents,
  type MemberRef,
  type PeriodBatch,
} from "../settlement/escrow";
import { totalsFromContract } from "../usage/batch";
import { openPayload } from "../usage/payload";
import { RECORD_BYTES, unpackRecord } from "../usage/leaf";
import { formatPeriod } from "../core/period";
import { DISPUTE_REASONS, REJECT_REASONS } from "../usage/verify";
import type { ContentStore } from "../usage/store";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";
import type { BatchEvidence, InvoiceChainData, NotBillableData, SettlementEvidence } from "./types";
import { BILLING, INVOICE_STATUSES } from "../core/enums";

const nameOf = (table: Record<string, number>, code: number) => Object.entries(table).find(([, v]) => v === code)?.[0] ?? `reason ${code}`;

export interface ReadInvoiceOptions {
  payer: Hex;
  payee: Hex;
  period: number;
  /** Which side the document is for (default: payee, the carrier that bills). */
  perspective?: "payer" | "payee";
  /**
   * To count the usage committed but not billable: the pairwise key of the two carriers and the payload
   * store. Without it, that section says why it is not available.
   */
  payloads?: { key: Uint8Array; store: ContentStore } | { unavailable: string };
  /** First block to search for events (default 0). */
  fromBlock?: number;
}

/** The invoice's members, and the stored invoice; an InputError that says how to close it when it is not closed. */
async function closedInvoice(client: RoamLedgerClient, opts: ReadInvoiceOptions) {
  const { payer, payee, period } = opts;
  const [payerMember, payeeMember] = await Promise.all([
    requireMember(client, { plmn: payer, param: "payer" }),
    requireMember(client, { plmn: payee, param: "payee" }),
  ]);
  const invoice = await client.escrow.invoice(payer, payee, period);
  const status = INVOICE_STATUSES[Number(invoice.status)];
  if (status === "none") throw await notClosedError(client, opts, [payerMember, payeeMember]);
  return { payerMember, payeeMember, invoice, status };
}

/** The invoice is not closed: from when it can be, and the closing that the document's side can do. */
async function notClosedError(client: RoamLedgerClient, opts: ReadInvoiceOptions, [payer, payee]: MemberRef[]): Promise<InputError> {
  const period = formatPeriod(opts.period);
  const query = { home: opts.payer, visited: opts.payee, period: opts.period, fromBlock: opts.fromBlock };
  const when = describeClosability(await closability(client, query), await chainNow(client), opts.payee);
  const next: NextStep =
    (opts.perspective ?? "payee") === "payee"
      ? { operation: "escrow:close", args: { partner: payer.text, period, as: "payee" } }
      : { operation: "escrow:close", args: { partner: payee.text, period } };
  return new InputError(
    `the invoice of ${payer.text} (payer) to ${payee.text} (payee) for ${period} is not closed yet: there is nothing to print`,
    {
      hint: `either carrier closes it (settling the period closes both directions). ${when}`,
      next,
    },
  );
}

/** The `InvoiceClosed` event of the invoice: its rating and transaction. */
async function closedEvent(client: RoamLedgerClient, { payer, payee, period, fromBlock = 0 }: ReadInvoiceOptions) {
  const { escrow } = client;
  const closed = await escrow.queryFilter(escrow.filters.InvoiceClosed(payer, payee, period), fromBlock);
  if (closed.length !== 1) {
    throw new InputError(
      `found ${closed.length} InvoiceClosed events for ${formatPlmn(payer)} -> ${formatPlmn(payee)} ${formatPeriod(period)} from block ${fromBlock}`,
      {
        location: { param: "fromBlock" },
        hint: "search from an earlier block (the escrow's deployment block) or check the deployment record.",
      },
    );
  }
  return { rating: ratingFromStruct(closed[0].args.rating), closeTx: closed[0].transactionHash as Hex };
}

/** The ledger's dispute, accept and reject events of the batches, by batch id: one `eth_getLogs` for them all. */
async function batchEvents(client: RoamLedgerClient, batchIds: readonly Hex[], fromBlock: number): Promise<Map<string, Log[]>> {
  const byBatch = new Map<string, Log[]>(batchIds.map((id) => [id.toLowerCase(), []]));
  if (batchIds.length === 0) return byBatch;
  const names = ["UsageRecordDisputed", "UsageBatchAccepted", "UsageBatchRejected"] as const;
  const topics = names.map((name) => client.ledger.interface.getEvent(name).topicHash);
  const logs = await providerOf(client.runner).getLogs({
    address: client.addresses.usageLedger,
    fromBlock,
    topics: [topics, [...batchIds]],
  });
  // Every one of the three events has the batch id as its first indexed argument.
  for (const log of logs) byBatch.get(log.topics[1].toLowerCase())?.push(log);
  return byBatch;
}

/** One batch's evidence from its state on the ledger, its disputed totals and its events. */
function batchEvidence(client: RoamLedgerClient, b: PeriodBatch, disputed: BatchEvidence["disputed"], logs: readonly Log[]): BatchEvidence {
  const parsed = logs.flatMap((log) => {
    const event = client.ledger.interface.parseLog(log);
    return event ? [{ event, txHash: log.transactionHash as Hex }] : [];
  });
  const disputes = parsed.filter((p) => p.event.name === "UsageRecordDisputed");
  const reasons = new Map<number, number>();
  for (const { event } of disputes) reasons.set(Number(event.args.reason), (reasons.get(Number(event.args.reason)) ?? 0) + 1);
  const accept = parsed.find((p) => p.event.name === "UsageBatchAccepted");
  const reject = parsed.find((p) => p.event.name === "UsageBatchRejected");
  return {
    batchId: b.batchId,
    state: b.status,
    submittedAt: b.submittedAt,
    submitTx: b.txHash,
    recordCount: b.batch.recordCount,
    totals: b.batch.totals,
    disputed,
    disputedRecords: b.disputedRecords,
    disputeTxs: [...new Set(disputes.map((d) => d.txHash))],
    disputeReasons: [...reasons].map(([reason, records]) => ({ reason, name: nameOf(DISPUTE_REASONS, reason), records })),
    acceptTx: accept?.txHash,
    rejectTx: reject?.txHash,
    rejectReason: reject
      ? { code: Number(reject.event.args.reason), name: nameOf(REJECT_REASONS, Number(reject.event.args.reason)) }
      : undefined,
  };
}

/** The period's batches and what happened to each. */
async function readBatches(
  client: RoamLedgerClient,
  opts: ReadInvoiceOptions,
): Promise<{ batches: PeriodBatch[]; evidence: BatchEvidence[] }> {
  const fromBlock = opts.fromBlock ?? 0;
  const batches = await periodBatchStates(client, { home: opts.payer, visited: opts.payee, period: opts.period, fromBlock });
  const ids = batches.map((b) => b.batchId);
  const [disputed, events] = await Promise.all([
    Promise.all(ids.map(async (id) => totalsFromContract(await client.ledger.disputedTotals(id)).filter((t) => t.records > 0))),
    batchEvents(client, ids, fromBlock),
  ]);
  const evidence = batches.map((b, i) => batchEvidence(client, b, disputed[i], events.get(b.batchId.toLowerCase()) ?? []));
  return { batches, evidence };
}

/** Everything the invoice of `payer` to `payee` for `period` says, read from the chain. */
export async function readInvoiceData(client: RoamLedgerClient, opts: ReadInvoiceOptions): Promise<InvoiceChainData> {
  const { payer, payee, period } = opts;
  const { payerMember, payeeMember, invoice: inv, status } = await closedInvoice(client, opts);
  const { rating, closeTx } = await closedEvent(client, opts);
  const { batches, evidence } = await readBatches(client, opts);
  return {
    chainId: (await providerOf(client.runner).getNetwork()).chainId,
    escrow: client.addresses.settlementEscrow,
    payer: { plmn: payer, name: payerMember.name },
    payee: { plmn: payee, name: payeeMember.name },
    period,
    perspective: opts.perspective ?? "payee",
    invoice: {
      status: status === "settled" ? "settled" : "open",
      token: inv.token,
      agreementVersion: Number(inv.agreementVersion),
      closedAt: Number(inv.closedAt),
      amount: inv.amount,
      subtotal: inv.subtotal,
      credit: inv.credit,
    },
    token: await tokenInfo(inv.token, client.runner),
    terms: (await client.agreements.getVersion(payer, payee, inv.agreementVersion)).terms,
    rating,
    closeTx,
    periodTotals: totalsFromContract(await client.ledger.periodTotals(payer, payee, period)),
    batches: evidence,
    settlement: status === "settled" ? await readSettlement(client, opts) : undefined,
    notBillable: await readNotBillable(opts, batches),
  };
}

/** The `PeriodSettled` of the pair and period (sent in either order) and the payments of its transaction. */
async function readSettlement(
  client: RoamLedgerClient,
  { payer, payee, period, fromBlock = 0 }: ReadInvoiceOptions,
): Promise<SettlementEvidence> {
  const { escrow } = client;
  const logs = [
    ...(await escrow.queryFilter(escrow.filters.PeriodSettled(payer, payee, period), fromBlock)),
    ...(await escrow.queryFilter(escrow.filters.PeriodSettled(payee, payer, period), fromBlock)),
  ];
  if (logs.length !== 1) {
    throw new InputError(
      `found ${logs.length} PeriodSettled events for ${formatPlmn(payer)} / ${formatPlmn(payee)} ${formatPeriod(period)} from block ${fromBlock}`,
      { location: { param: "fromBlock" }, hint: "search from an earlier block (the escrow's deployment block)." },
    );
  }
  const [settled] = logs;
  const payerFirst = settled.args.a.toLowerCase() === payer.toLowerCase();
  const provider = providerOf(client.runner);
  const [receipt, block] = await Promise.all([
    provider.getTransactionReceipt(settled.transactionHash),
    provider.getBlock(settled.blockNumber),
  ]);
  if (!receipt || !block) {
    throw new ConfigError(`the node has no receipt or block of the settlement transaction ${settled.transactionHash}`, {
      hint: "read from a node that keeps the chain's history.",
    });
  }
  const { payments, shortfalls } = settlementEvents(client, receipt.logs, period);
  return {
    tx: settled.transactionHash as Hex,
    at: block.timestamp,
    payerOwed: payerFirst ? settled.args.aOwedB : settled.args.bOwedA,
    payeeOwed: payerFirst ? settled.args.bOwedA : settled.args.aOwedB,
    payments,
    shortfalls,
  };
}

/** Counts the committed records that were not billable, per reason and class, from the decrypted payloads. */
async function readNotBillable(opts: ReadInvoiceOptions, batches: readonly PeriodBatch[]): Promise<NotBillableData> {
  const source = opts.payloads;
  if (!source) return { available: false, why: "no key store given: decrypting the payloads needs the carriers' pairwise key" };
  if ("unavailable" in source) return { available: false, why: source.unavailable };
  const counts = new Map<number, Map<number, number>>();
  let read = 0;
  let records = 0;
  for (const b of batches) {
    if (b.status === "rejected") continue;
    let payload: ReturnType<typeof openPayload>;
    try {
      payload = openPayload(source.key, await source.store.get(b.batch.payloadHash), b.batch);
    } catch (err) {
      return { available: false, why: `the payload of batch ${b.batchId} could not be read: ${(err as Error).message.split("\n")[0]}` };
    }
    read++;
    for (let r = 0; r < payload.header.recordCount; r++) {
      const record = unpackRecord(payload.records, r * RECORD_BYTES);
      records++;
      if (record.billing === 0) continue;
      const perClass = counts.get(record.billing) ?? new Map<number, number>();
      perClass.set(record.tariffClass, (perClass.get(record.tariffClass) ?? 0) + 1);
      counts.set(record.billing, perClass);
    }
  }
  const byReason = [...counts]
    .sort(([a], [b]) => a - b)
    .map(([code, perClass]) => ({
      code,
      reason: BILLING[code] ?? `billing ${code}`,
      records: [...perClass.values()].reduce((s, n) => s + n, 0),
      perClass: [...perClass].sort(([a], [b]) => a - b).map(([tariffClass, n]) => ({ tariffClass, records: n })),
    }));
  return { available: true, batchesRead: read, records, byReason };
}
