import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readCsv, readCsvWithHeader, type CsvLineError } from "../../../lib/util/csv";
import { InputError } from "../../../lib/core/errors";

describe("lib/util/csv", () => {
  let dir: string;
  let counter = 0;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-csv-"));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function file(content: string | Buffer): string {
    const name = path.join(dir, `input-${++counter}.csv`);
    fs.writeFileSync(name, content);
    return name;
  }

  async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const row of rows) out.push(row);
    return out;
  }

  async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (err) {
      return err as Error;
    }
    throw new Error("expected a rejection");
  }

  const isError = (row: object): row is CsvLineError => "error" in row;

  describe("readCsv", () => {
    it("reads fields with their physical line numbers, skipping blank lines", async () => {
      const rows = await collect(readCsv(file("a,b,c\n\n1,2,3\n   \n4,,6\n")));
      expect(rows).to.deep.equal([
        { line: 1, fields: ["a", "b", "c"] },
        { line: 3, fields: ["1", "2", "3"] },
        { line: 5, fields: ["4", "", "6"] },
      ]);
    });

    it("strips a UTF-8 BOM and handles CRLF line endings and a missing final newline", async () => {
      const rows = await collect(readCsv(file(Buffer.from("\uFEFFimsi,plmn\r\n262011234567890,262-01\r\n\r\nx,y"))));
      expect(rows).to.deep.equal([
        { line: 1, fields: ["imsi", "plmn"] },
        { line: 2, fields: ["262011234567890", "262-01"] },
        { line: 4, fields: ["x", "y"] },
      ]);
    });

    it("reads quoted fields with delimiters, doubled quotes and empty values (RFC 4180)", async () => {
      const rows = await collect(readCsv(file('"Telekom, Deutschland","say ""hi""","",plain,\n')));
      expect(rows).to.deep.equal([{ line: 1, fields: ["Telekom, Deutschland", 'say "hi"', "", "plain", ""] }]);
    });

    it("reports malformed quoting as errors on their lines and keeps reading", async () => {
      const name = file('ok,1\n"open,2\nbad"quote,3\n"closed"after,4\nok,5\n');
      const rows = await collect(readCsv(name));
      expect(rows.map((r) => r.line)).to.deep.equal([1, 2, 3, 4, 5]);
      const errors = rows.filter(isError);
      expect(errors.map((e) => e.error.message.split("\n")[0])).to.deep.equal([
        `${name}:2: field 1: quoted field is not closed on this line`,
        `${name}:3: field 1: quote inside a field that does not start with one`,
        `${name}:4: field 1: text after the closing quote`,
      ]);
      expect(errors[0]!.error).to.be.instanceOf(InputError);
      expect(errors[0]!.error.message).to.include("keep each record on one line");
      expect(rows[4]).to.deep.equal({ line: 5, fields: ["ok", "5"] });
    });

    it("uses another delimiter when asked", async () => {
      const rows = await collect(readCsv(file('a;"b;c";d\n'), { delimiter: ";" }));
      expect(rows).to.deep.equal([{ line: 1, fields: ["a", "b;c", "d"] }]);
      const err = await rejection(collect(readCsv(file("a\n"), { delimiter: "ab" })));
      expect(err)
        .to.be.instanceOf(InputError)
        .with.property("message")
        .that.matches(/delimiter "ab" is not usable/);
    });

    it("decodes multi-byte UTF-8 split across read chunks", async () => {
      const line = "Müller,Straße,東京";
      const rows = await collect(readCsv(file(`${line}\n`.repeat(20_000))));
      expect(rows).to.have.length(20_000);
      expect(rows.every((r) => !isError(r) && r.fields.join(",") === line)).to.equal(true);
    });

    it("says when the file does not exist or is a directory", async () => {
      const missing = path.join(dir, "nope.csv");
      const err = await rejection(collect(readCsv(missing)));
      expect(err).to.be.instanceOf(InputError);
      expect(err.message).to.match(new RegExp(`^${escapeRegExp(missing)}: file not found\\nWhat to do: check the path`));
      const dirErr = await rejection(collect(readCsv(dir)));
      expect(dirErr).to.be.instanceOf(InputError).with.property("message").that.includes(`${dir}: is a directory`);
    });

    it("closes the file when the caller stops early", async () => {
      const name = file("1\n2\n3\n");
      for await (const row of readCsv(name)) {
        expect(row.line).to.equal(1);
        break;
      }
      fs.rmSync(name); // on Windows this fails while the file is still open
    });
  });

  describe("readCsvWithHeader", () => {
    const required = ["imsi", "plmn"];

    it("yields records by column name, keeping extra columns", async () => {
      const rows = await collect(readCsvWithHeader(file('\uFEFFimsi, plmn ,note\r\n262011234567890,262-01,"a, b"\r\n'), { required }));
      expect(rows).to.deep.equal([{ line: 2, record: { imsi: "262011234567890", plmn: "262-01", note: "a, b" } }]);
    });

    it("collects every bad line instead of stopping at the first", async () => {
      const name = file('imsi,plmn,note\n1,2,3\n1,2\n"x,2,3\n1,2,3,4\n5,6,7\n');
      const rows = await collect(readCsvWithHeader(name, { required }));
      const errors = rows.filter(isError);
      expect(errors.map((e) => e.error.shortMessage)).to.deep.equal([
        `${name}:3: expected 3 fields, found 2`,
        `${name}:4: field 1: quoted field is not closed on this line`,
        `${name}:5: expected 3 fields, found 4`,
      ]);
      expect(errors[0]!.error.message).to.include("every line has the columns of the header (imsi, plmn, note)");
      expect(rows.filter((r) => !isError(r)).map((r) => r.line)).to.deep.equal([2, 6]);
    });

    it("names the missing columns and the ones found, at file:1", async () => {
      const name = file("IMSI,network\n1,2\n");
      const err = await rejection(collect(readCsvWithHeader(name, { required })));
      expect(err).to.be.instanceOf(InputError);
      expect((err as InputError).shortMessage).to.equal(`${name}:1: missing columns imsi, plmn; the header has IMSI, network`);
      expect(err.message).to.include("What to do: the first line must name the columns, including imsi, plmn.");
    });

    it("rejects a duplicated column and a malformed header", async () => {
      const dup = await rejection(collect(readCsvWithHeader(file("imsi,plmn,imsi\n"), { required })));
      expect(dup).to.be.instanceOf(InputError).with.property("message").that.includes('column "imsi" appears twice');
      const bad = await rejection(collect(readCsvWithHeader(file('imsi,"plmn\n'), { required })));
      expect(bad).to.be.instanceOf(InputError).with.property("message").that.includes(":1: field 2: quoted field is not closed");
    });

    it("rejects an empty file and accepts a header without rows", async () => {
      const name = file("\n\n");
      const err = await rejection(collect(readCsvWithHeader(name, { required })));
      expect(err)
        .to.be.instanceOf(InputError)
        .with.property("message")
        .that.matches(new RegExp(`^${escapeRegExp(name)}: the file is empty`));
      expect(await collect(readCsvWithHeader(file("imsi,plmn\n"), { required }))).to.deep.equal([]);
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
