import fs from "node:fs";
import path from "node:path";
import { deploymentDir } from "./deployment";

/** Where a deployment's first block is known from, and which block it is. */
export interface DeploymentBlock {
  block: number;
  /** The Ignition journal it was read from. */
  journal: string;
}

/**
 * The first block of a deployment: the lowest block of the transactions Ignition confirmed, read from
 * the `journal.jsonl` next to its `deployed_addresses.json` (`$ROAMLEDGER_DEPLOYMENT`, else
 * `ignition/deployments/chain-<id>/` under `root`). Undefined when there is no journal there (a
 * deployment record copied alone) or it names no confirmed transaction: the caller says what it read
 * instead. Never throws for a missing or damaged journal: the first block only narrows a read.
 */
export function deploymentBlock(root: string, chainId: bigint | number): DeploymentBlock | undefined {
  const addresses = process.env.ROAMLEDGER_DEPLOYMENT ?? path.join(deploymentDir(root, chainId), "deployed_addresses.json");
  const journal = path.join(path.dirname(addresses), "journal.jsonl");
  let text: string;
  try {
    text = fs.readFileSync(journal, "utf8");
  } catch {
    return undefined;
  }
  let block: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.includes('"TRANSACTION_CONFIRM"')) continue;
    try {
      const n = (JSON.parse(line) as { receipt?: { blockNumber?: unknown } }).receipt?.blockNumber;
      if (typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && (block === undefined || n < block)) block = n;
    } catch {
      // a line cut short by a crash of the deployment: the others still tell
    }
  }
  return block === undefined ? undefined : { block, journal };
}
