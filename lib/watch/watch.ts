import type { BaseContract, EventLog } from "ethers";
import { tokenInfo } from "../agreements/chain";
import { Amount } from "../core/amount";
import type { RoamLedgerClient } from "../chain/client";
import type { Hex } from "../util/hex";
import { DEVICE_HANDLERS } from "./devices";
import { ESCROW_HANDLERS } from "./escrow";
import { LEDGER_HANDLERS } from "./ledger";
import { lower, type WatchContext, type WatchHandler, type WatchOptions } from "./types";

export type { WatchEvent, WatchKind, WatchOptions, WatchRole } from "./types";

/** Relevance and wording per event name, of the device registry, the ledger and the escrow. */
const HANDLERS: Record<string, WatchHandler> = { ...DEVICE_HANDLERS, ...LEDGER_HANDLERS, ...ESCROW_HANDLERS };

/** `read` with each key's answer kept: what the chain says of a token, device or batch is read once. */
function cached<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const answers = new Map<string, Promise<T>>();
  return (key) => {
    const answer = answers.get(key) ?? read(key);
    answers.set(key, answer);
    return answer;
  };
}

/** The handlers' reads, each cached (a counterparty is asked again only when it was not one yet). */
function contextOf(opts: WatchOptions): WatchContext {
  const { client, provider } = opts;
  const tokens = cached((token: string) => tokenInfo(token, provider));
  const partners = new Set<string>();
  const invoiceTokens = cached(async (key: string) => {
    const [payer, payee, period] = key.split("/");
    return (await client.escrow.invoice(payer, payee, Number(period))).token;
  });
  return {
    self: lower(opts.self),
    maker: opts.maker ?? false,
    observer: opts.observer ?? false,
    amount: async (token, units) => String(Amount.fromUnits(await tokens(token.toLowerCase()), units)),
    makerOf: cached(async (id: string) => lower((await client.devices.getDevice(id)).maker)),
    batchPair: cached(async (id: string) => {
      const info = await client.ledger.getBatch(id);
      return { visited: lower(info.visited), home: lower(info.home) };
    }),
    isPartner: async (plmn: Hex) => {
      if (partners.has(plmn)) return true;
      for (const p of await client.agreements.counterparties(opts.self)) partners.add(lower(p));
      return partners.has(plmn);
    },
    invoiceToken: (payer, payee, period) => invoiceTokens(`${payer}/${payee}/${period}`),
  };
}

/** The logs of blocks [from, to] of the watched contracts that have a handler, in block order. */
async function logsOf(client: RoamLedgerClient, from: number, to: number): Promise<EventLog[]> {
  const contracts: BaseContract[] = [client.devices, client.ledger, client.escrow];
  const logs: EventLog[] = [];
  for (const contract of contracts) {
    const found = await contract.queryFilter("*" as never, from, to);
    for (const log of found) if ("eventName" in log && HANDLERS[log.eventName]) logs.push(log);
  }
  return logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
}

/**
 * Follows the chain with eth_getLogs (standard JSON-RPC only, so it works on Besu) and calls `onEvent`
 * for every event that concerns `self` (with `observer`, every pair's), in block order. What it shows is
 * what every member can read: events carry no rate, volume or invoice line (docs/confidentiality.md).
 */
export async function watchChain(opts: WatchOptions): Promise<void> {
  const { client, provider } = opts;
  const ctx = contextOf(opts);
  let next = opts.fromBlock ?? (await provider.getBlockNumber()) + 1;
  const stopAt = opts.once ? (opts.untilBlock ?? (await provider.getBlockNumber())) : Infinity;
  const pollMs = opts.pollMs ?? 1000;
  while (!opts.signal?.aborted) {
    const head = Math.min(await provider.getBlockNumber(), stopAt);
    if (head >= next) {
      const to = Math.min(head, next + 4999);
      for (const log of await logsOf(client, next, to)) {
        const event = await HANDLERS[log.eventName](log, ctx);
        if (event) opts.onEvent({ ...event, block: log.blockNumber, txHash: log.transactionHash });
      }
      next = to + 1;
      continue;
    }
    if (next > stopAt) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
