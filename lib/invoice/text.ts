/** An invoice's quantities as a person reads them (amounts print themselves: lib/core/amount). */
import { formatCount } from "../core/amount";
import { BYTES_PER_MB } from "../settlement/rating";
import type { LineItem } from "./types";

/** Bytes as MB (10^6 bytes), exact, without trailing zeros: 1,500,000 -> "1.5". */
export function bytesAsMb(bytes: bigint): string {
  const whole = formatCount(bytes / BYTES_PER_MB);
  const fraction = (bytes % BYTES_PER_MB).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}

/** A line's quantity: MB for data, seconds for voice, else the count. */
export function displayQuantity(line: Pick<LineItem, "chargeType" | "quantity">): string {
  if (line.chargeType === "data") return `${bytesAsMb(line.quantity)} MB`;
  if (line.chargeType === "voice") return `${formatCount(line.quantity)} s`;
  return formatCount(line.quantity);
}

/** Basis points as a percentage text: 2000 -> "20 %", 125 -> "1.25 %". */
export function displayBps(bps: number): string {
  const whole = Math.floor(bps / 100);
  const rest = bps % 100;
  return `${whole}${rest ? `.${String(rest).padStart(2, "0").replace(/0$/, "")}` : ""} %`;
}
