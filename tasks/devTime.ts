import { task } from "hardhat/config";
import { action, out } from "./common";
import { isoTime } from "../lib/agreements/terms";
import { advanceDevClock, parseDuration } from "../lib/dev/clock";

task(
  "dev:time",
  "Development chains only (the in-process hardhat network, `npx hardhat node`, anvil: chain id 31337 or 1337): moves the chain's clock forward and mines a block, e.g. to get past a period's submission grace so that it can close. Refused on any other chain: a consortium chain keeps real time.",
)
  .addParam("advance", "How far to move the clock: a number with a unit, s, m, h or d (e.g. 90m, 12h, 35d)")
  .setAction(
    action(async (args: { advance: string }, hre) => {
      const seconds = parseDuration(args.advance, "--advance");
      const moved = await advanceDevClock(hre.ethers.provider, hre.network.name, seconds);
      out(
        `Chain clock moved ${args.advance} on ${hre.network.name}: ${isoTime(moved.before)} -> ${isoTime(moved.after)} (block ${moved.block}).`,
      );
    }),
  );
