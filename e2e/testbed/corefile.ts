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
