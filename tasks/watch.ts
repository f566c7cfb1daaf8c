import { task, types } from "hardhat/config";
import { ANY_ROLE } from "../lib/core/roles";
import { watchChain } from "../lib/watch/watch";
import { action, clientFor, memberOfSigner, out } from "./common";
import { FROM_HELP } from "./cli/args";
import { ROLE_BITS } from "../lib/core/enums";

task(
  "watch",
  "Follows the chain live and prints what concerns your member: fraud flags, permanent roamers, new batches, disputes, closed periods and settlement (device makers: their own devices)",
)
  .addOptionalParam("fromBlock", "First block to read (default: from now on)", undefined, types.int)
  .addFlag("once", "Read up to the current block, then exit (for scripts)")
  .addFlag("json", "One JSON object per event instead of text")
  .addOptionalParam("poll", "Seconds between polls", 1, types.float)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { fromBlock?: number; once: boolean; json: boolean; poll: number; from?: string }, hre) => {
      const client = await clientFor(hre, args.from, { sends: false });
      const self = await memberOfSigner(client, ANY_ROLE);
      const member = await client.carriers.getMember(self.plmn);
      const maker = (Number(member.roles) & ROLE_BITS["device-maker"]) !== 0;
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort());
      if (!args.json)
        out(
          `Watching for ${self.text}${maker ? " (device maker: its devices too)" : ""}${args.once ? " up to the current block" : "; Ctrl-C to stop"}.`,
        );
      await watchChain({
        client,
        provider: hre.ethers.provider,
        self: self.plmn,
        maker,
        fromBlock: args.fromBlock,
        once: args.once,
        pollMs: Math.max(0.1, args.poll) * 1000,
        signal: controller.signal,
        onEvent: (e) => out(args.json ? JSON.stringify(e) : `[block ${e.block}] ${e.text}`),
      });
    }),
  );
