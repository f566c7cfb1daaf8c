import { expect } from "chai";
import * as roamledger from "../../../lib";

/** What a carrier backend calls for confidential (v2) settlement, from the package root. */
const V2_FUNCTIONS = [
  // agreements: sealed terms and the full terms of a version, for a party
  "proposeAgreement",
  "acceptAgreement",
  "agreementTerms",
  "agreementTermsAt",
  "sealTerms",
  "openTerms",
  // usage: the home carrier's decisions, the period's close, the counted batches opened
  "ingestUsage",
  "verifyBatch",
  "verifyBatches",
  "expireBatches",
  "closePeriod",
  "countedPeriod",
  // invoices: their inputs, proposal, co-signature, close, public view
  "periodUsageOf",
  "fullTermsOf",
  "proposeInvoice",
  "readProposal",
  "cosignInvoice",
  "closeSignedInvoice",
  "invoicePublicView",
  "escrowInvoiceStatus",
  // claims
  "fileClaim",
  "proveClaim",
  "revealClaim",
  // claims decided by proof (docs/zk.md) and the governors' vote on a verifier
  "buildClaimProof",
  "fileClaimProof",
  "requireTrustedKey",
  "provingKitFrom",
  "proposeVerifier",
  "approveVerifier",
  "trustedVerifier",
  // escrow
  "depositToEscrow",
  "requestWithdrawal",
  "executeWithdrawal",
  "cancelWithdrawal",
  "settlePeriod",
  "payDebt",
  // TAP 3.12 files in, RAP 1.5 files out (docs/tap.md)
  "convertTap",
  "writeTapFile",
  "writeReturnBatch",
  "readRap",
  "tapRecordId",
  "parseTapRecordId",
  "isTapFile",
  "tadigPartyCheck",
  "plmnOfTadig",
  // errors
  "decodeRevert",
  "parseRevert",
  "revertHint",
  "withDecodedRevert",
] as const;

describe("lib/index: the package root's v2 surface", function () {
  it("exports every function a carrier backend needs for confidential settlement", function () {
    const exported = roamledger as unknown as Record<string, unknown>;
    expect(V2_FUNCTIONS.filter((name) => typeof exported[name] !== "function")).to.deep.equal([]);
  });

  it("exports the TAP decoder, mapper and sequence log as classes", function () {
    for (const cls of [
      roamledger.TapFile,
      roamledger.TapMapper,
      roamledger.TapSequenceLog,
      roamledger.TapFileRefused,
      roamledger.TapBatchEncoder,
    ]) {
      expect(cls).to.be.a("function");
      expect(cls.prototype, cls.name).to.be.an("object");
    }
  });

  it("keeps one RESOLUTIONS list (lib/core/enums and lib/settlement/invoices agree)", function () {
    expect(roamledger.RESOLUTIONS).to.deep.equal(["none", "co-signed", "proven", "revealed"]);
    expect([...roamledger.ESCROW_INVOICE_STATUSES]).to.deep.equal([...roamledger.INVOICE_STATUSES]);
  });
});
