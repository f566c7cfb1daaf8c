import { expect } from "chai";
import { createHash, createHmac } from "node:crypto";
import { keccak256, toUtf8Bytes } from "ethers";
import { CryptoError, InputError } from "../../../lib/core/errors";
import { bytesToHex, isHex } from "../../../lib/util/hex";
import { createDeviceIdDeriver, deviceIdFromImsi, imsiBelongsTo, scopeDeviceId, validateImsi } from "../../../lib/core/imsi";

describe("lib/core/imsi", () => {
  const imsi = "262011234567890";
  const key = Uint8Array.from({ length: 32 }, (_, i) => i);
  const otherKey = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
  const hmac = (k: Uint8Array, s: string) => `0x${createHmac("sha256", k).update(`roamledger/device-id/v1:${s}`).digest("hex")}`;

  describe("validateImsi", () => {
    it("accepts 15 digits", () => {
      expect(() => validateImsi(imsi)).to.not.throw();
    });

    it("says what is wrong and where, without repeating the IMSI", () => {
      const location = { file: "devices.csv", line: 7, field: "imsi" };
      const cases: [string, RegExp][] = [
        ["26201123456789", /has 14 digits, expected 15/],
        ["2620112345678901", /has 16 digits, expected 15/],
        ["26201123456789x", /not a digit at position 15/],
        [" 262011234567890", /spaces around it/],
        ["", /has 0 digits/],
      ];
      for (const [bad, re] of cases) {
        expect(() => validateImsi(bad, location), bad)
          .to.throw(InputError, re)
          .with.property("message")
          .that.matches(/^devices\.csv:7 \(imsi\): IMSI /)
          .and.does.not.include(bad.trim() || "\u0000");
      }
    });
  });

  describe("imsiBelongsTo", () => {
    it("matches the MCC and MNC digits, keeping 2- and 3-digit MNCs apart", () => {
      expect(imsiBelongsTo(imsi, "262-01")).to.equal(true);
      expect(imsiBelongsTo(imsi, "26201")).to.equal(true);
      expect(imsiBelongsTo(imsi, "262-010")).to.equal(false);
      expect(imsiBelongsTo(imsi, "262-001")).to.equal(false);
      expect(imsiBelongsTo(imsi, "262-02")).to.equal(false);
      expect(imsiBelongsTo("310410123456789", "310-410")).to.equal(true);
      expect(imsiBelongsTo("310410123456789", "310-041")).to.equal(false);
    });

    it("is false for a malformed IMSI and throws for a malformed PLMN", () => {
      expect(imsiBelongsTo("26201", "262-01")).to.equal(false);
      expect(() => imsiBelongsTo(imsi, "262")).to.throw(InputError);
    });
  });

  describe("device ids", () => {
    const DE = "0x62f210"; // 262-01
    const scoped = (home: string, k: Uint8Array, x: string) => keccak256(`${home}${hmac(k, x).slice(2)}`);

    it("the local id is HMAC-SHA256(imsiKey, 'roamledger/device-id/v1:' + imsi)", () => {
      const derive = createDeviceIdDeriver(key, DE);
      expect(derive.localId(imsi)).to.equal(hmac(key, imsi));
      expect(derive.localId(imsi)).to.equal("0x1c3c402f032b533dc1bd1af0dd6ca45ca43815a8a428a7a94dc379dbb6e181c2");
    });

    it("the id is keccak256(home PLMN (3 bytes) ++ local id), scoped by home (F3)", () => {
      expect(deviceIdFromImsi(key, DE, imsi)).to.equal(scoped(DE, key, imsi));
      expect(deviceIdFromImsi(key, "262-01", imsi)).to.equal(deviceIdFromImsi(key, DE, imsi));
      expect(scopeDeviceId(DE, hmac(key, imsi) as `0x${string}`)).to.equal(deviceIdFromImsi(key, DE, imsi));
      expect(deviceIdFromImsi(key, "724-05", imsi)).to.not.equal(deviceIdFromImsi(key, DE, imsi));
      expect(isHex(deviceIdFromImsi(key, DE, imsi), 32)).to.equal(true);
    });

    it("depends on the key", () => {
      expect(deviceIdFromImsi(otherKey, DE, imsi)).to.equal(scoped(DE, otherKey, imsi));
      expect(deviceIdFromImsi(otherKey, DE, imsi)).to.not.equal(deviceIdFromImsi(key, DE, imsi));
    });

    it("is not a plain hash of the IMSI", () => {
      const derive = createDeviceIdDeriver(key, DE);
      for (const id of [derive(imsi), derive.localId(imsi)]) {
        expect(id).to.not.equal(bytesToHex(createHash("sha256").update(imsi).digest()));
        expect(id).to.not.equal(bytesToHex(createHash("sha256").update(`roamledger/device-id/v1:${imsi}`).digest()));
        expect(id).to.not.equal(keccak256(toUtf8Bytes(imsi)));
      }
    });

    it("the deriver gives the same ids as deviceIdFromImsi", () => {
      const derive = createDeviceIdDeriver(key, DE);
      for (let i = 0; i < 100; i++) {
        const s = String(262010000000000 + i * 7919);
        expect(derive(s)).to.equal(deviceIdFromImsi(key, DE, s));
        expect(derive(s)).to.equal(scoped(DE, key, s));
      }
    });

    it("rejects a key that is not 32 bytes, a malformed home and a malformed IMSI", () => {
      expect(() => deviceIdFromImsi(new Uint8Array(31), DE, imsi)).to.throw(CryptoError, /IMSI key is 31 bytes long, expected 32/);
      expect(() => createDeviceIdDeriver(new Uint8Array(33), DE)).to.throw(CryptoError);
      expect(() => createDeviceIdDeriver(key, "26201x")).to.throw(InputError);
      expect(() => deviceIdFromImsi(key, DE, "26201")).to.throw(InputError, /IMSI has 5 digits/);
    });
  });
});
