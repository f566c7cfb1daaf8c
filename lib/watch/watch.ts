import type { BaseContract, EventLog, Provider } from "ethers";
import type { Hex } from "../util/hex";
import { formatPlmn } from "../core/plmn";
import type { RoamLedgerClient } from "../chain/client";
import { formatPeriod } from "../core/period";
import { tokenInfo } from "../agreements/chain";
import { Amount, formatCount } from "../core/amount";
import { BILLING } from "../core/enums";

/** One thing that happened on-chain that concerns the watching member. */
export interface WatchEvent {
  kind:
    | "fraud-flag"
    | "device-suspended"
    | "device-reinstated"
    | "permanent-roamer"
    | "batch-submitted"
    | "batch-accepted"
    | "batch-rejected"
    | "record-disputed"
    | "period-closed"
    | "invoice-closed"
    | "settled"
    | "shortfall";
  block: number;
  txHash: string;
  /** Why it concerns us: "home", "visited", "maker", "payer", "payee", "party" (of a settled period). */
  as: string;
  text: string;
  data: Record<string, string | number>;
}

export interface WatchOptions {
  client: RoamLedgerClient;
  provider: Provider;
  /** The watching member. */
  self: Hex;
  /** Also follow fraud flags, suspensions and permanent roamers of devices this member made. */
  maker?: boolean;
  /** First block to read (default: the next block). */
  fromBlock?: number;
  /** Stop once the chain head at start (or `untilBlock`) is processed. */
  once?: boolean;
  untilBlock?: number;
  pollMs?: number;
  onEvent: (event: WatchEvent) => void;
  signal?: AbortSignal;
}

const billingName = (code: number) => BILLING[code] ?? `reason ${code}`;
const short = (hex: string) => `${hex.slice(0, 10)}…`;

type Handler = (log: EventLog, ctx: Ctx) => Promise<Omit<WatchEvent, "block" | "txHash"> | undefined>;

interface Ctx {
  self: Hex;
  maker: boolean;
  /** "12.5 RLST" for base units of `token` (decimals and symbol read once per token). */
  amount: (token: string, units: bigint) => Promise<string>;
  makerOf: (deviceId: string) => Promise<Hex>;
  batchPair: (batchId: string) => Promise<{ visited: Hex; home: Hex }>;
}

const lower = (x: unknown) => String(x).toLowerCase() as Hex;

/** Relevance and wording per event. */
const HANDLERS: Record<string, Handler> = {
  async FraudFlagged(log, ctx) {
    const [id, home, reporter, reason, evidence] = log.args;
    let as = lower(home) === ctx.self ? "home" : lower(reporter) === ctx.self ? "visited" : undefined;
    if (!as && ctx.maker && (await ctx.makerOf(id)) === ctx.self) as = "maker";
    if (!as) return undefined;
    return {
      kind: "fraud-flag",
      as,
      text: `FRAUD device ${short(id)} of ${formatPlmn(lower(home))} flagged by ${formatPlmn(lower(reporter))}: ${billingName(Number(reason))} (evidence ${short(evidence)})`,
      data: {
        deviceId: id,
        home: formatPlmn(lower(home)),
        reporter: formatPlmn(lower(reporter)),
        reason: billingName(Number(reason)),
        evidenceHash: evidence,
      },
    };
  },
  async DeviceSuspended(log, ctx) {
    const [id, home, reason] = log.args;
    let as = lower(home) === ctx.self ? "home" : undefined;
    if (!as && ctx.maker && (await ctx.makerOf(id)) === ctx.self) as = "maker";
    if (!as) return undefined;
    return {
      kind: "device-suspended",
      as,
      text: `SUSPENDED device ${short(id)} by ${formatPlmn(lower(home))} (reason ${reason})`,
      data: { deviceId: id, reason: Number(reason) },
    };
  },
  async DeviceReinstated(log, ctx) {
    const [id, home] = log.args;
    let as = lower(home) === ctx.self ? "home" : undefined;
    if (!as && ctx.maker && (await ctx.makerOf(id)) === ctx.self) as = "maker";
    if (!as) return undefined;
    return { kind: "device-reinstated", as, text: `REINSTATED device ${short(id)} by ${formatPlmn(lower(home))}`, data: { deviceId: id } };
  },
  async PermanentRoamerReported(log, ctx) {
    const [id, home, visited, days, evidence] = log.args;
    let as = lower(home) === ctx.self ? "home" : lower(visited) === ctx.self ? "visited" : undefined;
    if (!as && ctx.maker && (await ctx.makerOf(id)) === ctx.self) as = "maker";
    if (!as) return undefined;
    return {
      kind: "permanent-roamer",
      as,
      text: `PERMANENT ROAMER device ${short(id)} of ${formatPlmn(lower(home))} in ${formatPlmn(lower(visited))} for ${days} days (evidence ${short(evidence)})`,
      data: { deviceId: id, home: formatPlmn(lower(home)), visited: formatPlmn(lower(visited)), daysPresent: Number(days) },
    };
  },
  async UsageBatchSubmitted(log, ctx) {
    const { batchId, visited, home, period, recordCount } = log.args as unknown as Record<string, string>;
    const as = lower(home) === ctx.self ? "home" : lower(visited) === ctx.self ? "visited" : undefined;
    if (!as) return undefined;
    return {
      kind: "batch-submitted",
      as,
      text: `BATCH ${batchId} ${formatPlmn(lower(visited))} bills ${formatPlmn(lower(home))} for ${formatPeriod(Number(period))}: ${formatCount(Number(recordCount))} records`,
      data: {
        batchId,
        visited: formatPlmn(lower(visited)),
        home: formatPlmn(lower(home)),
        period: Number(period),
        records: Number(recordCount),
      },
    };
  },
  async UsageBatchAccepted(log, ctx) {
    const [batchId] = log.args;
    const pair = await ctx.batchPair(batchId);
    const as = pair.home === ctx.self ? "home" : pair.visited === ctx.self ? "visited" : undefined;
    if (!as) return undefined;
    return { kind: "batch-accepted", as, text: `ACCEPTED batch ${short(batchId)} by ${formatPlmn(pair.home)}`, data: { batchId } };
  },
  async UsageBatchRejected(log, ctx) {
    const [batchId, , reason] = log.args;
    const pair = await ctx.batchPair(batchId);
    const as = pair.home === ctx.self ? "home" : pair.visited === ctx.self ? "visited" : undefined;
    if (!as) return undefined;
    return {
      kind: "batch-rejected",
      as,
      text: `REJECTED batch ${short(batchId)} by ${formatPlmn(pair.home)} (reason ${reason})`,
      data: { batchId, reason: Number(reason) },
    };
  },
  async UsageRecordDisputed(log, ctx) {
    const [batchId, recordId, , reason] = log.args;
    const pair = await ctx.batchPair(batchId);
    const as = pair.home === ctx.self ? "home" : pair.visited === ctx.self ? "visited" : undefined;
    if (!as) return undefined;
    const id = Buffer.from(String(recordId).slice(2), "hex").toString("latin1").replace(/\0+$/, "");
    return {
      kind: "record-disputed",
      as,
      text: `DISPUTE record ${id} of batch ${short(batchId)} by ${formatPlmn(pair.home)} (reason ${reason})`,
      data: { batchId, recordId: id, reason: Number(reason) },
    };
  },
  async PeriodClosed(log, ctx) {
    const [home, visited, period, batchCount] = log.args;
    const as = lower(home) === ctx.self ? "home" : lower(visited) === ctx.self ? "visited" : undefined;
    if (!as) return undefined;
    return {
      kind: "period-closed",
      as,
      text: `CLOSED ${formatPeriod(Number(period))} of ${formatPlmn(lower(visited))} billing ${formatPlmn(lower(home))}: ${batchCount} batch(es), totals final`,
      data: { home: formatPlmn(lower(home)), visited: formatPlmn(lower(visited)), period: Number(period) },
    };
  },
  async InvoiceClosed(log, ctx) {
    const { payer, payee, period, token, agreementVersion, rating } = log.args as unknown as {
      payer: string;
      payee: string;
      period: bigint;
      token: string;
      agreementVersion: bigint;
      rating: { net: bigint };
    };
    const as = lower(payer) === ctx.self ? "payer" : lower(payee) === ctx.self ? "payee" : undefined;
    if (!as) return undefined;
    const net = await ctx.amount(token, rating.net);
    return {
      kind: "invoice-closed",
      as,
      text: `INVOICE ${formatPlmn(lower(payee))} to ${formatPlmn(lower(payer))} for ${formatPeriod(Number(period))} closed: ${net} (agreement version ${agreementVersion}), reserved on the payer's deposit`,
      data: { payer: formatPlmn(lower(payer)), payee: formatPlmn(lower(payee)), period: Number(period), token, net: rating.net.toString() },
    };
  },
  async PeriodSettled(log, ctx) {
    const [a, b, period, aOwedB, bOwedA] = log.args;
    const as = lower(a) === ctx.self || lower(b) === ctx.self ? "party" : undefined;
    if (!as) return undefined;
    return {
      kind: "settled",
      as,
      text: `SETTLED ${formatPeriod(Number(period))} between ${formatPlmn(lower(a))} and ${formatPlmn(lower(b))}`,
      data: { a: formatPlmn(lower(a)), b: formatPlmn(lower(b)), period: Number(period), aOwedB: String(aOwedB), bOwedA: String(bOwedA) },
    };
  },
  async SettlementShortfall(log, ctx) {
    const [debtor, creditor, period, token, paid, owed] = log.args;
    const as = lower(debtor) === ctx.self ? "payer" : lower(creditor) === ctx.self ? "payee" : undefined;
    if (!as) return undefined;
    return {
      kind: "shortfall",
      as,
      text: `SHORTFALL ${formatPlmn(lower(debtor))} owes ${formatPlmn(lower(creditor))} ${await ctx.amount(token, owed)} more for ${formatPeriod(Number(period))} (paid ${await ctx.amount(token, paid)}): a debt until paid`,
      data: {
        debtor: formatPlmn(lower(debtor)),
        creditor: formatPlmn(lower(creditor)),
        period: Number(period),
        token,
        paid: String(paid),
        owed: String(owed),
      },
    };
  },
};

/** `read` with each key's answer kept: what the chain says of a token, device or batch is read once. */
function cached<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const answers = new Map<string, Promise<T>>();
  return (key) => {
    const answer = answers.get(key) ?? read(key);
    answers.set(key, answer);
    return answer;
  };
}

/**
 * Follows the chain with eth_getLogs (standard JSON-RPC only, so it works on Besu) and calls `onEvent`
 * for every event that concerns `self`, in block order.
 */
export async function watchChain(opts: WatchOptions): Promise<void> {
  const { client, provider } = opts;
  const contracts: BaseContract[] = [client.devices, client.ledger, client.escrow];
  const handlers = HANDLERS;
  const tokens = cached((token: string) => tokenInfo(token, provider));
  const makers = cached(async (id: string) => lower((await client.devices.getDevice(id)).maker));
  const pairs = cached(async (id: string) => {
    const info = await client.ledger.getBatch(id);
    return { visited: lower(info.visited), home: lower(info.home) };
  });
  const ctx: Ctx = {
    self: opts.self,
    maker: opts.maker ?? false,
    amount: async (token, units) => String(Amount.fromUnits(await tokens(token.toLowerCase()), units)),
    makerOf: makers,
    batchPair: pairs,
  };
  let next = opts.fromBlock ?? (await provider.getBlockNumber()) + 1;
  const stopAt = opts.once ? (opts.untilBlock ?? (await provider.getBlockNumber())) : Infinity;
  const pollMs = opts.pollMs ?? 1000;
  while (!opts.signal?.aborted) {
    const head = Math.min(await provider.getBlockNumber(), stopAt);
    if (head >= next) {
      const to = Math.min(head, next + 4999);
      const logs: EventLog[] = [];
      for (const contract of contracts) {
        const found = await contract.queryFilter("*" as never, next, to);
        for (const log of found) if ("eventName" in log && handlers[log.eventName]) logs.push(log);
      }
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      for (const log of logs) {
        const event = await handlers[log.eventName](log, ctx);
        if (event) opts.onEvent({ ...event, block: log.blockNumber, txHash: log.transactionHash });
      }
      next = to + 1;
      continue;
    }
    if (next > stopAt) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
