import hre from "hardhat";
import { expect } from "chai";
import fc from "fast-check";
import { Signature, Wallet } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  type EscrowInvoice,
  escrowDomain,
  invoiceDigest,
  invoiceStructHash,
  recoverInvoiceSigner,
  signInvoice,
} from "../../../lib/settlement/invoiceSignature";
import { CryptoError } from "../../../lib/core/errors";
import type { InvoiceTypedData__Harness } from "../../../typechain-types";
import { bytes32 } from "../../helpers/confidential";
import { BR, DE, TOKEN } from "../../helpers/rating";
import type { Hex } from "../../../lib/util/hex";

/** secp256k1's group order: s and n - s are both valid, only the low one is canonical. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

async function deploy() {
  const harness = (await hre.ethers.deployContract("InvoiceTypedData__Harness")) as unknown as InvoiceTypedData__Harness;
  const { chainId } = await hre.ethers.provider.getNetwork();
  return { harness, domain: escrowDomain(chainId, await harness.getAddress()) };
}

const INVOICE: EscrowInvoice = {
  payer: DE,
  payee: BR,
  period: 202611,
  agreementVersion: 2,
  termsCommitment: `0x${"a1".repeat(32)}`,
  ledgerAccumulator: `0x${"b2".repeat(32)}`,
  totalsCommitment: `0x${"c3".repeat(32)}`,
  token: TOKEN,
  net: 1_234_567_890n,
};

const anyInvoice: fc.Arbitrary<EscrowInvoice> = fc.record({
  payer: fc.constantFrom(DE, BR, `0x130014` as Hex),
  payee: fc.constantFrom(DE, BR, `0x130014` as Hex),
  period: fc.nat({ max: 2 ** 32 - 1 }),
  agreementVersion: fc.nat({ max: 2 ** 32 - 1 }),
  termsCommitment: bytes32,
  ledgerAccumulator: bytes32,
  totalsCommitment: bytes32,
  token: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString("hex")}`),
  net: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
});

describe("lib/settlement/invoiceSignature", function () {
  describe("invoiceStructHash and invoiceDigest", function () {
    it("equal the OpenZeppelin EIP712 contract's for random invoices", async function () {
      const { harness, domain } = await loadFixture(deploy);
      await fc.assert(
        fc.asyncProperty(anyInvoice, async (invoice) => {
          expect(invoiceStructHash(invoice)).to.equal(await harness.hashInvoice(invoice));
          expect(invoiceDigest(domain, invoice)).to.equal(await harness.invoiceDigest(invoice));
        }),
        { numRuns: 100 },
      );
    });

    it("bind the chain, the escrow and the domain version", async function () {
      const { domain } = await loadFixture(deploy);
      const digest = invoiceDigest(domain, INVOICE);
      expect(invoiceDigest({ ...domain, chainId: BigInt(domain.chainId ?? 0) + 1n }, INVOICE)).to.not.equal(digest);
      expect(invoiceDigest({ ...domain, verifyingContract: "0x000000000000000000000000000000000000dEaD" }, INVOICE)).to.not.equal(digest);
      expect(invoiceDigest({ ...domain, version: "1" }, INVOICE)).to.not.equal(digest);
    });
  });

  describe("signInvoice and recoverInvoiceSigner", function () {
    it("a wallet's signature recovers to it, in the library and in the contract (ECDSA.recover)", async function () {
      const { harness, domain } = await loadFixture(deploy);
      const wallet = Wallet.createRandom();
      const signature = await signInvoice(wallet, domain, INVOICE);
      expect(recoverInvoiceSigner(domain, INVOICE, signature)).to.equal(wallet.address);
      expect(await harness.recover(INVOICE, signature)).to.equal(wallet.address);
      const gas = await harness.recover.estimateGas(INVOICE, signature);
      console.log(`      EIP-712 Invoice digest + ECDSA.recover gas (call with calldata): ${gas}`);
      expect(gas).to.be.below(60_000n);
    });

    it("a node account's signature (eth_signTypedData_v4) recovers to it", async function () {
      const { harness, domain } = await loadFixture(deploy);
      const [operator] = await hre.ethers.getSigners();
      const signature = await signInvoice(operator, domain, INVOICE);
      expect(recoverInvoiceSigner(domain, INVOICE, signature)).to.equal(operator.address);
      expect(await harness.recover(INVOICE, signature)).to.equal(operator.address);
    });

    it("a signature recovers to another address once any field of the invoice is changed", async function () {
      const { harness, domain } = await loadFixture(deploy);
      const wallet = Wallet.createRandom();
      const signature = await signInvoice(wallet, domain, INVOICE);
      const changes: Partial<EscrowInvoice>[] = [
        { payer: BR, payee: DE },
        { period: 202612 },
        { agreementVersion: 3 },
        { termsCommitment: `0x${"a2".repeat(32)}` },
        { ledgerAccumulator: `0x${"b3".repeat(32)}` },
        { totalsCommitment: `0x${"c4".repeat(32)}` },
        { token: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0" },
        { net: INVOICE.net + 1n },
      ];
      for (const change of changes) {
        const tampered = { ...INVOICE, ...change };
        expect(recoverInvoiceSigner(domain, tampered, signature), Object.keys(change).join()).to.not.equal(wallet.address);
        expect(await harness.recover(tampered, signature)).to.not.equal(wallet.address);
      }
      expect(recoverInvoiceSigner({ ...domain, chainId: BigInt(domain.chainId ?? 0) + 1n }, INVOICE, signature)).to.not.equal(
        wallet.address,
      );
    });

    it("refuses a high-s signature, as the contract does", async function () {
      const { harness, domain } = await loadFixture(deploy);
      const signature = Signature.from(await signInvoice(Wallet.createRandom(), domain, INVOICE));
      const highS = `0x${(N - BigInt(signature.s)).toString(16).padStart(64, "0")}`;
      const malleated = `${signature.r}${highS.slice(2)}${(signature.v === 27 ? 28 : 27).toString(16)}` as Hex;
      expect(() => recoverInvoiceSigner(domain, INVOICE, malleated)).to.throw(CryptoError, /high s/);
      await expect(harness.recover(INVOICE, malleated)).to.be.revertedWithCustomError(harness, "ECDSAInvalidSignatureS");
      expect(() => recoverInvoiceSigner(domain, INVOICE, "0x1234")).to.throw(CryptoError);
    });
  });
});
