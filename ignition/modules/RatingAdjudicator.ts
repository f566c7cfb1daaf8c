import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CarrierRegistryModule from "./CarrierRegistry";
import RoamingAgreementsModule from "./RoamingAgreements";

/**
 * The claim adjudicator (docs/zk.md): decides payees' claims by zero-knowledge proof of the rating. It trusts
 * no verifier when deployed; the governors approve one per rating circuit after the consortium's ceremony
 * (`zk:verifier:propose`, `zk:verifier:approve`). Until then a claim ends by signature or reveal.
 */
export default buildModule("RatingAdjudicator", (m) => {
  const { carrierRegistry } = m.useModule(CarrierRegistryModule);
  const { roamingAgreements } = m.useModule(RoamingAgreementsModule);
  const ratingAdjudicator = m.contract("RatingAdjudicator", [carrierRegistry, roamingAgreements]);
  return { ratingAdjudicator };
});
