import { expect } from "chai";
import { InputError } from "../../../lib/core/errors";
import { bytesToHex, hexToBytes, isHex } from "../../../lib/util/hex";

describe("lib/util/hex", () => {
  it("isHex accepts lowercase 0x hex of even length, of the given byte length when asked", () => {
    expect(isHex("0x")).to.equal(true);
    expect(isHex("0x00ff")).to.equal(true);
    expect(isHex("0x00ff", 2)).to.equal(true);
    expect(isHex("0x00ff", 3)).to.equal(false);
    for (const bad of ["00ff", "0x0", "0x00FF", "0X00ff", "0x0g", " 0x00", 42, undefined]) {
      expect(isHex(bad), String(bad)).to.equal(false);
    }
  });

  it("hexToBytes and bytesToHex round-trip", () => {
    const bytes = Uint8Array.of(0, 1, 0xab, 0xff);
    expect(bytesToHex(bytes)).to.equal("0x0001abff");
    expect(Array.from(hexToBytes("0x0001abff"))).to.deep.equal([0, 1, 0xab, 0xff]);
    expect(bytesToHex(new Uint8Array(0))).to.equal("0x");
  });

  it("bytesToHex encodes only the view, not the whole underlying buffer", () => {
    const view = new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 3);
    expect(bytesToHex(view)).to.equal("0x0203");
  });

  it("hexToBytes says what is wrong and where, without repeating the value", () => {
    const secret = `0x${"ab".repeat(31)}`;
    expect(() => hexToBytes(secret, { byteLength: 32, what: "IMSI key", location: { file: "k.txt", line: 2 } }))
      .to.throw(InputError, /^k\.txt:2: IMSI key is 31 bytes long, expected 32/)
      .with.property("message")
      .that.does.not.include(secret.slice(2));
    expect(() => hexToBytes("0xABCD", { what: "key" })).to.throw(InputError, /key is not hex[\s\S]*lowercase hex digits/);
  });
});
