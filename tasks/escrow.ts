import { task } from "hardhat/config";
import { action, clientFor, defendingMemberOfSigner, isDevelopmentChain, out } from "./common";
import { FROM_HELP, plmnArg, accountMember, amountArg } from "./cli/args";
import { commandLine } from "./cli/errors";
import { InputError } from "../lib/core/errors";
import { Amount, type Token } from "../lib/core/amount";
import { formatPlmn } from "../lib/core/plmn";
import { parsePeriod, formatPeriod } from "../lib/core/period";
import { tokenInfo } from "../lib/agreements/chain";
import { isoTime } from "../lib/agreements/terms";
import {
  agreementToken,
  cancelWithdrawal,
  depositToEscrow,
  escrowBalances,
  executeWithdrawal,
  payDebt,
  requestWithdrawal,
  requireMember,
  requirePartner,
  resolveToken,
  setPayoutAccount,
  settlePeriod,
  WITHDRAWAL_DELAY_WHY,
} from "../lib/settlement/escrow";
import { ROLE_BITS } from "../lib/core/enums";
import { PERMISSION_BITS } from "../lib/core/roles";

/** The operator permission bits the escrow asks of the sending key (none for deposits and settling). */
const PERMISSION = { ANY: 0, TREASURY: PERMISSION_BITS.treasury } as const;

/** The carrier the signer operates for with `permission`, active or suspended, as the escrow takes it. */
const carrierOfSigner = (client: Parameters<typeof defendingMemberOfSigner>[0], permission: number) =>
  defendingMemberOfSigner(client, ROLE_BITS.carrier, permission);

const TOKEN_HELP = "Settlement token address (default: the token of the agreement with --partner, or the one token of all your agreements)";
const PARTNER_TOKEN_HELP = "Take the token of the agreement with this partner (MCC-MNC)";

/** Base units of `token` as the tasks print them: "1000.5 RLST" (exact). */
function units(baseUnits: bigint, token: Token): string {
  return `${Amount.fromUnits(token, baseUnits).format()} ${token.symbol || `units of ${token.address}`}`;
}

task(
  "escrow:deposit",
  "Carrier: deposits settlement tokens into the escrow for your carrier (approves the escrow for the amount first when needed)",
)
  .addParam("amount", 'Amount in token units, e.g. "1000.50" (exact: no more decimals than the token has)')
  .addOptionalParam("token", TOKEN_HELP)
  .addOptionalParam("partner", PARTNER_TOKEN_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { amount: string; token?: string; partner?: string; from?: string }, hre) => {
      const partner = args.partner ? plmnArg("partner", args.partner) : undefined;
      const client = await clientFor(hre, args.from);
      const self = await carrierOfSigner(client, PERMISSION.ANY);
      const token = await resolveToken(client, self.plmn, { token: args.token, partner });
      const amount = amountArg(args.amount, token);
      // On a development chain the "holds too little" error names the mint that funds the account.
      const funding = (await isDevelopmentChain(hre))
        ? { operation: "dev:mint", args: { amount: amount.format(), token: token.address }, caller: true }
        : undefined;
      const r = await depositToEscrow(client, { member: self.plmn, amount, funding });
      if (r.approveTx) out(`Approved the escrow for ${units(r.amount, token)} (tx ${r.approveTx}).`);
      out(`${self.text} deposited ${units(r.amount, token)} (tx ${r.depositTx}); deposit now ${units(r.deposit, token)}.`);
    }),
  );

type WithdrawArgs = {
  request: boolean;
  amount?: string;
  execute: boolean;
  cancel: boolean;
  to?: string;
  token?: string;
  partner?: string;
  from?: string;
};

/** Which step of a withdrawal the flags ask for: --request (or --amount alone), --execute or --cancel. */
function withdrawStep(args: WithdrawArgs): "request" | "execute" | "cancel" {
  const request = args.request || (args.amount !== undefined && !args.execute && !args.cancel);
  const steps = [request, args.execute, args.cancel].filter(Boolean).length;
  if (steps !== 1) {
    throw new InputError("say one of --request --amount X, --execute or --cancel", {
      hint: `request first, execute after the delay; ${WITHDRAWAL_DELAY_WHY}`,
    });
  }
  if (!request && (args.amount !== undefined || args.to !== undefined)) {
    throw new InputError(
      `--amount and --to belong to --request; --${args.execute ? "execute" : "cancel"} acts on the pending request as it is`,
    );
  }
  return request ? "request" : args.execute ? "execute" : "cancel";
}

/** "140 days" or "3 h 20 min": a delay in words. */
function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} days`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

task(
  "escrow:withdraw",
  `Carrier: withdraws from your carrier's deposit in two steps. --request --amount X asks for it (replacing a pending request and restarting its clock); --execute sends it once the escrow's WITHDRAWAL_DELAY (140 days in the default deployment; the request prints the date) has passed (what is free then, up to the amount); --cancel drops the request. Why it waits: ${WITHDRAWAL_DELAY_WHY}`,
)
  .addFlag("request", "Request a withdrawal of --amount (executable after the withdrawal delay)")
  .addOptionalParam("amount", 'Request: amount in token units, e.g. "250" (--amount alone also requests)')
  .addFlag("execute", "Execute the pending withdrawal (after its delay)")
  .addFlag("cancel", "Cancel the pending withdrawal")
  .addOptionalParam("to", "Request: address to send the tokens to (default: the sending account)")
  .addOptionalParam("token", TOKEN_HELP)
  .addOptionalParam("partner", PARTNER_TOKEN_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: WithdrawArgs, hre) => {
      const step = withdrawStep(args);
      const partner = args.partner ? plmnArg("partner", args.partner) : undefined;
      const client = await clientFor(hre, args.from);
      const self = await carrierOfSigner(client, PERMISSION.TREASURY);
      const token = await resolveToken(client, self.plmn, { token: args.token, partner });
      if (step === "cancel") {
        const r = await cancelWithdrawal(client, { member: self.plmn, token });
        out(`${self.text} cancelled its pending withdrawal of ${units(r.amount, token)} (tx ${r.txHash}).`);
      } else if (step === "execute") {
        const r = await executeWithdrawal(client, { member: self.plmn, token });
        const part = r.withdrawn < r.requested ? ` (of ${units(r.requested, token)} requested: the rest is reserved)` : "";
        out(
          `${self.text} withdrew ${units(r.withdrawn, token)}${part} to ${r.to} (tx ${r.txHash}); deposit now ${units(r.deposit, token)}.`,
        );
      } else {
        const amount = amountArg(args.amount, token);
        const r = await requestWithdrawal(client, { member: self.plmn, amount, to: args.to });
        if (r.replaced) {
          out(`It replaces the pending request of ${units(r.replaced.amount, token)} that unlocked at ${isoTime(r.replaced.unlocksAt)}.`);
        }
        out(
          `${self.text} asked to withdraw up to ${units(amount.units, token)} to ${r.to} (tx ${r.txHash}): executable from ${isoTime(r.unlocksAt)} (the ${duration(r.delay)} withdrawal delay), with --execute.`,
        );
        out(`  Free now: ${units(r.freeNow, token)}; what is free at execution is sent, up to the amount.`);
      }
    }),
  );

task("escrow:payout", "Carrier: sets where payments to your carrier go (an address), or back to its deposit (--account 0x0...0)")
  .addParam("account", "Address payments go to; the zero address credits them to your deposit")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { account: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const self = await carrierOfSigner(client, PERMISSION.TREASURY);
      const r = await setPayoutAccount(client, args.account);
      const where = BigInt(args.account) === 0n ? "are credited to its deposit" : `go to ${args.account}`;
      out(`Payments to ${self.text} now ${where} (tx ${r.txHash}).`);
    }),
  );

task(
  "escrow:balance",
  "Anyone (read-only): a member's deposits per settlement token (reserved for open invoices and debts, free) and its debts both ways",
)
  .addOptionalParam("member", "The member, as MCC-MNC (default: the member of the --from account)")
  .addOptionalParam("token", "Only this token (default: every settlement token of the member's agreements)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { member?: string; token?: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from, { sends: false });
      const plmn = args.member ? plmnArg("member", args.member) : await accountMember(client);
      if (!plmn)
        throw new InputError("whose balance? The account is no member's operator", { hint: "pass --member with the carrier (MCC-MNC)." });
      const member = await requireMember(client, { plmn, param: "member" });
      if (args.token) await tokenInfo(args.token, client.runner, { param: "token" });
      const balances = await escrowBalances(client, plmn, args.token ? [args.token] : undefined);
      out(`Escrow balance of ${member.name} (${member.text}):`);
      if (balances.length === 0) out("  no settlement token: no accepted agreement yet (pass --token to look at one).");
      for (const b of balances) {
        out(
          `  ${b.token.symbol || "token"} ${b.token.address}: deposit ${units(b.deposit, b.token)}, reserved ${units(b.reserved, b.token)}, free ${units(b.free, b.token)}`,
        );
        if (b.withdrawal) {
          out(
            `    withdrawal pending: up to ${units(b.withdrawal.amount, b.token)} to ${b.withdrawal.to}, executable from ${isoTime(b.withdrawal.unlocksAt)}`,
          );
        }
        for (const d of b.debtsOwed) out(`    owes ${d.partner.name} (${d.partner.text}) ${units(d.amount, b.token)} after a shortfall`);
        for (const d of b.debtsDue)
          out(`    is owed ${units(d.amount, b.token)} by ${d.partner.name} (${d.partner.text}) after a shortfall`);
      }
    }),
  );

task(
  "escrow:settle",
  "Carrier: settles a period with a partner. Both invoices closed (co-signed, proven or revealed): the net debtor pays the difference from its deposit (netting). One closed: it settles alone once the other is settled, or from the period's end + the escrow's SOLO_SETTLE_DELAY (110 days in the default deployment; the error says the date). Invoices close with invoice:propose and invoice:cosign",
)
  .addParam("partner", "The other carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; period: string; from?: string }, hre) => {
      const partnerPlmn = plmnArg("partner", args.partner);
      const period = parsePeriod(args.period);
      const client = await clientFor(hre, args.from);
      const self = await carrierOfSigner(client, PERMISSION.ANY);
      const partner = await requirePartner(client, self.plmn, partnerPlmn);
      const r = await settlePeriod(client, { self: self.plmn, partner: partner.plmn, period });
      const token = await tokenInfo(r.token, client.runner);
      if (r.mode === "netted") {
        out(
          `Settled ${formatPeriod(period)} between ${self.text} and ${partner.text}, netted (tx ${r.txHash}): ${self.text} owed ${units(r.selfOwed, token)}, ${partner.text} owed ${units(r.partnerOwed, token)}.`,
        );
      } else if (r.alone) {
        const [payer, payee] = [formatPlmn(r.alone.payer), formatPlmn(r.alone.payee)];
        const owed = r.selfOwed + r.partnerOwed;
        out(
          `Settled the invoice of ${payer} to ${payee} for ${formatPeriod(period)} alone (tx ${r.txHash}): ${payer} owed ${units(owed, token)}.`,
        );
      }
      if (r.payments.length === 0) out("  Both owed the same: nothing moved.");
      for (const p of r.payments) {
        const t = await tokenInfo(p.token, client.runner);
        const where = p.payout === "0x0000000000000000000000000000000000000000" ? "credited to its deposit" : `sent to ${p.payout}`;
        out(`  ${formatPlmn(p.debtor)} paid ${formatPlmn(p.creditor)} ${units(p.paid, t)} of ${units(p.owed, t)} (${where}).`);
      }
      for (const s of r.shortfalls) {
        const t = await tokenInfo(s.token, client.runner);
        out(
          `  SHORTFALL: ${formatPlmn(s.debtor)}'s deposit was short by ${units(s.owed, t)}: that is now its debt to ${formatPlmn(s.creditor)}.`,
        );
        const collect = { operation: "escrow:pay-debt", args: { debtor: formatPlmn(s.debtor), creditor: formatPlmn(s.creditor) } };
        out(`  After a top-up, either side collects it: ${commandLine(collect)}`);
      }
    }),
  );

task("escrow:pay-debt", "Either carrier: pays a debt left by a settlement shortfall from the debtor's deposit (as much as it holds)")
  .addParam("debtor", "The carrier that owes, as MCC-MNC")
  .addParam("creditor", "The carrier owed, as MCC-MNC")
  .addOptionalParam("token", "Token of the debt (default: the settlement token of their agreement)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { debtor: string; creditor: string; token?: string; from?: string }, hre) => {
      const debtor = plmnArg("debtor", args.debtor);
      const creditor = plmnArg("creditor", args.creditor);
      const client = await clientFor(hre, args.from);
      await carrierOfSigner(client, PERMISSION.TREASURY);
      await requireMember(client, { plmn: debtor, param: "debtor" });
      await requireMember(client, { plmn: creditor, param: "creditor" });
      const token = args.token
        ? await tokenInfo(args.token, client.runner, { param: "token" })
        : await tokenInfo(await agreementToken(client, debtor, creditor), client.runner);
      const r = await payDebt(client, { debtor, creditor, token });
      out(
        `${formatPlmn(debtor)} paid ${formatPlmn(creditor)} ${units(r.paid, token)} of its debt (tx ${r.txHash}); ${units(r.remaining, token)} still owed.`,
      );
    }),
  );
