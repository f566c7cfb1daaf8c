import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { sendAndWait } from "../lib/chain/send";

/** Small helpers of the demo and the benchmarks: what a node may leave out, checked instead of assumed. */

/** `value`, or an error naming `what` when the node (or a result) left it out. */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what}: missing`);
  return value;
}

/** The receipt of a transaction once mined (lib's sendAndWait: a revert decoded, a missing receipt an error). */
export function mined(sent: ContractTransactionResponse | Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  return sendAndWait(async () => sent);
}
