import { describe, expect, it } from 'vitest';
import { KUBEADM } from '../testing/corefiles.ts';
import { checkCorefile, checkSkeleton, corednsBinary, portsOf } from './coredns-check.ts';
import { renderSection, SECTION_BEGIN, spliceSection } from './corefile.ts';

describe('checkSkeleton', () => {
  it('keeps zones, remaps ports, binds loopback, stubs foreign bodies and keeps fedctl bodies', () => {
    const src = spliceSection(
      `${KUBEADM}example.org:5353 {\n    file /etc/coredns/example.db\n}\ntls://.:853 {\n    tls cert key\n}\n`,
      renderSection([{ zone: 'b.local', upstreams: ['10.2.0.10'] }], 53, { bind: ['10.96.0.10'] }),
    );
    expect(portsOf(src)).toEqual([53, 5353]);
    expect(
      checkSkeleton(
        src,
        new Map([
          [53, 41000],
          [5353, 41001],
        ]),
      ),
    ).toBe(`.:41000 {
    bind 127.0.0.1
    whoami
}
example.org:41001 {
    bind 127.0.0.1
    whoami
}
b.local:41000 {
    bind 127.0.0.1
    errors
    cache 30
    forward . 10.2.0.10
}
`);
  });
});

describe('corednsBinary', () => {
  it('takes the explicit path, then FEDCTL_COREDNS, then coredns from PATH', () => {
    expect(corednsBinary('/x/coredns', { FEDCTL_COREDNS: '/y/coredns' })).toBe('/x/coredns');
    expect(corednsBinary(undefined, { FEDCTL_COREDNS: '/y/coredns' })).toBe('/y/coredns');
    expect(corednsBinary(undefined, {})).toBe('coredns');
  });
  it('accepts the folder holding the binary', () => {
    expect(corednsBinary('/tmp', {})).toBe('/tmp/coredns');
  });
});

describe('checkCorefile without a coredns binary', () => {
  it('says the check could not run and how to fix it', async () => {
    const r = await checkCorefile(KUBEADM, { binary: '/nonexistent/coredns' });
    expect(r).toEqual({
      ok: false,
      unavailable: true,
      error: expect.stringMatching(/is coredns installed\?.*FEDCTL_COREDNS/s),
    });
  });
  it('reports a Corefile it cannot parse without running anything', async () => {
    const r = await checkCorefile(`${KUBEADM}${SECTION_BEGIN}\n`, { binary: '/nonexistent/coredns' });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/without "# fedctl:end"/) });
  });
});
