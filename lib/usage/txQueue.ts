import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { withDecodedRevert } from "../revert";

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
    for (const { tx } of this.sent) {
      const receipt = await withDecodedRevert(async () => (await tx.wait())!);
      receipts.push(receipt);
    }
    return receipts;
  }
}
