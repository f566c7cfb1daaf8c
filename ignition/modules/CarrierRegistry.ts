import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The consortium registry. Parameters (per network, in ignition/parameters/<network>.json):
 * - bootstrapMembers: founding members `{ plmn, roles, name, encryptionKey, operators }` (plmn as
 *   bytes3 TBCD hex, encryptionKey a 33-byte compressed secp256k1 key); at least one governor.
 * - thresholdBps: share of active governors a proposal needs (5001 = strict majority).
 * - proposalLifetime: seconds a proposal stays open.
 * - infraAccounts: non-member accounts that may transact (deployer, node operations).
 * `deploy` validates all of these before anything is sent (lib/deploy/parameters.ts).
 */
export default buildModule("CarrierRegistry", (m) => {
  const bootstrapMembers = m.getParameter("bootstrapMembers");
  const thresholdBps = m.getParameter("thresholdBps", 5001);
  const proposalLifetime = m.getParameter("proposalLifetime", 7 * 24 * 3600);
  const infraAccounts = m.getParameter("infraAccounts", []);
  const carrierRegistry = m.contract("CarrierRegistry", [bootstrapMembers, thresholdBps, proposalLifetime, infraAccounts]);
  return { carrierRegistry };
});
