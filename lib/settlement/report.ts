/**
 * The periodic accounting overview of one member: per roaming partner, what it owes and is owed for a
 * period. Two kinds of facts, kept apart: PUBLIC facts any member reads from the chain (the escrow's
 * invoice status, signed net, final amount and resolution; batch counts and states; disputes counted;
 * settlements, deposits and debts), and a party's DETAIL, made from its own inputs only (its full terms
 * and the period's counted payloads, rated with lib/settlement/rating.ts: records, per-class totals,
 * subtotal, credit, net). The chain holds no figure of the detail (docs/confidentiality.md): a viewer
 * that is not one of the pair, or that brings no key store, gets the public facts and nothing more.
 */
import { Amount, formatAmount, formatCount, sameToken, type Token } from "../core/amount";
import { toCsv, type CsvValue } from "../util/csv";
import { isoTime } from "../agreements/terms";
import { tokenInfo } from "../agreements/chain";
import { agreementTerms } from "../agreements/fullTerms";
import { providerOf } from "../chain/send";
import type { Keystore } from "../keys/keystore";
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
import { invoicePublicView, versionInForce, type EscrowInvoiceStatus, type InvoicePublicView, type ResolutionName } from "./invoices";
import { invoiceNumber } from "../invoice/number";
import { reconcile } from "../invoice/chain";
import { draftInvoice } from "../invoice/draft";
import { fullTermsOf, periodUsageOf } from "../invoice/inputs";
import { closableNow, formatPeriod } from "../core/period";
import { disputeReasonName, disputeReasonText } from "../usage/reasons";
import { textTable } from "../util/textTable";
import { formatPlmn } from "../core/plmn";
import { pairKeyWith } from "../usage/pair";
import { countedPeriod } from "../usage/period";
import type { ContentStore } from "../usage/store";
import type { ClassTotals } from "../usage/types";
import type { Hex } from "../util/hex";
import type { RoamLedgerClient } from "../chain/client";

/** A party's own figures of one direction: from its key store and payloads, never from the chain. */
export interface PartyDetail {
  /** The agreement version rated with (the proposal's, else the one in force by the escrow's rule). */
  agreementVersion: number;
  /** True once the ledger closed the period (else a preview of the batches counted so far). */
  final: boolean;
  /** Records of the counted batches, and records disputed in them (from the payloads). */
  records: number;
  /** The period's rated totals per class (counted batches less their billable disputed records). */
  classes: ClassTotals[];
  subtotal: bigint;
  credit: bigint;
  net: bigint;
  /** Our net and totals commitment equal the escrow's (null: nothing proposed). */
  agreesWithEscrow: boolean | null;
  differences: string[];
}

export interface DirectionReport {
  payer: Hex;
  payee: Hex;
  invoiceNumber: string;
  token: Token;
  // Public facts (any member).
  /** The escrow's status of the invoice ("none": not proposed). */
  state: EscrowInvoiceStatus;
  resolution: ResolutionName;
  /** The net the payee signed (proposed on), and the amount owed once closed. */
  escrowNet?: bigint;
  amount?: bigint;
  /** The ledger closed the period. */
  ledgerClosed: boolean;
  /** Batches committed for the period (any state), of which rejected, counted (accepted or expired), pending. */
  batches: number;
  rejectedBatches: number;
  countedBatches: number;
  pendingBatches: number;
  /** Records disputed so far (the ledger's dispute counts). */
  disputedRecords: number;
  /** Those records by reason, from the public `UsageRecordDisputed` events: name, meaning, how many. */
  disputeReasons: { reason: string; text: string; count: number }[];
  /** Batches still in their dispute window. */
  batchesInWindow: number;
  /** Not closed: the earliest time anyone may close the ledger's period (unix seconds). */
  closableAt?: number;
  // A party's own figures.
  detail?: PartyDetail;
  /** Why there is no detail, when there is none. */
  detailNote?: string;
}

export interface PartnerReport {
  partner: MemberRef;
  /** The member reported on is the home carrier (payer): what it owes. */
  weOwe: DirectionReport;
  /** The member is the visited carrier (payee): what it is owed. */
  owedToUs: DirectionReport;
  /** owedToUs - weOwe in base units (escrow amounts, else signed nets, else our own nets), when all known in one token. */
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
  /** The member whose key store gave the detail (none: public facts only). */
  viewer?: Hex;
  partners: PartnerReport[];
  deposits: TokenBalance[];
}

/** The viewer's local data: who it is, its key store (encryption key, full terms) and payload store. */
export interface ReportViewer {
  plmn: Hex;
  keystore: Keystore;
  store: ContentStore;
}

export interface ReportOptions {
  /** The member reported on. */
  self: Hex;
  period: number;
  /**
   * Whose local data gives a direction's detail: only a direction of which the viewer is a party gets
   * one. Absent: public facts only.
   */
  viewer?: ReportViewer;
  /** First block to search for the ledger's batch events (default 0). */
  fromBlock?: number;
}

/** The viewer's own figures of (payer, payee, period), rated from its terms and payloads. */
async function partyDetail(
  client: RoamLedgerClient,
  { viewer, view, closed }: { viewer: ReportViewer; view: InvoicePublicView; closed: boolean },
): Promise<PartyDetail> {
  const { payer, payee, period } = view;
  const partner = viewer.plmn.toLowerCase() === payer.toLowerCase() ? payee : payer;
  const key = { keystore: viewer.keystore, self: viewer.plmn, partner };
  const pairKey = await pairKeyWith(client, key);
  const version = view.status === "none" ? (await versionInForce(client, view)).version : view.agreementVersion;
  const opened = await agreementTerms(client, { ...key, version });
  const { terms } = await client.agreements.getVersion(viewer.plmn, partner, version);
  const counted = await countedPeriod(client, { home: payer, visited: payee, period, store: viewer.store, pairKey });
  const draft = draftInvoice({
    key: pairKey,
    usage: periodUsageOf(counted),
    terms: fullTermsOf(opened, version, terms.termsCommitment.toLowerCase() as Hex),
  });
  const check = reconcile(view, draft);
  return {
    agreementVersion: version,
    final: closed,
    records: counted.batches.reduce((n, b) => n + b.recordCount, 0),
    classes: draft.totals,
    subtotal: draft.rating.subtotal,
    credit: draft.rating.credit,
    net: draft.rating.net,
    agreesWithEscrow: check.agrees,
    differences: check.differences,
  };
}

/** The detail of a direction for `viewer` when it is a party, else why there is none. */
async function detailFor(
  client: RoamLedgerClient,
  at: { viewer?: ReportViewer; view: InvoicePublicView; closed: boolean },
): Promise<Pick<DirectionReport, "detail" | "detailNote">> {
  const { viewer, view } = at;
  if (!viewer) return { detailNote: "public facts only: no key store given" };
  const parties = [view.payer.toLowerCase(), view.payee.toLowerCase()];
  if (!parties.includes(viewer.plmn.toLowerCase())) return { detailNote: "public facts only: the viewer is not a party" };
  try {
    return { detail: await partyDetail(client, { viewer, view, closed: at.closed }) };
  } catch (err) {
    return { detailNote: `no detail: ${(err as Error).message.split("\n")[0]}` };
  }
}

/** The token of the direction: the escrow's once proposed, else the agreement's. */
async function tokenOf(client: RoamLedgerClient, view: InvoicePublicView): Promise<Token> {
  const address = view.status === "none" ? await agreementToken(client, view.payer, view.payee) : view.token;
  return tokenInfo(address, client.runner);
}

/** The records disputed in `batches` per reason, by name, from the public `UsageRecordDisputed` events. */
async function disputeReasonsOf(client: RoamLedgerClient, batches: readonly PeriodBatch[], fromBlock = 0) {
  const disputed = batches.filter((b) => b.disputedRecords > 0);
  const logs = await Promise.all(
    disputed.map((b) => client.ledger.queryFilter(client.ledger.filters.UsageRecordDisputed(b.batchId), fromBlock)),
  );
  const counts = new Map<number, number>();
  for (const log of logs.flat()) counts.set(Number(log.args.reason), (counts.get(Number(log.args.reason)) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([code, count]) => ({ reason: disputeReasonName(code), text: disputeReasonText(code), count }));
}

/** What `payer` owes `payee` for the period: public facts, and the viewer's detail when it is a party. */
async function direction(
  client: RoamLedgerClient,
  query: PeriodQuery & { chainId: bigint; viewer?: ReportViewer; now: number },
): Promise<DirectionReport> {
  const { home: payer, visited: payee, period, chainId } = query;
  const key = { payer, payee, period };
  const [view, batches] = await Promise.all([invoicePublicView(client, key), periodBatchStates(client, query)]);
  const c = await closability(client, { ...query, batches });
  const count = (f: (b: PeriodBatch) => boolean) => batches.filter(f).length;
  const proposed = view.status !== "none";
  return {
    payer,
    payee,
    invoiceNumber: invoiceNumber({ chainId, escrow: client.addresses.settlementEscrow, payer, payee, period }),
    token: await tokenOf(client, view),
    state: view.status,
    resolution: view.resolution,
    escrowNet: proposed ? view.net : undefined,
    amount: view.closedAt > 0 ? view.amount : undefined,
    ledgerClosed: c.closed,
    batches: batches.length,
    rejectedBatches: count((b) => b.status === "rejected"),
    countedBatches: count((b) => b.status === "accepted" || b.status === "expired"),
    pendingBatches: count((b) => b.status === "submitted"),
    disputedRecords: batches.reduce((n, b) => n + b.disputedRecords, 0),
    disputeReasons: await disputeReasonsOf(client, batches, query.fromBlock),
    batchesInWindow: c.openBatches.filter((b) => b.windowEnd > query.now).length,
    closableAt: c.closed ? undefined : c.earliest,
    ...(await detailFor(client, { viewer: query.viewer, view, closed: c.closed })),
  };
}

/** What a direction comes to: the escrow's amount, else the signed net, else our own net. */
const dueOf = (d: DirectionReport) => d.amount ?? d.escrowNet ?? d.detail?.net;

/** owedToUs - weOwe, when both are known and in one token. */
function netOf(weOwe: DirectionReport, owedToUs: DirectionReport): bigint | undefined {
  const [ours, theirs] = [dueOf(weOwe), dueOf(owedToUs)];
  if (ours === undefined || theirs === undefined || !sameToken(weOwe.token, owedToUs.token)) return undefined;
  return Amount.fromUnits(owedToUs.token, theirs).sub(Amount.fromUnits(weOwe.token, ours)).units;
}

/** The debts after shortfalls between `self` and `partner` in `token`, from the deposits section. */
function debtsWith(deposits: readonly TokenBalance[], partner: Hex, token: string): PartnerReport["debts"] {
  const balance = deposits.find((d) => d.token.address.toLowerCase() === token.toLowerCase());
  const of = (list: TokenBalance["debtsOwed"]) => list.find((x) => x.partner.plmn.toLowerCase() === partner.toLowerCase())?.amount ?? 0n;
  return { weOwe: balance ? of(balance.debtsOwed) : 0n, theyOwe: balance ? of(balance.debtsDue) : 0n };
}

/**
 * The accounting overview of `self` for `period`: every partner with an accepted agreement, both
 * directions. Public facts for everyone; a direction's detail only from `viewer`'s local data when the
 * viewer is one of its two parties.
 */
export async function buildReport(
  client: RoamLedgerClient,
  { self, period, viewer, fromBlock = 0 }: ReportOptions,
): Promise<AccountingReport> {
  const me = await requireMember(client, { plmn: self, param: "self" });
  const chainId = (await providerOf(client.runner).getNetwork()).chainId;
  const [deposits, now] = await Promise.all([escrowBalances(client, self), chainNow(client)]);
  const partners: PartnerReport[] = [];
  for (const plmn of await client.agreements.counterparties(self)) {
    const partner = await requireMember(client, { plmn: plmn as Hex });
    const common = { period, chainId, fromBlock, viewer, now };
    const weOwe = await direction(client, { ...common, home: self, visited: partner.plmn });
    const owedToUs = await direction(client, { ...common, home: partner.plmn, visited: self });
    partners.push({
      partner,
      weOwe,
      owedToUs,
      net: netOf(weOwe, owedToUs),
      settled: weOwe.state === "settled" && owedToUs.state === "settled",
      debts: debtsWith(deposits, partner.plmn, weOwe.token.address),
    });
  }
  return { self: me, period, at: now, viewer: viewer?.plmn, partners, deposits };
}

// ---------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------

/** Base units of `token` as a person reads them: "1,279.74363". */
const money = (units: bigint, token: Token) => Amount.fromUnits(token, units).format({ group: true });

/** The escrow's status of a direction, and its public figure (amount once closed, else the signed net). */
function describeDirection(d: DirectionReport): { status: string; amount: string } {
  const status = d.state === "none" ? (d.ledgerClosed ? "not proposed" : "period open") : d.state;
  if (d.amount !== undefined) return { status: `${status} (${d.resolution})`, amount: money(d.amount, d.token) };
  if (d.escrowNet !== undefined) return { status, amount: `signed ${money(d.escrowNet, d.token)}` };
  return { status, amount: "-" };
}

/** Our own net of a direction (party only), with whether it is final and agrees with the escrow. */
function describeDetail(d: DirectionReport): string {
  if (!d.detail) return "-";
  const agree = d.detail.agreesWithEscrow === null ? "" : d.detail.agreesWithEscrow ? ", = escrow" : ", DIFFERS from escrow";
  return `${money(d.detail.net, d.token)}${d.detail.final ? "" : " (preview)"}${agree}`;
}

/** Our per-class figures of the directions with detail (party only), or why there are none. */
function detailText(r: AccountingReport): string[] {
  const rows = [["partner", "direction", "class", "records", "data MB", "SMS", "voice s", "signalling", "devices", "roamer days"]];
  for (const p of r.partners) {
    for (const [label, d] of [
      ["we owe", p.weOwe],
      ["owed to us", p.owedToUs],
    ] as const) {
      for (const t of d.detail?.classes ?? []) {
        rows.push([
          p.partner.text,
          label,
          String(t.tariffClass),
          formatCount(t.records),
          formatAmount(t.dataBytes, 6),
          formatCount(t.smsCount),
          formatCount(t.voiceSeconds),
          formatCount(t.signallingEvents),
          formatCount(t.activeDevices),
          formatCount(t.roamerDays),
        ]);
      }
    }
  }
  if (rows.length === 1) {
    const notes = [...new Set(r.partners.flatMap((p) => [p.weOwe.detailNote, p.owedToUs.detailNote]).filter((n) => n !== undefined))];
    return ["", `Our figures: none (${notes.join("; ") || "no usage"}).`];
  }
  return [
    "",
    "Our figures per tariff class (from our payloads and terms, never from the chain):",
    ...textTable(rows, [3, 4, 5, 6, 7, 8, 9]).map((l) => `  ${l}`),
  ];
}

/** The disputed records of each direction by reason name and meaning (none: no lines). */
function disputeText(r: AccountingReport): string[] {
  const lines: string[] = [];
  for (const p of r.partners) {
    for (const [label, d] of [
      ["we owe", p.weOwe],
      ["owed to us", p.owedToUs],
    ] as const) {
      for (const x of d.disputeReasons) lines.push(`  ${p.partner.text} ${label}: ${formatCount(x.count)} disputed, ${x.text}`);
    }
  }
  return lines.length > 0 ? ["", "Disputed records by reason:", ...lines] : [];
}

/** The report as a text table (what `report` prints by default). */
export function reportToText(r: AccountingReport): string {
  const lines = [
    `Accounting report of ${r.self.name} (${r.self.text}) for ${formatPeriod(r.period)}, chain time ${isoTime(r.at)}`,
    r.viewer
      ? `Escrow columns: public facts. "ours": rated from ${formatPlmn(r.viewer)}'s own terms and payloads (directions it is a party to).`
      : "Public facts only (no key store): the chain holds no usage figure of any pair.",
    "",
  ];
  if (r.partners.length === 0) lines.push("No roaming partner: no accepted agreement.");
  else {
    const rows = [
      ["partner", "direction", "escrow", "escrow amount", "ours", "token", "batches", "disputed", "in window", "closable at", "invoice"],
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
          describeDetail(d),
          d.token.symbol || d.token.address,
          `${d.batches}${d.rejectedBatches ? ` (${d.rejectedBatches} rejected)` : ""}`,
          formatCount(d.disputedRecords),
          String(d.batchesInWindow),
          d.closableAt === undefined ? "-" : closableNow(d.closableAt, r.at) ? "now" : isoTime(d.closableAt),
          d.invoiceNumber,
        ]);
      }
      const net = p.net === undefined ? "n/a (different tokens or not known)" : `${p.net >= 0n ? "+" : ""}${money(p.net, p.weOwe.token)}`;
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
    lines.push(...textTable(rows, [6, 7, 8]));
    lines.push(...disputeText(r));
    lines.push(...detailText(r));
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
    lines.push(...textTable(rows, [1, 2, 3]).map((l) => `  ${l}`));
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
  "resolution",
  "amount",
  "amountBaseUnits",
  "escrowNet",
  "ourNet",
  "ourNetFinal",
  "agreesWithEscrow",
  "token",
  "batches",
  "rejectedBatches",
  "countedBatches",
  "pendingBatches",
  "disputedRecords",
  "batchesInWindow",
  "closableAt",
  "invoiceNumber",
  "tariffClass",
  "records",
  "dataBytes",
  "smsCount",
  "voiceSeconds",
  "signallingEvents",
  "activeDevices",
  "roamerDays",
] as const;

type CsvRow = Partial<Record<(typeof CSV_COLUMNS)[number], CsvValue>>;

/** Base units of `token` in token units, exact, without separators (absent stays absent). */
const exact = (units: bigint | undefined, token: Token) => (units === undefined ? undefined : formatAmount(units, token.decimals));

/** The `invoice` row of a direction: public facts, then our net when we are a party. */
function directionRow(partner: CsvRow, direction: string, d: DirectionReport): CsvRow {
  return {
    section: "invoice",
    ...partner,
    direction,
    state: d.state,
    resolution: d.resolution,
    amount: exact(d.amount, d.token),
    amountBaseUnits: d.amount,
    escrowNet: exact(d.escrowNet, d.token),
    ourNet: exact(d.detail?.net, d.token),
    ourNetFinal: d.detail ? String(d.detail.final) : undefined,
    agreesWithEscrow: d.detail?.agreesWithEscrow === undefined ? undefined : String(d.detail.agreesWithEscrow),
    token: d.token.address,
    batches: d.batches,
    rejectedBatches: d.rejectedBatches,
    countedBatches: d.countedBatches,
    pendingBatches: d.pendingBatches,
    disputedRecords: d.disputedRecords,
    batchesInWindow: d.batchesInWindow,
    closableAt: d.closableAt === undefined ? undefined : isoTime(d.closableAt),
    invoiceNumber: d.invoiceNumber,
  };
}

/** One `class` row per tariff class of our detail (party only). */
function classRows(partner: CsvRow, direction: string, d: DirectionReport): CsvRow[] {
  return (d.detail?.classes ?? []).map((t) => ({
    section: "class",
    ...partner,
    direction,
    tariffClass: t.tariffClass,
    records: t.records,
    dataBytes: t.dataBytes,
    smsCount: t.smsCount,
    voiceSeconds: t.voiceSeconds,
    signallingEvents: t.signallingEvents,
    activeDevices: t.activeDevices,
    roamerDays: t.roamerDays,
  }));
}

/** A partner's `invoice` and `class` rows (per direction) and its `net` row. */
function partnerRows(p: PartnerReport): CsvRow[] {
  const partner = { partner: p.partner.text, partnerName: p.partner.name };
  const directions = [
    ["we-owe", p.weOwe],
    ["owed-to-us", p.owedToUs],
  ] as const;
  return [
    ...directions.flatMap(([direction, d]) => [directionRow(partner, direction, d), ...classRows(partner, direction, d)]),
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

/**
 * The report as CSV: an `invoice` row per partner and direction (with `class` rows of our figures when we
 * are a party), a `net` row per partner, a `deposit` row per token.
 */
export function reportToCsv(r: AccountingReport): string {
  const rows = [...r.partners.flatMap(partnerRows), ...r.deposits.flatMap(depositRows)];
  return toCsv(
    CSV_COLUMNS,
    rows.map((row) => CSV_COLUMNS.map((column) => row[column])),
  );
}
