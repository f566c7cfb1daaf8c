import path from "node:path";
import { task } from "hardhat/config";
import { action, clientFor, keystoreFor, memberOfSigner, out } from "./common";
import { cliProgress } from "./cli/progress";
import { ROLE_BITS } from "../lib/core/enums";
import { isoTime } from "../lib/agreements/terms";
import { missingSources } from "../lib/invoice/inputs";
import { cosignInvoice, invoicePublicView, proposeInvoice, versionInForce } from "../lib/settlement/invoices";
import { fileClaim, proveClaim, revealClaim } from "../lib/settlement/claims";
import { FROM_HELP, plmnArg, accountMember, formatArg, fromBlockArg, sideArg } from "./cli/args";
import { InputError } from "../lib/core/errors";
import { writeFileAtomic } from "../lib/util/fsAtomic";
import { formatPlmn } from "../lib/core/plmn";
import { parsePeriod } from "../lib/core/period";
import { pairKeyWith, storeFor } from "../lib/usage/pair";
import { requireMember, requirePartner } from "../lib/settlement/escrow";
import { readInvoiceData } from "../lib/invoice/chain";
import { buildInvoiceModel } from "../lib/invoice/model";
import { invoiceToCsv, invoiceToJson } from "../lib/invoice/render";
import { renderInvoicePdf } from "../lib/invoice/pdf";
import { buildReport, reportToCsv, reportToJson, reportToText } from "../lib/settlement/report";
import type { Hex } from "../lib/util/hex";
import type { RoamLedgerClient } from "../lib/chain/client";

const KEYSTORE_HELP =
  "Key store with your encryption key and your copies of the full terms (default $ROAMLEDGER_HOME or ./.roamledger): opens the pair's payloads and terms, which every figure is rated from";
const STORE_HELP = "Payload store folder (default $ROAMLEDGER_STORE or <key store>/store)";

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

task(
  "invoice",
  "Either carrier (read-only): renders the invoice of one direction of a period as JSON, CSV or PDF: on-chain amounts (checked against lib/settlement/rating.ts), line items per tariff class, SLA credit, disputes, usage not billed, and the batches and transactions behind every line",
)
  .addParam("partner", "The other carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("format", "json, csv or pdf (default pdf)")
  .addOptionalParam("out", "File to write (default: stdout for json and csv, <invoice number>.pdf for pdf)")
  .addOptionalParam("as", "payee: the invoice you bill the partner as visited carrier (default); payer: the one you pay as home carrier")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("store", STORE_HELP)
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
          fromBlock?: string;
          from?: string;
        },
        hre,
      ) => {
        const partnerPlmn = plmnArg("partner", args.partner);
        const period = parsePeriod(args.period);
        const format = formatArg(args.format, ["json", "csv", "pdf"] as const, "pdf");
        const side = sideArg(args.as, "payee");
        const fromBlock = fromBlockArg(args.fromBlock);
        const client = await clientFor(hre, args.from, { sends: false });
        const self = await selfOf(client);
        const partner = await requirePartner(client, self, partnerPlmn);
        const keystore = keystoreFor(args.keystore);
        const data = await readInvoiceData(client, {
          self,
          partner: partner.plmn,
          period,
          as: side,
          keystore,
          store: storeFor(keystore, args.store),
          fromBlock,
        });
        const model = buildInvoiceModel(data);
        const summary = `Invoice ${model.invoiceNumber} (${model.payee.plmnText} to ${model.payer.plmnText}, ${model.period.text}): net ${model.net.text} ${model.token.symbol}, ${model.status.state}`;
        if (format === "pdf") {
          const file = args.out || `${model.invoiceNumber}.pdf`;
          writeFileAtomic(file, await renderInvoicePdf(model));
          out(`${summary}; written to ${path.resolve(file)}`);
          return;
        }
        const text = format === "json" ? invoiceToJson(model) : invoiceToCsv(model);
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

const SOURCES_MISSING = "lib/usage countedPeriod (the period's counted usage) and lib/agreements agreementTerms (the full terms)";

/** The pair, the period and the inputs a rating needs, for one direction (`side` is ours). */
async function ratingInputs(
  hre: Parameters<Parameters<typeof action>[0]>[1],
  args: { partner: string; period: string; keystore?: string; from?: string },
  side: "payer" | "payee",
) {
  const partnerPlmn = plmnArg("partner", args.partner);
  const period = parsePeriod(args.period);
  const client = await clientFor(hre, args.from);
  const self = await memberOfSigner(client, ROLE_BITS.carrier);
  const partner = await requirePartner(client, self.plmn, partnerPlmn);
  const [payer, payee] = side === "payer" ? [self.plmn, partner.plmn] : [partner.plmn, self.plmn];
  const key = await pairKeyWith(client, { keystore: keystoreFor(args.keystore), self: self.plmn, partner: partner.plmn });
  const sources = missingSources(SOURCES_MISSING);
  const inForce = await versionInForce(client, { payer, payee, period });
  const usage = await sources.periodUsage({ home: payer, visited: payee, period });
  const terms = await sources.fullTerms(inForce.version);
  return { client, key, usage, terms, payer, payee, period };
}

task(
  "invoice:propose",
  "Carrier (visited, payee): rates the closed period from your copies of the terms and payloads, signs the invoice and proposes it to the partner, sealed (only the net is public)",
)
  .addParam("partner", "The home carrier that pays, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; period: string; keystore?: string; from?: string }, hre) => {
      const { client, key, usage, terms } = await ratingInputs(hre, args, "payee");
      const r = await proposeInvoice(client, { key, usage, terms });
      out(`Proposed the invoice of ${formatPlmn(usage.home)} for ${args.period}: net ${r.draft.invoice.net} base units (tx ${r.txHash}).`);
      out(`  The payer co-signs it, or after the sign window you may file a claim (invoice:claim).`);
    }),
  );

task(
  "invoice:cosign",
  "Carrier (home, payer): opens the proposed invoice, rates the period from your own copies and co-signs only when both agree; otherwise shows the differences and signs nothing",
)
  .addParam("partner", "The visited carrier that bills, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; period: string; keystore?: string; from?: string }, hre) => {
      const { client, key, usage, terms } = await ratingInputs(hre, args, "payer");
      const r = await cosignInvoice(client, { key, usage, terms });
      out(
        `Co-signed the invoice of ${formatPlmn(usage.visited)} for ${args.period}: ${r.proposal.invoice.net} base units reserved (tx ${r.txHash}).`,
      );
    }),
  );

task(
  "invoice:claim",
  "Carrier (payee): files a claim on an invoice the payer has not co-signed within the sign window (bonds part of the net)",
)
  .addParam("partner", "The home carrier that pays, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; period: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ROLE_BITS.carrier);
      const payer = plmnArg("partner", args.partner);
      const r = await fileClaim(client, { payer, payee: self.plmn, period: parsePeriod(args.period) });
      out(`Claim filed (tx ${r.txHash}): ${r.net} base units reserved on ${formatPlmn(payer)}, bond ${r.bond} on ${self.text}.`);
    }),
  );

task("invoice:prove", "Either carrier: ends a claim with the adjudicator's proof that the net is the rating of the committed totals")
  .addParam("payer", "The home carrier, as MCC-MNC")
  .addParam("payee", "The visited carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addParam("proof", "The proof, 0x-hex")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { payer: string; payee: string; period: string; proof: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const key = { payer: plmnArg("payer", args.payer), payee: plmnArg("payee", args.payee), period: parsePeriod(args.period) };
      const r = await proveClaim(client, { ...key, proof: args.proof as Hex });
      out(`Claim proven (tx ${r.txHash}).`);
    }),
  );

task(
  "invoice:reveal",
  "Either carrier, LAST RESORT of a claim: opens every counted batch and the terms on chain, which rates them. PUBLISHES the pair's terms, totals and disputed records of the period to every member, for good; needs --publish",
)
  .addParam("partner", "The other carrier, as MCC-MNC")
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("as", "payer (default) or payee: your side of the claimed invoice")
  .addFlag("publish", "Yes, publish the pair's terms and the period's totals (required)")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; period: string; as?: string; publish: boolean; keystore?: string; from?: string }, hre) => {
      const { client, usage, terms } = await ratingInputs(hre, args, sideArg(args.as, "payer"));
      console.error("WARNING: a reveal publishes this pair's terms, totals and disputed records of the period, for good.");
      const r = await revealClaim(client, { usage, terms, publish: args.publish, progress: cliProgress });
      out(
        `Revealed in ${r.txs.length + 1} transaction(s): rating ${r.rating.net}, claim ${r.upheld ? "upheld" : "refuted"}, owed ${r.amount}.`,
      );
    }),
  );

task("invoice:status", "Anyone (read-only): the public facts of one direction's invoice: status, claimed net, final amount, how it closed")
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
      out(`  agreement version ${v.agreementVersion}, token ${v.token}, net ${v.net}, proposed ${isoTime(v.proposedAt)}`);
      if (v.status === "proposed") out(`  the payer's sign window ends ${isoTime(v.signWindowEndsAt)}`);
      if (v.claimedAt > 0) out(`  claimed ${isoTime(v.claimedAt)}, bond ${v.bond}`);
      if (v.closedAt > 0) out(`  closed ${isoTime(v.closedAt)} (${v.resolution}): ${v.amount} owed`);
    }),
  );
