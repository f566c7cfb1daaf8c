/**
 * The devices' side of the property sequences (see ops.ts for the shape of a step): a partner flagging the
 * other's fleet (one device or the whole fleet, again right after a reinstatement), the home suspending,
 * reinstating, and moving devices to another tariff class (one no agreement prices included).
 */
import fc from "fast-check";
import { DEVICE, type Model } from "./model";
import { carrierError, signerOf, type Actor, type Ctx, type OpOf, type Step } from "./ops";
import { CLASSES, DEVICES_PER_HOME, flagFraud, movePolicies, reinstateDevices, suspendDevices, type Member } from "./world";
import type { Hex } from "../../lib/util/hex";

const fleetOf = fc.constantFrom<Member>("de", "br", "de");
/** Which of a fleet's devices (a bitmask, never empty; the whole fleet one time in three). */
const mask = fc.oneof(fc.integer({ min: 1, max: (1 << DEVICES_PER_HOME) - 1 }), fc.constant((1 << DEVICES_PER_HOME) - 1));
/** Mostly the fleet's home, sometimes a partner, the third carrier or no member. */
const homeSide = fc.constantFrom<Actor>("de", "de", "br", "us", "outsider");
/** Mostly a partner of the fleet's home: who flags. */
const reporter = fc.constantFrom<Actor>("br", "us", "br", "us", "de", "outsider");

export const deviceKinds = {
  flag: fc.record({ k: fc.constant("flag" as const), fleet: fleetOf, mask, by: reporter, evidence: fc.nat({ max: 3 }) }),
  reinstate: fc.record({ k: fc.constant("reinstate" as const), fleet: fleetOf, mask, by: homeSide }),
  suspendDevices: fc.record({ k: fc.constant("suspendDevices" as const), fleet: fleetOf, mask, by: homeSide }),
  reclass: fc.record({
    k: fc.constant("reclass" as const),
    fleet: fleetOf,
    mask,
    cls: fc.constantFrom(...CLASSES, 3),
    by: homeSide,
  }),
};

/** The devices of `fleet` the mask picks, in order. */
function idsOf(c: Ctx, fleet: Member, m: number): Hex[] {
  return c.w.fleet[fleet].filter((_, k) => (m >> k) & 1);
}

/** Why a home-only call on `ids` by `by` is refused, device by device (the contract's order), if it is. */
function homeError(m: Model, by: Actor, ids: Hex[], statusOk: (s: number) => boolean): string | undefined {
  const refused = carrierError(m, by);
  if (refused) return refused;
  for (const id of ids) {
    const d = m.devices.get(id)!;
    if (d.home !== by) return "DeviceRegistryNotHome";
    if (!statusOk(d.status)) return "DeviceRegistryWrongStatus";
  }
  return undefined;
}

function setStatus(c: Ctx, ids: Hex[], status: number): void {
  for (const id of ids) c.m.devices.get(id)!.status = status;
}

function flagStep(c: Ctx, o: OpOf<"flag">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  const refused = carrierError(c.m, o.by);
  // A carrier flags only the devices of a home it holds an agreement with (never its own).
  const expected = refused ?? (c.m.agreed(o.fleet, o.by as Member, c.t) ? undefined : "DeviceRegistryNoAgreement");
  return {
    expected,
    send: () => flagFraud(c.w, signerOf(c.w, o.by), ids, o.evidence),
    apply: () => setStatus(c, ids, DEVICE.FraudFlagged),
  };
}

function reinstateStep(c: Ctx, o: OpOf<"reinstate">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  return {
    expected: homeError(c.m, o.by, ids, (s) => s !== DEVICE.Active),
    send: () => reinstateDevices(c.w, signerOf(c.w, o.by), ids),
    apply: () => setStatus(c, ids, DEVICE.Active),
  };
}

function suspendStep(c: Ctx, o: OpOf<"suspendDevices">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  return {
    expected: homeError(c.m, o.by, ids, (s) => s === DEVICE.Active),
    send: () => suspendDevices(c.w, signerOf(c.w, o.by), ids),
    apply: () => setStatus(c, ids, DEVICE.Suspended),
  };
}

/** The home moves devices to its policy of class `cls`: a new policy version each (not to the one in force). */
function reclassStep(c: Ctx, o: OpOf<"reclass">): Step {
  const ids = idsOf(c, o.fleet, o.mask);
  const refused = carrierError(c.m, o.by);
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
    default:
      return undefined;
  }
}
