import { expect } from "chai";
import fs from "node:fs";
import { type BerEvent, BerReader, TagClass, decodeInteger, decodeTbcd, parseTree } from "../../../lib/tap/ber";
import {
  END_OF_CONTENTS,
  encodeIdentifier,
  encodeLength,
  encodeNodes,
  integerContent,
  openIndefinite,
  tbcdContent,
  tlv,
} from "../../../lib/tap/berEncode";
import { chunks, sample, failure } from "./samples";

/** Every event of a reader, as comparable text (offsets included). */
async function events(reader: BerReader): Promise<string[]> {
  const out: string[] = [];
  for (let e = await reader.next(); e !== null; e = await reader.next()) out.push(show(e));
  return out;
}

function show(e: BerEvent): string {
  const h = e.header;
  const id = `${h.cls}:${h.tag}@${h.offset}/${h.length}`;
  return e.type === "primitive" ? `${id}=${e.value.toString("hex")}` : `${e.type} ${id}`;
}

describe("lib/tap/ber", () => {
  describe("encoder and decoder round trip", () => {
    it("encodes short and long-form tags and lengths exactly as X.690 says", () => {
      expect(encodeIdentifier(TagClass.Application, true, 1).toString("hex")).to.equal("61");
      expect(encodeIdentifier(TagClass.Application, false, 30).toString("hex")).to.equal("5e");
      expect(encodeIdentifier(TagClass.Application, false, 31).toString("hex")).to.equal("5f1f");
      expect(encodeIdentifier(TagClass.Application, false, 196).toString("hex")).to.equal("5f8144");
      expect(encodeIdentifier(TagClass.Application, true, 534).toString("hex")).to.equal("7f8416");
      expect(encodeIdentifier(TagClass.Context, false, 16384).toString("hex")).to.equal("9f818000");
      expect(encodeLength(127).toString("hex")).to.equal("7f");
      expect(encodeLength(128).toString("hex")).to.equal("8180");
      expect(encodeLength(815).toString("hex")).to.equal("82032f");
      expect(encodeLength(70000).toString("hex")).to.equal("83011170");
    });

    it("round-trips INTEGERs through two's complement, minimal octets", () => {
      const cases: [number, string][] = [
        [0, "00"],
        [127, "7f"],
        [128, "0080"],
        [-1, "ff"],
        [-128, "80"],
        [-129, "ff7f"],
        [2300, "08fc"],
        [1200000000, "47868c00"],
        [2200000000, "0083215600"],
      ];
      for (const [v, hex] of cases) {
        expect(integerContent(v).toString("hex"), String(v)).to.equal(hex);
        expect(decodeInteger(Buffer.from(hex, "hex"), () => expect.fail("bad") as never)).to.equal(v);
      }
      for (const v of [2 ** 40, -(2 ** 40), 2 ** 53 - 1, 255, 256, 65535]) {
        expect(decodeInteger(integerContent(v), () => expect.fail("bad") as never)).to.equal(v);
      }
      let bad = 0;
      decodeInteger(Buffer.alloc(0), () => bad++ as never);
      decodeInteger(Buffer.alloc(8, 0x7f), () => bad++ as never);
      expect(bad).to.equal(2);
    });

    it("reads TBCD with the F filler only at the end", () => {
      expect(decodeTbcd(Buffer.from("133713371337133f", "hex"))).to.equal("133713371337133");
      expect(decodeTbcd(Buffer.from("2620112345678901", "hex"))).to.equal("2620112345678901");
      expect(decodeTbcd(Buffer.from("13f7", "hex"))).to.equal(null);
      expect(decodeTbcd(Buffer.from("f3", "hex"))).to.equal(null);
      expect(tbcdContent("133713371337133").toString("hex")).to.equal("133713371337133f");
    });

    it("decodes a hand-built file with indefinite lengths, long-form tags and long-form lengths", async () => {
      const big = Buffer.alloc(300, 0xab);
      const bytes = Buffer.concat([
        openIndefinite(534),
        tlv(196, Buffer.from("ABC08")),
        tlv(537, [tlv(16383, big), tlv(5, [], { indefinite: true })], { indefinite: true }),
        tlv(2_000_000, Buffer.from([1])),
        END_OF_CONTENTS,
      ]);
      const got = await events(BerReader.fromBuffer(bytes));
      expect(got).to.deep.equal([
        "start 1:534@0/-1",
        "1:196@4/5=4142433038",
        "start 1:537@13/-1",
        `1:16383@17/300=${big.toString("hex")}`,
        "start 1:5@323/-1",
        "end 1:5@323/-1",
        "end 1:537@13/-1",
        "1:2000000@329/1=01",
        "end 1:534@0/-1",
      ]);
    });

    it("re-encodes a decoded file byte for byte (definite lengths)", () => {
      const bytes = fs.readFileSync(sample("tap_3_12_valid.ber"));
      const tree = parseTree(bytes, {});
      expect(encodeNodes(tree).equals(bytes)).to.equal(true);
    });

    it("gives the same events whatever the chunk size (boundaries inside tags and lengths, 1 to 7 bytes)", async () => {
      const bytes = fs.readFileSync(sample("tap_3_12_valid.ber"));
      const whole = await events(BerReader.fromBuffer(bytes));
      expect(whole.length).to.be.greaterThan(150);
      for (const sizes of [[1], [2], [3], [4], [5], [6], [7], [1, 7, 2, 5, 3]]) {
        expect(await events(new BerReader(chunks(bytes, sizes))), `chunks of ${sizes}`).to.deep.equal(whole);
      }
    });

    it("reads a whole element across chunk boundaries, indefinite form included", async () => {
      const inner = tlv(9, [tlv(129, tbcdContent("262011234567890")), tlv(223, integerContent(60))], { indefinite: true });
      const bytes = Buffer.concat([openIndefinite(3), inner, inner, END_OF_CONTENTS]);
      for (const size of [1, 2, 3, 5, 7]) {
        const reader = new BerReader(chunks(bytes, [size]));
        expect((await reader.next())?.type).to.equal("start");
        for (let i = 0; i < 2; i++) {
          const start = await reader.next();
          if (start?.type !== "start") throw new Error("expected a call event");
          const { content, base } = await reader.readElement(start.header);
          expect(base).to.equal(start.header.offset + 2);
          expect(content.toString("hex")).to.equal(inner.subarray(2, inner.length - 2).toString("hex"));
        }
        expect((await reader.next())?.type).to.equal("end");
        expect(await reader.next()).to.equal(null);
      }
    });
  });

  describe("bad input: each error names the byte offset and what to do", () => {
    const tap = () => fs.readFileSync(sample("tap_3_12_valid.ber"));

    it("a truncated file", async () => {
      const err = await failure(() => events(new BerReader(chunks(tap().subarray(0, 500), [64]), { file: "cut.tap" })));
      expect(err.message).to.match(
        /^cut\.tap \(byte \d+\): the input ends at byte 500(, in the middle of the element at byte \d+)?, inside APPLICATION \d+ that starts at byte \d+\n/,
      );
      expect(err.message).to.contain("What to do: the file is incomplete");
      expect(err.offset).to.be.within(490, 500);
    });

    it("a truncated file whose size is known: the overflowing length is reported at once", async () => {
      const err = await failure(() => events(BerReader.fromBuffer(tap().subarray(0, 500), { file: "cut.tap" })));
      expect(err.offset).to.equal(0);
      expect(err.message).to.contain("runs to byte 819, past the end of the input (500 bytes)");
    });

    it("a length that overflows its parent", async () => {
      const bytes = tap();
      expect(bytes.subarray(272, 276).toString("hex")).to.equal("5f810108"); // Imsi, 8 bytes
      bytes[275] = 0x20;
      const err = await failure(() => events(BerReader.fromBuffer(bytes, { file: "bad.tap" })));
      expect(err.offset).to.equal(272);
      expect(err.message).to.contain("APPLICATION 129 is 32 bytes long and runs to byte 308, past the end of APPLICATION 199 at byte 284");
    });

    it("a length that overflows the file", async () => {
      const bytes = tap();
      bytes.writeUInt16BE(0x0fff, 2);
      const err = await failure(() => events(BerReader.fromBuffer(bytes)));
      expect(err.offset).to.equal(0);
      expect(err.message).to.contain("past the end of the input (819 bytes)");
    });

    it("nesting deeper than allowed", async () => {
      let el = tlv(1, Buffer.from([1]));
      for (let i = 0; i < 30; i++) el = tlv(2, [el]);
      const err = await failure(() => events(BerReader.fromBuffer(el, { maxDepth: 24 })));
      expect(err.message).to.contain("is nested 25 deep, deeper than the 24 levels allowed");
      expect(err.offset).to.equal(24 * 2);
    });

    it("an end-of-contents marker inside a definite-length element, and a length of more than 6 bytes", async () => {
      const eoc = Buffer.from("6104" + "0000" + "0000", "hex");
      expect((await failure(() => events(BerReader.fromBuffer(eoc)))).message).to.contain(
        "end-of-contents marker (00 00) inside APPLICATION 1",
      );
      const huge = Buffer.from("5f8144" + "87" + "01020304050607", "hex");
      expect((await failure(() => events(BerReader.fromBuffer(huge)))).message).to.contain("a length of 7 bytes");
    });

    it("data after the root element", async () => {
      const bytes = Buffer.concat([tlv(1, [tlv(2, Buffer.from([1]))]), Buffer.from([0x42, 0x01, 0x00])]);
      const reader = BerReader.fromBuffer(bytes, { file: "two.tap" });
      const root = await reader.next();
      if (root?.type !== "start") throw new Error("expected the root");
      await reader.skipElement(root.header);
      const err = await failure(() => reader.expectEnd("TransferBatch"));
      expect(err.offset).to.equal(5);
      expect(err.message).to.equal(
        "two.tap (byte 5): data after the end of the TransferBatch (a file holds one TransferBatch)\nWhat to do: the file is not valid BER; check it is the file the sender sent (not a damaged or converted copy) and ask for a new one.",
      );
    });
  });
});
