import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";

/**
 * The usage ledger. Parameters:
 * - submissionGrace: seconds after a period's end during which its batches are still taken; the period
 *   can close after that (its submission deadline); default 3 days, at most 90 days.
 */
export default buildModule("UsageLedger", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const submissionGrace = m.getParameter("submissionGrace", 3 * 24 * 3600);
  const usageLedger = m.contract("UsageLedger", [carrierRegistry, roamingAgreements, submissionGrace]);
  return { usageLedger };
});
