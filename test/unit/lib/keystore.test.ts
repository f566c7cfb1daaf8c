import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateImsiKey, publicKeyFromPrivate } from "../../../lib/crypto/keys";
import { ConfigError } from "../../../lib/core/errors";
import { bytesToHex } from "../../../lib/util/hex";
import { Keystore } from "../../../lib/keys/keystore";
import { cliMessage } from "../../../tasks/cli/errors";

describe("lib/keys/keystore", () => {
  let root: string;
  let store: Keystore;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-keystore-"));
    store = new Keystore(root);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const mode = (file: string) => fs.statSync(file).mode & 0o777;
  const filesIn = (dir: string) => fs.readdirSync(dir).sort();

  it("uses $ROAMLEDGER_HOME, else ./.roamledger", () => {
    const saved = process.env.ROAMLEDGER_HOME;
    try {
      process.env.ROAMLEDGER_HOME = root;
      expect(Keystore.defaultRoot()).to.equal(root);
      expect(new Keystore().root).to.equal(root);
      delete process.env.ROAMLEDGER_HOME;
      expect(Keystore.defaultRoot()).to.equal(path.resolve(".roamledger"));
    } finally {
      if (saved === undefined) delete process.env.ROAMLEDGER_HOME;
      else process.env.ROAMLEDGER_HOME = saved;
    }
  });

  it("creates the encryption key once, in <root>/<plmn>/encryption.key with mode 0600", () => {
    expect(store.hasEncryptionKey("262-01")).to.equal(false);
    const pair = store.ensureEncryptionKey("262-01");
    const file = path.join(root, "262-01", "encryption.key");
    expect(store.encryptionKeyPath("262-01")).to.equal(file);
    expect(fs.readFileSync(file, "utf8")).to.equal(`${pair.privateKey}\n`);
    expect(pair.publicKey).to.equal(publicKeyFromPrivate(pair.privateKey));
    if (process.platform !== "win32") {
      expect(mode(file)).to.equal(0o600);
      expect(mode(path.dirname(file))).to.equal(0o700);
    }
    expect(store.hasEncryptionKey("262-01")).to.equal(true);
    expect(store.ensureEncryptionKey("262-01")).to.deep.equal(pair);
    expect(store.encryptionKey("26201")).to.deep.equal(pair);
    expect(filesIn(path.join(root, "262-01"))).to.deep.equal(["encryption.key"]);
  });

  it("creates the IMSI key once, in <root>/<plmn>/imsi.key", () => {
    const key = store.ensureImsiKey("310-410");
    expect(key.length).to.equal(32);
    const file = path.join(root, "310-410", "imsi.key");
    expect(fs.readFileSync(file, "utf8")).to.equal(`${bytesToHex(key)}\n`);
    if (process.platform !== "win32") expect(mode(file)).to.equal(0o600);
    expect(bytesToHex(store.ensureImsiKey("310410"))).to.equal(bytesToHex(key));
    expect(bytesToHex(store.imsiKey(" 310-410 "))).to.equal(bytesToHex(key));
    expect(store.hasImsiKey("310-410")).to.equal(true);
  });

  it("keeps 2- and 3-digit MNCs in different directories", () => {
    store.ensureImsiKey("262-01");
    expect(store.hasImsiKey("262-001")).to.equal(false);
    expect(store.imsiKeyPath("262-001")).to.equal(path.join(root, "262-001", "imsi.key"));
  });

  it("stores partner IMSI keys under partners/, replacing an older one", () => {
    const first = generateImsiKey();
    const second = generateImsiKey();
    expect(store.hasPartnerImsiKey("262-01", "310-410")).to.equal(false);
    store.savePartnerImsiKey("262-01", "310-410", first);
    const file = path.join(root, "262-01", "partners", "310-410.imsi.key");
    expect(store.partnerImsiKeyPath("262-01", "310410")).to.equal(file);
    expect(bytesToHex(store.partnerImsiKey("262-01", "310-410"))).to.equal(bytesToHex(first));
    store.savePartnerImsiKey("262-01", "310-410", second);
    expect(bytesToHex(store.partnerImsiKey("262-01", "310-410"))).to.equal(bytesToHex(second));
    if (process.platform !== "win32") expect(mode(file)).to.equal(0o600);
    expect(filesIn(path.dirname(file))).to.deep.equal(["310-410.imsi.key"]);
    expect(() => store.savePartnerImsiKey("262-01", "724-05", new Uint8Array(16))).to.throw(/16 bytes long/);
  });

  it("says which file is missing and which operation creates it (the CLI prints its command)", () => {
    const failure = (fn: () => unknown): ConfigError => {
      try {
        fn();
      } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
      }
      throw new Error("expected a ConfigError");
    };
    const ownKey = path.join(root, "262-01", "imsi.key");
    const imsi = failure(() => store.imsiKey("262-01"));
    expect(imsi.message).to.include(`no IMSI key: ${ownKey} does not exist`).and.not.include("npx hardhat");
    expect(imsi.next).to.deep.equal({ operation: "keys:init", args: { plmn: "262-01" } });
    expect(cliMessage(imsi)).to.include("npx hardhat keys:init --plmn 262-01");
    const encryption = failure(() => store.encryptionKey("262-01"));
    expect(encryption.message).to.include(path.join(root, "262-01", "encryption.key"));
    expect(cliMessage(encryption)).to.include("npx hardhat keys:init --plmn 262-01");
    const partner = failure(() => store.partnerImsiKey("262-01", "310-410"));
    expect(partner.message).to.include(path.join(root, "262-01", "partners", "310-410.imsi.key"));
    expect(cliMessage(partner)).to.include("npx hardhat keys:receive --home 310-410");
  });

  it("names the file when its content is bad, and never replaces it", () => {
    const file = store.imsiKeyPath("262-01");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "not a key\n");
    expect(() => store.imsiKey("262-01")).to.throw(ConfigError, new RegExp(`^${escapeRegExp(file)}: IMSI key is not hex`));
    expect(() => store.ensureImsiKey("262-01")).to.throw(ConfigError, /restore the file from your backup/);
    expect(fs.readFileSync(file, "utf8")).to.equal("not a key\n");

    fs.writeFileSync(file, `0x${"ab".repeat(31)}\n`);
    expect(() => store.imsiKey("262-01")).to.throw(ConfigError, /IMSI key is 31 bytes long, expected 32/);

    const encryptionFile = store.encryptionKeyPath("262-01");
    fs.writeFileSync(encryptionFile, `0x${"00".repeat(32)}`);
    expect(() => store.encryptionKey("262-01")).to.throw(
      ConfigError,
      new RegExp(`^${escapeRegExp(encryptionFile)}: not a valid secp256k1 private key`),
    );
  });

  it("reads keys written by hand without a trailing newline", () => {
    const key = generateImsiKey();
    const file = store.imsiKeyPath("724-05");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytesToHex(key));
    expect(bytesToHex(store.imsiKey("724-05"))).to.equal(bytesToHex(key));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
