/**
 * The rating-v1 circuit end to end under the deterministic development key (lib/zk/ceremony.ts
 * ensureDevCeremony, cached in .zk/dev/): a payee's claim proved with snarkjs, checked locally and by
 * Groth16Verifier. The development setup is built on first use when it is missing (12 to 20 minutes on two cores,
 * most of it the 2^15 phase 1; CI builds it first with `npm run zk:dev`), then cached.
 */
import hre from "hardhat";
import { expect } from "chai";
import type { Hex } from "viem";
import { rateInvoice } from "../../../lib/settlement/rating";
import { type DevCeremony, ensureDevCeremony, RATING_CIRCUIT } from "../../../lib/zk/ceremony";
import { ratingV1Input } from "../../../lib/zk/encoding";
import {
  proofFromBytes,
  proofToBytes,
  proofToSolidity,
  proveGroth16,
  publicInputsToSolidity,
  verificationKeyHash,
  verifierConstructorArgs,
  verifyGroth16,
} from "../../../lib/zk/prover";
import type { Groth16Verifier } from "../../../typechain-types";
import { BR, DE, INVOICE_EXAMPLES } from "../../helpers/rating";

describe(`Groth16Verifier with the ${RATING_CIRCUIT} development key`, function () {
  let dev: DevCeremony;

  before(async function () {
    this.timeout(40 * 60_000);
    dev = await ensureDevCeremony({ root: hre.config.paths.root, onProgress: (line) => console.log(`      ${line}`) });
  });

  it("accepts the proof of an honest claim locally and on chain; refuses net + 1", async function () {
    const invoice = INVOICE_EXAMPLES[0];
    const net = rateInvoice(invoice.totals, invoice.terms, BR).net;
    const input = ratingV1Input({
      terms: invoice.terms,
      termsSalt: `0x${"a1".repeat(32)}` as Hex,
      totals: invoice.totals,
      totalsSalt: `0x${"b2".repeat(32)}` as Hex,
      payer: DE,
      payee: BR,
      period: 202_611,
      net,
    });
    const started = Date.now();
    const { proof, publicSignals } = await proveGroth16(input, { wasm: dev.wasm, zkey: dev.zkey });
    console.log(`      proveGroth16 (rating-v1): ${Date.now() - started} ms`);
    expect(publicSignals).to.deep.equal([input.termsCommitment, input.totalsCommitment, net.toString()]);
    expect(await verifyGroth16(dev.vkey, publicSignals, proof)).to.equal(true);

    const verifier = (await hre.ethers.deployContract("Groth16Verifier", [
      verifierConstructorArgs(dev.vkey),
    ])) as unknown as Groth16Verifier;
    expect(await verifier.verificationKeyHash()).to.equal(verificationKeyHash(dev.vkey));
    const { a, b, c } = proofToSolidity(proofFromBytes(proofToBytes(proof)));
    const inputs = publicInputsToSolidity(publicSignals);
    expect(await verifier.verifyProof(a, b, c, inputs)).to.equal(true);
    console.log(`      verifyProof (rating-v1 key): ${await verifier.verifyProof.estimateGas(a, b, c, inputs)} gas`);
    expect(await verifier.verifyProof(a, b, c, [inputs[0], inputs[1], inputs[2] + 1n])).to.equal(false);
  });
});
