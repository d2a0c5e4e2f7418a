import { describe, expect, it } from 'vitest';
import {
  corefileDirectives,
  corefileSafetyProblems,
  isDnsName,
  renderCorefile,
  rootBlockPort,
} from './corefile.ts';

const input = {
  domain: 'cluster1.local',
  port: 40053,
  kubeconfig: '/tb/clusters/cluster1/kubeconfig',
  context: 'cluster1',
};

describe('Corefile rendering', () => {
  it('renders kubeadm-shaped config bound to loopback on the given port', () => {
    expect(renderCorefile(input)).toBe(`.:40053 {
    bind 127.0.0.1
    errors
    kubernetes cluster1.local in-addr.arpa ip6.arpa {
        kubeconfig /tb/clusters/cluster1/kubeconfig cluster1
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loop
    reload 2s
    loadbalance
}
`);
  });

  it('never forwards queries off the machine or opens extra ports', () => {
    const text = renderCorefile(input);
    expect(text).not.toMatch(/forward|health|ready|prometheus/);
  });

  it.each([
    [{ domain: 'Cluster.local' }, /RFC 1123/],
    [{ domain: 'a..b' }, /RFC 1123/],
    [{ port: 0 }, /port/],
    [{ port: 70000 }, /port/],
    [{ kubeconfig: 'relative/kubeconfig' }, /absolute/],
    [{ kubeconfig: '/path with space/kc' }, /absolute/],
    [{ kubeconfig: '/x/{evil}' }, /absolute/],
    [{ context: 'a b' }, /context/],
  ])('refuses unsafe input %o', (patch, msg) => {
    expect(() => renderCorefile({ ...input, ...patch })).toThrow(msg);
  });

  it('validates DNS names', () => {
    expect(isDnsName('cluster.local')).toBe(true);
    expect(isDnsName('-x.local')).toBe(false);
    expect(isDnsName('x_y.local')).toBe(false);
  });

  it('reads back the root block port', () => {
    expect(rootBlockPort(renderCorefile(input))).toBe(40053);
    expect(rootBlockPort('.:53 {\n}\n')).toBe(53);
    expect(rootBlockPort('example.org {\n}\n')).toBeUndefined();
  });
});

describe('Corefile safety check (what the testbed refuses to hand to CoreDNS)', () => {
  const ok = renderCorefile(input);

  it('accepts the rendered Corefile and loopback-only additions', () => {
    expect(corefileSafetyProblems(ok)).toEqual([]);
    const extra = `${ok}# fedctl begin\nclusterset.local:40053 {\n    bind 127.0.0.1\n    errors\n    forward . 127.0.0.1:40054 127.0.0.2:53 {\n        force_tcp\n    }\n}\n# fedctl end\n`;
    expect(corefileSafetyProblems(extra)).toEqual([]);
  });

  it.each([
    ['forward . /etc/resolv.conf', /forward to \/etc\/resolv\.conf leaves loopback/],
    ['forward . 10.96.0.10', /forward to 10\.96\.0\.10 leaves loopback/],
    ['forward . dns://8.8.8.8:53', /leaves loopback/],
    ['health', /health\s+must name a 127\.x address/],
    ['prometheus :9153', /prometheus :9153 must name/],
  ])('refuses "%s"', (line, msg) => {
    const text = ok.replace('    cache 30', `    ${line}\n    cache 30`);
    expect(corefileSafetyProblems(text).join('\n')).toMatch(msg);
  });

  it('refuses server blocks without a loopback bind', () => {
    const text = `${ok}other.test {\n    template IN A other.test {\n        answer "x 1 IN A 127.0.0.1"\n    }\n}\n`;
    expect(corefileSafetyProblems(text)).toEqual([
      'server block "other.test" has no bind (it would listen on every interface)',
    ]);
    expect(corefileSafetyProblems(ok.replace('bind 127.0.0.1', 'bind 0.0.0.0'))).toEqual([
      'server block ".:40053" binds 0.0.0.0, not loopback',
    ]);
  });

  it('lists server blocks and top-level directives, ignoring comments and plugin options', () => {
    const { blocks, directives } = corefileDirectives(ok);
    expect(blocks).toEqual(['.:40053']);
    expect(directives.map((d) => d.plugin)).toEqual([
      'bind',
      'errors',
      'kubernetes',
      'cache',
      'loop',
      'reload',
      'loadbalance',
    ]);
  });
});
