import { expect } from "chai";
import { AbiCoder } from "ethers";
import { type InvoiceContents, type InvoiceContext, openInvoice, SEALED_INVOICE_KIND, sealInvoice } from "../../../lib/invoice/sealed";
import { type EscrowInvoice, escrowDomain, invoiceDigest } from "../../../lib/settlement/invoiceSignature";
import { CryptoError, InputError, MismatchError } from "../../../lib/core/errors";
import { CLASS_TOTALS_TUPLE_TYPE, periodTotalsCommitment, randomSalt } from "../../../lib/crypto/commitment";
import { generateEncryptionKeyPair } from "../../../lib/crypto/keys";
import { pairwiseKey } from "../../../lib/crypto/pairwise";
import { PAD_BUCKET, sealAbi } from "../../../lib/crypto/sealed";
import type { Hex } from "../../../lib/util/hex";
import { totalsOf } from "../../helpers/confidential";
import { BR, DE, TOKEN } from "../../helpers/rating";

const ESCROW = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";
const CONTEXT: InvoiceContext = { chainId: 2026n, escrow: ESCROW };
const de = generateEncryptionKeyPair();
const br = generateEncryptionKeyPair();
const keyOfBr = pairwiseKey({ myPrivateKey: br.privateKey, theirPublicKey: de.publicKey, plmnA: BR, plmnB: DE });
const keyOfDe = pairwiseKey({ myPrivateKey: de.privateKey, theirPublicKey: br.publicKey, plmnA: DE, plmnB: BR });
/** Header 5, nonce 12, tag 16. */
const OVERHEAD = 33;

function contentsOf(classes: number): InvoiceContents {
  return {
    totals: Array.from({ length: classes }, (_, c) => totalsOf(c, 10 + c, 5_000_000n * BigInt(c + 1))),
    totalsSalt: randomSalt(),
    summary: { agreementVersion: 2, subtotal: 1_000_000n, credit: 20_000n, net: 980_000n },
  };
}

/** The invoice the payee signs for `contents`. */
function invoiceOf(contents: InvoiceContents): EscrowInvoice {
  return {
    payer: DE,
    payee: BR,
    period: 202611,
    agreementVersion: contents.summary.agreementVersion,
    termsCommitment: `0x${"a1".repeat(32)}`,
    ledgerAccumulator: `0x${"b2".repeat(32)}`,
    totalsCommitment: periodTotalsCommitment(contents.totals, contents.totalsSalt),
    token: TOKEN,
    net: contents.summary.net,
  };
}

/** A sealed invoice made without sealInvoice's checks, as a dishonest payee could, with the documented AAD. */
function craft(contents: InvoiceContents, invoice: EscrowInvoice): Uint8Array {
  const digest = invoiceDigest(escrowDomain(CONTEXT.chainId, ESCROW), invoice);
  const aad = AbiCoder.defaultAbiCoder().encode(
    ["string", "uint256", "address", "bytes3", "bytes3", "uint32", "bytes32"],
    ["roamledger/sealed-invoice/v1", CONTEXT.chainId, ESCROW, invoice.payer, invoice.payee, invoice.period, digest],
  );
  const types = [
    `${CLASS_TOTALS_TUPLE_TYPE}[]`,
    "bytes32",
    "tuple(uint32 agreementVersion, uint256 subtotal, uint256 credit, uint256 net)",
  ];
  const values = [contents.totals, contents.totalsSalt, contents.summary];
  return sealAbi({ key: keyOfBr, kind: SEALED_INVOICE_KIND, types, values, aad: Buffer.from(aad.slice(2), "hex") });
}

describe("lib/invoice/sealed", function () {
  const contents = contentsOf(3);
  const invoice = invoiceOf(contents);
  const sealed = sealInvoice({ key: keyOfBr, context: CONTEXT, invoice, contents });

  describe("sealInvoice", function () {
    it("heads the blob RLSI version 1 and pads it to 1,024-byte buckets of classes", function () {
      expect(Buffer.from(sealed.subarray(0, 5)).toString("hex")).to.equal(`${Buffer.from("RLSI").toString("hex")}01`);
      // abi.encode(totals, salt, summary) is 224 bytes + 352 per class.
      for (const [classes, buckets] of [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 2],
        [5, 2],
        [8, 3],
        [256, 89],
      ] as const) {
        const c = contentsOf(classes);
        expect(sealInvoice({ key: keyOfBr, context: CONTEXT, invoice: invoiceOf(c), contents: c }).length, `${classes} classes`).to.equal(
          OVERHEAD + buckets * PAD_BUCKET,
        );
      }
    });

    it("refuses contents that do not open the invoice's commitment or disagree with its version or net", function () {
      const seal =
        (inv: EscrowInvoice, c: InvoiceContents = contents) =>
        () =>
          sealInvoice({ key: keyOfBr, context: CONTEXT, invoice: inv, contents: c });
      expect(seal({ ...invoice, totalsCommitment: `0x${"00".repeat(32)}` })).to.throw(MismatchError, /totalsCommitment/);
      expect(seal({ ...invoice, agreementVersion: 1 })).to.throw(MismatchError, /agreementVersion/);
      expect(seal({ ...invoice, net: 1n })).to.throw(MismatchError, /net/);
      const unbalanced = { ...contents, summary: { ...contents.summary, credit: 0n } };
      expect(seal(invoice, unbalanced)).to.throw(MismatchError, /subtotal - credit/);
      expect(seal(invoice, { ...contents, totalsSalt: "0x00" as Hex })).to.throw(InputError, /salt/);
      expect(() => sealInvoice({ key: keyOfBr, context: { ...CONTEXT, escrow: "0x12" }, invoice, contents })).to.throw(InputError);
    });
  });

  describe("openInvoice", function () {
    it("gives the payer the totals, salt and summary back", function () {
      expect(openInvoice({ key: keyOfDe, context: CONTEXT, sealed, invoice })).to.deep.equal(contents);
      const none = contentsOf(0);
      const empty = sealInvoice({ key: keyOfBr, context: CONTEXT, invoice: invoiceOf(none), contents: none });
      expect(openInvoice({ key: keyOfDe, context: CONTEXT, sealed: empty, invoice: invoiceOf(none) })).to.deep.equal(none);
    });

    it("refuses one changed byte anywhere", function () {
      for (const at of [0, 4, 5, 20, 500, sealed.length - 17, sealed.length - 1]) {
        const tampered = Buffer.from(sealed);
        tampered[at] ^= 0x80;
        expect(() => openInvoice({ key: keyOfDe, context: CONTEXT, sealed: tampered, invoice }), `byte ${at}`).to.throw(CryptoError);
      }
    });

    it("refuses another key", function () {
      const stranger = generateEncryptionKeyPair();
      const key = pairwiseKey({ myPrivateKey: stranger.privateKey, theirPublicKey: br.publicKey, plmnA: DE, plmnB: BR });
      expect(() => openInvoice({ key, context: CONTEXT, sealed, invoice })).to.throw(CryptoError, /decryption failed/);
    });

    it("refuses the blob for another chain, escrow, payer, payee, period or any other field of the invoice", function () {
      const contexts: InvoiceContext[] = [
        { ...CONTEXT, chainId: 2027n },
        { ...CONTEXT, escrow: TOKEN },
      ];
      for (const context of contexts) expect(() => openInvoice({ key: keyOfDe, context, sealed, invoice })).to.throw(CryptoError);
      const changes: Partial<EscrowInvoice>[] = [
        { payer: BR, payee: DE },
        { payer: "0x130014" },
        { period: 202612 },
        { agreementVersion: 3 },
        { termsCommitment: `0x${"a2".repeat(32)}` },
        { ledgerAccumulator: `0x${"b3".repeat(32)}` },
        { totalsCommitment: `0x${"c4".repeat(32)}` },
        { token: ESCROW },
        { net: invoice.net - 1n },
      ];
      for (const change of changes) {
        expect(
          () => openInvoice({ key: keyOfDe, context: CONTEXT, sealed, invoice: { ...invoice, ...change } }),
          Object.keys(change).join(),
        ).to.throw(CryptoError);
      }
    });

    it("refuses a payee's contents that open under the right key but not the invoice's commitment, version or net", function () {
      const cases: [string, InvoiceContents][] = [
        ["totalsCommitment", { ...contents, totals: contents.totals.map((t) => ({ ...t, voiceSeconds: t.voiceSeconds + 60n })) }],
        ["totalsCommitment", { ...contents, totalsSalt: randomSalt() }],
        ["agreementVersion", { ...contents, summary: { ...contents.summary, agreementVersion: 1 } }],
        ["net", { ...contents, summary: { ...contents.summary, net: 1n, subtotal: 1n, credit: 0n } }],
        ["subtotal - credit", { ...contents, summary: { ...contents.summary, subtotal: 2_000_000n } }],
      ];
      for (const [subject, lie] of cases) {
        expect(() => openInvoice({ key: keyOfDe, context: CONTEXT, sealed: craft(lie, invoice), invoice }))
          .to.throw(MismatchError)
          .with.property("subject", subject);
      }
    });

    it("refuses sealed terms passed off as an invoice", function () {
      const terms = Buffer.from(sealed);
      terms.write("RLST", 0, "ascii");
      expect(() => openInvoice({ key: keyOfDe, context: CONTEXT, sealed: terms, invoice })).to.throw(CryptoError, /malformed/);
    });
  });
});
