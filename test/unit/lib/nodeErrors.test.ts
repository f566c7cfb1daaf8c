import { expect } from "chai";
import { nodeConnectionError, nodeRequestError } from "../../../lib/chain/revert";
import { NodeRequestError } from "../../../lib/core/errors";

/** Shaped as Hardhat's ProviderError: the node's JSON-RPC error, wrapped by ethers as the call failed. */
function providerError(code: number, message: string): Error {
  const e = new Error(message) as Error & { code: number };
  e.name = "ProviderError";
  e.code = code;
  return Object.assign(new Error("could not call"), { code: "UNKNOWN_ERROR", error: e });
}

describe("lib/chain/revert: node errors", function () {
  const network = { name: "localhost", url: "http://127.0.0.1:8545" };

  it("says which node refused which request, and to run the command again", function () {
    const err = providerError(-32602, "BlockOutOfRangeError: block height is 50 but requested was 49");
    const decoded = nodeRequestError(err, network);
    expect(decoded).to.be.instanceOf(NodeRequestError);
    expect(decoded!.message.split("\n")[0]).to.equal(
      "the chain node of network localhost (http://127.0.0.1:8545) refused a request: BlockOutOfRangeError: block height is 50 but requested was 49 (JSON-RPC error -32602)",
    );
    expect(decoded!.hint).to.match(/run the same command again/);
    expect(nodeConnectionError(err, network)).to.equal(undefined);
  });

  it("leaves reverts and errors that are not the node's answer alone", function () {
    expect(nodeRequestError(providerError(3, "execution reverted"), network)).to.equal(undefined);
    expect(nodeRequestError(new Error("boom"), network)).to.equal(undefined);
    expect(nodeRequestError(undefined, network)).to.equal(undefined);
  });
});
