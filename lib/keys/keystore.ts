import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { checkImsiKey, generateEncryptionKeyPair, generateImsiKey, publicKeyFromPrivate, type EncryptionKeyPair } from "../crypto/keys";
import { BaseError, ConfigError, type NextStep } from "../core/errors";
import { bytesToHex, hexToBytes } from "../util/hex";
import { formatPlmn, parsePlmn } from "../core/plmn";

/**
 * A carrier's local key store:
 *   <root>/<plmn, e.g. 262-01>/encryption.key                   secp256k1 private key (hex)
 *   <root>/<plmn>/imsi.key                                       its 32-byte IMSI key (hex)
 *   <root>/<plmn>/partners/<partner plmn>.imsi.key               IMSI keys received from partners
 * Files are created with mode 0600 (directories 0700) and atomically, so a crash never leaves half a key.
 */
const KEY_BYTES = 32;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** "262001", " 262-01 " etc. all map to the same directory name, "262-01". */
function plmnDir(plmn: string): string {
  return formatPlmn(parsePlmn(plmn));
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && "code" in err ? String(err.code) : undefined;
}

/** What a key file holds, and what to do when it is missing or malformed. */
interface KeyFile {
  file: string;
  /** "IMSI key", "encryption private key". */
  what: string;
  missing: { hint: string; next?: NextStep };
  bad: { hint: string; next?: NextStep };
}

/** Reads a file holding one 32-byte hex value; ConfigError naming the file when missing or malformed. */
function readKeyFile({ file, what, missing, bad }: KeyFile): Uint8Array {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (cause) {
    if (errorCode(cause) === "ENOENT") throw new ConfigError(`no ${what}: ${file} does not exist`, { ...missing, cause });
    throw new ConfigError(`cannot read ${what} from ${file} (${errorCode(cause) ?? String(cause)})`, {
      hint: "check that the file is readable by the user running this command.",
      cause,
    });
  }
  try {
    return hexToBytes(text.trim(), { byteLength: KEY_BYTES, what });
  } catch (cause) {
    throw new ConfigError(`${file}: ${cause instanceof BaseError ? cause.shortMessage : String(cause)}`, { ...bad, cause });
  }
}

/**
 * Writes `content` to `file` through a temporary file in the same directory (fsync, then rename or
 * link), so readers see either the old file or the whole new one. With `overwrite: false` an existing
 * file is kept as it is.
 */
function writeFileAtomic(file: string, content: string, overwrite: boolean): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = fs.openSync(temp, "wx", FILE_MODE);
  try {
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (overwrite) {
      fs.renameSync(temp, file);
    } else {
      // link() fails with EEXIST instead of replacing, so two processes never both create a key.
      try {
        fs.linkSync(temp, file);
      } catch (err) {
        if (errorCode(err) !== "EEXIST") throw err;
      }
    }
  } finally {
    fs.rmSync(temp, { force: true });
  }
  syncDirectory(dir);
}

/** Makes a rename durable (POSIX); some platforms cannot open a directory, which is then skipped. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Windows: directories cannot be opened or fsynced; rename is as durable as it gets there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export class Keystore {
  readonly root: string;

  constructor(root: string = Keystore.defaultRoot()) {
    this.root = path.resolve(root);
  }

  /** `$ROAMLEDGER_HOME` when set, else `./.roamledger`. */
  static defaultRoot(): string {
    return path.resolve(process.env.ROAMLEDGER_HOME?.trim() || ".roamledger");
  }

  encryptionKeyPath(plmn: string): string {
    return path.join(this.root, plmnDir(plmn), "encryption.key");
  }

  imsiKeyPath(plmn: string): string {
    return path.join(this.root, plmnDir(plmn), "imsi.key");
  }

  partnerImsiKeyPath(self: string, partner: string): string {
    return path.join(this.root, plmnDir(self), "partners", `${plmnDir(partner)}.imsi.key`);
  }

  hasEncryptionKey(plmn: string): boolean {
    return fs.existsSync(this.encryptionKeyPath(plmn));
  }

  hasImsiKey(plmn: string): boolean {
    return fs.existsSync(this.imsiKeyPath(plmn));
  }

  hasPartnerImsiKey(self: string, partner: string): boolean {
    return fs.existsSync(this.partnerImsiKeyPath(self, partner));
  }

  /** The carrier's encryption key pair; ConfigError when the file is missing or malformed. */
  encryptionKey(plmn: string): EncryptionKeyPair {
    const file = this.encryptionKeyPath(plmn);
    const bad = { hint: "restore the file from your backup; if the key is lost, create a new one and register its public key on chain." };
    const privateKey = bytesToHex(readKeyFile({ file, what: "encryption private key", missing: this.missingOwnKey(plmn, file), bad }));
    try {
      return { privateKey, publicKey: publicKeyFromPrivate(privateKey) };
    } catch (cause) {
      throw new ConfigError(`${file}: not a valid secp256k1 private key`, { ...bad, cause });
    }
  }

  /** The encryption key pair, created first when there is none. An existing key is never replaced. */
  ensureEncryptionKey(plmn: string): EncryptionKeyPair {
    if (!this.hasEncryptionKey(plmn)) {
      writeFileAtomic(this.encryptionKeyPath(plmn), `${generateEncryptionKeyPair().privateKey}\n`, false);
    }
    return this.encryptionKey(plmn);
  }

  /** The carrier's own IMSI key; ConfigError when the file is missing or malformed. */
  imsiKey(plmn: string): Uint8Array {
    const file = this.imsiKeyPath(plmn);
    return readKeyFile({
      file,
      what: "IMSI key",
      missing: this.missingOwnKey(plmn, file),
      bad: { hint: `restore the file from your backup: a new IMSI key would change the device id of every ${plmnDir(plmn)} device.` },
    });
  }

  /** The IMSI key, created first when there is none. An existing key is never replaced. */
  ensureImsiKey(plmn: string): Uint8Array {
    if (!this.hasImsiKey(plmn)) writeFileAtomic(this.imsiKeyPath(plmn), `${bytesToHex(generateImsiKey())}\n`, false);
    return this.imsiKey(plmn);
  }

  /** The IMSI key `partner` sent to `self`; ConfigError when it was not received yet or is malformed. */
  partnerImsiKey(self: string, partner: string): Uint8Array {
    const [me, them] = [plmnDir(self), plmnDir(partner)];
    const receive = {
      hint: `as ${me}, fetch and store the IMSI key ${them} shared with you (ask ${them} to share it first if it has not).`,
      next: { operation: "keys:receive", args: { home: them } },
    };
    return readKeyFile({
      file: this.partnerImsiKeyPath(self, partner),
      what: `IMSI key of partner ${them}`,
      missing: receive,
      bad: receive,
    });
  }

  /** Stores (or replaces) the IMSI key `partner` sent to `self`. */
  savePartnerImsiKey(self: string, partner: string, imsiKey: Uint8Array): void {
    checkImsiKey(imsiKey);
    writeFileAtomic(this.partnerImsiKeyPath(self, partner), `${bytesToHex(imsiKey)}\n`, true);
  }

  private missingOwnKey(plmn: string, file: string): { hint: string; next: NextStep } {
    return {
      hint:
        `create ${plmnDir(plmn)}'s keys, or restore ${path.basename(file)} from your backup. ` +
        `The key store is ${this.root} (--keystore, else the carrier profile's, else $ROAMLEDGER_HOME, default ./.roamledger); point one of them at the folder that holds your keys.`,
      next: { operation: "keys:init", args: { plmn: plmnDir(plmn) } },
    };
  }
}
