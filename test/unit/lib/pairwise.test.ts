import { expect } from "chai";
import { createECDH, hkdfSync } from "node:crypto";
import { generateEncryptionKeyPair } from "../../../lib/crypto/keys";
import { decryptPayload, encryptPayload, pairwiseKey } from "../../../lib/crypto/pairwise";
import { CryptoError, InputError } from "../../../lib/core/errors";
import { bytesToHex, hexToBytes } from "../../../lib/util/hex";
import { parsePlmn } from "../../../lib/core/plmn";

describe("lib/crypto/pairwise", () => {
  const plmnA = parsePlmn("310-410");
  const plmnB = parsePlmn("262-01");
  const a = generateEncryptionKeyPair();
  const b = generateEncryptionKeyPair();
  const keyOfA = pairwiseKey({ myPrivateKey: a.privateKey, theirPublicKey: b.publicKey, plmnA, plmnB });
  const keyOfB = pairwiseKey({ myPrivateKey: b.privateKey, theirPublicKey: a.publicKey, plmnA: plmnB, plmnB: plmnA });

  it("is the same for both carriers, whatever the order of the PLMN ids", () => {
    expect(keyOfA.length).to.equal(32);
    expect(bytesToHex(keyOfA)).to.equal(bytesToHex(keyOfB));
  });

  it("is HKDF(ECDH, sorted PLMN ids, 'roamledger/pairwise/v1')", () => {
    const ecdh = createECDH("secp256k1");
    ecdh.setPrivateKey(hexToBytes(a.privateKey));
    const sorted = Buffer.concat([hexToBytes(plmnA), hexToBytes(plmnB)]); // 0x130014 < 0x62f210
    const unsorted = Buffer.concat([hexToBytes(plmnB), hexToBytes(plmnA)]);
    const expected = (s: Buffer) =>
      bytesToHex(
        new Uint8Array(hkdfSync("sha256", ecdh.computeSecret(hexToBytes(b.publicKey)), s, Buffer.from("roamledger/pairwise/v1"), 32)),
      );
    expect(bytesToHex(keyOfA)).to.equal(expected(sorted));
    expect(bytesToHex(keyOfA)).to.not.equal(expected(unsorted));
  });

  it("differs for another pair of PLMN ids or another partner", () => {
    const otherPair = pairwiseKey({
      myPrivateKey: a.privateKey,
      theirPublicKey: b.publicKey,
      plmnA,
      plmnB: parsePlmn("724-05"),
    });
    const otherPartner = pairwiseKey({
      myPrivateKey: a.privateKey,
      theirPublicKey: generateEncryptionKeyPair().publicKey,
      plmnA,
      plmnB,
    });
    expect(bytesToHex(otherPair)).to.not.equal(bytesToHex(keyOfA));
    expect(bytesToHex(otherPartner)).to.not.equal(bytesToHex(keyOfA));
  });

  it("rejects invalid or identical PLMN ids", () => {
    const args = { myPrivateKey: a.privateKey, theirPublicKey: b.publicKey };
    expect(() => pairwiseKey({ ...args, plmnA, plmnB: plmnA })).to.throw(InputError, /two different carriers, got 310-410 twice/);
    expect(() => pairwiseKey({ ...args, plmnA: "0x000000", plmnB })).to.throw(InputError, /plmnA 0x000000 is not a valid PLMN id/);
  });

  it("encrypts payloads one carrier can decrypt with the other's view of the key", () => {
    const aad = Buffer.from("settlement-period-2025-11");
    const sealed = encryptPayload(keyOfA, Buffer.from("42 MB"), aad);
    expect(Buffer.from(decryptPayload(keyOfB, sealed, aad)).toString()).to.equal("42 MB");
    expect(() => decryptPayload(keyOfB, sealed, Buffer.from("other"))).to.throw(CryptoError, /decryption failed/);
  });
});
