/**
 * Everything an invoice says, for one of its two parties. The chain holds no figure of it (no totals,
 * rating, subtotal or credit: docs/confidentiality.md), so the figures come from the party's own inputs:
 * the FULL terms of the agreement version (lib/agreements `agreementTerms`: the key store's copy, else
 * opened from `AgreementTermsSealed`), the period's counted usage (lib/usage `countedPeriod`: the payloads
 * in the party's store, checked against the ledger's accumulator), rated with lib/settlement/rating.ts
 * under RevealLib's dispute rule (./draft). The chain adds only public facts: the escrow's status, net,
 * amount and resolution of the invoice, each batch's state and transactions, and the settlement.
 * `buildInvoiceModel` (./model) turns the result into the document's model.
 */
import { InputError } from "../core/errors";
import { formatPeriod } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { agreementTerms } from "../agreements/fullTerms";
import { isoTime } from "../agreements/terms";
import { tokenInfo } from "../agreements/chain";
import { providerOf } from "../chain/send";
import type { RoamLedgerClient } from "../chain/client";
import type { Keystore } from "../keys/keystore";
import { chainNow, periodBatchStates, requireMember, settlementEvents, type PeriodBatch } from "../settlement/escrow";
import { invoicePublicView, versionInForce, type InvoiceKey, type InvoicePublicView } from "../settlement/invoices";
import { pairKeyWith } from "../usage/pair";
import { countedPeriod, type CountedPeriod } from "../usage/period";
import type { ContentStore } from "../usage/store";
import type { Hex } from "../util/hex";
import { draftInvoice, type InvoiceDraft } from "./draft";
import { batchEvents, batchEvidence, countedContent, readNotBillable, uncountedContent, type PayloadAccess } from "./evidence";
import { fullTermsOf, periodUsageOf } from "./inputs";
import type { BatchEvidence, EscrowFacts, InvoiceChainData, Reconciliation, SettlementEvidence } from "./types";
import type { FullTerms, PeriodUsage } from "./usage";

/** What {@link readInvoiceData} reads: one direction of a pair and period, for one of its parties. */
export interface ReadInvoiceOptions {
  /** The party asking (its key store holds its encryption key). */
  self: Hex;
  /** The other party. */
  partner: Hex;
  /** yyyymm. */
  period: number;
  /** payee: the invoice `self` bills `partner` (as visited carrier); payer: the one `self` pays (as home). */
  as: "payer" | "payee";
  /** `self`'s key store: its encryption key (the pair's key) and its copies of the full terms. */
  keystore: Keystore;
  /** The payload store holding the period's sealed payloads. */
  store: ContentStore;
  /** First block to search for events (default 0). */
  fromBlock?: number;
}

/** The ledger must have closed the period: its accumulator is what the invoice signs. */
async function requireClosedPeriod(client: RoamLedgerClient, key: InvoiceKey): Promise<void> {
  const info = await client.ledger.getPeriod(key.payer, key.payee, key.period);
  if (info.closed) return;
  const deadline = Number(await client.ledger.submissionDeadline(key.period));
  throw new InputError(
    `the ledger has not closed ${formatPeriod(key.period)} of ${formatPlmn(key.payer)} in ${formatPlmn(key.payee)}: there is no invoice to make yet`,
    {
      hint: `a period closes from its submission deadline (${isoTime(deadline)}) on, once no batch is pending; anyone may close it then.`,
      next: { operation: "usage:close", args: { period: formatPeriod(key.period) } },
    },
  );
}

/** The transactions of the invoice's proposal (the last one with the stored digest) and close. */
async function escrowTxs(client: RoamLedgerClient, key: InvoiceKey, view: InvoicePublicView, fromBlock: number) {
  const { escrow } = client;
  if (view.status === "none") return {};
  const proposed = await escrow.queryFilter(escrow.filters.InvoiceProposed(key.payer, key.payee, key.period), fromBlock);
  const proposeTx = proposed.filter((l) => l.args.digest.toLowerCase() === view.digest).at(-1)?.transactionHash as Hex | undefined;
  const closed = await escrow.queryFilter(escrow.filters.InvoiceClosed(key.payer, key.payee, key.period), fromBlock);
  return { proposeTx, closeTx: closed.at(-1)?.transactionHash as Hex | undefined };
}

/** The escrow's public facts of the invoice. */
function escrowFacts(view: InvoicePublicView, txs: { proposeTx?: Hex; closeTx?: Hex }): EscrowFacts {
  const { status, resolution, agreementVersion, proposedAt, closedAt, net, amount, totalsCommitment } = view;
  return { status, resolution, agreementVersion, proposedAt, closedAt, net, amount, totalsCommitment, ...txs };
}

/** Our invoice against the escrow's: the version, the net and the totals commitment (and the amount once co-signed). */
export function reconcile(view: InvoicePublicView, ours: InvoiceDraft): Reconciliation {
  const mine = ours.invoice;
  const base = { net: mine.net, totalsCommitment: mine.totalsCommitment };
  if (view.status === "none") return { ...base, agrees: null, differences: [] };
  const differences: string[] = [];
  const cmp = (field: string, escrow: unknown, own: unknown) => {
    if (String(escrow).toLowerCase() !== String(own).toLowerCase()) differences.push(`${field}: escrow ${escrow}, ours ${own}`);
  };
  cmp("agreementVersion", view.agreementVersion, mine.agreementVersion);
  cmp("termsCommitment", view.termsCommitment, mine.termsCommitment);
  cmp("net", view.net, mine.net);
  cmp("totalsCommitment", view.totalsCommitment, mine.totalsCommitment);
  if (view.resolution === "co-signed") cmp("amount", view.amount, mine.net);
  return { ...base, agrees: differences.length === 0, differences };
}

/** The settlement of the invoice: `PeriodSettled` of the pair (sent in either order), else `InvoiceSettled`. */
async function readSettlement(client: RoamLedgerClient, key: InvoiceKey, fromBlock: number): Promise<SettlementEvidence | undefined> {
  const { escrow } = client;
  const { payer, payee, period } = key;
  const logs = [
    ...(await escrow.queryFilter(escrow.filters.PeriodSettled(payer, payee, period), fromBlock)),
    ...(await escrow.queryFilter(escrow.filters.PeriodSettled(payee, payer, period), fromBlock)),
    ...(await escrow.queryFilter(escrow.filters.InvoiceSettled(payer, payee, period), fromBlock)),
  ];
  const last = logs.at(-1);
  if (!last) return undefined;
  const provider = providerOf(client.runner);
  const [receipt, block] = await Promise.all([provider.getTransactionReceipt(last.transactionHash), provider.getBlock(last.blockNumber)]);
  const events = settlementEvents(client, receipt?.logs ?? [], period);
  let [payerOwed, payeeOwed] = [0n, 0n];
  if (events.settled) {
    const payerFirst = events.settled.a.toLowerCase() === payer.toLowerCase();
    [payerOwed, payeeOwed] = payerFirst ? [events.settled.aOwedB, events.settled.bOwedA] : [events.settled.bOwedA, events.settled.aOwedB];
  } else if (events.solo) payerOwed = events.solo.amount;
  return {
    tx: last.transactionHash as Hex,
    at: block?.timestamp ?? 0,
    payerOwed,
    payeeOwed,
    payments: events.payments,
    shortfalls: events.shortfalls,
  };
}

/** Every batch of the period, ascending by id: public state and events, content from our payloads. */
async function readBatches(
  client: RoamLedgerClient,
  { batches, counted, access, fromBlock }: { batches: PeriodBatch[]; counted: CountedPeriod; access: PayloadAccess; fromBlock: number },
): Promise<BatchEvidence[]> {
  const opened = new Map(counted.batches.map((b) => [b.batchId.toLowerCase(), b]));
  const events = await batchEvents(
    client,
    batches.map((b) => b.batchId),
    fromBlock,
  );
  const out: BatchEvidence[] = [];
  for (const b of batches) {
    const own = opened.get(b.batchId.toLowerCase());
    const content = own ? countedContent(own) : await uncountedContent(b, access);
    out.push(batchEvidence(client, b, content, events.get(b.batchId.toLowerCase()) ?? []));
  }
  return out;
}

/** A party's inputs to rate one direction: the pair's key, the counted usage, the full terms, and what the chain said. */
export interface RatingInputs {
  key: InvoiceKey;
  pairKey: Uint8Array;
  usage: PeriodUsage;
  terms: FullTerms;
  /** The escrow's public view of the invoice when read. */
  view: InvoicePublicView;
  /** The period's batches with their ledger state, ascending by id. */
  batches: PeriodBatch[];
  counted: CountedPeriod;
}

/**
 * `self`'s inputs to rate one direction of `period` with `partner` (`as` is `self`'s side): the pair's key
 * (its key store and the partner's registered key), the full terms of the version the escrow names (or,
 * before a proposal, the version in force by the escrow's rule), and the counted usage opened from the
 * payloads in `store` and checked against the ledger's accumulator. InputError when the ledger has not
 * closed the period.
 */
export async function readRatingInputs(client: RoamLedgerClient, opts: ReadInvoiceOptions): Promise<RatingInputs> {
  const { self, partner, period, keystore, store } = opts;
  const [payer, payee] = opts.as === "payee" ? [partner, self] : [self, partner];
  const key = { payer, payee, period };
  await requireClosedPeriod(client, key);
  const view = await invoicePublicView(client, key);
  const version = view.status === "none" ? (await versionInForce(client, key)).version : view.agreementVersion;
  const pairKey = await pairKeyWith(client, { keystore, self, partner });
  const opened = await agreementTerms(client, { keystore, self, partner, version });
  const onChain = await client.agreements.getVersion(self, partner, version);
  const terms = fullTermsOf(opened, version, onChain.terms.termsCommitment.toLowerCase() as Hex);
  const [batches, counted] = await Promise.all([
    periodBatchStates(client, { home: payer, visited: payee, period, fromBlock: opts.fromBlock ?? 0 }),
    countedPeriod(client, { home: payer, visited: payee, period, store, pairKey }),
  ]);
  const usage = periodUsageOf(counted, new Map(batches.map((b) => [b.batchId.toLowerCase(), b.txHash])));
  return { key, pairKey, usage, terms, view, batches, counted };
}

/**
 * The invoice of one direction of `period` between `self` and `partner`, for `self` (a party: its key
 * store opens the pair's key and the full terms): `as: "payee"` is the invoice `self` bills, `"payer"` the
 * one it pays. Rates the period from `self`'s own inputs ({@link readRatingInputs}) and adds the escrow's
 * public facts and how our invoice compares with them (`reconciliation`). InputError when the ledger has
 * not closed the period; ConfigError / CryptoError / MismatchError from the key store, terms or payloads.
 *
 * @example
 * const data = await readInvoiceData(client, { self: de, partner: br, period: 202611, as: "payer", keystore, store });
 * const pdf = await renderInvoicePdf(buildInvoiceModel(data));
 */
export async function readInvoiceData(client: RoamLedgerClient, opts: ReadInvoiceOptions): Promise<InvoiceChainData> {
  const fromBlock = opts.fromBlock ?? 0;
  const { key, pairKey, usage, terms, view, batches, counted } = await readRatingInputs(client, opts);
  const [payerMember, payeeMember] = await Promise.all([
    requireMember(client, { plmn: key.payer }),
    requireMember(client, { plmn: key.payee }),
  ]);
  const draft = draftInvoice({ key: pairKey, usage, terms });
  const access = { pairKey, store: opts.store };
  return {
    chainId: (await providerOf(client.runner).getNetwork()).chainId,
    escrowAddress: client.addresses.settlementEscrow,
    payer: { plmn: key.payer, name: payerMember.name },
    payee: { plmn: key.payee, name: payeeMember.name },
    period: key.period,
    perspective: opts.as,
    readAt: await chainNow(client),
    escrow: escrowFacts(view, await escrowTxs(client, key, view, fromBlock)),
    reconciliation: reconcile(view, draft),
    agreementVersion: terms.version,
    token: await tokenInfo(terms.terms.settlementToken, client.runner),
    terms: terms.terms,
    rating: draft.rating,
    periodTotals: draft.totals,
    batches: await readBatches(client, { batches, counted, access, fromBlock }),
    settlement: view.status === "settled" ? await readSettlement(client, key, fromBlock) : undefined,
    notBillable: await readNotBillable(batches, access),
  };
}
