/**
 * The toy circuit's development setup for the zk tests (test/fixtures/zk/toy.circom: public a, b, c with
 * c = a * b + x * x): a 2^8 powers of tau and a fixed-beacon key, built once and cached under .zk/.
 */
import { type DevCeremony, ensureDevCeremony } from "../../lib/zk/ceremony";

export const TOY_CIRCUIT = "test/fixtures/zk/toy.circom";
export const TOY_PTAU_POWER = 8;

/** A satisfying input of the toy circuit. */
export const toyInput = (a: bigint, b: bigint, x: bigint) => ({ a, b, c: a * b + x * x, x });

let dev: Promise<DevCeremony> | undefined;

/** The toy circuit's development setup (built on first use, ~10 s; then read from .zk/dev/). */
export function toyDevCeremony(): Promise<DevCeremony> {
  dev ??= ensureDevCeremony({ circuit: TOY_CIRCUIT, ptauPower: TOY_PTAU_POWER });
  return dev;
}
