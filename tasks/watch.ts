import { task, types } from "hardhat/config";
import { ANY_ROLE } from "../lib/core/roles";
import { watchChain } from "../lib/watch/watch";
import { action, clientFor, memberOfSigner, out } from "./common";
import { FROM_HELP } from "./cli/args";
import { ROLE_BITS } from "../lib/core/enums";

task(
  "watch",
  "Follows the chain live and prints what concerns your member: fraud flags, batches, decisions and disputes, closed periods, invoices, claims, settlement, and your partners' withdrawal requests (device makers: their own devices); only public facts: no rate, volume or invoice line is on chain",
)
  .addOptionalParam("fromBlock", "First block to read (default: from now on)", undefined, types.int)
  .addFlag("once", "Read up to the current block, then exit (for scripts)")
  .addFlag("json", "One JSON object per event instead of text")
  .addFlag("observer", "Also show every other pair's public facts (what any member can see of them)")
  .addOptionalParam("poll", "Seconds between polls", 1, types.float)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { fromBlock?: number; once: boolean; json: boolean; observer: boolean; poll: number; from?: string }, hre) => {
      const client = await clientFor(hre, args.from, { sends: false });
      const self = await memberOfSigner(client, ANY_ROLE);
      const member = await client.carriers.getMember(self.plmn);
      const maker = (Number(member.roles) & ROLE_BITS["device-maker"]) !== 0;
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort());
      if (!args.json)
        out(
          `Watching for ${self.text}${maker ? " (device maker: its devices too)" : ""}${args.observer ? " and every pair's public facts" : ""}${args.once ? " up to the current block" : "; Ctrl-C to stop"}.`,
        );
      await watchChain({
        client,
        provider: hre.ethers.provider,
        self: self.plmn,
        maker,
        observer: args.observer,
        fromBlock: args.fromBlock,
        once: args.once,
        pollMs: Math.max(0.1, args.poll) * 1000,
        signal: controller.signal,
        onEvent: (e) => out(args.json ? JSON.stringify(e) : `[block ${e.block}] ${e.text}`),
      });
    }),
  );
