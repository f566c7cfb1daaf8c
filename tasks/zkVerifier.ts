import { task, types } from "hardhat/config";
import type { Signer } from "ethers";
import { action, clientFor, out } from "./common";
import { commandLine } from "./cli/errors";
import { FROM_HELP } from "./cli/args";
import { ROLE_BITS } from "../lib/core/enums";
import { PERMISSION_BITS } from "../lib/core/roles";
import { isoTime } from "../lib/agreements/terms";
import { withDecodedRevert } from "../lib/chain/revert";
import { approveVerifier, proposeVerifier, trustedVerifier, type VerifierVote } from "../lib/zk/adjudicator";
import { RATING_V1 } from "../lib/zk/encoding";
import type { Hex } from "../lib/util/hex";

/**
 * The governors' vote that trusts a verifier of a rating circuit (RatingAdjudicator, docs/zk.md): after the
 * ceremony (`zk:ceremony:*`) and `zk:verifier:deploy`, one governor proposes (verifier, transcript hash) and the
 * others approve, each after checking the transcript (`zk:ceremony:verify`) and the verifier's key hash.
 */

interface VoteArgs {
  circuit: number;
  verifier: string;
  transcript: string;
  from?: string;
}

const CIRCUIT_HELP = `Rating circuit number (${RATING_V1.name} is ${RATING_V1.id})`;

function withVoteParams(t: ReturnType<typeof task>, kind: "propose" | "approve") {
  return t
    .addOptionalParam("circuit", CIRCUIT_HELP, RATING_V1.id, types.int)
    .addParam("verifier", "The verifier contract's address (printed by zk:verifier:deploy)")
    .addParam("transcript", "The ceremony's transcript hash, 0x + 64 hex (printed by zk:ceremony:finalize and zk:ceremony:verify)")
    .addOptionalParam("from", FROM_HELP)
    .setAction(
      action(async (args: VoteArgs, hre) => {
        const client = await clientFor(hre, args.from);
        const address = await (client.runner as Signer).getAddress();
        const self = (await withDecodedRevert(() =>
          client.carriers.requireOperator(address, ROLE_BITS.governor, PERMISSION_BITS.admin),
        )) as Hex;
        const vote: VerifierVote = { circuit: args.circuit, verifier: args.verifier, transcriptHash: args.transcript };
        const r = await withDecodedRevert(() => (kind === "propose" ? proposeVerifier : approveVerifier)(client, vote, self));
        out(
          `${kind === "propose" ? "Proposed" : "Approved"} the verifier ${args.verifier} of circuit ${args.circuit} (tx ${r.txHash}): ${r.approvals} approval(s).`,
        );
        out(
          r.trusted
            ? "  The quorum is reached: this verifier decides the claims of that circuit from now on."
            : `  The other governors approve with: ${commandLine({ operation: "zk:verifier:approve", args: { circuit: String(args.circuit), verifier: args.verifier, transcript: args.transcript } })}`,
        );
      }),
    );
}

withVoteParams(
  task(
    "zk:verifier:propose",
    "Governor (ADMIN key): proposes the verifier of a rating circuit with its ceremony's transcript hash, and approves it; trusted at the registry's quorum",
  ),
  "propose",
);

withVoteParams(
  task(
    "zk:verifier:approve",
    "Governor (ADMIN key): approves a proposed verifier, restating circuit, verifier and transcript hash (check them with zk:ceremony:verify first)",
  ),
  "approve",
);

task("zk:verifier:show", "Anyone (read-only): the verifier the governors trust for a rating circuit, its ceremony transcript and key hash")
  .addOptionalParam("circuit", CIRCUIT_HELP, RATING_V1.id, types.int)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { circuit: number; from?: string }, hre) => {
      const client = await clientFor(hre, args.from, { sends: false });
      const v = await trustedVerifier(client, args.circuit);
      if (v.trustedAt === 0) {
        out(`Circuit ${args.circuit}: no trusted verifier yet; claims on versions rated by it end by signature or reveal.`);
        out("  After the ceremony: zk:verifier:deploy, then zk:verifier:propose and the governors' zk:verifier:approve.");
        return;
      }
      out(`Circuit ${args.circuit}: verifier ${v.verifier}, trusted since ${isoTime(v.trustedAt)}`);
      out(`  ceremony transcript ${v.transcriptHash}`);
      out(`  verification key    ${v.verificationKeyHash}`);
    }),
  );
