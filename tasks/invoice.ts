import path from "node:path";
import { task } from "hardhat/config";
import { action, clientFor, keystoreFor, out } from "./common";
import { FROM_HELP, plmnArg, accountMember, formatArg, fromBlockArg, sideArg } from "./cli/args";
import { InputError } from "../lib/core/errors";
import { writeFileAtomic } from "../lib/util/fsAtomic";
import { formatPlmn } from "../lib/core/plmn";
import { parsePeriod } from "../lib/core/period";
import { pairKeyWith, storeFor } from "../lib/usage/pair";
import { requireMember, requirePartner } from "../lib/settlement/escrow";
import { readInvoiceData, type ReadInvoiceOptions } from "../lib/invoice/chain";
import { buildInvoiceModel } from "../lib/invoice/model";
import { invoiceToCsv, invoiceToJson } from "../lib/invoice/render";
import { renderInvoicePdf } from "../lib/invoice/pdf";
import { buildReport, reportToCsv, reportToJson, reportToText } from "../lib/settlement/report";
import type { Hex } from "../lib/util/hex";
import type { RoamLedgerClient } from "../lib/chain/client";

const KEYSTORE_HELP =
  "Key store with your encryption key (default $ROAMLEDGER_HOME or ./.roamledger): decrypts the payloads to count usage not billable";
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

/** The payload key and store when the key store holds our encryption key, else why not. */
async function payloadsFor(
  client: RoamLedgerClient,
  { self, partner, keystore, store }: { self: Hex; partner: Hex; keystore?: string; store?: string },
): Promise<ReadInvoiceOptions["payloads"]> {
  const ks = keystoreFor(keystore);
  if (!ks.hasEncryptionKey(formatPlmn(self))) {
    return {
      unavailable: `the key store ${ks.root} has no encryption key of ${formatPlmn(self)} (pass --keystore to decrypt the payloads)`,
    };
  }
  try {
    return { key: await pairKeyWith(client, { keystore: ks, self, partner }), store: storeFor(ks, store) };
  } catch (err) {
    return { unavailable: (err as Error).message.split("\n")[0] };
  }
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
        const [payer, payee] = side === "payee" ? [partner.plmn, self] : [self, partner.plmn];
        const data = await readInvoiceData(client, {
          payer,
          payee,
          period,
          perspective: side,
          payloads: await payloadsFor(client, { self, partner: partner.plmn, keystore: args.keystore, store: args.store }),
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
  "Either carrier (read-only): the period's accounting overview: per partner what you owe and are owed (closed invoices, or a preview of the usage submitted so far), settled or open, disputes still possible, deposits and debts",
)
  .addParam("period", "Billing period, YYYY-MM")
  .addOptionalParam("format", "text, json or csv (default text)")
  .addOptionalParam("out", "File to write (default: stdout)")
  .addOptionalParam("member", "The carrier to report on, as MCC-MNC (default: the member of the --from account)")
  .addOptionalParam("fromBlock", "First block to search for events (default 0)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { period: string; format?: string; out?: string; member?: string; fromBlock?: string; from?: string }, hre) => {
      const period = parsePeriod(args.period);
      const format = formatArg(args.format, ["text", "json", "csv"] as const, "text");
      const fromBlock = fromBlockArg(args.fromBlock);
      const client = await clientFor(hre, args.from, { sends: false });
      const self = args.member ? plmnArg("member", args.member) : await selfOf(client);
      await requireMember(client, { plmn: self, param: "member" });
      const report = await buildReport(client, { self, period, fromBlock });
      const text = format === "json" ? reportToJson(report) : format === "csv" ? reportToCsv(report) : reportToText(report);
      if (args.out) {
        writeFileAtomic(args.out, text);
        out(`Report of ${formatPlmn(self)} for ${args.period} written to ${path.resolve(args.out)}`);
      } else out(text.trimEnd());
    }),
  );
