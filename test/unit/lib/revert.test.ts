import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Interface } from "ethers";
import { decodeRevert, parseRevert, REVERTING_ABIS, revertHint } from "../../../lib/chain/revert";
import { REVERT_HINTS } from "../../../lib/chain/revertHints";
import { ContractRevertError } from "../../../lib/core/errors";

const ROOT = path.join(__dirname, "../../..");

/** The compiled ABI of each deployable contract (artifacts/contracts/<X>.sol/<X>.json) and of the linked RevealLib. */
function compiledAbis(): { name: string; abi: { type: string; name?: string }[] }[] {
  const dir = path.join(ROOT, "artifacts/contracts");
  const deployables = readdirSync(dir)
    .filter((f) => f.endsWith(".sol"))
    .map((f) => path.join(dir, f, f.replace(/\.sol$/, ".json")));
  const more = ["libraries/RevealLib.sol/RevealLib.json", "zk/Groth16Verifier.sol/Groth16Verifier.json"].map((f) => path.join(dir, f));
  return [...deployables, ...more].map((file) => {
    const { contractName, abi } = JSON.parse(readFileSync(file, "utf8"));
    return { name: contractName, abi };
  });
}

/** Every `error Name(` declared in contracts/ (interfaces, libraries, types, deployables). */
function declaredErrors(dir = path.join(ROOT, "contracts")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return declaredErrors(file);
    if (!entry.name.endsWith(".sol")) return [];
    return [...readFileSync(file, "utf8").matchAll(/^\s*error\s+(\w+)\s*\(/gm)].map((m) => m[1]);
  });
}

function errorNames(abi: readonly { type: string; name?: string }[]): string[] {
  return abi.filter((f) => f.type === "error").map((f) => f.name as string);
}

/** The task names of tasks/*.ts, as `task("name"` or `task(\n  "name"` or a `["name", ...]` loop entry. */
function taskNames(): Set<string> {
  const dir = path.join(ROOT, "tasks");
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) => {
      const text = readFileSync(path.join(dir, f), "utf8");
      return [...text.matchAll(/task\(\s*"([\w:-]+)"|\[\s*"([\w-]+:[\w-]+)",/g)].map((m) => m[1] ?? m[2]);
    });
  return new Set(names);
}

describe("lib/chain/revert: hints", function () {
  it("has a hint for every custom error of the compiled deployable contracts and RevealLib", function () {
    const missing = compiledAbis().flatMap(({ name, abi }) =>
      errorNames(abi)
        .filter((e) => revertHint(e) === undefined)
        .map((e) => `${name}.${e}`),
    );
    expect(missing).to.deep.equal([]);
  });

  it("has a hint for every error declared in contracts/, and decodes each", function () {
    const declared = declaredErrors();
    expect(declared.length).to.be.greaterThan(100);
    expect(declared.filter((e) => revertHint(e) === undefined)).to.deep.equal([]);
    const decodable = new Set(REVERTING_ABIS.flatMap((abi) => errorNames(abi)));
    expect(declared.filter((e) => !decodable.has(e))).to.deep.equal([]);
  });

  it("names no error that no compiled contract has", function () {
    const known = new Set(compiledAbis().flatMap(({ abi }) => errorNames(abi)));
    expect(Object.keys(REVERT_HINTS).filter((e) => !known.has(e))).to.deep.equal([]);
  });

  it("names only tasks that exist (escrow:close is gone: invoices close by invoice:propose and invoice:cosign)", function () {
    const tasks = taskNames();
    expect(tasks.has("invoice:propose")).to.equal(true);
    const named = Object.entries(REVERT_HINTS).flatMap(([error, hint]) =>
      [...hint.matchAll(/`([a-z][\w:-]*)(?: [^`]*)?`/g)].map((m) => ({ error, task: m[1] })),
    );
    expect(named.length).to.be.greaterThan(50);
    expect(named.filter(({ task }) => !tasks.has(task))).to.deep.equal([]);
  });

  it("decodes a revert into the error's name, arguments (PLMNs as MCC-MNC) and hint", function () {
    const escrow = new Interface(REVERTING_ABIS.flat().filter((f) => f.type === "error"));
    const plmn = (text: string) => `0x${text}`;
    const data = escrow.encodeErrorResult("SettlementEscrowInvoiceNotClosed", [plmn("62f210"), plmn("27f450"), 202611]);
    const err = Object.assign(new Error("execution reverted"), { data });
    const decoded = decodeRevert(err);
    expect(decoded).to.be.instanceOf(ContractRevertError);
    const revert = decoded as ContractRevertError;
    expect(revert.message).to.contain("SettlementEscrowInvoiceNotClosed(payer=262-01, payee=724-05, period=202611)");
    expect(revert.hint)
      .to.match(/invoice:propose/)
      .and.match(/invoice:cosign/);
    expect(parseRevert(err)).to.deep.include({ name: "SettlementEscrowInvoiceNotClosed" });
  });

  it("decodes the linked RevealLib's errors", function () {
    const lib = new Interface(REVERTING_ABIS.flat().filter((f) => f.type === "error"));
    const err = { data: lib.encodeErrorResult("RevealLibInvalidPlanCount", [0]) };
    expect(parseRevert(err)).to.deep.equal({ name: "RevealLibInvalidPlanCount", args: [0n] });
    expect(revertHint("NoSuchError")).to.equal(undefined);
    expect(revertHint("constructor")).to.equal(undefined);
  });
});
