import { createDeviceIdDeriver } from "../core/imsi";
import { formatPlmn, plmnMcc, plmnMnc } from "../core/plmn";
import { hexToBytes } from "../util/hex";
import type { DecisionCache } from "./cache";
import { plmnHex } from "./chainSync";

/** IMSIs whose device id is kept (HMAC + keccak cost microseconds; a core network asks again and again). */
const ID_CACHE_LIMIT = 200_000;

/** Where an IMSI led: its home and device slot (-1: no such device), or why it has no home the service knows. */
export type ImsiLookup = { home: number; slot: number } | { home: undefined; why: string };

/**
 * Maps IMSIs to device slots with the home carriers' shared IMSI keys: the IMSI's MCC+MNC names the home
 * (both a 2- and a 3-digit MNC are tried, or the `home` the caller names), the key derives the device id.
 */
export class ImsiResolver {
  private derivers = new Map<number, { key: Uint8Array; derive: (imsi: string) => string; prefix: string }>();
  private ids = new Map<string, Uint8Array>();

  constructor(private readonly keys: () => Map<number, Uint8Array>) {}

  resolve(cache: DecisionCache, imsi: string, home?: number): ImsiLookup {
    this.refresh();
    const candidates: number[] = [];
    if (home !== undefined) {
      const deriver = this.derivers.get(home);
      if (!deriver) return { home: undefined, why: `${formatPlmn(plmnHex(home))} has not shared its IMSI key with this network` };
      if (!imsi.startsWith(deriver.prefix))
        return { home: undefined, why: `the IMSI does not start with the MCC and MNC of ${formatPlmn(plmnHex(home))}` };
      candidates.push(home);
    } else {
      for (const [h, d] of this.derivers) if (imsi.startsWith(d.prefix)) candidates.push(h);
      if (candidates.length === 0)
        return { home: undefined, why: "no home carrier that shared its IMSI key with this network has this IMSI's MCC and MNC" };
    }
    for (const h of candidates) {
      const slot = cache.devices.find(this.idOf(h, imsi));
      if (slot >= 0 && cache.devices.home[slot] === h) return { home: h, slot };
    }
    return { home: candidates[0], slot: -1 };
  }

  private idOf(home: number, imsi: string): Uint8Array {
    const cacheKey = `${home}:${imsi}`;
    let id = this.ids.get(cacheKey);
    if (id === undefined) {
      const deriver = this.derivers.get(home);
      if (!deriver) throw new Error(`no IMSI key of home ${home}`);
      id = hexToBytes(deriver.derive(imsi), { byteLength: 32 });
      if (this.ids.size >= ID_CACHE_LIMIT) this.ids.clear();
      this.ids.set(cacheKey, id);
    }
    return id;
  }

  /** Picks up keys shared (or shared again) since the last call. */
  private refresh(): void {
    for (const [home, key] of this.keys()) {
      if (this.derivers.get(home)?.key === key) continue;
      const text = formatPlmn(plmnHex(home));
      this.derivers.set(home, { key, derive: createDeviceIdDeriver(key, text), prefix: plmnMcc(text) + plmnMnc(text) });
      for (const k of [...this.ids.keys()]) if (k.startsWith(`${home}:`)) this.ids.delete(k);
    }
  }
}
