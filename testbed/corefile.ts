// The Corefile each testbed cluster starts with: kubeadm's default shape, made safe for a shared
// machine (loopback only, no upstream forwarding, no extra listening ports). Pure.

export interface CorefileInput {
  /** Cluster domain, e.g. cluster.local or cluster1.local. */
  domain: string;
  /** UDP/TCP port CoreDNS serves on, bound to 127.0.0.1. */
  port: number;
  /** Absolute path of the kubeconfig CoreDNS reads the cluster with. */
  kubeconfig: string;
  /** Context in that kubeconfig. */
  context: string;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Characters that would end a Corefile token or block early. */
const UNSAFE = /[\s{}#"'`;]/;

export function isDnsName(name: string): boolean {
  return DNS_NAME.test(name);
}

export function renderCorefile(input: CorefileInput): string {
  const { domain, port, kubeconfig, context } = input;
  if (!isDnsName(domain)) throw new Error(`cluster domain "${domain}" is not a lowercase RFC 1123 DNS name`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`DNS port ${port} out of range`);
  if (!kubeconfig.startsWith('/') || UNSAFE.test(kubeconfig)) {
    throw new Error(
      `kubeconfig path "${kubeconfig}" must be absolute and free of spaces, braces, quotes and #`,
    );
  }
  if (context === '' || UNSAFE.test(context))
    throw new Error(`context name "${context}" is not usable in a Corefile`);
  return [
    `.:${port} {`,
    '    bind 127.0.0.1',
    '    errors',
    `    kubernetes ${domain} in-addr.arpa ip6.arpa {`,
    `        kubeconfig ${kubeconfig} ${context}`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 30',
    '    }',
    '    cache 30',
    '    loop',
    '    reload 2s',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}

/** The port of the root (`.`) server block, or undefined when the Corefile has none with a port. */
export function rootBlockPort(corefile: string): number | undefined {
  const m = /^\s*\.:(\d+)\s*\{/m.exec(corefile);
  return m ? Number(m[1]) : undefined;
}

interface Directive {
  block: string;
  plugin: string;
  args: string[];
}

const isLoopbackHost = (h: string): boolean =>
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1' || h === '[::1]';

/** "127.0.0.1", "127.0.0.1:5353", "dns://127.0.0.1:53", "[::1]:53" → loopback? */
function isLoopbackUpstream(arg: string): boolean {
  const bare = arg.replace(/^[a-z]+:\/\//, '');
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(bare);
  return m ? isLoopbackHost(m[1]!) : false;
}

/** Server blocks (keys) and their top-level directives; comments and nested option blocks skipped. */
export function corefileDirectives(corefile: string): { blocks: string[]; directives: Directive[] } {
  const blocks: string[] = [];
  const directives: Directive[] = [];
  let depth = 0;
  let current = '';
  for (const raw of corefile.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const opens = (line.match(/\{/g) ?? []).length;
    const closes = (line.match(/\}/g) ?? []).length;
    const tokens = line
      .replace(/[{}]/g, ' ')
      .trim()
      .split(/\s+/)
      .filter((t) => t !== '');
    if (depth === 0 && opens > 0) {
      current = tokens.join(' ');
      blocks.push(current);
    } else if (depth === 1 && tokens.length > 0) {
      directives.push({ block: current, plugin: tokens[0]!, args: tokens.slice(1) });
    }
    depth += opens - closes;
    if (depth < 0) depth = 0;
  }
  return { blocks, directives };
}

/**
 * Why a Corefile would make CoreDNS listen or send beyond loopback on this machine ([] = fine):
 * every server block must `bind` loopback only; forward/grpc upstreams must be loopback;
 * health/ready/prometheus/pprof need an explicit loopback address.
 */
export function corefileSafetyProblems(corefile: string): string[] {
  const { blocks, directives } = corefileDirectives(corefile);
  const problems: string[] = [];
  for (const block of blocks) {
    const binds = directives.filter((d) => d.block === block && d.plugin === 'bind');
    const addrs = binds.flatMap((d) => d.args);
    if (addrs.length === 0)
      problems.push(`server block "${block}" has no bind (it would listen on every interface)`);
    for (const a of addrs) {
      if (!isLoopbackHost(a) && a !== 'lo') problems.push(`server block "${block}" binds ${a}, not loopback`);
    }
  }
  for (const d of directives) {
    if (d.plugin === 'forward' || d.plugin === 'grpc') {
      for (const to of d.args.slice(1)) {
        if (!isLoopbackUpstream(to))
          problems.push(`server block "${d.block}": ${d.plugin} to ${to} leaves loopback`);
      }
    }
    if (['health', 'ready', 'prometheus', 'pprof'].includes(d.plugin)) {
      const addr = d.args[0];
      if (!addr || !isLoopbackUpstream(addr)) {
        problems.push(
          `server block "${d.block}": ${d.plugin} ${addr ?? ''} must name a 127.x address and port`,
        );
      }
    }
  }
  return problems;
}
