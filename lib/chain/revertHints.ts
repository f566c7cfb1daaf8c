/**
 * What to do about each custom error a RoamLedger contract can revert with, by error name: the v2
 * contracts' own (CarrierRegistry, DeviceRegistry, DevicePolicy, RoamingAgreements, UsageLedger,
 * SettlementEscrow and its linked RevealLib) and the OpenZeppelin errors of their ABIs. Each names the
 * task that helps. test/unit/lib/revert.test.ts checks that every error of the compiled ABIs has one and
 * that none names an error no contract declares.
 */
export const REVERT_HINTS: Readonly<Record<string, string>> = {
  // CarrierRegistry: membership and governance.
  CarrierRegistryInvalidPlmn: "write the PLMN as MCC-MNC (e.g. 262-01; device makers use MCC 999).",
  CarrierRegistryMemberExists: "this PLMN is a member already; see `carrier:show`.",
  CarrierRegistryUnknownMember: "no member has this PLMN; `carrier:list` shows the members, `carrier:propose --action admit` admits one.",
  CarrierRegistryWrongStatus:
    "the member is not in the status this action needs; see `carrier:show` (suspend an active member, reinstate a suspended one).",
  CarrierRegistryNotActiveOperator: "send from an operator account of an active member, or have governance admit or reinstate the member.",
  CarrierRegistryMissingRole: "this member lacks the role the action needs; governance assigns roles at admission.",
  CarrierRegistryOperatorTaken: "this account operates for a member already (see `carrier:show`); use another account.",
  CarrierRegistryNotOperatorOf: "the account is not an operator of this member; send from one of the accounts `carrier:show` lists.",
  CarrierRegistryLastOperator: "a member keeps at least one operator account; add another before removing this one.",
  CarrierRegistryInvalidRoles: "give a non-empty set of known roles (carrier, governor, device maker).",
  CarrierRegistryInvalidEncryptionKey:
    "register the 33-byte compressed public key of your key store: run `keys:init`, then `carrier:rotate-key`.",
  CarrierRegistryInvalidName: "give the member a name of 1 to 64 bytes.",
  CarrierRegistryInvalidOperators:
    "a member has 1 to 16 operator accounts, none the zero address; remove one (`operator:remove`) before offering another.",
  CarrierRegistryInvalidGovernance:
    "the deployment's approval threshold must be a strict majority, 5001-10000 basis points, and the proposal lifetime non-zero.",
  CarrierRegistryNoGovernor: "the deployment's initial members need at least one governor.",
  CarrierRegistryUnknownProposal: "no proposal has this id; `carrier:list` shows the open proposals.",
  CarrierRegistryProposalExecuted: "this proposal was carried out already; see `carrier:show` for its effect.",
  CarrierRegistryAlreadyApproved: "your member has approved this proposal already; wait for the other governors.",
  CarrierRegistryProposalExpired: "make a new proposal with `carrier:propose`; this one can no longer be approved.",
  CarrierRegistryInvalidInfraAccount:
    "give a non-zero infrastructure account that is not allowed yet (to allow) or is allowed (to revoke); `carrier:list` shows the open proposals.",
  CarrierRegistryInvalidProposalKind:
    "this function takes other proposal kinds: member status with suspend or reinstate, infrastructure accounts with allow or revoke (`carrier:propose --action`).",
  CarrierRegistryLastGovernor: "suspending this member would leave no active governor; admit or reinstate another governor first.",
  CarrierRegistryMissingPermission:
    "this operator key lacks the permission the action needs (`carrier:show` lists each key's permissions); send from a key that holds it, or have an admin key grant it with `operator:permissions`.",
  CarrierRegistryNoOffer:
    "the account has no pending offer from this member, or the admin key that made it lost admin or left; an admin key of the member offers again with `operator:offer`, then the account runs `operator:accept`.",
  CarrierRegistryLastAdmin:
    "a member keeps at least one admin key; grant admin to another operator (`operator:permissions`) before removing or stripping this one.",
  CarrierRegistryInvalidPermissions:
    "give a non-empty set of admin, treasury, usage, devices (`operator:offer --permissions usage,devices`).",
  CarrierRegistryPaused:
    "governance paused the consortium (`carrier:list` shows until when); run this again once the pause ends or an unpause vote lifts it.",
  CarrierRegistryPauseUnavailable:
    "a pause is in force or its 7-day cooldown runs until the time in the error; approve again after it (`carrier:vote`).",
  CarrierRegistryNotPaused: "there is no pause in force to lift (`carrier:list` shows the consortium's state).",
  CarrierRegistryInvalidTadig:
    "a TADIG code is 3 upper-case letters and 2 upper-case letters or digits, e.g. DEUD1 (`carrier:tadig --add CODE`).",
  CarrierRegistryTadigTaken:
    "that member holds the TADIG code (`carrier:show` lists a member's codes); if it is yours by GSMA's assignment, ask the holder to release it (`carrier:tadig --remove CODE`); a holder that will not is a matter for the consortium's governors.",
  CarrierRegistryTadigNotHeld: "your member does not hold this TADIG code; `carrier:tadig` lists the codes it holds.",
  CarrierRegistryTadigLimit: "a member holds at most 16 TADIG codes; release one (`carrier:tadig --remove CODE`) before adding another.",
  // NodeRegistry: members' Besu nodes.
  NodeRegistryInvalidNodeId:
    "a node id is the node key's public key, 128 hex digits (what Besu's public-key export subcommand prints); check it was copied whole.",
  NodeRegistryInvalidHost: "give the node's IPv4 or IPv6 address, or a DNS name (1-253 bytes of letters, digits, '.', '-', ':').",
  NodeRegistryInvalidPort: "give the node's P2P listening port, 1-65535 (Besu's default is 30303).",
  NodeRegistryNodeTaken: "a node id is registered by one member at a time; `carrier:node` lists your member's nodes.",
  NodeRegistryNodeNotHeld: "your member has not registered this node; `carrier:node` lists the nodes it has.",
  NodeRegistryNodeLimit: "a member registers at most 16 nodes; remove one (`carrier:node --remove URL`) before adding another.",

  // DeviceRegistry and the devices' policy contracts.
  DeviceRegistryInvalidPolicy:
    "fix the policy field the error names in the policies file, then run `device:register` or `policy:update` again.",
  DeviceRegistryPolicyNotOwned: "that policy belongs to another carrier; define your own in your policies file.",
  DeviceRegistryUnknownPolicy: "no policy has this id; `device:register` and `policy:update` define the policies of the file first.",
  DeviceRegistryAlreadyRegistered: "the device is registered already; re-running `device:register` skips such devices.",
  DeviceRegistryUnknownDevice: "no device has this id; register it with `device:register` (see `device:show`).",
  DeviceRegistryZeroDeviceId: "a device's local id cannot be zero; check the IMSI at that position of the file.",
  DeviceRegistryNotHome: "only the device's home carrier may do this; use an operator account of that carrier.",
  DeviceRegistryInvalidMaker: "the maker must be an active member with the device-maker role (see `carrier:list`).",
  DeviceRegistryWrongStatus:
    "the device is not in a status this action applies to; see `device:show` (`device:reinstate` lifts a suspension or a confirmed fraud, `device:confirm-fraud` takes an active or suspended device).",
  DeviceRegistryNoAgreement: "a visited carrier needs an accepted roaming agreement with the device's home carrier (`agreement:show`).",
  DeviceRegistryBatchSize:
    "send between 1 and the registry's maximum items per transaction for this call (`batchLimits()`; `device:register --batchSize`).",
  DeviceRegistrySamePolicy: "the device has this policy already; nothing to update.",
  DeviceRegistryInvalidPartner: "share the IMSI key with an active carrier other than your own (`keys:share --partner`).",
  DeviceRegistryInvalidEnvelope: "the IMSI-key envelope is malformed; share it again with `keys:share`.",
  DeviceRegistryUnknownVersion: "the device has no such policy version; `device:show` lists its versions.",
  DeviceRegistryPaused: "the consortium is paused: registrations, policy updates and fraud flags wait until the governors lift the pause.",
  DeviceRegistryNoEvidence: "give the hash of the evidence (the offending usage records) with every fraud flag.",
  DeviceRegistryEvidenceUsed:
    "you gave this evidence for this device before; a new flag needs new evidence (the home dismissed or cleared the old one).",
  DeviceRegistryFlagCooldown:
    "the home dismissed your flag on this device or reinstated it: wait until the time the error gives, then flag it with new evidence.",
  DeviceRegistryFlagQuota:
    "you reached today's fraud-flag allowance (FLAGS_PER_DAY, UTC day); flag the rest tomorrow, or refuse service on your own network meanwhile.",
  DeviceRegistryNotFlagged: "that reporter has no standing flag on the device; `device:show` lists the standing flags of a device.",
  DevicePolicyNotAClone: "ask the device's own policy contract (`device:show` gives its address), not the implementation.",

  // RoamingAgreements v2: public terms, sealed terms, terms commitment.
  RoamingAgreementsInvalidRegistry: "deploy RoamingAgreements with the address of the deployed CarrierRegistry (`deploy`).",
  RoamingAgreementsSelfAgreement: "propose the agreement to another carrier than your own (`agreement:propose --partner`).",
  RoamingAgreementsInvalidCounterparty: "the partner must be an active carrier member (see `carrier:show`).",
  RoamingAgreementsVersionNotPending:
    "that version is not the pending proposal any more (accepted, withdrawn or superseded); see `agreement:show`.",
  RoamingAgreementsProposerCannotAccept: "the partner accepts your proposal, not you; wait for its `agreement:accept`.",
  RoamingAgreementsNotProposer: "only the carrier that proposed this version may withdraw it.",
  RoamingAgreementsUnknownVersion: "the agreement has no such version; `agreement:show` lists its versions.",
  RoamingAgreementsNoAgreementAt:
    "no accepted version is in force at that time; `agreement:show` shows the versions' validity, `agreement:propose` makes one.",
  RoamingAgreementsInvalidSettlementToken: "give the address of the settlement token contract in the terms file.",
  RoamingAgreementsInvalidValidity: "validUntil must be after validFrom and in the future; fix the terms file and propose again.",
  RoamingAgreementsInvalidDisputeWindow: "the dispute window must be from 1 second up to the contract's maximum; fix the terms file.",
  RoamingAgreementsMissingTermsCommitment:
    "propose with `agreement:propose`, which commits to the full terms and seals them for the partner.",
  RoamingAgreementsNoPricedClass:
    "the public part prices no tariff class: give the terms at least one rate plan and propose with `agreement:propose`, which sets the priced classes from the plans.",
  RoamingAgreementsInvalidRatingCommitments:
    "propose with `agreement:propose`, which sets the rating circuit and both directions' rating commitments from the terms (or none).",
  RoamingAgreementsInvalidSealedTermsLength:
    "the sealed terms are empty or too long: fewer rate plans or tiers in the terms file, then `agreement:propose` again.",
  RoamingAgreementsCommitmentMismatch:
    "the terms you opened are not the ones the proposal commits to; do not accept them: ask the partner to propose again with `agreement:propose`.",
  RoamingAgreementsProposalExpired: "the proposal's validity ended before it was accepted; propose new terms with `agreement:propose`.",
  RoamingAgreementsInvalidPermanentRoaming: "a permanent-roaming surcharge needs a limit in days; fix the terms.",
  RoamingAgreementsInvalidSla: "SLA figures are basis points, at most 10000; fix the terms.",
  RoamingAgreementsInvalidPlanCount: "terms need from one rate plan up to the maximum; fix the terms.",
  RoamingAgreementsInvalidVisited: "each rate plan's visited carrier must be one of the two parties; fix the terms.",
  RoamingAgreementsPricedClassesMismatch:
    "the version's public priced classes are not those its rate plans price: these terms were proposed dishonestly; have the proposer propose again with `agreement:propose`.",
  RoamingAgreementsDuplicatePlan: "two rate plans have the same visited carrier and tariff class; keep one.",
  RoamingAgreementsTooManyTiers: "a rate plan has more volume tiers than allowed; merge some.",
  RoamingAgreementsInvalidTier:
    "tiers must ascend strictly by fromMb, with discounts of at most 10000 bps that do not decrease; fix the terms.",

  // UsageLedger v2: batch headers, decisions, disputes by leaf index, closing periods.
  UsageLedgerInvalidPeriod: "give the billing period as YYYY-MM (e.g. --period 2026-11).",
  UsageLedgerInvalidSignature: "the batch signature is malformed; let `usage:ingest` sign and submit the batch.",
  UsageLedgerSignerNotVisited:
    "the batch must be signed by an operator of the visited carrier; run `usage:ingest` from one of its accounts.",
  UsageLedgerNoAgreement: "the pair has no accepted agreement in force now (`agreement:show`); propose and accept one first.",
  UsageLedgerBatchExists: "this batch was committed already; re-running `usage:ingest` skips committed batches.",
  UsageLedgerUnknownBatch: "no batch has this id; check the ids `usage:ingest` printed (or `watch`).",
  UsageLedgerInvalidHeader:
    "the batch header is malformed (zero root, payload hash or commitment, or too deep a tree); build it with `usage:ingest`.",
  UsageLedgerNotHome: "only the batch's home carrier decides on it; run `usage:verify` from an operator account of that carrier.",
  UsageLedgerBatchNotOpen: "the batch was decided already (accepted, rejected or expired); nothing left to do on it.",
  UsageLedgerDisputeWindowOver: "the batch's dispute window has ended: it counts as accepted; `usage:expire` records that.",
  UsageLedgerDisputeWindowOpen:
    "the batch's dispute window is still open; run `usage:expire` after it ends, or let the home carrier decide (`usage:verify`).",
  UsageLedgerRecordNotInBatch:
    "the leaf and proof do not match that position of the batch; dispute with `usage:verify`, which builds them from the payload.",
  UsageLedgerRecordAlreadyDisputed: "that record is disputed already; `usage:verify` skips disputed records.",
  UsageLedgerPeriodClosed:
    "the pair's period is closed: it takes no more batches, decisions or disputes. Its invoices go through `invoice:propose` and `invoice:cosign`; usage it did not take is late (docs/ingest.md, Late usage); an unfinished `usage:ingest` run of it is abandoned by running it again or with `usage:ingest --abandon --home H --period YYYY-MM`.",
  UsageLedgerSubmissionClosed:
    "the ledger takes batches for a period only from its start to its submission deadline: usage of the current month goes into the current period; usage of a period past its deadline is late (docs/ingest.md, Late usage); an unfinished `usage:ingest` run of it is abandoned by running it again or with `usage:ingest --abandon --home H --period YYYY-MM`.",
  UsageLedgerPeriodNotOver: "the period closes only from its submission deadline on; run `usage:close` again after that date.",
  UsageLedgerBatchesPending:
    "batches of the period are still undecided: the home carrier decides them with `usage:verify`, or `usage:close --expire` once their windows end.",
  UsageLedgerTooManyBatches: "the pair's period holds its maximum of batches; ingest with a larger `usage:ingest --batch-size`.",
  UsageLedgerTooMany:
    "too many items for one transaction; send them in chunks of at most the maximum (`usage:verify` and `usage:expire` do).",
  UsageLedgerInvalidDependency:
    "deploy the UsageLedger with the addresses of the deployed CarrierRegistry and RoamingAgreements (`deploy`).",
  UsageLedgerInvalidGrace: "the deployment's submission grace is above the ledger's maximum; lower it in the deployment parameters.",
  UsageLedgerPaused:
    "governance paused the consortium (an emergency): batches are taken again once the governors approve an Unpause proposal; resubmit then, before the period's submission deadline.",

  // SettlementEscrow v2: co-signed invoices, claims with a bond, reveal, delayed withdrawals, settlement.
  SettlementEscrowInvalidContract: "deploy the escrow with the addresses of the deployed contracts (see the deployment parameters).",
  SettlementEscrowInvalidParam: "the named deployment parameter is out of its bounds; fix it in the deployment parameters.",
  SettlementEscrowZeroAmount: "give an amount above zero (`--amount`).",
  SettlementEscrowInsufficientDeposit:
    "top up the deposit with `escrow:deposit` (see `escrow:balance` for what is free and what is reserved for open invoices and debts).",
  SettlementEscrowInvalidRecipient:
    "send tokens to an account of yours, not to the zero address nor the escrow (`escrow:withdraw --to`, `escrow:payout`).",
  SettlementEscrowNoWithdrawal:
    "request the withdrawal first with `escrow:withdraw --request --amount`, then `--execute` it after the delay.",
  SettlementEscrowWithdrawalLocked: "the withdrawal unlocks at the time shown; run `escrow:withdraw --execute` then.",
  SettlementEscrowSameParty: "payer and payee must be two different carriers; name the partner (`--partner`).",
  SettlementEscrowWrongStatus:
    "the invoice is not at the step this action takes; `invoice:status` shows it: none -> `invoice:propose`, proposed -> `invoice:cosign` (or `invoice:claim` after the sign window), claimed -> `escrow:claim` (a proof, after the payer's contest window) or `invoice:reveal`, closed -> `escrow:settle`.",
  SettlementEscrowNoTerms: "no accepted agreement version covers the period's first and last second; check `agreement:show`.",
  SettlementEscrowWrongAccumulator:
    "the invoice was rated on other batches than the closed period's: close the period with `usage:close`, then propose again with `invoice:propose`.",
  SettlementEscrowWrongTerms:
    "the invoice names another agreement version, terms commitment or token than the version in force; propose again with `invoice:propose` after `agreement:show`.",
  SettlementEscrowInvalidSigner:
    "the signature is not from an operator of the active carrier; sign with one of its accounts (`invoice:propose`, `invoice:cosign`).",
  SettlementEscrowInvalidSealedInvoice: "the sealed invoice is empty or too long; let `invoice:propose` seal it.",
  SettlementEscrowSignWindowOpen: "the payer may still co-sign until the time shown; file the claim with `invoice:claim` after it.",
  SettlementEscrowNotParty:
    "only the invoice's payer or payee may do this (a claim: its payee); send from an operator account of one of them.",
  SettlementEscrowNoAdjudicator:
    "this escrow has no adjudicator to prove a claim; end the claim with `invoice:reveal` or have the payer `invoice:cosign`.",
  SettlementEscrowContestWindowOpen:
    "the payer may still co-sign or contest the claim's totals by a reveal until the time shown; file the proof with `escrow:claim` after it.",
  SettlementEscrowInvalidProof:
    "the adjudicator refused the proof; check it, or end the claim with `invoice:reveal` (last resort: publishes the pair's figures).",
  Groth16VerifierInvalidKey:
    "the verification key is not valid bn128 points (or a coordinate is out of range): deploy from the finalized ceremony folder with `zk:verifier:deploy`.",
  RatingAdjudicatorInvalidCircuit: "rating circuits are numbered from 1 (rating-v1 is 1).",
  RatingAdjudicatorAlreadyTrusted:
    "that circuit's verifier is fixed for good (old invoices stay verifiable): new rating rules take a new circuit number and ceremony.",
  RatingAdjudicatorInvalidVerifier:
    "give the verifier `zk:verifier:deploy` deployed and the transcript hash `zk:ceremony:finalize` printed.",
  RatingAdjudicatorUnknownProposal:
    "approve exactly what was proposed (circuit, verifier, transcript hash): `zk:verifier:show` lists the proposals' events, or propose it with `zk:verifier:propose`.",
  RatingAdjudicatorAlreadyApproved: "your governor's approval is counted already; the other governors approve with `zk:verifier:approve`.",
  RatingAdjudicatorInvalidDependency: "deploy the adjudicator with the registry's and the agreements' contract addresses (`deploy` does).",
  SettlementEscrowWrongOpening:
    "that batch's opening does not match its totals commitment; rerun `invoice:reveal` with the payloads as ingested.",
  SettlementEscrowWrongDisputedRecord: "the record given is not the disputed leaf; rerun `invoice:reveal` with the payloads as ingested.",
  SettlementEscrowWrongOpeningCount:
    "the openings do not follow the period's counted batches and their disputes; rerun `invoice:reveal`, which continues where it stopped.",
  SettlementEscrowRevealIncomplete: "not every counted batch is opened yet; run `invoice:reveal` again to finish.",
  SettlementEscrowWrongTermsOpening:
    "the terms given do not open the invoice's terms commitment; reveal the terms of the version in force (`agreement:show`).",
  SettlementEscrowSoloSettleTooEarly:
    "one direction settles alone only from the time shown; close the other invoice (`invoice:propose`, `invoice:cosign`) to settle both now with `escrow:settle`.",
  SettlementEscrowInvoiceNotClosed:
    "close the invoice first: `invoice:propose` by the payee, `invoice:cosign` by the payer (see `invoice:status`).",
  SettlementEscrowAlreadySettled: "this period is settled for good; `report` and `invoice` show its figures.",
  SettlementEscrowNoDebt: "nothing is owed in that token; `escrow:balance` shows the debts both ways.",
  SettlementEscrowPaused:
    "governance paused the consortium (an emergency): settlements, debt payments and withdrawals wait until the governors approve an Unpause proposal; retry then.",
  SettlementEscrowTransferRefused:
    "the token refused to send to that account (blacklisted or blocked): cancel the request and request the withdrawal again to an account the token accepts.",
  RevealLibInvalidTiers:
    "a revealed rate plan has too many tiers or a discount above 100 %: these are not the terms in force; reveal those.",
  RevealLibInvalidPlanCount: "the revealed terms have no rate plan or too many: these are not the terms in force; reveal those.",

  // OpenZeppelin errors of the contracts' ABIs.
  ECDSAInvalidSignature: "the signature does not recover to an account; sign again with `invoice:propose` or `invoice:cosign`.",
  ECDSAInvalidSignatureLength: "a signature is 65 bytes; sign again with `invoice:propose` or `invoice:cosign`.",
  ECDSAInvalidSignatureS: "the signature is malleable (high s); sign again with a standard signer.",
  InvalidShortString: "a contract's EIP-712 name or version is too long; fix it in the deployment.",
  StringTooLong: "a contract's EIP-712 name or version is too long; fix it in the deployment.",
  ReentrancyGuardReentrantCall: "the settlement token called back into the escrow; use a plain ERC-20 token as settlement token.",
  SafeERC20FailedOperation: "the settlement token refused the transfer; check the balance and allowance (`escrow:deposit` approves first).",
  ERC20InsufficientBalance: "the account holds fewer tokens than the transfer; fund it first.",
  ERC20InsufficientAllowance: "approve the escrow for the amount first (`escrow:deposit` does).",
  ERC20InvalidApprover: "the approving account cannot be the zero address.",
  ERC20InvalidReceiver: "tokens cannot go to the zero address; give a recipient.",
  ERC20InvalidSender: "tokens cannot come from the zero address.",
  ERC20InvalidSpender: "the spender cannot be the zero address; approve the escrow's address.",
  OwnableInvalidOwner: "the token's owner cannot be the zero address.",
  OwnableUnauthorizedAccount: "only the token's owner may do this; send from its account.",
  CloneArgumentsTooLong: "a device's policy contract could not be deployed (arguments too long); report it with the transaction.",
  Create2EmptyBytecode: "a device's policy contract could not be deployed (no implementation); check the DeviceRegistry deployment.",
  FailedDeployment: "a device's policy contract could not be deployed, e.g. its address is taken; check `device:show` for that device.",
  InsufficientBalance: "a contract deployment asked for more ether than the registry holds; report it with the transaction.",
};
