import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

/** Small helpers of the demo and the benchmarks: what a node may leave out, checked instead of assumed. */

/** `value`, or an error naming `what` when the node (or a result) left it out. */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what}: missing`);
  return value;
}

/** The receipt of a transaction once mined; an error when the node has none for it or it reverted. */
export async function mined(sent: ContractTransactionResponse | Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const tx = await sent;
  const receipt = present(await tx.wait(), `the receipt of ${tx.hash}`);
  if (receipt.status !== 1) throw new Error(`transaction ${tx.hash} reverted`);
  return receipt;
}
