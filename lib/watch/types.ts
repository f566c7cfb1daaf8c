import type { EventLog, Provider } from "ethers";
import type { RoamLedgerClient } from "../chain/client";
import type { Hex } from "../util/hex";

/** What an event is about. */
export type WatchKind =
  | "fraud-flag"
  | "device-suspended"
  | "device-reinstated"
  | "fraud-confirmed"
  | "fraud-flag-dismissed"
  | "batch-submitted"
  | "batch-accepted"
  | "batch-expired"
  | "batch-rejected"
  | "record-disputed"
  | "period-closed"
  | "invoice-proposed"
  | "claim-filed"
  | "reveal-progress"
  | "claim-revealed"
  | "invoice-closed"
  | "settled"
  | "settled-alone"
  | "payment"
  | "shortfall"
  | "debt-paid"
  | "withdrawal-requested"
  | "withdrawal-cancelled"
  | "withdrawn";

/**
 * Why an event concerns the watcher: "home", "visited", "maker" (of the device), "payer", "payee", "party"
 * (of a settled period), "member" (its own deposit), "partner" (a counterparty's deposit), "observer" (a
 * pair it is not part of: shown only with `observer`).
 */
export type WatchRole = "home" | "visited" | "maker" | "payer" | "payee" | "party" | "member" | "partner" | "observer";

/**
 * One thing that happened on chain. Everything in it comes from public events and public getters: a
 * third member reads the same (docs/confidentiality.md); no rate, volume or invoice line is in any event.
 */
export interface WatchEvent {
  kind: WatchKind;
  block: number;
  txHash: string;
  as: WatchRole;
  text: string;
  data: Record<string, string | number>;
}

export interface WatchOptions {
  client: RoamLedgerClient;
  provider: Provider;
  /** The watching member. */
  self: Hex;
  /** Also follow fraud flags and suspensions of devices this member made. */
  maker?: boolean;
  /** Also report every other pair's public facts (`as: "observer"`): what any member can see of them. */
  observer?: boolean;
  /** First block to read (default: the next block). */
  fromBlock?: number;
  /** Stop once the chain head at start (or `untilBlock`) is processed. */
  once?: boolean;
  untilBlock?: number;
  pollMs?: number;
  onEvent: (event: WatchEvent) => void;
  signal?: AbortSignal;
}

/** What the handlers read besides the event: who the watcher is, and chain reads cached per key. */
export interface WatchContext {
  self: Hex;
  maker: boolean;
  observer: boolean;
  /** "12.5 RLST" for base units of `token` (decimals and symbol read once per token). */
  amount: (token: string, units: bigint) => Promise<string>;
  makerOf: (deviceId: string) => Promise<Hex>;
  batchPair: (batchId: string) => Promise<{ visited: Hex; home: Hex }>;
  /** Whether `plmn` has an agreement (any version) with the watcher. */
  isPartner: (plmn: Hex) => Promise<boolean>;
  /** The settlement token of the invoice of (`payer`, `payee`, `period`) on the escrow. */
  invoiceToken: (payer: Hex, payee: Hex, period: number) => Promise<string>;
}

/** What a handler gives: the event without its position, or undefined when it does not concern the watcher. */
export type WatchItem = Omit<WatchEvent, "block" | "txHash">;
export type WatchHandler = (log: EventLog, ctx: WatchContext) => Promise<WatchItem | undefined>;

/** A value of an event's args, lower-cased (PLMN ids, addresses, hashes). */
export const lower = (x: unknown) => String(x).toLowerCase() as Hex;
export const short = (hex: string) => `${hex.slice(0, 10)}…`;

/**
 * The watcher's role among `candidates` (first match), else "observer" when it watches every pair, else
 * undefined (the event is not shown).
 */
export function roleOf(ctx: WatchContext, candidates: readonly [WatchRole, unknown][]): WatchRole | undefined {
  for (const [role, plmn] of candidates) if (lower(plmn) === ctx.self) return role;
  return ctx.observer ? "observer" : undefined;
}
