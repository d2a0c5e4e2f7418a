import { stdoutOf } from '../src/kube/exec.ts';

// Network namespaces that make node addresses and pod routes real without touching the root
// namespace: one "fabric" namespace per testbed holds a bridge; every node namespace hangs off it
// through a veth pair and owns its InternalIP; the node's pod range is a local route on its lo.

export const NETNS_PREFIX = 'fedtb-';
const BRIDGE = 'br0';

export const fabricNetnsName = (id: string): string => `${NETNS_PREFIX}${id}-fabric`;
export const nodeNetnsName = (id: string, cluster: number, node: number): string =>
  `${NETNS_PREFIX}${id}-c${cluster}n${node}`;
/** Name of the node's veth end inside the fabric namespace (interface names max 15 chars). */
export const fabricVethName = (cluster: number, node: number): string => `c${cluster}n${node}`;

/** Names from `ip netns list` ("name (id: 3)" or just "name" per line). */
export function parseNetnsList(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

/** Id bytes (first two hex digits of a testbed id) already used by other testbeds' fabrics. */
export function usedIdBytes(netns: readonly string[]): Set<number> {
  const used = new Set<number>();
  for (const n of netns) {
    const m = /^fedtb-([0-9a-f]{2})[0-9a-f]{2}-fabric$/.exec(n);
    if (m) used.add(Number.parseInt(m[1]!, 16));
  }
  return used;
}

/** A fresh testbed id whose first byte no live testbed uses. `random` is injectable for tests. */
export function newTestbedId(used: ReadonlySet<number>, random: () => number = Math.random): string {
  const free = Array.from({ length: 256 }, (_, i) => i).filter((b) => !used.has(b));
  if (free.length === 0) throw new Error('all 256 testbed id bytes are in use: run `testbed down` somewhere');
  const byte = free[Math.floor(random() * free.length)]!;
  const tail = Math.floor(random() * 256);
  return byte.toString(16).padStart(2, '0') + tail.toString(16).padStart(2, '0');
}

export const idByteOf = (id: string): number => Number.parseInt(id.slice(0, 2), 16);

export async function listNetns(): Promise<string[]> {
  return parseNetnsList(await stdoutOf('ip', ['netns', 'list']));
}

/** Fails with a clear message when network namespaces cannot be used here. */
export async function checkNetnsSupport(): Promise<void> {
  try {
    await stdoutOf('ip', ['netns', 'list']);
  } catch (e) {
    throw new Error(
      `network namespaces are not available (${(e as Error).message.split('\n')[0]}); the local testbed needs ` +
        'root and iproute2 (`ip netns`). Pass --no-netns to run without node namespaces.',
    );
  }
  if (process.getuid && process.getuid() !== 0) {
    throw new Error('creating network namespaces needs root; run as root or pass --no-netns');
  }
}

async function ipIn(ns: string, args: string[]): Promise<string> {
  return stdoutOf('ip', ['-n', ns, ...args]);
}

/** Creates the fabric namespace with an address-less bridge. `onCreated` records it immediately. */
export async function createFabric(name: string, onCreated: (ns: string) => Promise<void>): Promise<void> {
  await stdoutOf('ip', ['netns', 'add', name]);
  await onCreated(name);
  await ipIn(name, ['link', 'set', 'lo', 'up']);
  await ipIn(name, ['link', 'add', BRIDGE, 'type', 'bridge']);
  await ipIn(name, ['link', 'set', BRIDGE, 'up']);
}

export interface NodeNetnsSpec {
  fabric: string;
  netns: string;
  veth: string;
  ip: string;
  prefix: number;
}

/** A node namespace with eth0 = `ip/prefix`, cabled to the fabric bridge. */
export async function createNodeNetns(
  spec: NodeNetnsSpec,
  onCreated: (ns: string) => Promise<void>,
): Promise<void> {
  await stdoutOf('ip', ['netns', 'add', spec.netns]);
  await onCreated(spec.netns);
  await ipIn(spec.netns, ['link', 'set', 'lo', 'up']);
  await ipIn(spec.fabric, [
    'link',
    'add',
    spec.veth,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    spec.netns,
  ]);
  await ipIn(spec.fabric, ['link', 'set', spec.veth, 'master', BRIDGE]);
  await ipIn(spec.fabric, ['link', 'set', spec.veth, 'up']);
  await ipIn(spec.netns, ['addr', 'add', `${spec.ip}/${spec.prefix}`, 'dev', 'eth0']);
  await ipIn(spec.netns, ['link', 'set', 'eth0', 'up']);
}

/** Makes every address of `podCIDR` local to the node namespace (so tests can listen on pod IPs). */
export async function addLocalPodRange(netns: string, podCIDR: string): Promise<void> {
  await ipIn(netns, ['route', 'replace', 'local', podCIDR, 'dev', 'lo', 'table', 'local']);
}

/** Routes another node's pod range through that node (what a CNI does inside one cluster). */
export async function addPodRoute(netns: string, podCIDR: string, via: string): Promise<void> {
  await ipIn(netns, ['route', 'replace', podCIDR, 'via', via, 'dev', 'eth0']);
}

/** Deletes a namespace (its veth pair goes with it); a missing one is fine. */
export async function deleteNetns(name: string): Promise<void> {
  try {
    await stdoutOf('ip', ['netns', 'del', name]);
  } catch (e) {
    if (!/No such file|not found|Cannot remove/i.test((e as Error).message)) throw e;
  }
}
