import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { parse } from 'yaml';

// Writes as the member API servers count them (`apiserver_request_total` on each server's own
// /metrics), so a test of "fedctl sent nothing" does not trust fedctl's own counters.

/** Verbs as apiserver_request_total reports them for writes (create, update, patch, SSA, delete). */
export const WRITE_VERBS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE']);

/** Resources a federation of the default types writes in members, keyed by API group ("" = core). */
export const FEDERATED_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  '': ['namespaces', 'configmaps', 'services', 'secrets', 'serviceaccounts'],
  apps: ['deployments'],
};

export interface WriteFilter {
  verbs?: ReadonlySet<string>;
  /** group → resources; default FEDERATED_RESOURCES. */
  resources?: Readonly<Record<string, readonly string[]>>;
  /** Also count subresources (e.g. status writes); default only the main resource. */
  subresources?: boolean;
}

/** "<cluster> <VERB> <group>/<resource> <code>" → request count; only subresource "" is counted. */
export type WriteSnapshot = Map<string, number>;

interface ClusterAccess {
  name: string;
  server: string;
  agent: Agent;
}

interface RawKubeconfig {
  clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
  users?: Array<{ name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string } }>;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
}

const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64') : undefined);

/** Reads each cluster's admin credentials (context = cluster name) from the testbed kubeconfig. */
function accessFor(kubeconfig: string, clusters: readonly string[]): ClusterAccess[] {
  const kc = parse(readFileSync(kubeconfig, 'utf8')) as RawKubeconfig;
  return clusters.map((name) => {
    const ctx = kc.contexts?.find((c) => c.name === name)?.context;
    const cluster = kc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
    const user = kc.users?.find((u) => u.name === ctx?.user)?.user;
    if (!ctx || !cluster || !user)
      throw new Error(`${kubeconfig}: no complete context "${name}" (cluster, user) to read /metrics with`);
    return {
      name,
      server: cluster.server,
      agent: new Agent({
        keepAlive: false,
        ca: b64(cluster['certificate-authority-data']),
        cert: b64(user['client-certificate-data']),
        key: b64(user['client-key-data']),
      }),
    };
  });
}

function get(c: ClusterAccess, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, c.server), { agent: c.agent, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(text);
        else reject(new Error(`${c.name}: GET ${path} → HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${c.name}: GET ${path} timed out`)));
    req.on('error', (e) => reject(new Error(`${c.name}: GET ${path}: ${e.message}`)));
    req.end();
  });
}

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The write counts in one Prometheus text page, keyed as in WriteSnapshot (without the cluster). Pure. */
export function parseWrites(text: string, filter: WriteFilter = {}): Map<string, number> {
  const verbs = filter.verbs ?? WRITE_VERBS;
  const resources = filter.resources ?? FEDERATED_RESOURCES;
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice(0, close).matchAll(LABEL)) labels[m[1]!] = m[2]!;
    const group = labels.group ?? '';
    if (!verbs.has(labels.verb ?? '')) continue;
    const sub = labels.subresource ?? '';
    if (sub !== '' && !filter.subresources) continue;
    if (!resources[group]?.includes(labels.resource ?? '')) continue;
    const key = `${labels.verb} ${group}/${labels.resource}${sub ? `/${sub}` : ''} ${labels.code}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return out;
}

/** Reads write counters from the member API servers of a testbed. */
export class MemberWrites {
  readonly #clusters: ClusterAccess[];
  readonly #filter: WriteFilter;

  constructor(kubeconfig: string, clusters: readonly string[], filter: WriteFilter = {}) {
    this.#clusters = accessFor(kubeconfig, clusters);
    this.#filter = filter;
  }

  async snapshot(): Promise<WriteSnapshot> {
    const pages = await Promise.all(
      this.#clusters.map(async (c) => [c.name, await get(c, '/metrics')] as const),
    );
    const out: WriteSnapshot = new Map();
    for (const [cluster, text] of pages)
      for (const [k, v] of parseWrites(text, this.#filter)) out.set(`${cluster} ${k}`, v);
    return out;
  }

  close(): void {
    for (const c of this.#clusters) c.agent.destroy();
  }
}

/** What grew between two snapshots (counters only grow while an API server keeps running). Pure. */
export function writesBetween(before: WriteSnapshot, after: WriteSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}

export const totalOf = (writes: Map<string, number>) => [...writes.values()].reduce((a, b) => a + b, 0);

/** "3 (cluster1 PUT apps/deployments 200: 2, …)" or "0", sorted, for test output. */
export function describeWrites(writes: Map<string, number>): string {
  const total = totalOf(writes);
  if (total === 0) return '0';
  const parts = [...writes].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`);
  return `${total} (${parts.join(', ')})`;
}
