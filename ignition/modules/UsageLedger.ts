import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";
import DeviceRegistryModule from "./DeviceRegistry";

/**
 * The usage ledger. Parameters:
 * - submissionGrace: seconds after a period's end during which only the visited carrier may close it
 *   (late batches still come in); default 3 days, at most 90 days.
 */
export default buildModule("UsageLedger", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const { deviceRegistry } = m.useModule(DeviceRegistryModule);
  const submissionGrace = m.getParameter("submissionGrace", 3 * 24 * 3600);
  const usageLedger = m.contract("UsageLedger", [carrierRegistry, roamingAgreements, deviceRegistry, submissionGrace]);
  return { usageLedger };
});
