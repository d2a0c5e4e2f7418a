import { describe, expect, it } from 'vitest';
import { isDnsName, renderCorefile, rootBlockPort } from './corefile.ts';

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
