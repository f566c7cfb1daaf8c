import { task, types } from "hardhat/config";
import { isoTime } from "../lib/agreements/terms";
import type { ContractTransactionResponse, Signer } from "ethers";
import { action, clientFor, defendingMemberOfSigner, keystoreFor, memberOfSigner, out } from "./common";
import { commandLine } from "./cli/errors";
import { FROM_HELP, plmnArg } from "./cli/args";
import { ConfigError, InputError } from "../lib/core/errors";
import { ANY_ROLE, parseRoles, roleNames } from "../lib/core/roles";
import { formatPlmn } from "../lib/core/plmn";
import { validateEncryptionPublicKey } from "../lib/crypto/keys";
import { withDecodedRevert } from "../lib/chain/revert";
import type { RoamLedgerClient } from "../lib/chain/client";
import type { Hex } from "../lib/util/hex";
import { MEMBER_STATUSES, PROPOSAL_KINDS, ROLE_BITS } from "../lib/core/enums";
import { formatOperators, operatorsWithPermissions } from "../lib/consortium/operators";
import { checkTadig, MAX_TADIG_CODES, registerTadig, releaseTadig, TADIG_FORMAT, tadigCodesOf } from "../lib/consortium/tadig";
import { PERMISSION_BITS } from "../lib/core/roles";
import { ENODE_FORMAT, formatEnode, MAX_MEMBER_NODES, nodesOf, parseEnode, registerNode, removeNode } from "../lib/consortium/nodes";

const KINDS = ["admit", "suspend", "reinstate", "pause", "unpause"] as const;

async function describeMember(client: RoamLedgerClient, plmn: Hex): Promise<string[]> {
  const m = await client.carriers.getMember(plmn);
  if (m.status === 0n)
    throw new InputError(`${formatPlmn(plmn)} is not a member`, { hint: `see \`${commandLine({ operation: "carrier:list" })}\`.` });
  const operators = formatOperators(await operatorsWithPermissions(client, plmn));
  const tadig = await tadigCodesOf(client, plmn);
  return [
    `${formatPlmn(plmn)}  ${m.name}`,
    `  status:         ${MEMBER_STATUSES[Number(m.status)]}`,
    `  roles:          ${roleNames(m.roles)}`,
    `  admitted:       ${isoTime(m.admittedAt)}`,
    `  operators:      ${operators.join("\n                  ")}`,
    `  TADIG codes:    ${tadig.length > 0 ? tadig.join(", ") : "none"}`,
    `  encryption key: ${m.encryptionKey}`,
  ];
}

/** Prints a proposal's state after a propose or vote. */
async function reportProposal(client: RoamLedgerClient, id: bigint): Promise<void> {
  const p = await client.carriers.getProposal(id);
  const what = p.kind >= 5n ? "the consortium" : p.kind >= 3n ? p.account : formatPlmn(p.target);
  out(
    `Proposal ${id}: ${PROPOSAL_KINDS[Number(p.kind)]} ${what}, ${p.approvals}/${p.requiredApprovals} approvals` +
      (p.executed ? " — carried out." : `, open until ${isoTime(p.expiresAt)}.`),
  );
}

task(
  "carrier:propose",
  "Proposes to admit, suspend or reinstate a consortium member, or an emergency pause or unpause (run by a governor member's admin key); counts as your approval",
)
  .addParam(
    "action",
    `What to propose: ${KINDS.join(", ")}. A pause makes usage submission, payouts, withdrawal executions, device registrations, policy updates and fraud flags wait; ` +
      "governance, operator keys, accept/reject/dispute, invoices, claims and deposits never pause. It lifts itself after 14 days (or by an unpause vote) and cannot be extended; " +
      "the next pause can start 7 days after it ends",
  )
  .addOptionalParam("plmn", "admit, suspend, reinstate: the member concerned, as MCC-MNC (e.g. 234-15); device makers use MCC 999")
  .addOptionalParam("name", "admit: the member's name (1-64 bytes)")
  .addOptionalParam("roles", "admit: comma-separated roles: carrier, device-maker, governor", "carrier")
  .addOptionalParam("operators", "admit: comma-separated operator account addresses")
  .addOptionalParam("key", "admit: the member's encryption public key (33-byte compressed secp256k1, from its `keys:init`)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(
      async (
        args: { action: string; plmn?: string; name?: string; roles: string; operators?: string; key?: string; from?: string },
        hre,
      ) => {
        if (!(KINDS as readonly string[]).includes(args.action)) {
          throw new InputError(`--action ${args.action} is not one of ${KINDS.join(", ")}`);
        }
        const emergency = args.action === "pause" || args.action === "unpause";
        if (emergency && args.plmn)
          throw new InputError(`--plmn does not apply to --action ${args.action}: it concerns the whole consortium`);
        const target = emergency ? "0x000000" : plmnArg("plmn", args.plmn);
        const client = await clientFor(hre, args.from);
        await memberOfSigner(client, ROLE_BITS.governor);
        let tx: ContractTransactionResponse;
        if (args.action === "admit") {
          const roles = parseRoles(
            args.roles.split(",").map((r) => r.trim()),
            { param: "roles" },
          );
          const { name, key } = args;
          if (!name) throw new InputError("--name is required to admit a member");
          if (!args.operators)
            throw new InputError("--operators is required to admit a member", { hint: "pass one or more comma-separated addresses." });
          const operators = args.operators.split(",").map((o) => o.trim());
          for (const o of operators) {
            if (!hre.ethers.isAddress(o)) throw new InputError(`--operators: ${o} is not an address`);
          }
          const encryptionKey = key ?? "";
          validateEncryptionPublicKey(encryptionKey, { param: "key" });
          tx = await withDecodedRevert(() => client.carriers.proposeAdmission({ plmn: target, roles, name, encryptionKey, operators }));
        } else if (args.action === "suspend" || args.action === "reinstate") {
          tx = await withDecodedRevert(() => client.carriers.proposeStatusChange(args.action === "suspend" ? 1 : 2, target));
        } else {
          const kind = PROPOSAL_KINDS.indexOf(args.action as "pause" | "unpause");
          tx = await withDecodedRevert(() => client.carriers.proposeEmergency(kind));
        }
        await tx.wait();
        await reportProposal(client, await client.carriers.proposalCount());
      },
    ),
  );

task("carrier:vote", "Approves an open governance proposal for your member (run by a governor member); carries it out at quorum")
  .addParam("proposal", "Proposal id (see the ProposalCreated output of carrier:propose)", undefined, types.int)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { proposal: number; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      await memberOfSigner(client, ROLE_BITS.governor);
      await withDecodedRevert(async () => (await client.carriers.approve(args.proposal)).wait());
      await reportProposal(client, BigInt(args.proposal));
    }),
  );

task("carrier:show", "Shows one consortium member: status, roles, operator accounts, TADIG codes, encryption key")
  .addParam("plmn", "The member, as MCC-MNC (e.g. 262-01)")
  .setAction(
    action(async (args: { plmn: string }, hre) => {
      const client = await clientFor(hre, undefined, { sends: false });
      for (const line of await describeMember(client, plmnArg("plmn", args.plmn))) out(line);
    }),
  );

task("carrier:list", "Lists the consortium's members (with their TADIG codes) and open governance proposals").setAction(
  action(async (_args: object, hre) => {
    const client = await clientFor(hre, undefined, { sends: false });
    const ids = await client.carriers.memberIds();
    out(
      `${ids.length} members (quorum ${Number(await client.carriers.thresholdBps()) / 100}% of ${await client.carriers.activeGovernorCount()} active governors):`,
    );
    if (await client.carriers.paused()) {
      out(`PAUSED by governance until ${isoTime(await client.carriers.pausedUntil())} (or an unpause vote).`);
    }
    for (const id of ids) {
      const [m, tadig] = await Promise.all([client.carriers.getMember(id), tadigCodesOf(client, id as Hex)]);
      const codes = tadig.length > 0 ? `  TADIG ${tadig.join(", ")}` : "";
      out(
        `  ${formatPlmn(id).padEnd(8)} ${MEMBER_STATUSES[Number(m.status)].padEnd(10)} ${roleNames(m.roles).padEnd(26)} ${m.name}${codes}`,
      );
    }
    const count = await client.carriers.proposalCount();
    const latest = await hre.ethers.provider.getBlock("latest");
    if (!latest) throw new ConfigError(`the node of network ${hre.network.name} returned no latest block`);
    const now = latest.timestamp;
    for (let id = 1n; id <= count; id++) {
      const p = await client.carriers.getProposal(id);
      if (!p.executed && Number(p.expiresAt) > now) await reportProposal(client, id);
    }
  }),
);

task("carrier:rotate-key", "Registers the encryption public key of your local key store for your member (after keys:init on a new machine)")
  .addOptionalParam("keystore", "Key store folder (default: the carrier profile's, else $ROAMLEDGER_HOME or ./.roamledger)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { keystore?: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ANY_ROLE);
      const { publicKey } = keystoreFor(args.keystore).encryptionKey(self.text);
      await withDecodedRevert(async () => (await client.carriers.rotateEncryptionKey(publicKey)).wait());
      out(`Encryption key of ${self.text} is now ${publicKey}.`);
    }),
  );

/** Which of --add and --remove a carrier:tadig or carrier:node run gave, and its value (neither: a listing); both is refused. */
function addOrRemove(
  args: { add?: string; remove?: string },
  placeholder: string,
  listed: string,
): { flag?: "add" | "remove"; value?: string } {
  if (args.add !== undefined && args.remove !== undefined) {
    throw new InputError("--add and --remove go one at a time", {
      hint: `give --add ${placeholder} or --remove ${placeholder}, or neither to list your ${listed}.`,
    });
  }
  if (args.add !== undefined) return { flag: "add", value: args.add };
  if (args.remove !== undefined) return { flag: "remove", value: args.remove };
  return {};
}

/** The member's codes in one line, and what a suspension means for them. */
async function tadigLine(client: RoamLedgerClient, self: { plmn: Hex; text: string }): Promise<string> {
  const codes = await tadigCodesOf(client, self.plmn);
  const suspended = !(await client.carriers.isActive(self.plmn)) ? " (suspended: TAP files naming them are refused until reinstated)" : "";
  return codes.length > 0
    ? `${self.text} holds TADIG code${codes.length === 1 ? "" : "s"} ${codes.join(", ")}${suspended}.`
    : `${self.text} holds no TADIG code; register one with \`${commandLine({ operation: "carrier:tadig", args: { add: "CODE" }, caller: true })}\`.`;
}

task(
  "carrier:tadig",
  "Registers (--add) or releases (--remove) a TADIG code of your member: the GSMA network code its TAP files name as sender or recipient, " +
    "so that a TAP file's parties are checked against the chain (run by an admin key of a carrier member); with neither flag, lists your member's codes",
)
  .addOptionalParam(
    "add",
    `A TADIG code to register for your member: ${TADIG_FORMAT}. Refused when a member holds it already (naming that member); at most ${MAX_TADIG_CODES} per member`,
  )
  .addOptionalParam("remove", "One of your member's TADIG codes to release; any carrier member may register it afterwards")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { add?: string; remove?: string; from?: string }, hre) => {
      const { flag, value } = addOrRemove(args, "CODE", "codes");
      const code = flag === undefined ? undefined : checkTadig(value as string, flag);
      const client = await clientFor(hre, args.from, { sends: flag !== undefined });
      if (flag === undefined || code === undefined) {
        out(await tadigLine(client, await defendingMemberOfSigner(client, 0, 0)));
        return;
      }
      const self = await memberOfSigner(client, ROLE_BITS.carrier);
      const address = await (client.runner as Signer).getAddress();
      await withDecodedRevert(() => client.carriers.requireOperator(address, ROLE_BITS.carrier, PERMISSION_BITS.admin));
      if (flag === "add") {
        const hash = await registerTadig(client, code, { param: flag });
        out(`Registered TADIG code ${code} for ${self.text} (transaction ${hash}): TAP files naming ${code} are ${self.text}'s.`);
      } else {
        const hash = await releaseTadig(client, code, { param: flag });
        out(`Released TADIG code ${code} of ${self.text} (transaction ${hash}).`);
      }
      out(await tadigLine(client, self));
    }),
  );

/** The member's registered nodes, one enode URL a line, and what a suspension means for them. */
async function nodeLines(client: RoamLedgerClient, self: { plmn: Hex; text: string }): Promise<string[]> {
  const nodes = await nodesOf(client, self.plmn);
  if (nodes.length === 0) {
    return [
      `${self.text} has no node registered; add one with \`${commandLine({ operation: "carrier:node", args: { add: "URL" }, caller: true })}\`.`,
    ];
  }
  const suspended = !(await client.carriers.isActive(self.plmn)) ? " (suspended: the other members' nodes drop them until reinstated)" : "";
  return [
    `${self.text} has ${nodes.length} of at most ${MAX_MEMBER_NODES} nodes registered${suspended}:`,
    ...nodes.map((n) => `  ${formatEnode(n)}`),
  ];
}

task(
  "carrier:node",
  "Registers (--add) or removes (--remove) an enode URL of one of your member's Besu nodes, so that every member's `besu:permissions` allows it to connect " +
    "(run by an admin key of a member); with neither flag, lists your member's nodes",
)
  .addOptionalParam(
    "add",
    `The enode URL of a node to register: ${ENODE_FORMAT} (Besu's admin_nodeInfo shows it). At most ${MAX_MEMBER_NODES} per member; a node id another member registered is refused, naming it`,
  )
  .addOptionalParam("remove", "The enode URL of one of your member's nodes to remove (only its node id counts)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { add?: string; remove?: string; from?: string }, hre) => {
      const { flag, value: url } = addOrRemove(args, "URL", "nodes");
      if (flag !== undefined && url !== undefined) parseEnode(url, flag);
      const client = await clientFor(hre, args.from, { sends: flag !== undefined });
      if (flag === undefined || url === undefined) {
        for (const line of await nodeLines(client, await defendingMemberOfSigner(client, 0, 0))) out(line);
        return;
      }
      const address = await (client.runner as Signer).getAddress();
      if (flag === "add") {
        const self = await memberOfSigner(client, ANY_ROLE);
        await withDecodedRevert(() => client.carriers.requireOperator(address, 0, PERMISSION_BITS.admin));
        const { node, hash } = await registerNode(client, url, { param: flag });
        out(`Registered node ${formatEnode(node)} for ${self.text} (transaction ${hash}).`);
        if (node.hostKind === "dns") out("  Its host is a DNS name: Besu nodes allowlist it only when started with --Xdns-enabled=true.");
        for (const line of await nodeLines(client, self)) out(line);
      } else {
        const self = await defendingMemberOfSigner(client, 0, PERMISSION_BITS.admin);
        const { node, hash } = await removeNode(client, url, { param: flag });
        out(`Removed node ${formatEnode(node)} of ${self.text} (transaction ${hash}).`);
        for (const line of await nodeLines(client, self)) out(line);
      }
    }),
  );
