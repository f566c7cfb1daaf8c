/**
 * Usage ledger events as the watcher shows them. A batch header carries no volume (docs/confidentiality.md):
 * what is shown of a batch is its id, pair, period, tree depth (a power-of-two bound on its records) and
 * its window; of a dispute, the leaf's position and the reason code; of a closed period, the number of
 * counted batches and the accumulator.
 */
import { formatPeriod } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { disputeReasonName, disputeReasonText, rejectReasonName } from "../usage/reasons";
import { lower, roleOf, short, type WatchContext, type WatchHandler, type WatchItem } from "./types";

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");

/** An event of a batch known by id: the pair is read from the ledger (cached). */
async function batchEvent(
  ctx: WatchContext,
  batchId: string,
  make: (pair: { home: string; visited: string }) => Omit<WatchItem, "as">,
): Promise<WatchItem | undefined> {
  const pair = await ctx.batchPair(batchId);
  const as = roleOf(ctx, [
    ["home", pair.home],
    ["visited", pair.visited],
  ]);
  if (!as) return undefined;
  const item = make({ home: formatPlmn(pair.home), visited: formatPlmn(pair.visited) });
  return { ...item, as, data: { ...item.data, home: formatPlmn(pair.home), visited: formatPlmn(pair.visited) } };
}

export const LEDGER_HANDLERS: Record<string, WatchHandler> = {
  async UsageBatchSubmitted(log, ctx) {
    const { batchId, visited, home, period, treeDepth, windowEnd } = log.args as unknown as Record<string, string>;
    const as = roleOf(ctx, [
      ["home", home],
      ["visited", visited],
    ]);
    if (!as) return undefined;
    const depth = Number(treeDepth);
    return {
      kind: "batch-submitted",
      as,
      text: `BATCH ${batchId} ${formatPlmn(lower(visited))} bills ${formatPlmn(lower(home))} for ${formatPeriod(Number(period))}: up to ${(2 ** depth).toLocaleString("en-US")} records (tree depth ${depth}), dispute window until ${iso(Number(windowEnd))}`,
      data: {
        batchId,
        visited: formatPlmn(lower(visited)),
        home: formatPlmn(lower(home)),
        period: Number(period),
        treeDepth: depth,
        windowEnd: Number(windowEnd),
      },
    };
  },
  async UsageBatchAccepted(log, ctx) {
    const [batchId] = log.args;
    return batchEvent(ctx, batchId, (p) => ({
      kind: "batch-accepted",
      text: `ACCEPTED batch ${short(batchId)} by ${p.home}`,
      data: { batchId },
    }));
  },
  async UsageBatchExpired(log, ctx) {
    const [batchId] = log.args;
    return batchEvent(ctx, batchId, (p) => ({
      kind: "batch-expired",
      text: `EXPIRED batch ${short(batchId)} of ${p.visited}: ${p.home} did not decide within the window, it counts as accepted`,
      data: { batchId },
    }));
  },
  async UsageBatchRejected(log, ctx) {
    const [batchId, , reason] = log.args;
    const why = rejectReasonName(Number(reason));
    return batchEvent(ctx, batchId, (p) => ({
      kind: "batch-rejected",
      text: `REJECTED batch ${short(batchId)} of ${p.visited} by ${p.home}: ${why}`,
      data: { batchId, reason: Number(reason), reasonName: why },
    }));
  },
  async UsageRecordDisputed(log, ctx) {
    const [batchId, leafIndex, leaf, reason] = log.args;
    const code = Number(reason);
    return batchEvent(ctx, batchId, (p) => ({
      kind: "record-disputed",
      text: `DISPUTE record #${leafIndex} of batch ${short(batchId)} by ${p.home}: ${disputeReasonText(code)}`,
      data: { batchId, leafIndex: Number(leafIndex), leaf, reason: code, reasonName: disputeReasonName(code) },
    }));
  },
  async PeriodClosed(log, ctx) {
    const [home, visited, period, accumulator, counted] = log.args;
    const as = roleOf(ctx, [
      ["home", home],
      ["visited", visited],
    ]);
    if (!as) return undefined;
    return {
      kind: "period-closed",
      as,
      text: `CLOSED ${formatPeriod(Number(period))} of ${formatPlmn(lower(visited))} billing ${formatPlmn(lower(home))}: ${counted} counted batch(es), accumulator ${short(accumulator)}`,
      data: {
        home: formatPlmn(lower(home)),
        visited: formatPlmn(lower(visited)),
        period: Number(period),
        countedBatches: Number(counted),
        accumulator,
      },
    };
  },
};
