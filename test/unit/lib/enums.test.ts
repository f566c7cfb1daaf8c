import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { CONTRACT_ENUMS, ROLE_BITS } from "../../../lib/core/enums";
import { PERMISSION_BITS } from "../../../lib/core/roles";

/**
 * lib/core/enums.ts is the one TypeScript mirror of the contracts' enums and role bits. Enum member names
 * are not in the ABI (an enum is a uint8 there), so this reads them from the compiler's AST in
 * artifacts/build-info, as compiled for this test run.
 */

interface AstNode {
  nodeType?: string;
  name?: string;
  canonicalName?: string;
  members?: { name: string }[];
  value?: AstNode;
  constant?: boolean;
  kind?: string;
  nodes?: AstNode[];
  [key: string]: unknown;
}

function compiledAsts(): AstNode[] {
  const dir = path.join(__dirname, "..", "..", "..", "artifacts", "build-info");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .flatMap((f) => {
      const info = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { output: { sources: Record<string, { ast: AstNode }> } };
      return Object.entries(info.output.sources)
        .filter(([source]) => source.startsWith("contracts/"))
        .map(([, s]) => s.ast);
    });
}

function walk(node: unknown, visit: (n: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
  } else if (node && typeof node === "object") {
    visit(node as AstNode);
    for (const value of Object.values(node)) if (value && typeof value === "object") walk(value, visit);
  }
}

describe("lib/core/enums: the one mirror of the contracts' enums", function () {
  const enums = new Map<string, string[]>();
  const roleConstants = new Map<string, number>();
  const permissionConstants = new Map<string, number>();

  before(function () {
    for (const ast of compiledAsts()) {
      walk(ast, (n) => {
        if (n.nodeType === "EnumDefinition" && n.canonicalName)
          enums.set(
            n.canonicalName,
            (n.members ?? []).map((m) => m.name),
          );
        if (n.nodeType === "ContractDefinition" && (n.name === "Roles" || n.name === "Permissions")) {
          const constants = n.name === "Roles" ? roleConstants : permissionConstants;
          for (const v of n.nodes ?? []) {
            if (v.nodeType === "VariableDeclaration" && v.constant && v.value?.nodeType === "Literal") {
              constants.set(String(v.name), Number((v.value as { value?: string }).value));
            }
          }
        }
      });
    }
  });

  it("mirrors every enum the contracts declare", function () {
    expect([...enums.keys()].sort()).to.deep.equal(Object.keys(CONTRACT_ENUMS).sort());
  });

  for (const [name, mirror] of Object.entries(CONTRACT_ENUMS)) {
    it(`${name}: same members in the same order, one name each`, function () {
      expect(enums.get(name), `enum ${name} in contracts/`).to.deep.equal([...mirror.solidity]);
      expect(mirror.names).to.have.lengthOf(mirror.solidity.length);
      expect(new Set(mirror.names).size, "names are distinct").to.equal(mirror.names.length);
    });
  }

  it("ROLE_BITS are the Roles library's constants", function () {
    const fromContract = Object.fromEntries([...roleConstants].filter(([k]) => k !== "ALL"));
    const mirrored = Object.fromEntries(Object.entries(ROLE_BITS).map(([k, v]) => [k.toUpperCase().replace("-", "_"), v]));
    expect(mirrored).to.deep.equal(fromContract);
  });

  it("PERMISSION_BITS (lib/core/roles) are the Permissions library's constants", function () {
    const fromContract = Object.fromEntries([...permissionConstants].filter(([k]) => k !== "ALL"));
    const mirrored = Object.fromEntries(Object.entries(PERMISSION_BITS).map(([k, v]) => [k.toUpperCase(), v]));
    expect(mirrored).to.deep.equal(fromContract);
  });
});
