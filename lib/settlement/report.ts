/**
 * The periodic accounting overview of one member: per roaming partner, what it owes and is owed for a
 * period (the closed invoices, or for a direction not closed yet the usage submitted so far and a preview
 * rated with lib/settlement/rating.ts), settled or open, disputes still possible, and the member's deposits and debts.
 */
import { Amount, formatAmount, formatCount, sameToken, type Token } from "../core/amount";
import { toCsv, type CsvValue } from "../util/csv";
import { isoTime, type TermsLike } from "../agreements/terms";
import { tokenInfo } from "../agreements/chain";
import { providerOf } from "../chain/send";
import { INVOICE_STATUSES } from "../core/enums";
import {
  agreementToken,
  chainNow,
  closability,
  escrowBalances,
  periodBatchStates,
  requireMember,
  type MemberRef,
  type PeriodBatch,
  type PeriodQuery,
  type TokenBalance,
} from "./escrow";
import { netOfDisputes } from "./totals";
import { invoiceNumber } from "../invoice/number";
import { rateInvoice } from "./rating";
import { totalsFromContract } from "../usage/batch";
import { formatPeriod, periodBounds } from "../core/period";
import { parseRevert } from "../chain/revert";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";

export interface DirectionReport {
  payer: Hex;
  payee: Hex;
  /** `not-closed`: the escrow has no invoice yet. */
  state: "settled" | "open" | "not-closed";
  invoiceNumber: string;
  token: Token;
  /** The invoice's amount (closed), in base units. */
  amount?: bigint;
  /** Not closed: the submitted usage (less disputes) rated with the terms that will rate it. */
  preview?: bigint;
  /** Why there is no preview, when there is none. */
  previewNote?: string;
  /** Batches committed for the period (any state), of which rejected. */
  batches: number;
  rejectedBatches: number;
  /** Records in batches not rejected. */
  records: number;
  /** Records disputed so far. */
  disputedRecords: number;
  /** Batches still in their dispute window (neither accepted nor rejected, window running). */
  batchesInWindow: number;
  /** Not closed: the earliest time anyone may close it (unix seconds). */
  closableAt?: number;
}

export interface PartnerReport {
  partner: MemberRef;
  /** `self` is the home carrier (payer): what we owe. */
  weOwe: DirectionReport;
  /** `self` is the visited carrier (payee): what we are owed. */
  owedToUs: DirectionReport;
  /** owedToUs - weOwe, in base units (invoice amounts, else previews), when both are in one token. */
  net?: bigint;
  settled: boolean;
  /** Debts after shortfalls, in the agreement's token. */
  debts: { weOwe: bigint; theyOwe: bigint };
}

export interface AccountingReport {
  self: MemberRef;
  period: number;
  /** Chain time the report was read at (unix seconds). */
  at: number;
  partners: PartnerReport[];
  deposits: TokenBalance[];
}

/** The terms the escrow will rate (home, visited, period) with: in force at its first second, else its last. */
async function termsForPeriod(client: RoamLedgerClient, { home, visited, period }: PeriodQuery): Promise<TermsLike | undefined> {
  const [start, end] = periodBounds(period);
  for (const t of [start, end - 1]) {
    try {
      const [terms] = await client.agreements.termsAt(home, visited, t);
      return terms;
    } catch (err) {
      // A revert: none in force at that time. Anything else (the node) is not an answer.
      if (!parseRevert(err)) throw err;
    }
  }
  return undefined;
}

/** A direction not closed yet: its token, a preview of the usage submitted so far, when it can be closed. */
async function openDirection(
  client: RoamLedgerClient,
  query: PeriodQuery,
  batches: readonly PeriodBatch[],
): Promise<Pick<DirectionReport, "token" | "preview" | "previewNote" | "batchesInWindow" | "closableAt">> {
  const c = await closability(client, { ...query, batches });
  const now = await chainNow(client);
  const terms = await termsForPeriod(client, query);
  const token = await tokenInfo(terms?.settlementToken ?? (await agreementToken(client, query.home, query.visited)), client.runner);
  let preview: bigint | undefined;
  let previewNote: string | undefined;
  if (!terms) previewNote = "no agreement version in force at the period's first or last second";
  else {
    const counted = batches.filter((b) => b.status !== "rejected");
    const disputed = await Promise.all(counted.map(async (b) => totalsFromContract(await client.ledger.disputedTotals(b.batchId))));
    preview = rateInvoice(
      netOfDisputes(counted.map((b, i) => ({ totals: b.batch.totals, disputed: disputed[i] }))),
      terms,
      query.visited,
    ).net;
  }
  return {
    token,
    preview,
    previewNote,
    batchesInWindow: c.openBatches.filter((b) => b.windowEnd > now).length,
    closableAt: c.closed ? now : c.earliest,
  };
}

/** What `payer` owes `payee` for the period: the closed invoice, or a preview. The period's batches are read once. */
async function direction(client: RoamLedgerClient, query: PeriodQuery & { chainId: bigint }): Promise<DirectionReport> {
  const { home: payer, visited: payee, period, chainId } = query;
  const [inv, batches] = await Promise.all([client.escrow.invoice(payer, payee, period), periodBatchStates(client, query)]);
  const counted = batches.filter((b) => b.status !== "rejected");
  const base = {
    payer,
    payee,
    invoiceNumber: invoiceNumber({ chainId, escrow: client.addresses.settlementEscrow, payer, payee, period }),
    batches: batches.length,
    rejectedBatches: batches.length - counted.length,
    records: counted.reduce((n, b) => n + b.batch.recordCount, 0),
    disputedRecords: batches.reduce((n, b) => n + b.disputedRecords, 0),
  };
  const status = INVOICE_STATUSES[Number(inv.status)];
  if (status === "none") return { ...base, state: "not-closed", ...(await openDirection(client, query, batches)) };
  return { ...base, state: status, token: await tokenInfo(inv.token, client.runner), amount: inv.amount, batchesInWindow: 0 };
}

/** owedToUs - weOwe (invoice amounts, else previews), when both are known and in one token. */
function netOf(weOwe: DirectionReport, owedToUs: DirectionReport): bigint | undefined {
  const value = (d: DirectionReport) => {
    const units = d.amount ?? d.preview;
    return units === undefined ? undefined : Amount.fromUnits(d.token, units);
  };
  const [ours, theirs] = [value(weOwe), value(owedToUs)];
  if (!ours || !theirs || !sameToken(ours.token, theirs.token)) return undefined;
  return theirs.sub(ours).units;
}

/** The debts after shortfalls between `self` and `partner` in `token`, from the deposits section. */
function debtsWith(deposits: readonly TokenBalance[], partner: Hex, token: string): PartnerReport["debts"] {
  const balance = deposits.find((d) => d.token.address.toLowerCase() === token.toLowerCase());
  const of = (list: TokenBalance["debtsOwed"]) => list.find((x) => x.partner.plmn.toLowerCase() === partner.toLowerCase())?.amount ?? 0n;
  return { weOwe: balance ? of(balance.debtsOwed) : 0n, theyOwe: balance ? of(balance.debtsDue) : 0n };
}

export interface ReportOptions {
  /** The member reported on. */
  self: Hex;
  period: number;
  /** First block to search for the ledger's batch events (default 0). */
  fromBlock?: number;
}

/** The accounting overview of `self` for `period`: every partner with an accepted agreement. */
export async function buildReport(client: RoamLedgerClient, { self, period, fromBlock = 0 }: ReportOptions): Promise<AccountingReport> {
  const me = await requireMember(client, { plmn: self, param: "self" });
  const chainId = (await providerOf(client.runner).getNetwork()).chainId;
  const deposits = await escrowBalances(client, self);
  const partners: PartnerReport[] = [];
  for (const plmn of await client.agreements.counterparties(self)) {
    const partner = await requireMember(client, { plmn: plmn as Hex });
    const weOwe = await direction(client, { home: self, visited: partner.plmn, period, chainId, fromBlock });
    const owedToUs = await direction(client, { home: partner.plmn, visited: self, period, chainId, fromBlock });
    partners.push({
      partner,
      weOwe,
      owedToUs,
      net: netOf(weOwe, owedToUs),
      settled: weOwe.state === "settled" && owedToUs.state === "settled",
      debts: debtsWith(deposits, partner.plmn, weOwe.token.address),
    });
  }
  return { self: me, period, at: await chainNow(client), partners, deposits };
}

// ---------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------

/** Base units of `token` as a person reads them: "1,279.74363". */
const money = (units: bigint, token: Token) => Amount.fromUnits(token, units).format({ group: true });

function describeDirection(d: DirectionReport): { status: string; amount: string } {
  // A closed direction has the invoice's amount; one not closed yet a preview, or why there is none.
  if (d.amount !== undefined) return { status: d.state, amount: money(d.amount, d.token) };
  const preview = d.preview === undefined ? `no preview (${d.previewNote})` : `preview ${money(d.preview, d.token)}`;
  return { status: "open: not closed yet", amount: preview };
}

/** Rows as columns; columns in `right` are right-aligned. */
function table(rows: string[][], right: number[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd(),
  );
}

/** The report as a text table (what `report` prints by default). */
export function reportToText(r: AccountingReport): string {
  const lines = [`Accounting report of ${r.self.name} (${r.self.text}) for ${formatPeriod(r.period)}, chain time ${isoTime(r.at)}`, ""];
  if (r.partners.length === 0) lines.push("No roaming partner: no accepted agreement.");
  else {
    const rows = [
      ["partner", "direction", "status", "amount", "token", "batches", "records", "disputed", "in window", "closable at", "invoice"],
    ];
    for (const p of r.partners) {
      const who = `${p.partner.name} (${p.partner.text})`;
      for (const [label, d] of [
        ["we owe", p.weOwe],
        ["owed to us", p.owedToUs],
      ] as const) {
        const { status, amount } = describeDirection(d);
        rows.push([
          label === "we owe" ? who : "",
          label,
          status,
          amount,
          d.token.symbol || d.token.address,
          `${d.batches}${d.rejectedBatches ? ` (${d.rejectedBatches} rejected)` : ""}`,
          formatCount(d.records),
          formatCount(d.disputedRecords),
          String(d.batchesInWindow),
          d.closableAt === undefined ? "-" : d.closableAt <= r.at ? "now" : isoTime(d.closableAt),
          d.invoiceNumber,
        ]);
      }
      const net = p.net === undefined ? "n/a (different tokens or no preview)" : `${p.net >= 0n ? "+" : ""}${money(p.net, p.weOwe.token)}`;
      rows.push(["", "net", p.settled ? "settled" : "not settled", net, p.weOwe.token.symbol || "", "", "", "", "", "", ""]);
      if (p.debts.weOwe || p.debts.theyOwe) {
        rows.push([
          "",
          "debts",
          "after shortfalls",
          `we owe ${money(p.debts.weOwe, p.weOwe.token)}, owed to us ${money(p.debts.theyOwe, p.weOwe.token)}`,
          "",
          "",
          "",
          "",
          "",
          "",
          "",
        ]);
      }
    }
    lines.push(...table(rows, [5, 6, 7, 8]));
  }
  lines.push("", "Deposits in the escrow:");
  if (r.deposits.length === 0) lines.push("  none (no settlement token in our agreements)");
  else {
    const rows = [["token", "deposit", "reserved", "free", "debts we owe", "debts owed to us"]];
    for (const d of r.deposits) {
      const debts = (list: TokenBalance["debtsOwed"]) => list.map((x) => `${x.partner.text} ${money(x.amount, d.token)}`).join(", ") || "-";
      rows.push([
        `${d.token.symbol || "?"} ${d.token.address}`,
        money(d.deposit, d.token),
        money(d.reserved, d.token),
        money(d.free, d.token),
        debts(d.debtsOwed),
        debts(d.debtsDue),
      ]);
    }
    lines.push(...table(rows, [1, 2, 3]).map((l) => `  ${l}`));
  }
  return `${lines.join("\n")}\n`;
}

/** The report as JSON: base units as decimal strings. */
export function reportToJson(r: AccountingReport): string {
  return `${JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

const CSV_COLUMNS = [
  "section",
  "partner",
  "partnerName",
  "direction",
  "state",
  "amount",
  "amountBaseUnits",
  "preview",
  "token",
  "batches",
  "rejectedBatches",
  "records",
  "disputedRecords",
  "batchesInWindow",
  "closableAt",
  "invoiceNumber",
] as const;

type CsvRow = Partial<Record<(typeof CSV_COLUMNS)[number], CsvValue>>;

/** Base units of `token` in token units, exact, without separators (absent stays absent). */
const exact = (units: bigint | undefined, token: Token) => (units === undefined ? undefined : formatAmount(units, token.decimals));

/** A partner's `invoice` rows (one per direction) and its `net` row. */
function partnerRows(p: PartnerReport): CsvRow[] {
  const partner = { partner: p.partner.text, partnerName: p.partner.name };
  const directions = [
    ["we-owe", p.weOwe],
    ["owed-to-us", p.owedToUs],
  ] as const;
  return [
    ...directions.map(
      ([direction, d]): CsvRow => ({
        section: "invoice",
        ...partner,
        direction,
        state: d.state,
        amount: exact(d.amount, d.token),
        amountBaseUnits: d.amount,
        preview: exact(d.preview, d.token),
        token: d.token.address,
        batches: d.batches,
        rejectedBatches: d.rejectedBatches,
        records: d.records,
        disputedRecords: d.disputedRecords,
        batchesInWindow: d.batchesInWindow,
        closableAt: d.closableAt === undefined ? undefined : isoTime(d.closableAt),
        invoiceNumber: d.invoiceNumber,
      }),
    ),
    {
      section: "net",
      ...partner,
      direction: "owed-to-us-less-we-owe",
      state: p.settled ? "settled" : "not-settled",
      amount: exact(p.net, p.weOwe.token),
      amountBaseUnits: p.net,
      token: p.weOwe.token.address,
    },
  ];
}

/** A token's `deposit` rows (deposit, reserved, free) and its `debt` rows both ways. */
function depositRows(d: TokenBalance): CsvRow[] {
  const row = (section: string, direction: string, units: bigint, partner?: MemberRef): CsvRow => ({
    section,
    partner: partner?.text,
    partnerName: partner?.name,
    direction,
    amount: exact(units, d.token),
    amountBaseUnits: units,
    token: d.token.address,
  });
  return [
    row("deposit", "deposit", d.deposit),
    row("deposit", "reserved", d.reserved),
    row("deposit", "free", d.free),
    ...d.debtsOwed.map((x) => row("debt", "we-owe", x.amount, x.partner)),
    ...d.debtsDue.map((x) => row("debt", "owed-to-us", x.amount, x.partner)),
  ];
}

/** The report as CSV: an `invoice` row per partner and direction, a `net` row per partner, a `deposit` row per token. */
export function reportToCsv(r: AccountingReport): string {
  const rows = [...r.partners.flatMap(partnerRows), ...r.deposits.flatMap(depositRows)];
  return toCsv(
    CSV_COLUMNS,
    rows.map((row) => CSV_COLUMNS.map((column) => row[column])),
  );
}
