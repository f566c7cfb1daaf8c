import type { ContractRunner, ContractTransactionReceipt, ContractTransactionResponse, Provider } from "ethers";
import { ConfigError, TransactionFailedError } from "../core/errors";
import { withDecodedRevert } from "./revert";

/**
 * Sends a transaction and waits until it is mined; a revert comes back as the contract's decoded custom
 * error. ethers gives no receipt only when asked to wait for 0 confirmations, which this never does: a
 * missing receipt is reported, not assumed away.
 */
export async function sendAndWait(send: () => Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  return withDecodedRevert(async () => {
    const tx = await send();
    const receipt = await tx.wait();
    if (!receipt) {
      throw new TransactionFailedError(`transaction ${tx.hash} was sent but the node gave no receipt for it`, {
        hint: "look the transaction up on the node; run the command again once it is mined or dropped.",
      });
    }
    return receipt;
  });
}

/** The node a runner reads from; a ConfigError for a runner without one (a bare signer). */
export function providerOf(runner: ContractRunner): Provider {
  if (!runner.provider) {
    throw new ConfigError("the client is not connected to a node", { hint: "connect it with a provider or a signer that has one." });
  }
  return runner.provider;
}
