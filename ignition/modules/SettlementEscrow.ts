import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";
import RatingAdjudicatorModule from "./RatingAdjudicator";
import UsageLedgerModule from "./UsageLedger";

const DAY = 24 * 3600;

/**
 * The settlement escrow (v2: co-signed invoices, claims, reveals), bound to the consortium's CarrierRegistry,
 * RoamingAgreements and UsageLedger (the same futures as in the RoamLedger module) and to the claim adjudicator
 * (RatingAdjudicator: proofs of the rating, docs/zk.md), linked to RevealLib.
 * Parameters (the constructor validates them against the ledger's grace and the agreements' 90-day maximum
 * dispute window):
 * - signWindow: seconds the payer has to co-sign a proposed invoice (default 7 days);
 * - withdrawalDelay: seconds from a withdrawal request to its execution, at least 31 days + submission grace
 *   + 90 days + signWindow (default 140 days, enough for a grace up to 12 days);
 * - soloSettleDelay: seconds after a period's end from which a closed direction settles alone, at least
 *   submission grace + 90 days + signWindow (default 110 days);
 * - claimBondBps: the payee's claim bond in basis points of the claimed net (default 500: 5 %);
 * - stallPenaltyBps: the payer's penalty on an upheld claim in basis points of the rating (default 500).
 */
export default buildModule("SettlementEscrow", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const { usageLedger } = m.useModule(UsageLedgerModule);
  const revealLib = m.library("RevealLib");
  const params = {
    signWindow: m.getParameter("signWindow", 7 * DAY),
    withdrawalDelay: m.getParameter("withdrawalDelay", 140 * DAY),
    soloSettleDelay: m.getParameter("soloSettleDelay", 110 * DAY),
    claimBondBps: m.getParameter("claimBondBps", 500),
    stallPenaltyBps: m.getParameter("stallPenaltyBps", 500),
  };
  const { ratingAdjudicator } = m.useModule(RatingAdjudicatorModule);
  const settlementEscrow = m.contract("SettlementEscrow", [carrierRegistry, roamingAgreements, usageLedger, ratingAdjudicator, params], {
    libraries: { RevealLib: revealLib },
  });
  return { settlementEscrow, ratingAdjudicator };
});
