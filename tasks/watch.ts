import { task, types } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { deploymentBlock } from "../lib/chain/deploymentBlock";
import { ANY_ROLE } from "../lib/core/roles";
import { watchChain } from "../lib/watch/watch";
import { WebhookSender, webhookUrl } from "../lib/watch/webhook";
import { action, clientFor, memberOfSigner, out } from "./common";
import { FROM_HELP } from "./cli/args";
import { ROLE_BITS } from "../lib/core/enums";

task(
  "watch",
  "Follows the chain live and prints what concerns your member: fraud flags, batches, decisions and disputes, closed periods, invoices, claims, settlement, and your partners' withdrawal requests (device makers: their own devices); only public facts: no rate, volume or invoice line is on chain",
)
  .addOptionalParam(
    "fromBlock",
    "First block to read (default: from now on; with --once, from the deployment's first block, or the last 5,000 blocks when the deployment's Ignition journal is not at hand)",
    undefined,
    types.int,
  )
  .addFlag("once", "Read up to the current block, then exit, saying which blocks it read (for scripts)")
  .addFlag("json", "One JSON object per event instead of text")
  .addFlag("observer", "Also show every other pair's public facts (what any member can see of them)")
  .addOptionalParam(
    "poll",
    "Seconds between looks for a new block (default 1; set it to your chain's block period or less: a flag shows within a poll of its block)",
    1,
    types.float,
  )
  .addOptionalParam(
    "webhook",
    "Also POST each alert as JSON to this http(s) URL, retried with exponential backoff (at least once: de-duplicate on the `id` field / Idempotency-Key header); a dead receiver never holds up the watch",
  )
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: WatchArgs, hre) => {
      const hook = args.webhook === undefined ? undefined : new WebhookSender(webhookUrl(args.webhook), { log: (l) => console.error(l) });
      const client = await clientFor(hre, args.from, { sends: false });
      const self = await memberOfSigner(client, ANY_ROLE);
      const member = await client.carriers.getMember(self.plmn);
      const maker = (Number(member.roles) & ROLE_BITS["device-maker"]) !== 0;
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort());
      const range = args.once ? await onceRange(hre, args.fromBlock) : undefined;
      // With --json, stdout holds only the events: what it read goes to stderr.
      const note = (line: string) => (!args.json ? out(line) : process.env.ROAMLEDGER_QUIET !== "1" && console.error(line));
      note(
        `Watching for ${self.text}${maker ? " (device maker: its devices too)" : ""}${args.observer ? " and every pair's public facts" : ""}${range ? `: ${range.what}` : "; Ctrl-C to stop"}.`,
      );
      let events = 0;
      await watchChain({
        client,
        provider: hre.ethers.provider,
        self: self.plmn,
        maker,
        observer: args.observer,
        fromBlock: range?.from ?? args.fromBlock,
        untilBlock: range?.to,
        once: args.once,
        pollMs: Math.max(0.1, args.poll) * 1000,
        signal: controller.signal,
        onEvent: (e) => {
          events++;
          out(args.json ? JSON.stringify(e) : `[block ${e.block}] ${e.text}`);
          hook?.send(e);
        },
      });
      if (hook && !(await hook.drain(WEBHOOK_DRAIN_MS))) {
        console.error(`webhook: stopped with alerts still undelivered after ${WEBHOOK_DRAIN_MS / 1000} s (${hook.stats.failed} given up)`);
      }
      if (range && events === 0) {
        note(
          `No events for ${self.text} in blocks ${range.from}..${range.to}${range.from > 0 ? "; pass --from-block 0 for the whole history" : ""}.`,
        );
      }
    }),
  );

interface WatchArgs {
  fromBlock?: number;
  once: boolean;
  json: boolean;
  observer: boolean;
  poll: number;
  webhook?: string;
  from?: string;
}

/** How long `watch` waits at its end for the webhook's last alerts. */
const WEBHOOK_DRAIN_MS = 60_000;

/** How many blocks `watch --once` reads back when the deployment's first block is not known. */
export const ONCE_LOOKBACK_BLOCKS = 5000;

/**
 * The blocks `watch --once` reads and how to say so: from --from-block, else from the deployment's first
 * block (its Ignition journal), else the last ONCE_LOOKBACK_BLOCKS blocks; up to the current block.
 */
async function onceRange(
  hre: HardhatRuntimeEnvironment,
  fromBlock: number | undefined,
): Promise<{ from: number; to: number; what: string }> {
  const to = await hre.ethers.provider.getBlockNumber();
  if (fromBlock !== undefined) return { from: fromBlock, to, what: `blocks ${fromBlock}..${to}` };
  const { chainId } = await hre.ethers.provider.getNetwork();
  const deployed = deploymentBlock(hre.config.paths.root, chainId);
  if (deployed) {
    const from = Math.min(deployed.block, to);
    return { from, to, what: `blocks ${from}..${to}, since the deployment (block ${deployed.block}); --from-block N to start elsewhere` };
  }
  const from = Math.max(0, to - ONCE_LOOKBACK_BLOCKS + 1);
  return {
    from,
    to,
    what: `blocks ${from}..${to}, the last ${ONCE_LOOKBACK_BLOCKS.toLocaleString("en-US")} (no Ignition journal beside the deployment record tells its first block); --from-block 0 for the whole history`,
  };
}
