import { expect } from "chai";
import { AbiCoder, getAddress } from "ethers";
import { ratingCommitmentsOf } from "../../../lib/agreements/ratingCommitments";
import { openTerms, pricedClassesOf, publicTermsOf, SEALED_TERMS_KIND, sealTerms, type TermsContext } from "../../../lib/agreements/sealed";
import type { TermsStruct } from "../../../lib/agreements/terms";
import { CryptoError, InputError, InputErrors, MismatchError } from "../../../lib/core/errors";
import { parsePlmn } from "../../../lib/core/plmn";
import { randomSalt, TERMS_TUPLE_TYPE, termsCommitment } from "../../../lib/crypto/commitment";
import { generateEncryptionKeyPair } from "../../../lib/crypto/keys";
import { pairwiseKey } from "../../../lib/crypto/pairwise";
import { PAD_BUCKET, sealAbi, sealedLength } from "../../../lib/crypto/sealed";
import type { Hex } from "../../../lib/util/hex";
import { validTerms } from "../../helpers/confidential";
import { BR, DE } from "../../helpers/rating";

const AGREEMENTS = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const CONTEXT: TermsContext = { chainId: 1337n, agreements: AGREEMENTS, proposer: DE, counterparty: BR };
const de = generateEncryptionKeyPair();
const br = generateEncryptionKeyPair();
const keyOfDe = pairwiseKey({ myPrivateKey: de.privateKey, theirPublicKey: br.publicKey, plmnA: DE, plmnB: BR });
const keyOfBr = pairwiseKey({ myPrivateKey: br.privateKey, theirPublicKey: de.publicKey, plmnA: BR, plmnB: DE });
/** Bytes of the sealed blob around the padded plaintext: header 5, nonce 12, tag 16. */
const OVERHEAD = 5 + 12 + 16;

/** The additional data as documented: abi.encode(domain, chain id, contract, proposer, counterparty, commitment). */
function aadOf(context: TermsContext, commitment: string): Uint8Array {
  const { chainId, agreements, proposer, counterparty } = context;
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["string", "uint256", "address", "bytes3", "bytes3", "bytes32"],
    ["roamledger/sealed-terms/v1", chainId, agreements, proposer, counterparty, commitment],
  );
  return Buffer.from(encoded.slice(2), "hex");
}

/** Sealed terms made without sealTerms' checks, as a dishonest proposer could: `commitment` in the AAD. */
function craft(terms: TermsStruct, salt: Hex, commitment = termsCommitment(terms, salt)): Uint8Array {
  return sealAbi({
    key: keyOfDe,
    kind: SEALED_TERMS_KIND,
    types: [TERMS_TUPLE_TYPE, "bytes32"],
    values: [terms, salt],
    aad: aadOf(CONTEXT, commitment),
  });
}

describe("lib/agreements/sealed", function () {
  const terms = validTerms();
  const salt = randomSalt();
  const { sealed, publicTerms } = sealTerms({ key: keyOfDe, context: CONTEXT, terms, salt });

  describe("sealTerms", function () {
    it("gives the public part with the commitment, and a blob headed RLST version 1", function () {
      expect(publicTerms).to.deep.equal({
        settlementToken: getAddress(terms.settlementToken),
        validFrom: terms.validFrom,
        validUntil: terms.validUntil,
        disputeWindow: terms.disputeWindow,
        termsCommitment: termsCommitment(terms, salt),
        ...pricedClassesOf(terms, DE, BR),
        ...ratingCommitmentsOf(terms, salt, [DE, BR]),
      });
      expect(publicTermsOf(terms, salt, [BR, DE])).to.deep.equal(publicTerms);
      expect(Buffer.from(sealed.subarray(0, 5)).toString("hex")).to.equal(`${Buffer.from("RLST").toString("hex")}01`);
    });

    it("seals with a fresh nonce: the same terms never give the same bytes", function () {
      const again = sealTerms({ key: keyOfDe, context: CONTEXT, terms, salt }).sealed;
      expect(Buffer.from(again).equals(Buffer.from(sealed))).to.equal(false);
      expect(again.length).to.equal(sealed.length);
    });

    it("pads to 1,024-byte buckets: the length tells a bucket of plans and tiers, not their number", function () {
      // abi.encode(Terms, salt) is 512 bytes + 320 per plan + 64 per tier.
      const sizes = [
        [1, 0, 832, 1],
        [1, 3, 1_024, 1],
        [2, 0, 1_152, 2],
        [2, 2, 1_408, 2],
        [4, 2, 2_304, 3],
        [64, 8, 53_760, 53],
      ] as const;
      for (const [plans, tiers, plain, buckets] of sizes) {
        const blob = sealTerms({ key: keyOfDe, context: CONTEXT, terms: validTerms(plans, tiers), salt }).sealed;
        expect(blob.length, `${plans} plans of ${tiers} tiers`).to.equal(OVERHEAD + buckets * PAD_BUCKET);
        expect(sealedLength(plain)).to.equal(blob.length);
      }
      const one = sealTerms({ key: keyOfDe, context: CONTEXT, terms: validTerms(1, 0), salt }).sealed.length;
      expect(sealTerms({ key: keyOfDe, context: CONTEXT, terms: validTerms(1, 3), salt }).sealed.length).to.equal(one);
    });

    it("fits the contract's MAX_SEALED_TERMS (65,536 bytes) with the most terms allowed (64 plans of 8 tiers)", function () {
      expect(sealTerms({ key: keyOfDe, context: CONTEXT, terms: validTerms(64, 8), salt }).sealed.length).to.equal(54_305);
    });

    it("refuses terms the counterparty would refuse, before sealing", function () {
      const bad = { ...terms, sla: { ...terms.sla, latencyCreditBps: 10_001 } };
      expect(() => sealTerms({ key: keyOfDe, context: CONTEXT, terms: bad, salt })).to.throw(InputError, /latencyCreditPercent/);
      expect(() => sealTerms({ key: keyOfDe, context: CONTEXT, terms, salt: "0x12" as Hex })).to.throw(InputError, /salt/);
      expect(() => sealTerms({ key: keyOfDe, context: { ...CONTEXT, counterparty: DE }, terms, salt })).to.throw(
        InputError,
        /same carrier/,
      );
    });
  });

  describe("openTerms", function () {
    it("gives the counterparty the terms and salt back, with either carrier's copy of the pair's key", function () {
      for (const key of [keyOfBr, keyOfDe]) {
        const opened = openTerms({ key, context: CONTEXT, sealed, publicTerms });
        expect(opened.terms).to.deep.equal(terms);
        expect(opened.salt).to.equal(salt);
      }
    });

    it("accepts the public terms as read from the chain (bigints, checksummed or lowercase addresses)", function () {
      const read = {
        ...publicTerms,
        settlementToken: publicTerms.settlementToken.toLowerCase(),
        disputeWindow: BigInt(publicTerms.disputeWindow),
      };
      expect(openTerms({ key: keyOfBr, context: CONTEXT, sealed, publicTerms: read }).salt).to.equal(salt);
    });

    it("refuses one changed byte anywhere: header, nonce, ciphertext, padding, tag", function () {
      for (const at of [0, 4, 5, 16, 17, 100, sealed.length - 40, sealed.length - 1]) {
        const tampered = Buffer.from(sealed);
        tampered[at] ^= 1;
        expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed: tampered, publicTerms }), `byte ${at}`).to.throw(CryptoError);
      }
      expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed: sealed.subarray(0, 30), publicTerms })).to.throw(CryptoError);
    });

    it("refuses another key", function () {
      const other = generateEncryptionKeyPair();
      const key = pairwiseKey({ myPrivateKey: other.privateKey, theirPublicKey: de.publicKey, plmnA: BR, plmnB: DE });
      expect(() => openTerms({ key, context: CONTEXT, sealed, publicTerms })).to.throw(CryptoError, /decryption failed/);
    });

    it("refuses the blob replayed for another chain, contract, pair, direction or commitment", function () {
      const contexts: TermsContext[] = [
        { ...CONTEXT, chainId: 1338n },
        { ...CONTEXT, agreements: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
        { ...CONTEXT, counterparty: parsePlmn("310-410") },
        { ...CONTEXT, proposer: BR, counterparty: DE },
      ];
      for (const context of contexts) {
        expect(
          () => openTerms({ key: keyOfBr, context, sealed, publicTerms }),
          JSON.stringify(context, (_, v) => String(v)),
        ).to.throw(CryptoError);
      }
      const other = sealTerms({ key: keyOfDe, context: CONTEXT, terms, salt: randomSalt() }).publicTerms;
      expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed, publicTerms: other })).to.throw(CryptoError);
    });

    it("refuses terms that do not give the on-chain commitment", function () {
      const lie = craft(
        { ...terms, ratePlans: terms.ratePlans.map((p) => ({ ...p, perMb: p.perMb * 2n })) },
        salt,
        publicTerms.termsCommitment,
      );
      expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed: lie, publicTerms }))
        .to.throw(MismatchError, /termsCommitment does not match/)
        .with.property("expected", publicTerms.termsCommitment);
    });

    it("refuses terms whose token, validity or dispute window differ from the public ones", function () {
      const changes: [string, Partial<typeof publicTerms>][] = [
        ["settlementToken", { settlementToken: AGREEMENTS }],
        ["validFrom", { validFrom: publicTerms.validFrom + 1n }],
        ["validUntil", { validUntil: publicTerms.validUntil - 1n }],
        ["disputeWindow", { disputeWindow: 86_400 }],
      ];
      for (const [field, change] of changes) {
        expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed, publicTerms: { ...publicTerms, ...change } }))
          .to.throw(MismatchError)
          .with.property("subject", field);
      }
    });

    it("refuses a public part whose priced tariff classes are not the sealed plans' (F10)", function () {
      const { pricedClassesLo, pricedClassesHi } = publicTerms;
      // BR (724-05 is 0x27f450) sorts before DE (262-01 is 0x62f210): lo is BR. A proposer that declares a
      // class it does not price, or hides one it does, on either side.
      expect([pricedClassesLo, pricedClassesHi]).to.not.include(0n);
      const changes: [string, Partial<typeof publicTerms>][] = [
        ["724-05", { pricedClassesLo: pricedClassesLo | (1n << 9n) }],
        ["724-05", { pricedClassesLo: 0n }],
        ["262-01", { pricedClassesHi: pricedClassesHi & (pricedClassesHi - 1n) }],
      ];
      for (const [side, change] of changes) {
        expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed, publicTerms: { ...publicTerms, ...change } }))
          .to.throw(MismatchError, new RegExp(`tariff classes ${side} prices as the visited network does not match`))
          .with.property("hint")
          .that.matches(/do not accept this proposal/);
      }
    });

    it("refuses terms that open their commitment but break the terms rules (plans, tiers, SLA, surcharge)", function () {
      const plan = terms.ratePlans[0];
      const invalid: [string, TermsStruct, RegExp][] = [
        ["no plan", { ...terms, ratePlans: [] }, /rates must be a list of 1 to 64/],
        ["a third carrier's plan", { ...terms, ratePlans: [{ ...plan, visited: parsePlmn("310-410") }] }, /not a party/],
        ["a duplicate plan", { ...terms, ratePlans: [plan, plan] }, /a second plan/],
        ["tiers out of order", { ...terms, ratePlans: [{ ...plan, tiers: [...plan.tiers].reverse() }] }, /ascend strictly/],
        ["an SLA credit over 100 %", { ...terms, sla: { ...terms.sla, availabilityCreditBps: 10_001 } }, /availabilityCreditPercent/],
        ["a surcharge without a limit", { ...terms, permanentRoamingDays: 0 }, /surcharge needs a limit/],
        ["no dispute window", { ...terms, disputeWindow: 0 }, /dispute window of 0 s/],
      ];
      for (const [name, bad, message] of invalid) {
        const blob = craft(bad, salt);
        const onChain = publicTermsOf(bad, salt, [DE, BR]);
        let thrown: unknown;
        try {
          openTerms({ key: keyOfBr, context: CONTEXT, sealed: blob, publicTerms: onChain });
        } catch (err) {
          thrown = err;
        }
        expect(thrown, name).to.satisfy((e: unknown) => e instanceof InputError || e instanceof InputErrors);
        expect((thrown as Error).message, name).to.match(message);
      }
    });

    it("accepts a dispute window that is not whole days (the chain allows any from 1 s to 90 days)", function () {
      const hourly = { ...terms, disputeWindow: 3_600 };
      const made = sealTerms({ key: keyOfDe, context: CONTEXT, terms: hourly, salt });
      expect(openTerms({ key: keyOfBr, context: CONTEXT, sealed: made.sealed, publicTerms: made.publicTerms }).terms).to.deep.equal(hourly);
    });

    it("refuses a blob of another kind or version", function () {
      const invoice = Buffer.from(sealed);
      invoice.write("RLSI", 0, "ascii");
      expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed: invoice, publicTerms })).to.throw(CryptoError, /malformed/);
      const v2 = Buffer.from(sealed);
      v2[4] = 2;
      expect(() => openTerms({ key: keyOfBr, context: CONTEXT, sealed: v2, publicTerms })).to.throw(CryptoError, /version 1/);
    });
  });
});
