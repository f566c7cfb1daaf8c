import path from "node:path";
import { task } from "hardhat/config";
import { action, clientFor, defendingMemberOfSigner, keystoreFor, out } from "./common";
import { cliProgress } from "./cli/progress";
import { ROLE_BITS } from "../lib/core/enums";
import { PERMISSION_BITS } from "../lib/core/roles";
import { isoTime } from "../lib/agreements/terms";
import { closedAccumulator, cosignInvoice, escrowInvoiceStatus, invoicePublicView, proposeInvoice } from "../lib/settlement/invoices";
import { fileClaim, revealClaim } from "../lib/settlement/claims";
import { buildClaimProof, contestWindowEnd, fileClaimProof, requireTrustedKey, adjudicatorAccepts } from "../lib/zk/claim";
import { provingKitFor } from "../lib/zk/kit";
import { providerOf } from "../lib/chain/send";
import { FROM_HELP, plmnArg, accountMember, formatArg, fromBlockArg, sideArg } from "./cli/args";
import { InputError } from "../lib/core/errors";
import { writeFileAtomic } from "../lib/util/fsAtomic";
import { formatPlmn } from "../lib/core/plmn";
import { formatPeriod, parsePeriod } from "../lib/core/period";
import { storeFor } from "../lib/usage/pair";
import { requireMember, requirePartner } from "../lib/settlement/escrow";
import { readInvoiceData, readRatingInputs } from "../lib/invoice/chain";
import { Amount } from "../lib/core/amount";
import { tokenInfo } from "../lib/agreements/chain";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { buildInvoiceModel } from "../lib/invoice/model";
import { loadBilling } from "../lib/invoice/billing";
import { parseReferenceRate } from "../lib/invoice/billingModel";
import type { InvoiceModel } from "../lib/invoice/types";
import { invoiceToCsv, invoiceToJson } from "../lib/invoice/render";
import { renderInvoicePdf } from "../lib/invoice/pdf";
import { invoiceToText } from "../lib/invoice/textInvoice";
import { buildReport, reportToCsv, reportToJson, reportToText } from "../lib/settlement/report";
import type { Hex } from "../lib/util/hex";
import type { RoamLedgerClient } from "../lib/chain/client";

const KEYSTORE_HELP =
  "Key store with your encryption key and your copies of the full terms (default: the carrier profile's, else $ROAMLEDGER_HOME or ./.roamledger): opens the pair's payloads and terms, which every figure is rated from";
const STORE_HELP = "Payload store folder (default: the carrier profile's, else $ROAMLEDGER_STORE, else <key store>/store)";

/** The carrier the account operates for (these tasks only read; any member's account will do). */
async function selfOf(client: RoamLedgerClient): Promise<Hex> {
  const plmn = await accountMember(client);
  if (!plmn) {
    throw new InputError("whose invoices? The account is no member's operator", {
      hint: "pass --from with an operator account of your carrier.",
    });
  }
  return plmn;
}

/** On stderr: the billing details the invoice lacks, and where they go (the document prints without them). */
function warnMissingBilling(model: InvoiceModel): void {
  const { missing, source } = model.billing;
  if (missing.length === 0 || process.env.ROAMLEDGER_QUIET === "1") return;
  console.error(`Note: the invoice lacks ${missing.length} billing detail(s) (billing file: ${source}):`);
  for (const m of missing) console.error(`  - ${m}`);
  console.error('  Add them to the billing file (docs/invoices.md, "Billing details") to print them.');
}

task(
  "invoice",
  "Either party (read-only): renders the invoice of one direction of a period as JSON, CSV or PDF, rated from YOUR copies of the full terms and payloads (the chain holds no figure of it), with the escrow's public facts (status, signed net, amount owed) and whether they are your invoice; line items per tariff class traced to batches and transactions, SLA credit, disputes, usage not billed. Before a proposal it is a draft",
)
  .addParam("partner", "The other carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("format", "pdf, text, json or csv (default pdf)")
  .addOptionalParam("out", "File to write (default: stdout for text, json and csv, <invoice number>.pdf for pdf)")
  .addOptionalParam("as", "payee: the invoice you bill the partner as visited carrier (default); payer: the one you pay as home carrier")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("store", STORE_HELP)
  .addOptionalParam(
    "billing",
    "Your billing details (legal names, addresses, tax ids, TADIG codes, payment terms, tax treatment; docs/invoices.md): default $ROAMLEDGER_BILLING, else billing.json in the key store folder; without one the invoice lists what is missing",
  )
  .addOptionalParam(
    "rate",
    "Adds a reference-currency column: <currency>=<value of one token>, e.g. EUR=1.00 (exact, rounded to cents; amounts due stay in the settlement token)",
  )
  .addOptionalParam("fromBlock", "First block to search for events (default 0)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(
      async (
        args: {
          partner: string;
          period: string;
          format?: string;
          out?: string;
          as?: string;
          keystore?: string;
          store?: string;
          billing?: string;
          rate?: string;
          fromBlock?: string;
          from?: string;
        },
        hre,
      ) => {
        const partnerPlmn = plmnArg("partner", args.partner);
        const period = parsePeriod(args.period);
        const format = formatArg(args.format, ["json", "csv", "pdf", "text"] as const, "pdf");
        const rate = args.rate ? parseReferenceRate(args.rate) : undefined;
        const side = sideArg(args.as, "payee");
        const fromBlock = fromBlockArg(args.fromBlock);
        const client = await clientFor(hre, args.from, { sends: false });
        const self = await selfOf(client);
        const partner = await requirePartner(client, self, partnerPlmn);
        const keystore = keystoreFor(args.keystore);
        const billing = loadBilling({ explicit: args.billing, keystoreRoot: keystore.root });
        const data = await readInvoiceData(client, {
          self,
          partner: partner.plmn,
          period,
          as: side,
          keystore,
          store: storeFor(keystore, args.store),
          fromBlock,
        });
        const model = buildInvoiceModel(data, { billing, rate });
        warnMissingBilling(model);
        const summary = `Invoice ${model.invoiceNumber} (${model.payee.plmnText} to ${model.payer.plmnText}, ${model.period.text}): net ${model.net.text} ${model.token.symbol}, ${model.status.state}`;
        if (format === "pdf") {
          const file = args.out || `${model.invoiceNumber}.pdf`;
          writeFileAtomic(file, await renderInvoicePdf(model));
          out(`${summary}; written to ${path.resolve(file)}`);
          return;
        }
        const text = format === "json" ? invoiceToJson(model) : format === "csv" ? invoiceToCsv(model) : invoiceToText(model);
        if (args.out) {
          writeFileAtomic(args.out, text);
          out(`${summary}; written to ${path.resolve(args.out)}`);
        } else {
          out(text.trimEnd());
        }
      },
    ),
  );

task(
  "report",
  "Any member (read-only): the period's accounting overview per partner: public facts (escrow status, signed net, amount owed, batches, disputes, settlement, deposits and debts) and, for the directions your carrier is a party to, your own figures rated from your terms and payloads",
)
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("format", "text, json or csv (default text)")
  .addOptionalParam("out", "File to write (default: stdout)")
  .addOptionalParam("member", "The carrier to report on, as MCC-MNC (default: the member of the --from account)")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("store", STORE_HELP)
  .addFlag("publicOnly", "Public facts only: do not open your key store")
  .addOptionalParam("fromBlock", "First block to search for events (default 0)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(
      async (
        args: {
          period: string;
          format?: string;
          out?: string;
          member?: string;
          keystore?: string;
          store?: string;
          publicOnly: boolean;
          fromBlock?: string;
          from?: string;
        },
        hre,
      ) => {
        const period = parsePeriod(args.period);
        const format = formatArg(args.format, ["text", "json", "csv"] as const, "text");
        const fromBlock = fromBlockArg(args.fromBlock);
        const client = await clientFor(hre, args.from, { sends: false });
        const account = await accountMember(client);
        const self = args.member ? plmnArg("member", args.member) : await selfOf(client);
        await requireMember(client, { plmn: self, param: "member" });
        const keystore = keystoreFor(args.keystore);
        const viewer =
          account && !args.publicOnly && keystore.hasEncryptionKey(formatPlmn(account))
            ? { plmn: account, keystore, store: storeFor(keystore, args.store) }
            : undefined;
        const report = await buildReport(client, { self, period, viewer, fromBlock });
        const text = format === "json" ? reportToJson(report) : format === "csv" ? reportToCsv(report) : reportToText(report);
        if (args.out) {
          writeFileAtomic(args.out, text);
          out(`Report of ${formatPlmn(self)} for ${args.period} written to ${path.resolve(args.out)}`);
        } else out(text.trimEnd());
      },
    ),
  );

// ---------------------------------------------------------------------------------------------------
// The invoice's life on the escrow: propose, co-sign, claim, prove, reveal, status
// ---------------------------------------------------------------------------------------------------

/** The options shared by the tasks that rate a period: the pair, the period, and where our copies are. */
interface RatingArgs {
  partner: string;
  period: string;
  keystore?: string;
  store?: string;
  from?: string;
}

/** Our side of the invoice: fixed by the task, or (`{ as }`) the one claimed direction of the pair (a reveal's). */
type SideChoice = "payer" | "payee" | { as?: string };

/**
 * Our side of the claimed invoice of (`self`, `partner`, `period`): `--as` when given, else the side of the
 * one direction that is claimed (or revealing); both claimed needs `--as`, none is an error that says what to do.
 */
async function claimedSide(
  client: RoamLedgerClient,
  { self, partner, period }: { self: Hex; partner: Hex; period: number },
  as: string | undefined,
): Promise<"payer" | "payee"> {
  if (as !== undefined && as !== "") return sideArg(as, "payer");
  const sides = ["payer", "payee"] as const;
  const statuses = await Promise.all(
    sides.map((side) =>
      escrowInvoiceStatus(client, side === "payer" ? { payer: self, payee: partner, period } : { payer: partner, payee: self, period }),
    ),
  );
  const claimed = sides.filter((_, i) => statuses[i] === "claimed" || statuses[i] === "revealing");
  const pair = `${formatPlmn(self)} and ${formatPlmn(partner)} for ${formatPeriod(period)}`;
  if (claimed.length === 1) return claimed[0];
  if (claimed.length === 2) {
    throw new InputError(`both invoices of ${pair} are claimed: which one to reveal?`, {
      hint: "pass --as payer (the invoice you pay as the home carrier) or --as payee (the one you bill).",
    });
  }
  throw new InputError(`no invoice of ${pair} is claimed: a reveal decides a claim (you pay: ${statuses[0]}; you bill: ${statuses[1]})`, {
    hint: "the payee files a claim on an invoice the payer has not co-signed (invoice:claim), then either carrier may reveal.",
  });
}

/**
 * The signer's member and its inputs to rate one direction (`side` is ours): the pair's key, the full
 * terms and the counted usage from our payload store. The payee closes the ledger's period first when it
 * is closable and not closed yet (anyone may).
 */
async function ratingInputs(hre: HardhatRuntimeEnvironment, args: RatingArgs, choice: SideChoice, permission: number) {
  const partnerPlmn = plmnArg("partner", args.partner);
  const period = parsePeriod(args.period);
  const client = await clientFor(hre, args.from);
  // A suspended carrier keeps its invoices (F5); signing needs a TREASURY key, reading any operator key.
  const self = await defendingMemberOfSigner(client, ROLE_BITS.carrier, permission);
  const partner = await requirePartner(client, self.plmn, partnerPlmn);
  const side =
    typeof choice === "string" ? choice : await claimedSide(client, { self: self.plmn, partner: partner.plmn, period }, choice.as);
  const keystore = keystoreFor(args.keystore);
  const [payer, payee] = side === "payer" ? [self.plmn, partner.plmn] : [partner.plmn, self.plmn];
  if (side === "payee") await closedAccumulator(client, { payer, payee, period });
  const opts = { self: self.plmn, partner: partner.plmn, period, as: side, keystore, store: storeFor(keystore, args.store) };
  const inputs = await readRatingInputs(client, opts);
  return { client, self, partner, ...inputs };
}

/** What a base-unit amount of `token` reads as, with its symbol. */
async function amountText(client: RoamLedgerClient, token: string, units: bigint): Promise<string> {
  const info = await tokenInfo(token, client.runner);
  return `${Amount.fromUnits(info, units).format({ group: true })} ${info.symbol || info.address}`;
}

const addRatingParams = <T extends ReturnType<typeof task>>(t: T, partnerHelp: string): T =>
  t
    .addParam("partner", partnerHelp)
    .addParam("period", "Billing period, YYYY-MM")
    .addOptionalParam("keystore", KEYSTORE_HELP)
    .addOptionalParam("store", STORE_HELP)
    .addOptionalParam("from", FROM_HELP) as T;

addRatingParams(
  task(
    "invoice:propose",
    "Carrier (visited, payee): closes the ledger's period when it can, rates it from your copies of the full terms and payloads, signs the invoice and proposes it to the partner sealed (only the net is public). A new proposal replaces a pending one",
  ),
  "The home carrier that pays, as MCC-MNC",
).setAction(
  action(async (args: RatingArgs, hre) => {
    const { client, partner, key, pairKey, usage, terms } = await ratingInputs(hre, args, "payee", PERMISSION_BITS.treasury);
    const r = await proposeInvoice(client, { key: pairKey, usage, terms });
    const net = await amountText(client, r.draft.invoice.token, r.draft.invoice.net);
    out(`Proposed the invoice of ${partner.text} for ${args.period}: net ${net} (tx ${r.txHash}).`);
    const view = await invoicePublicView(client, key);
    out(
      `  ${partner.text} co-signs it (invoice:cosign); from ${isoTime(view.signWindowEndsAt)} you may file a claim instead (invoice:claim).`,
    );
  }),
);

addRatingParams(
  task(
    "invoice:cosign",
    "Carrier (home, payer): opens the proposed invoice, rates the period from your own copies and co-signs only when both agree (the net is then reserved on your deposit); otherwise lists the differences line by line and signs nothing",
  ),
  "The visited carrier that bills, as MCC-MNC",
).setAction(
  action(async (args: RatingArgs, hre) => {
    const { client, partner, pairKey, usage, terms } = await ratingInputs(hre, args, "payer", PERMISSION_BITS.treasury);
    const r = await cosignInvoice(client, { key: pairKey, usage, terms });
    const net = await amountText(client, r.proposal.invoice.token, r.proposal.invoice.net);
    out(`Co-signed the invoice of ${partner.text} for ${args.period}: ${net} reserved on your deposit (tx ${r.txHash}).`);
    out("  Either carrier settles the period once both directions are closed (escrow:settle).");
  }),
);

task(
  "invoice:claim",
  "Carrier (payee): files a claim on an invoice the payer has not co-signed within the sign window: its net is reserved on the payer, a bond on you. It ends by the payer's co-signature, a proof, or a reveal",
)
  .addParam("partner", "The home carrier that pays, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; period: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const self = await defendingMemberOfSigner(client, ROLE_BITS.carrier, PERMISSION_BITS.treasury);
      const partner = await requirePartner(client, self.plmn, plmnArg("partner", args.partner));
      const r = await fileClaim(client, { payer: partner.plmn, payee: self.plmn, period: parsePeriod(args.period) });
      out(`Claim filed (tx ${r.txHash}): ${r.net} base units reserved on ${partner.text}, bond ${r.bond} on ${self.text}.`);
      out(`  ${partner.text} may still co-sign; otherwise either carrier reveals the period (invoice:reveal), the last resort.`);
    }),
  );

interface ClaimArgs extends RatingArgs {
  verifyOnly: boolean;
  zk?: string;
  out?: string;
}

/**
 * escrow:claim: the proof is built and checked locally first (so nothing is filed for an invoice that cannot
 * be proven); then the claim is filed when the invoice is still proposed, or the proof when the claim's
 * contest window is over.
 */
async function claimByProof(args: ClaimArgs, hre: HardhatRuntimeEnvironment): Promise<void> {
  const { client, partner, usage, terms, pairKey: key } = await ratingInputs(hre, args, "payee", PERMISSION_BITS.treasury);
  const invoiceKey = { payer: usage.home, payee: usage.visited, period: usage.period };
  const status = await escrowInvoiceStatus(client, invoiceKey);
  if (status === "none") {
    throw new InputError(`there is no invoice of ${partner.text} for ${args.period} to claim`, { next: { operation: "invoice:propose" } });
  }
  const chainId = (await providerOf(client.runner).getNetwork()).chainId;
  const kit = await provingKitFor({ dir: args.zk, chainId, onProgress: (line) => console.error(`  ${line}`) });
  const proof = await buildClaimProof(client, { key, usage, terms, kit });
  const net = await amountText(client, terms.terms.settlementToken, proof.net);
  out(`Proof built in ${proof.proveMs} ms and checked locally: the net ${net} is the agreement's rating of the committed totals.`);
  if (args.out)
    writeFileAtomic(
      args.out,
      `${JSON.stringify({ proof: proof.raw, publicSignals: proof.publicSignals, calldata: proof.proof }, null, 2)}\n`,
    );
  if (args.verifyOnly) {
    const accepted = await adjudicatorAccepts(client, { ...invoiceKey, proof });
    out(
      accepted
        ? "  The adjudicator on chain accepts it (a call, nothing sent)."
        : "  The adjudicator on chain does not accept it yet: see zk:verifier:show.",
    );
    return;
  }
  await requireTrustedKey(client, kit);
  if (status === "proposed") {
    const r = await fileClaim(client, invoiceKey);
    const endsAt = await contestWindowEnd(client, { usage });
    out(`Claim filed (tx ${r.txHash}): the net is reserved on ${partner.text}, a bond of ${r.bond} base units on you.`);
    out(
      `  ${partner.text} may co-sign or contest the totals by a reveal until ${isoTime(endsAt)}; then file the proof with the same command.`,
    );
    return;
  }
  const r = await fileClaimProof(client, { key, usage, terms, proof: proof.proof });
  out(`Claim proven (tx ${r.txHash}, gas ${r.gasUsed}): the invoice is closed at ${net}; settle with escrow:settle.`);
}

addRatingParams(
  task(
    "escrow:claim",
    "Carrier (payee): a claim decided by zero-knowledge proof, revealing nothing: builds the proof that the invoice's net is the agreement's rating of its committed totals and checks it locally; files the claim after the payer's sign window, and the proof after the contest window (run it again then). --verify-only sends nothing",
  ),
  "The home carrier that pays, as MCC-MNC",
)
  .addFlag("verifyOnly", "Build the proof, check it locally and with the adjudicator (a call); send nothing")
  .addOptionalParam(
    "zk",
    "The finalized ceremony folder (circuit.wasm, final.zkey, verification_key.json); default ROAMLEDGER_ZK_DIR, else on a development chain the local development ceremony (built once, minutes)",
  )
  .addOptionalParam("out", "Also write the proof (snarkjs JSON, public signals and the calldata) to this file")
  .setAction(action(claimByProof));

/** The warning printed before a reveal, on stderr, whatever the quiet setting. */
const REVEAL_WARNING = [
  "WARNING: a reveal is the LAST RESORT of a claim. It PUBLISHES, for good, to every member of the consortium:",
  "  the agreement's full terms (every rate, tier, fee and SLA term of the pair), every counted batch's totals",
  "  of the period and the full records the payer disputed. Nothing can make them secret again.",
].join("\n");

addRatingParams(
  task(
    "invoice:reveal",
    "Either carrier, LAST RESORT of a claim: opens every counted batch and the terms on chain, which rates them (in transactions under the 16,777,216-gas cap, with progress), then finishes. PUBLISHES the pair's terms, totals and disputed records of the period to every member, for good; needs --publish-pair-data",
  ),
  "The other carrier, as MCC-MNC",
)
  .addOptionalParam(
    "as",
    "payer or payee: your side of the claimed invoice. Default: the side of the one claimed direction of the pair (needed only when both directions are claimed)",
  )
  .addFlag("publishPairData", "Yes, publish the pair's terms and the period's totals and disputed records (required)")
  .setAction(
    action(async (args: RatingArgs & { as?: string; publishPairData: boolean }, hre) => {
      if (!args.publishPairData) {
        throw new InputError(
          "a reveal publishes the pair's full terms, totals and disputed records of the period to every member, for good",
          {
            hint: "co-sign the invoice or prove the claim instead; to reveal all the same, pass --publish-pair-data.",
          },
        );
      }
      console.error(REVEAL_WARNING);
      const { client, usage, terms } = await ratingInputs(hre, args, { as: args.as }, 0);
      const r = await revealClaim(client, { usage, terms, publish: true, progress: cliProgress });
      const token = terms.terms.settlementToken;
      out(
        `Revealed in ${r.txs.length} openBatches transaction(s) and finishReveal (tx ${r.finishTx.hash}): rating ${await amountText(client, token, r.rating.net)}, claim ${r.upheld ? "upheld" : "refuted"}, owed ${await amountText(client, token, r.amount)}.`,
      );
      out(`  gas: openBatches ${r.txs.map((t) => t.gasUsed).join(", ")}; finishReveal ${r.finishTx.gasUsed} (each under 16,777,216).`);
    }),
  );

task("invoice:status", "Anyone (read-only): the public facts of one direction's invoice: status, signed net, final amount, how it closed")
  .addParam("payer", "The home carrier, as MCC-MNC")
  .addParam("payee", "The visited carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { payer: string; payee: string; period: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from, { sends: false });
      const v = await invoicePublicView(client, {
        payer: plmnArg("payer", args.payer),
        payee: plmnArg("payee", args.payee),
        period: parsePeriod(args.period),
      });
      out(`Invoice of ${formatPlmn(v.payer)} to ${formatPlmn(v.payee)} for ${args.period}: ${v.status}`);
      if (v.status === "none") return;
      const money = (units: bigint) => amountText(client, v.token, units);
      out(`  agreement version ${v.agreementVersion}, net ${await money(v.net)} signed by the payee, proposed ${isoTime(v.proposedAt)}`);
      if (v.status === "proposed") out(`  the payer's sign window ends ${isoTime(v.signWindowEndsAt)}`);
      if (v.claimedAt > 0) out(`  claimed ${isoTime(v.claimedAt)}, bond ${await money(v.bond)}`);
      if (v.closedAt > 0) out(`  closed ${isoTime(v.closedAt)} (${v.resolution}): ${await money(v.amount)} owed`);
    }),
  );
