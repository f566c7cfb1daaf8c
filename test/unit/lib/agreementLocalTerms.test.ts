import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { loadLocalTerms, localTermsPath, saveLocalTerms, type LocalTermsKey } from "../../../lib/agreements/localTerms";
import { randomSalt, termsCommitment } from "../../../lib/crypto/commitment";
import { ConfigError } from "../../../lib/core/errors";
import { Keystore } from "../../../lib/keys/keystore";
import { anyTerms, bytes32, validTerms } from "../../helpers/confidential";
import { BR, DE } from "../../helpers/rating";

/** The fields of a copy the tests alter. */
interface CopyJson {
  terms: { ratePlans: { perMb: string }[] };
  salt: string;
  partner: string;
  agreementVersion: number;
  formatVersion: number;
}

describe("lib/agreements/localTerms", () => {
  let dir: string;
  let keystore: Keystore;
  const key: LocalTermsKey = { self: BR, partner: DE, version: 3 };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-local-terms-"));
    keystore = new Keystore(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps a version's terms under the party's PLMN, the partner and the version, readable by its owner only", () => {
    const file = saveLocalTerms(keystore, key, { terms: validTerms(), salt: randomSalt() });
    expect(file).to.equal(path.join(dir, "724-05", "agreements", "262-01", "v3.json"));
    expect(localTermsPath(keystore, key)).to.equal(file);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    expect([json.format, json.formatVersion, json.self, json.partner, json.agreementVersion]).to.deep.equal([
      "roamledger/agreement-terms",
      1,
      "724-05",
      "262-01",
      3,
    ]);
    expect(json.terms.ratePlans[0].visited).to.equal("724-05");
  });

  it("gives back exactly the terms and salt it kept, every field over its Solidity range", () => {
    fc.assert(
      fc.property(anyTerms, bytes32, (terms, salt) => {
        saveLocalTerms(keystore, key, { terms, salt });
        const loaded = loadLocalTerms(keystore, key);
        expect(loaded).to.deep.equal({ terms, salt, termsCommitment: termsCommitment(terms, salt) });
      }),
      { numRuns: 50 },
    );
  });

  it("has nothing for a version it never kept", () => {
    expect(loadLocalTerms(keystore, key)).to.equal(undefined);
  });

  it("refuses a copy that is altered, malformed or about another pair or version, naming the file", () => {
    const file = saveLocalTerms(keystore, key, { terms: validTerms(), salt: randomSalt() });
    const original = JSON.parse(fs.readFileSync(file, "utf8")) as CopyJson;
    const cases: [(json: CopyJson) => void, RegExp][] = [
      [(j) => (j.terms.ratePlans[0].perMb = "1"), /its terms and salt do not give the commitment it records/],
      [(j) => (j.salt = "0x1234"), /not a readable copy of agreement terms/],
      [(j) => (j.partner = "310-410"), /partner is "310-410", expected "262-01"/],
      [(j) => (j.agreementVersion = 2), /agreementVersion is 2, expected 3/],
      [(j) => (j.formatVersion = 2), /formatVersion is 2, expected 1/],
    ];
    for (const [alter, message] of cases) {
      const json = structuredClone(original);
      alter(json);
      fs.writeFileSync(file, JSON.stringify(json));
      expect(() => loadLocalTerms(keystore, key))
        .to.throw(ConfigError, message)
        .with.property("message")
        .that.contains(file);
    }
    fs.writeFileSync(file, "{ not json");
    expect(() => loadLocalTerms(keystore, key)).to.throw(ConfigError, /not a readable copy/);
  });
});
