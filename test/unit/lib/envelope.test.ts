import { expect } from "chai";
import { createDecipheriv, createECDH, createHash, hkdfSync } from "node:crypto";
import { ENVELOPE_LENGTH, imsiKeyFingerprint, openImsiKey, sealImsiKey } from "../../../lib/crypto/envelope";
import { generateEncryptionKeyPair, generateImsiKey } from "../../../lib/crypto/keys";
import { CryptoError, InputError } from "../../../lib/core/errors";
import { bytesToHex, hexToBytes, type Hex } from "../../../lib/util/hex";
import { parsePlmn } from "../../../lib/core/plmn";

describe("lib/crypto/envelope", () => {
  const home = parsePlmn("262-01");
  const partner = parsePlmn("310-410");
  const other = parsePlmn("724-05");
  const recipient = generateEncryptionKeyPair();
  const imsiKey = generateImsiKey();
  const envelope = sealImsiKey({ imsiKey, recipientPublicKey: recipient.publicKey, home, partner });
  const openAs = (env: Hex, overrides: { privateKey?: Hex; home?: Hex; partner?: Hex } = {}) =>
    openImsiKey({
      envelope: env,
      recipientPrivateKey: overrides.privateKey ?? recipient.privateKey,
      home: overrides.home ?? home,
      partner: overrides.partner ?? partner,
    });
  const flip = (env: Hex, index: number): Hex => {
    const bytes = Uint8Array.from(hexToBytes(env));
    bytes[index] ^= 0x01;
    return bytesToHex(bytes);
  };

  it("is 94 bytes: version 0x01, ephemeral key, sealed IMSI key", () => {
    expect(ENVELOPE_LENGTH).to.equal(94);
    expect(hexToBytes(envelope).length).to.equal(94);
    expect(envelope.slice(0, 4)).to.equal("0x01");
    expect(envelope.slice(4, 6)).to.be.oneOf(["02", "03"]);
  });

  it("round-trips", () => {
    expect(bytesToHex(openAs(envelope))).to.equal(bytesToHex(imsiKey));
  });

  it("uses a fresh ephemeral key each time", () => {
    const again = sealImsiKey({ imsiKey, recipientPublicKey: recipient.publicKey, home, partner });
    expect(again).to.not.equal(envelope);
    expect(bytesToHex(openAs(again))).to.equal(bytesToHex(imsiKey));
  });

  it("follows the documented format (opened here with node:crypto alone)", () => {
    const bytes = Buffer.from(hexToBytes(envelope));
    const ephemeral = bytes.subarray(1, 34);
    const ecdh = createECDH("secp256k1");
    ecdh.setPrivateKey(hexToBytes(recipient.privateKey));
    const pair = Buffer.concat([hexToBytes(home), hexToBytes(partner)]);
    const info = Buffer.concat([Buffer.from("roamledger/imsi-key/v1"), pair]);
    const key = Buffer.from(hkdfSync("sha256", ecdh.computeSecret(ephemeral), ephemeral, info, 32));
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(34, 46));
    decipher.setAAD(Buffer.concat([Buffer.of(0x01), pair]));
    decipher.setAuthTag(bytes.subarray(78));
    const plain = Buffer.concat([decipher.update(bytes.subarray(46, 78)), decipher.final()]);
    expect(bytesToHex(plain)).to.equal(bytesToHex(imsiKey));
  });

  it("does not open with another recipient's key", () => {
    expect(() => openAs(envelope, { privateKey: generateEncryptionKeyPair().privateKey })).to.throw(
      CryptoError,
      /decryption failed: wrong key or tampered data/,
    );
  });

  it("does not open for another pair (no replay)", () => {
    expect(() => openAs(envelope, { home: other })).to.throw(CryptoError, /decryption failed/);
    expect(() => openAs(envelope, { partner: other })).to.throw(CryptoError, /decryption failed/);
    expect(() => openAs(envelope, { home: partner, partner: home })).to.throw(CryptoError, /decryption failed/);
  });

  it("fails with a CryptoError when any byte is flipped", () => {
    for (let i = 0; i < ENVELOPE_LENGTH; i++) {
      expect(() => openAs(flip(envelope, i)), `byte ${i}`).to.throw(CryptoError);
    }
  });

  it("says so when the version is unknown", () => {
    const v2: Hex = `0x02${envelope.slice(4)}`;
    expect(() => openAs(v2)).to.throw(CryptoError, /version 0x02; this software reads only version 0x01[\s\S]*upgrade/);
  });

  it("says so when the ephemeral key is not a curve point", () => {
    const badPoint: Hex = `0x0102${"00".repeat(31)}05${envelope.slice(2 + 68)}`;
    expect(() => openAs(badPoint)).to.throw(CryptoError, /ephemeral public key is not valid/);
  });

  it("rejects malformed envelopes", () => {
    expect(() => openAs(envelope.slice(0, -2) as Hex)).to.throw(CryptoError, /93 bytes long, expected 94/);
    expect(() => openAs(`${envelope}00`)).to.throw(CryptoError, /95 bytes long, expected 94/);
    expect(() => openAs("0x")).to.throw(CryptoError, /0 bytes long/);
    expect(() => openAs("0xzz" as Hex)).to.throw(InputError, /IMSI-key envelope is not hex/);
  });

  it("validates its inputs when sealing", () => {
    const args = { imsiKey, recipientPublicKey: recipient.publicKey, home, partner };
    expect(() => sealImsiKey({ ...args, imsiKey: new Uint8Array(31) })).to.throw(CryptoError, /31 bytes long/);
    expect(() => sealImsiKey({ ...args, recipientPublicKey: `0x02${"00".repeat(31)}05` })).to.throw(InputError, /not a point/);
    expect(() => sealImsiKey({ ...args, home: "0x62f2" })).to.throw(InputError, /^home 0x62f2 is not a valid PLMN id/);
    expect(() => sealImsiKey({ ...args, partner: "0xffffff" })).to.throw(InputError, /^partner 0xffffff is not a valid PLMN id/);
  });

  describe("imsiKeyFingerprint", () => {
    it("is the first 8 bytes of SHA-256(domain || key)", () => {
      const expected = createHash("sha256").update("roamledger/imsi-key-fingerprint/v1").update(imsiKey).digest();
      expect(imsiKeyFingerprint(imsiKey)).to.equal(bytesToHex(expected.subarray(0, 8)));
      expect(hexToBytes(imsiKeyFingerprint(imsiKey)).length).to.equal(8);
    });

    it("tells keys apart and checks the length", () => {
      expect(imsiKeyFingerprint(imsiKey)).to.not.equal(imsiKeyFingerprint(generateImsiKey()));
      expect(() => imsiKeyFingerprint(new Uint8Array(8))).to.throw(CryptoError);
    });
  });
});
