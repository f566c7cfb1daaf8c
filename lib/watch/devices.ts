/** Device registry events as the watcher shows them: fraud flags, confirmations and dismissals, suspensions, reinstatements. */
import { BILLING } from "../core/enums";
import { formatPlmn } from "../core/plmn";
import { lower, roleOf, short, type WatchContext, type WatchHandler, type WatchRole } from "./types";

const billingName = (code: number) => BILLING[code] ?? `reason ${code}`;

/** The watcher's role for a device event: by PLMN, else its maker's (when it follows its devices). */
async function deviceRole(ctx: WatchContext, id: string, candidates: [WatchRole, unknown][]): Promise<WatchRole | undefined> {
  const direct = roleOf({ ...ctx, observer: false }, candidates);
  if (direct) return direct;
  if (ctx.maker && (await ctx.makerOf(id)) === ctx.self) return "maker";
  return ctx.observer ? "observer" : undefined;
}

export const DEVICE_HANDLERS: Record<string, WatchHandler> = {
  async FraudFlagged(log, ctx) {
    const [id, home, reporter, reason, evidence] = log.args;
    const as = await deviceRole(ctx, id, [
      ["home", home],
      ["visited", reporter],
    ]);
    if (!as) return undefined;
    return {
      kind: "fraud-flag",
      as,
      text: `FRAUD device ${short(id)} of ${formatPlmn(lower(home))} flagged by ${formatPlmn(lower(reporter))}: ${billingName(Number(reason))} (evidence ${short(evidence)})`,
      data: {
        deviceId: id,
        home: formatPlmn(lower(home)),
        reporter: formatPlmn(lower(reporter)),
        reason: billingName(Number(reason)),
        evidenceHash: evidence,
      },
    };
  },
  async FraudConfirmed(log, ctx) {
    const [id, home] = log.args;
    const as = await deviceRole(ctx, id, [["home", home]]);
    if (!as) return undefined;
    return {
      kind: "fraud-confirmed",
      as,
      text: `FRAUD CONFIRMED device ${short(id)} by its home ${formatPlmn(lower(home))}: refused on every network`,
      data: { deviceId: id, home: formatPlmn(lower(home)) },
    };
  },
  async FraudFlagDismissed(log, ctx) {
    const [id, home, reporter] = log.args;
    const as = await deviceRole(ctx, id, [
      ["home", home],
      ["visited", reporter],
    ]);
    if (!as) return undefined;
    return {
      kind: "fraud-flag-dismissed",
      as,
      text: `DISMISSED ${formatPlmn(lower(reporter))}'s fraud flag on device ${short(id)} of ${formatPlmn(lower(home))} (no new flag for 7 days)`,
      data: { deviceId: id, home: formatPlmn(lower(home)), reporter: formatPlmn(lower(reporter)) },
    };
  },
  async DeviceSuspended(log, ctx) {
    const [id, home, reason] = log.args;
    const as = await deviceRole(ctx, id, [["home", home]]);
    if (!as) return undefined;
    return {
      kind: "device-suspended",
      as,
      text: `SUSPENDED device ${short(id)} by ${formatPlmn(lower(home))} (reason ${reason})`,
      data: { deviceId: id, home: formatPlmn(lower(home)), reason: Number(reason) },
    };
  },
  async DeviceReinstated(log, ctx) {
    const [id, home] = log.args;
    const as = await deviceRole(ctx, id, [["home", home]]);
    if (!as) return undefined;
    return {
      kind: "device-reinstated",
      as,
      text: `REINSTATED device ${short(id)} by ${formatPlmn(lower(home))}`,
      data: { deviceId: id, home: formatPlmn(lower(home)) },
    };
  },
};
