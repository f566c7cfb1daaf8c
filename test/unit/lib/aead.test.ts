import { expect } from "chai";
import { createDecipheriv, randomBytes } from "node:crypto";
import { deriveKey, open, seal, SEAL_OVERHEAD } from "../../../lib/crypto/aead";
import { CryptoError } from "../../../lib/core/errors";
import { bytesToHex, hexToBytes } from "../../../lib/util/hex";

describe("lib/crypto/aead", () => {
  const key = randomBytes(32);
  const aad = Buffer.from("context");
  const plaintext = Buffer.from("usage record: 12 MB");

  it("seals as nonce || ciphertext || tag and opens again", () => {
    const sealed = seal(key, plaintext, aad);
    expect(sealed.length).to.equal(plaintext.length + SEAL_OVERHEAD);
    expect(Buffer.from(open(key, sealed, aad)).toString()).to.equal(plaintext.toString());

    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const independent = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    expect(independent.toString()).to.equal(plaintext.toString());
  });

  it("uses a fresh nonce each time", () => {
    expect(bytesToHex(seal(key, plaintext, aad))).to.not.equal(bytesToHex(seal(key, plaintext, aad)));
  });

  it("handles an empty plaintext", () => {
    expect(open(key, seal(key, new Uint8Array(0), aad), aad).length).to.equal(0);
  });

  it("fails with a CryptoError for a wrong key, wrong aad or any flipped byte", () => {
    const sealed = seal(key, plaintext, aad);
    const failure = /^decryption failed: wrong key or tampered data/;
    expect(() => open(randomBytes(32), sealed, aad)).to.throw(CryptoError, failure);
    expect(() => open(key, sealed, Buffer.from("other"))).to.throw(CryptoError, failure);
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Uint8Array.from(sealed);
      tampered[i] ^= 0x01;
      expect(() => open(key, tampered, aad), `byte ${i}`).to.throw(CryptoError, failure);
    }
  });

  it("fails with a CryptoError for input shorter than nonce and tag", () => {
    expect(() => open(key, new Uint8Array(SEAL_OVERHEAD - 1), aad)).to.throw(CryptoError, /27 bytes long, shorter than/);
  });

  it("rejects keys that are not 32 bytes", () => {
    expect(() => seal(new Uint8Array(16), plaintext, aad)).to.throw(CryptoError, /16 bytes long, expected 32/);
    expect(() => open(new Uint8Array(16), new Uint8Array(40), aad)).to.throw(CryptoError, /16 bytes long/);
  });

  it("derives keys with HKDF-SHA256 (RFC 5869 test case 1)", () => {
    const okm = deriveKey(
      hexToBytes(`0x${"0b".repeat(22)}`),
      hexToBytes("0x000102030405060708090a0b0c"),
      hexToBytes("0xf0f1f2f3f4f5f6f7f8f9"),
    );
    expect(bytesToHex(okm)).to.equal("0x3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
  });
});
