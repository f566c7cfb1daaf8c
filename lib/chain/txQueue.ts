import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { withDecodedRevert } from "./revert";
import { TransactionFailedError } from "../core/errors";

/**
 * Sends transactions one after the other (each waits until the previous one is accepted by the node,
 * so nonces stay in order) without waiting for them to be mined; `drain` waits for all receipts.
 * Reverts are decoded into the contract's custom error.
 */
export class TxQueue {
  private readonly sent: { label: string; tx: ContractTransactionResponse }[] = [];
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly log: (line: string) => void = () => {}) {}

  /** Queues a send; resolves to its index once the node accepted it. */
  send(label: string, fn: () => Promise<ContractTransactionResponse>): Promise<number> {
    const result = this.tail.then(async () => {
      const tx = await withDecodedRevert(fn);
      this.sent.push({ label, tx });
      this.log(`sent ${label}: ${tx.hash}`);
      return this.sent.length - 1;
    });
    this.tail = result.catch(() => {});
    return result;
  }

  get hashes(): string[] {
    return this.sent.map((s) => s.tx.hash);
  }

  /** Waits for every queued transaction to be mined; throws the first failure (decoded). */
  async drain(): Promise<TransactionReceipt[]> {
    await this.tail;
    const receipts: TransactionReceipt[] = [];
    for (const { label, tx } of this.sent) {
      const receipt = await withDecodedRevert(() => tx.wait()).catch((error: unknown) => {
        throw failedOnChain(error, label, tx) ?? error;
      });
      // wait() with its default of one confirmation returns null only for a transaction replaced or dropped.
      if (receipt === null) throw new TransactionFailedError(`${label}: transaction ${tx.hash} has no receipt`);
      receipts.push(receipt);
    }
    return receipts;
  }
}

/** A mined transaction that failed with no reason the contracts give, as a clear error; else undefined. */
function failedOnChain(error: unknown, label: string, tx: ContractTransactionResponse): TransactionFailedError | undefined {
  const receipt = (error as { code?: string; receipt?: TransactionReceipt | null }).receipt;
  if ((error as { code?: string }).code !== "CALL_EXCEPTION" || !receipt) return undefined;
  const outOfGas = receipt.gasUsed >= tx.gasLimit;
  return new TransactionFailedError(
    `${label}: transaction ${tx.hash} failed on-chain in block ${receipt.blockNumber}` +
      (outOfGas ? `, out of gas (it used all of its ${tx.gasLimit.toLocaleString("en-US")} gas)` : ", without a reason"),
    {
      details: "Nothing this transaction would have recorded is on-chain; what was mined before it stays.",
      hint: outOfGas
        ? "run the same command again (it resumes and sends what is missing); if it fails the same way, the node caps gas per transaction below what this one needs: report it with this message."
        : "run the same command again; if it fails the same way, report it with this message.",
    },
  );
}
