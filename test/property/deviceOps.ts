/**
 * The devices' side of the property sequences (see ops.ts for the shape of a step): a partner flagging the
 * other's fleet (one device or the whole fleet, with old or new evidence, again right after the home dismissed
 * its flags), the home confirming flags, dismissing them, suspending, reinstating, and moving devices to another
 * tariff class (one no agreement prices included). Fraud flags follow DeviceRegistry (THREATS F4): a flag
 * denies the device in the reporter's network only, everywhere once the home confirms it; 200 a day per
 * reporter; after a dismissal or a reinstatement the reporter waits FLAG_COOLDOWN and needs new evidence.
 */
import fc from "fast-check";
import { DEVICE, FLAGS_PER_DAY, type Model } from "./model";
import { activeError, carrierError, signerOf, type Actor, type Ctx, type OpOf, type Step } from "./ops";
import {
  CLASSES,
  confirmFraud,
  DEVICES_PER_HOME,
  dismissFraudFlags,
  flagFraud,
  PARTNERS,
  movePolicies,
  reinstateDevices,
  suspendDevices,
  type Member,
} from "./world";
import type { Hex } from "../../lib/util/hex";

const fleetOf = fc.constantFrom<Member>("de", "br", "de");
/** Which of a fleet's devices (a bitmask, never empty; the whole fleet one time in three). */
const mask = fc.oneof(fc.integer({ min: 1, max: (1 << DEVICES_PER_HOME) - 1 }), fc.constant((1 << DEVICES_PER_HOME) - 1));
/** Mostly the fleet's home, sometimes a partner, the third carrier or no member. */
const homeSide = (fleet: Member) => fc.constantFrom<Actor>(fleet, fleet, fleet, fleet === "de" ? "br" : "de", "us", "outsider");
/** Mostly a partner of the fleet's home (who flags), sometimes the home itself or no member. */
const reporterOf = (fleet: Member) => fc.constantFrom<Actor>(...PARTNERS[fleet], ...PARTNERS[fleet], fleet, "outsider");
/** An op on a fleet: its generator given the fleet. */
const onFleet = <T>(make: (fleet: Member) => fc.Arbitrary<T>) => fleetOf.chain(make);

export const deviceKinds = {
  flag: onFleet((fleet) =>
    fc.record({ k: fc.constant("flag" as const), fleet: fc.constant(fleet), mask, by: reporterOf(fleet), evidence: fc.nat({ max: 3 }) }),
  ),
  reinstate: onFleet((fleet) => fc.record({ k: fc.constant("reinstate" as const), fleet: fc.constant(fleet), mask, by: homeSide(fleet) })),
  confirm: onFleet((fleet) => fc.record({ k: fc.constant("confirm" as const), fleet: fc.constant(fleet), mask, by: homeSide(fleet) })),
  dismiss: onFleet((fleet) =>
    fc.record({
      k: fc.constant("dismiss" as const),
      fleet: fc.constant(fleet),
      mask,
      reporter: fc.constantFrom<Member>(...PARTNERS[fleet], fleet),
      by: homeSide(fleet),
    }),
  ),
  suspendDevices: onFleet((fleet) =>
    fc.record({ k: fc.constant("suspendDevices" as const), fleet: fc.constant(fleet), mask, by: homeSide(fleet) }),
  ),
  reclass: onFleet((fleet) =>
    fc.record({
      k: fc.constant("reclass" as const),
      fleet: fc.constant(fleet),
      mask,
      cls: fc.constantFrom(...CLASSES, 3),
      by: homeSide(fleet),
    }),
  ),
};

const FULL = (1 << DEVICES_PER_HOME) - 1;

/** The devices of `fleet` the mask picks, in order. */
function idsOf(c: Ctx, fleet: Member, m: number): Hex[] {
  return c.w.fleet[fleet].filter((_, k) => (m >> k) & 1);
}

/** With the full mask, the devices of `fleet` that `fits` picks when there are any (an op the state allows); else the mask's. */
function fittingIds(c: Ctx, fleet: Member, m: number, fits: (id: Hex) => boolean): Hex[] {
  const fitting = c.w.fleet[fleet].filter(fits);
  return m === FULL && fitting.length > 0 ? fitting : idsOf(c, fleet, m);
}

/**
 * Why a home-only call on `ids` by `by` is refused, device by device (the contract's order), if it is; `active`:
 * the call needs an active member (a suspended one keeps only its defences: suspending and confirming).
 */
function homeError(
  m: Model,
  by: Actor,
  ids: Hex[],
  opts: { active: boolean; ok: (id: Hex, s: number) => string | undefined },
): string | undefined {
  const refused = opts.active ? activeError(m, by) : carrierError(m, by);
  if (refused) return refused;
  for (const id of ids) {
    const d = m.devices.get(id)!;
    if (d.home !== by) return "DeviceRegistryNotHome";
    const wrong = opts.ok(id, d.status);
    if (wrong) return wrong;
  }
  return undefined;
}

const wrongUnless = (ok: boolean) => (ok ? undefined : "DeviceRegistryWrongStatus");

function setStatus(c: Ctx, ids: Hex[], status: number): void {
  for (const id of ids) c.m.devices.get(id)!.status = status;
}

/**
 * `flagFraud` on a copy of the devices' flags, the contract's order: the reporter's agreement with the home,
 * then each flag (evidence used already: a no-op on a standing flag, refused on a dismissed or cleared one; the
 * cooldown after a dismissal or a reinstatement), then the day's quota. The error, or the update to commit.
 */
function planFlags(c: Ctx, reporter: Member, home: Member, ids: Hex[], evidence: string): { error?: string; commit?: () => void } {
  const { m, t } = c;
  if (!m.agreed(home, reporter, t)) return { error: "DeviceRegistryNoAgreement" };
  const raised: Hex[] = [];
  for (const id of ids) {
    const key = `${reporter}:${evidence}`;
    const standing = m.flaggedBy(id, reporter);
    if (m.devices.get(id)!.evidence.has(key)) {
      if (!standing) return { error: "DeviceRegistryEvidenceUsed" };
      continue;
    }
    if (!standing && t < m.cooldownUntil(id, reporter)) return { error: "DeviceRegistryFlagCooldown" };
    raised.push(id);
  }
  const day = Math.floor(t / 86_400);
  const q = m.quotas[reporter];
  const used = q && q.day === day ? q.used : 0;
  if (used + raised.length > FLAGS_PER_DAY) return { error: "DeviceRegistryFlagQuota" };
  return {
    commit: () => {
      m.quotas[reporter] = { day, used: used + raised.length };
      for (const id of raised) {
        const d = m.devices.get(id)!;
        const standing = m.flaggedBy(id, reporter);
        d.evidence.add(`${reporter}:${evidence}`);
        if (!standing) d.flags[reporter] = { ...(d.flags[reporter] ?? { dismissedAt: 0 }), flaggedAt: t, epoch: d.epoch };
      }
    },
  };
}

function flagStep(c: Ctx, o: OpOf<"flag">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  const refused = activeError(c.m, o.by);
  const plan = refused ? { error: refused } : planFlags(c, o.by as Member, o.fleet, ids, String(o.evidence));
  return {
    expected: plan.error,
    send: () => flagFraud(c.w, signerOf(c.w, o.by), ids, o.evidence),
    apply: () => plan.commit?.(),
  };
}

/** A reinstatement clears every standing flag on the device (a new epoch) and starts the reporters' cooldown. */
function reinstateStep(c: Ctx, o: OpOf<"reinstate">): Step {
  const ids = fittingIds(c, o.fleet, o.mask, (id) => c.m.devices.get(id)!.status !== DEVICE.Active);
  return {
    expected: homeError(c.m, o.by, ids, { active: true, ok: (_, s) => wrongUnless(s !== DEVICE.Active) }),
    send: () => reinstateDevices(c.w, signerOf(c.w, o.by), ids),
    apply: () => {
      setStatus(c, ids, DEVICE.Active);
      for (const id of ids) Object.assign(c.m.devices.get(id)!, { epoch: c.m.devices.get(id)!.epoch + 1, clearedAt: c.t });
    },
  };
}

function suspendStep(c: Ctx, o: OpOf<"suspendDevices">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  return {
    expected: homeError(c.m, o.by, ids, { active: false, ok: (_, s) => wrongUnless(s === DEVICE.Active) }),
    send: () => suspendDevices(c.w, signerOf(c.w, o.by), ids),
    apply: () => setStatus(c, ids, DEVICE.Suspended),
  };
}

/** The home confirms: the devices are refused on every network. */
function confirmStep(c: Ctx, o: OpOf<"confirm">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  return {
    expected: homeError(c.m, o.by, ids, { active: false, ok: (_, s) => wrongUnless(s !== DEVICE.FraudFlagged) }),
    send: () => confirmFraud(c.w, signerOf(c.w, o.by), ids),
    apply: () => setStatus(c, ids, DEVICE.FraudFlagged),
  };
}

/** The home dismisses `reporter`'s standing flags: that reporter's cooldown starts. */
function dismissStep(c: Ctx, o: OpOf<"dismiss">): Step {
  // A reporter that is no partner of the fleet's home (nor the home) stands for the home's first partner.
  const reporter = PARTNERS[o.fleet].includes(o.reporter) || o.reporter === o.fleet ? o.reporter : PARTNERS[o.fleet][0];
  const ids = fittingIds(c, o.fleet, o.mask, (id) => c.m.flaggedBy(id, reporter));
  const notFlagged = (id: Hex) => (c.m.flaggedBy(id, reporter) ? undefined : "DeviceRegistryNotFlagged");
  return {
    expected: homeError(c.m, o.by, ids, { active: true, ok: notFlagged }),
    send: () => dismissFraudFlags(c.w, signerOf(c.w, o.by), ids, reporter),
    apply: () => {
      for (const id of ids) {
        const d = c.m.devices.get(id)!;
        d.flags[reporter] = { ...d.flags[reporter]!, flaggedAt: 0, dismissedAt: c.t };
      }
    },
  };
}

/** The home moves devices to its policy of class `cls`: a new policy version each (not to the one in force). */
function reclassStep(c: Ctx, o: OpOf<"reclass">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  const refused = activeError(c.m, o.by);
  const notOwned = refused ?? (o.by !== o.fleet ? "DeviceRegistryPolicyNotOwned" : undefined);
  const same = ids.some((id) => c.m.devices.get(id)!.tariffClass === o.cls) ? "DeviceRegistrySamePolicy" : undefined;
  return {
    expected: notOwned ?? same,
    send: () => movePolicies(c.w, signerOf(c.w, o.by), ids, o.fleet, o.cls),
    apply: () => {
      for (const id of ids) {
        const d = c.m.devices.get(id)!;
        d.tariffClass = o.cls;
        d.policyVersion++;
      }
    },
  };
}

/** The step of a device op, or undefined for another kind. */
export function deviceSteps(c: Ctx, o: { k: string }): Step | undefined {
  switch (o.k) {
    case "flag":
      return flagStep(c, o as OpOf<"flag">);
    case "reinstate":
      return reinstateStep(c, o as OpOf<"reinstate">);
    case "suspendDevices":
      return suspendStep(c, o as OpOf<"suspendDevices">);
    case "reclass":
      return reclassStep(c, o as OpOf<"reclass">);
    case "confirm":
      return confirmStep(c, o as OpOf<"confirm">);
    case "dismiss":
      return dismissStep(c, o as OpOf<"dismiss">);
    default:
      return undefined;
  }
}
