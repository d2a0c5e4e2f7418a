import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

interface RawCluster {
  name: string;
  cluster: Record<string, unknown> & { server: string };
}

/**
 * Writes a copy of `source` in which cluster `name` is reached at `server`, its certificate checked
 * for `tlsServerName` (a name the serving certificate carries). Returns `target`.
 */
export function kubeconfigWithServer(
  source: string,
  target: string,
  name: string,
  server: string,
  tlsServerName: string,
): string {
  const kc = parse(readFileSync(source, 'utf8')) as { clusters?: RawCluster[] };
  const entry = kc.clusters?.find((c) => c.name === name);
  if (!entry) throw new Error(`${source}: no cluster "${name}" to point at ${server}`);
  entry.cluster = { ...entry.cluster, server, 'tls-server-name': tlsServerName };
  writeFileSync(target, stringify(kc), { mode: 0o600 });
  return target;
}
