// Resolving load balancer host names before computing records (thin I/O). KubeFed resolved them
// with Go's net.LookupHost (the system resolver) and published the addresses as A records; this does
// the same through the system resolver, so serviceDnsEndpoints can stay pure.

import { lookup as dnsLookup } from 'node:dns/promises';

/** Addresses of a host name; rejects when it cannot be resolved. */
export type HostLookup = (hostname: string) => Promise<string[]>;

export const systemLookup: HostLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export interface ResolvedHosts {
  resolved: Map<string, string[]>;
  failed: { hostname: string; error: string }[];
}

/** Resolves every host name (in parallel); failures are listed, not thrown. */
export async function resolveHostnames(
  hostnames: readonly string[],
  lookup: HostLookup = systemLookup,
): Promise<ResolvedHosts> {
  const resolved = new Map<string, string[]>();
  const failed: ResolvedHosts['failed'] = [];
  await Promise.all(
    [...new Set(hostnames)].map(async (h) => {
      try {
        const addrs = [...new Set(await lookup(h))].sort();
        if (addrs.length === 0) failed.push({ hostname: h, error: 'no addresses' });
        else resolved.set(h, addrs);
      } catch (e) {
        failed.push({ hostname: h, error: (e as Error).message });
      }
    }),
  );
  failed.sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  return { resolved, failed };
}
