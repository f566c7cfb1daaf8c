import { expect } from "chai";
import { SigningKey } from "ethers";
import {
  checkImsiKey,
  ecdhSharedSecret,
  generateEncryptionKeyPair,
  generateImsiKey,
  publicKeyFromPrivate,
  validateEncryptionPublicKey,
} from "../../../lib/crypto/keys";
import { CryptoError, InputError } from "../../../lib/core/errors";
import { bytesToHex, isHex, type Hex } from "../../../lib/util/hex";

describe("lib/crypto/keys", () => {
  const ONE: Hex = `0x${"00".repeat(31)}01`;
  const GENERATOR: Hex = "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
  const ORDER: Hex = "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

  it("generates 32-byte private keys and 33-byte compressed public keys", () => {
    // ~1 in 256 keys starts with a zero byte: enough iterations to cover the padding.
    for (let i = 0; i < 2000; i++) {
      const { privateKey, publicKey } = generateEncryptionKeyPair();
      expect(isHex(privateKey, 32), privateKey).to.equal(true);
      expect(isHex(publicKey, 33), publicKey).to.equal(true);
      expect(publicKey.slice(0, 4)).to.be.oneOf(["0x02", "0x03"]);
    }
  });

  it("derives the public key from the private key like ethers does", () => {
    expect(publicKeyFromPrivate(ONE)).to.equal(GENERATOR);
    const { privateKey, publicKey } = generateEncryptionKeyPair();
    expect(publicKeyFromPrivate(privateKey)).to.equal(publicKey);
    expect(publicKeyFromPrivate(privateKey)).to.equal(SigningKey.computePublicKey(privateKey, true));
    const leadingZero: Hex = `0x00${privateKey.slice(4)}`;
    expect(publicKeyFromPrivate(leadingZero)).to.equal(SigningKey.computePublicKey(leadingZero, true));
  });

  it("rejects invalid private keys with a CryptoError", () => {
    for (const bad of [`0x${"00".repeat(32)}`, ORDER, "0x01", `0x${"ab".repeat(33)}`] as Hex[]) {
      expect(() => publicKeyFromPrivate(bad), bad).to.throw(CryptoError, /not a valid secp256k1 private key/);
    }
  });

  it("accepts valid public keys", () => {
    expect(() => validateEncryptionPublicKey(GENERATOR)).to.not.throw();
    expect(() => validateEncryptionPublicKey(generateEncryptionKeyPair().publicKey)).to.not.throw();
  });

  it("rejects malformed public keys with an InputError that says where", () => {
    const location = { file: "members.csv", line: 3, field: "encryptionKey" };
    const uncompressed = SigningKey.computePublicKey(ONE, false);
    const cases: [string, RegExp][] = [
      [uncompressed, /not 33 bytes/],
      [GENERATOR.toUpperCase().replace("0X", "0x"), /not 33 bytes of lowercase 0x hex/],
      [`0x05${GENERATOR.slice(4)}`, /starts with 0x05, expected 0x02 or 0x03/],
      [`0x02${"00".repeat(31)}05`, /not a point on the secp256k1 curve/],
      [`0x03${"ff".repeat(32)}`, /not a point on the secp256k1 curve/],
    ];
    for (const [bad, re] of cases) {
      expect(() => validateEncryptionPublicKey(bad, location), bad)
        .to.throw(InputError, re)
        .with.property("message")
        .that.matches(/^members\.csv:3 \(encryptionKey\): /);
    }
  });

  it("generates random 32-byte IMSI keys", () => {
    const a = generateImsiKey();
    expect(a.length).to.equal(32);
    expect(bytesToHex(a)).to.not.equal(bytesToHex(generateImsiKey()));
    expect(() => checkImsiKey(a)).to.not.throw();
    expect(() => checkImsiKey(new Uint8Array(16))).to.throw(CryptoError, /16 bytes long, expected 32/);
  });

  it("computes the same 32-byte ECDH secret on both sides", () => {
    const a = generateEncryptionKeyPair();
    const b = generateEncryptionKeyPair();
    const ab = ecdhSharedSecret(a.privateKey, b.publicKey);
    expect(ab.length).to.equal(32);
    expect(bytesToHex(ab)).to.equal(bytesToHex(ecdhSharedSecret(b.privateKey, a.publicKey)));
    expect(bytesToHex(ab)).to.not.equal(bytesToHex(ecdhSharedSecret(a.privateKey, generateEncryptionKeyPair().publicKey)));
  });

  it("refuses ECDH with an invalid public key", () => {
    const a = generateEncryptionKeyPair();
    expect(() => ecdhSharedSecret(a.privateKey, `0x02${"00".repeat(31)}05`)).to.throw(
      CryptoError,
      /public key is not valid[\s\S]*not a point on the secp256k1 curve/,
    );
  });
});
