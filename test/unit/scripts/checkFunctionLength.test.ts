import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { longFunctions, sourceFiles } from "../../../scripts/check-function-length";

/** `count` statement lines, each its own line of a body. */
const body = (count: number) => Array.from({ length: count }, (_, i) => `  total += ${i};`).join("\n");

describe("scripts/check-function-length", function () {
  describe("longFunctions", function () {
    it("reports an arrow function over the limit with the name it is assigned to, its line and its length", function () {
      const text = ["// a comment", `export const sum = (total: number) => {`, body(80), "  return total;", "};"].join("\n");
      // Signature on line 2, closing brace on line 84: 83 lines.
      expect(longFunctions("sum.ts", text)).to.deep.equal([{ file: "sum.ts", line: 2, name: "sum", lines: 83 }]);
    });

    it("reports a method over the limit as Class.method", function () {
      const text = ["class Ledger {", "  total(total: number): number {", body(90), "    return total;", "  }", "}"].join("\n");
      expect(longFunctions("ledger.ts", text)).to.deep.equal([{ file: "ledger.ts", line: 2, name: "Ledger.total", lines: 93 }]);
    });

    it("names a long callback by the call it is passed to", function () {
      const text = [`describe("x", () => {`, body(85), "});"].join("\n");
      expect(longFunctions("x.ts", text).map((f) => f.name)).to.deep.equal([`(callback of describe)`]);
    });

    it("counts a function of exactly the limit as short", function () {
      // Signature, 77 lines of body, return, closing brace: 80 lines.
      const text = ["function edge(total: number) {", body(77), "  return total;", "}"].join("\n");
      expect(longFunctions("edge.ts", text)).to.deep.equal([]);
      expect(longFunctions("edge.ts", text, 79).map((f) => f.lines)).to.deep.equal([80]);
    });

    it("ignores a long object literal, and a short function inside it", function () {
      const fields = Array.from({ length: 120 }, (_, i) => `  field${i}: ${i},`).join("\n");
      const text = ["export const table = {", fields, "  short: () => 1,", "};"].join("\n");
      expect(longFunctions("table.ts", text)).to.deep.equal([]);
    });

    it("reports an inner function and its outer one each", function () {
      const text = ["function outer() {", "  const inner = function () {", body(85), "  };", "  return inner;", "}"].join("\n");
      expect(longFunctions("nest.ts", text).map((f) => `${f.name} ${f.lines}`)).to.deep.equal(["outer 90", "inner 87"]);
    });
  });

  describe("sourceFiles", function () {
    it("lists the sources under a folder, sorted, without declarations, node_modules or dist", function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-fnlen-"));
      try {
        for (const f of ["b.ts", "a/c.mjs", "a/types.d.ts", "notes.md", "node_modules/x/i.js", "dist/index.js"]) {
          fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
          fs.writeFileSync(path.join(dir, f), "");
        }
        expect(sourceFiles([dir, path.join(dir, "missing")]).map((f) => path.relative(dir, f))).to.deep.equal([
          path.join("a", "c.mjs"),
          "b.ts",
        ]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
