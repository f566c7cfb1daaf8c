/**
 * The headers of snarkjs's binary files (iden3 "binfile": magic, version, sections of u32 type and u64 size),
 * read without loading the file: enough to tell whether a powers-of-tau file is prepared for phase 2 and large
 * enough for a circuit's R1CS before snarkjs spends minutes failing (it logs and returns -1 instead).
 */
import fs from "node:fs";
import { InputError } from "../core/errors";

/** Where each section's data starts and how long it is, by section type. */
type Sections = Map<number, { offset: number; size: number }>;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

/** The sections of a binfile whose magic is `magic` ("ptau", "r1cs", "zkey"). */
function readSections(file: string, magic: string): { fd: number; sections: Sections } {
  const fd = fs.openSync(file, "r");
  const size = fs.fstatSync(fd).size;
  const head = readAt(fd, 0, 12);
  if (head.length < 12 || head.subarray(0, 4).toString("latin1") !== magic) {
    fs.closeSync(fd);
    throw new InputError(`not a snarkjs ${magic} file`, { location: { file } });
  }
  const sections: Sections = new Map();
  let offset = 12;
  for (let i = 0; i < head.readUInt32LE(8) && offset + 12 <= size; i++) {
    const h = readAt(fd, offset, 12);
    const length = Number(h.readBigUInt64LE(4));
    sections.set(h.readUInt32LE(0), { offset: offset + 12, size: length });
    offset += 12 + length;
  }
  return { fd, sections };
}

/** A powers-of-tau file's power (it holds 2^power points) and whether it is prepared for phase 2. */
export function readPtauHeader(file: string): { power: number; prepared: boolean } {
  const { fd, sections } = readSections(file, "ptau");
  try {
    const header = sections.get(1);
    if (!header) throw new InputError("the powers-of-tau file has no header section", { location: { file } });
    const n8 = readAt(fd, header.offset, 4).readUInt32LE(0);
    const power = readAt(fd, header.offset + 4 + n8, 4).readUInt32LE(0);
    return { power, prepared: [12, 13, 14, 15].every((s) => sections.has(s)) };
  } finally {
    fs.closeSync(fd);
  }
}

/** An R1CS file's counts: constraints, public inputs, outputs. */
export function readR1csHeader(file: string): { constraints: number; publicInputs: number; outputs: number } {
  const { fd, sections } = readSections(file, "r1cs");
  try {
    const header = sections.get(1);
    if (!header) throw new InputError("the R1CS file has no header section", { location: { file } });
    const n8 = readAt(fd, header.offset, 4).readUInt32LE(0);
    const counts = readAt(fd, header.offset + 4 + n8, 28);
    return { outputs: counts.readUInt32LE(4), publicInputs: counts.readUInt32LE(8), constraints: counts.readUInt32LE(24) };
  } finally {
    fs.closeSync(fd);
  }
}

/** The power of tau a Groth16 key for this R1CS needs (snarkjs newZKey's `cirPower`). */
export function requiredPower(r1cs: { constraints: number; publicInputs: number; outputs: number }): number {
  const n = r1cs.constraints + r1cs.publicInputs + r1cs.outputs;
  return Math.floor(Math.log2(n)) + 1;
}
