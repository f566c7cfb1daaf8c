import http from "node:http";
import type { AddressInfo } from "node:net";

/** A local receiver that answers `status(n)` to its n-th request (from 1), recording what it got. */
export async function receiver(status: (n: number, body: Record<string, unknown>) => number) {
  const got: { body: Record<string, unknown>; key: string | undefined; at: number }[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      n++;
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      got.push({ body, key: req.headers["idempotency-key"] as string, at: Date.now() });
      res.statusCode = status(n, body);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  return { url, got, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
