/**
 * EIP-7825 on the hardhat network (config/base.ts): no transaction any test, task or benchmark sends may
 * carry more than 2^24 gas. A transaction that names no gas limit gets the cap and runs out of gas when it
 * needs more; one that names more than the cap, sent by a hardhat signer or signed elsewhere, is refused
 * before it reaches the chain.
 */
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet, keccak256, toBeHex } from "ethers";
import { TX_GAS_CAP } from "../../lib/settlement/claims";
import { CloneGas__Mock__factory } from "../../typechain-types";

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => keccak256(toBeHex(from + i, 32)));

/** A contract whose cost grows with its input: CREATE2 clones (~41,000 gas each; of itself, any address does). */
async function cloner() {
  const [signer] = await hre.ethers.getSigners();
  const mock = await (await new CloneGas__Mock__factory(signer).deploy()).waitForDeployment();
  return { signer, mock, implementation: await mock.getAddress() };
}

describe("EIP-7825: the per-transaction gas cap on the hardhat network", function () {
  before(function () {
    // solidity-coverage's instrumented code needs more gas: the cap is off under it (config/base.ts).
    if (process.env.SOLIDITY_COVERAGE) this.skip();
  });

  it("is the default gas limit of a transaction that names none", async function () {
    const { mock, implementation } = await loadFixture(cloner);
    const tx = await mock.cloneMany(implementation, ids(10));
    expect(tx.gasLimit).to.equal(TX_GAS_CAP);
    expect(hre.network.config.gas).to.equal(Number(TX_GAS_CAP));
  });

  it("lets a transaction that uses nearly the whole cap through", async function () {
    const { mock, implementation } = await loadFixture(cloner);
    const receipt = await (await mock.cloneMany(implementation, ids(300))).wait();
    expect(receipt!.gasUsed).to.be.greaterThan(TX_GAS_CAP / 2n);
    expect(receipt!.gasUsed).to.be.at.most(TX_GAS_CAP);
  });

  it("fails a transaction that needs more than the cap (out of gas at 2^24)", async function () {
    const { mock, implementation } = await loadFixture(cloner);
    // 600 clones need about 25M gas: the transaction gets the cap and runs out.
    const needed = await mock.cloneMany.estimateGas(implementation, ids(600, 1_000));
    expect(needed).to.be.greaterThan(TX_GAS_CAP);
    await expect(mock.cloneMany(implementation, ids(600, 1_000))).to.be.rejected;
  });

  it("refuses a transaction that names a gas limit over the cap, before it is sent", async function () {
    const { signer, mock, implementation } = await loadFixture(cloner);
    const before = await hre.ethers.provider.getBlockNumber();
    await expect(mock.cloneMany(implementation, ids(600, 2_000), { gasLimit: TX_GAS_CAP + 1n })).to.be.rejectedWith(
      /over the EIP-7825 per-transaction cap of 16777216/,
    );
    await expect(signer.sendTransaction({ to: signer.address, gasLimit: 30_000_000n })).to.be.rejectedWith(/EIP-7825/);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(before);
  });

  it("refuses a signed (raw) transaction over the cap, and accepts one at the cap", async function () {
    const { signer } = await loadFixture(cloner);
    const wallet = Wallet.createRandom().connect(hre.ethers.provider);
    await (await signer.sendTransaction({ to: wallet.address, value: 10n ** 18n })).wait();
    await expect(wallet.sendTransaction({ to: signer.address, gasLimit: TX_GAS_CAP + 1n })).to.be.rejectedWith(/EIP-7825/);
    const ok = await (await wallet.sendTransaction({ to: signer.address, gasLimit: TX_GAS_CAP })).wait();
    expect(ok!.status).to.equal(1);
  });
});
