// The Corefile check and the records/forward blocks against a real CoreDNS process on loopback (no
// clusters). Here rather than in the unit suite so unit tests need no Go build.
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DNSEndpoint } from '../src/api/dns.ts';
import {
  checkCorefile,
  corednsBinary,
  freeLoopbackPort,
  type RunningCoreDns,
  startCoreDns,
} from '../src/dns/coredns-check.ts';
import { renderSection, SECTION_BEGIN, SECTION_END, spliceSection } from '../src/dns/corefile.ts';
import { federationZones } from '../src/dns/federation-zone.ts';
import { serviceDnsEndpoints } from '../src/dns/records.ts';
import { KUBEADM } from '../src/testing/corefiles.ts';
import { binaryDir } from '../testbed/binaries.ts';

/** The coredns binary: $FEDCTL_COREDNS, else the one the testbed builds; undefined when neither exists. */
async function findCoreDns(): Promise<string | undefined> {
  if (process.env.FEDCTL_COREDNS) return corednsBinary();
  try {
    const bin = join(await binaryDir(), 'coredns');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}
const binary = await findCoreDns();
// `make e2e` builds the testbed binaries first: a missing coredns is a failure here, never a skip.
if (!binary) throw new Error('no coredns binary: run `bash testbed/build-binaries.sh` or set FEDCTL_COREDNS');

describe('checkCorefile with a real CoreDNS', () => {
  const opts = { binary };

  it('accepts the kubeadm Corefile with forward zones and a federation zone added', async () => {
    const records = federationZones(
      [{ domain: 'example.com' }],
      [
        {
          metadata: { name: 'service-web', namespace: 'shop' },
          spec: { endpoints: [{ dnsName: 'web.example.com', targets: ['10.1.0.1'], recordType: 'A' }] },
        },
      ],
    ).zones;
    const section = renderSection(
      [
        { zone: 'b.local', upstreams: ['10.2.0.10', '10.2.0.11:5353'] },
        { zone: 'tidb-c.svc.cluster.local', upstreams: ['[fd00::10]:53'], forceTcp: true },
      ],
      53,
      { records },
    );
    expect(await checkCorefile(spliceSection(KUBEADM, section), opts)).toEqual({ ok: true });
  });

  it('refuses a zone fedctl adds that a block outside the section already serves, with the original port', async () => {
    const base = `${KUBEADM}example.org:53 {\n    whoami\n}\n`;
    const candidate = spliceSection(
      base,
      renderSection([{ zone: 'example.org', upstreams: ['10.0.0.1'] }], 53),
    );
    const r = await checkCorefile(candidate, opts);
    expect(r).toEqual({ ok: false, error: expect.stringContaining('example.org.:53') });
    expect(r.ok === false && r.error).toMatch(/already defined/);
  });

  it('refuses a hand-edited section whose plugin arguments CoreDNS rejects', async () => {
    const broken = `${SECTION_BEGIN}\nb.local:53 {\n    forward . not-an-address\n}\n${SECTION_END}\n`;
    const r = await checkCorefile(spliceSection(KUBEADM, broken), opts);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.error).toMatch(/not-an-address/);
  });

  it('accepts a Corefile without fedctl section (only the skeleton runs)', async () => {
    expect(await checkCorefile(KUBEADM, opts)).toEqual({ ok: true });
  });
});

describe('the federation zone served by a real CoreDNS', () => {
  let coredns: RunningCoreDns;
  let resolver: Resolver;

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    const endpoints = serviceDnsEndpoints(
      {
        metadata: { name: 'web', namespace: 'shop' },
        spec: { domainRef: 'fed', dnsPrefix: 'www', recordTTL: 120 },
        status: {
          dns: [
            {
              cluster: 'c1',
              region: 'europe',
              zones: ['europe-a'],
              loadBalancer: { ingress: [{ ip: '192.0.2.1' }] },
            },
            { cluster: 'c2', region: 'asia', zones: ['asia-b'], loadBalancer: {} },
          ],
        },
      },
      { domain: 'example.com' },
    );
    const dnsEndpoint: DNSEndpoint = {
      metadata: { name: 'service-web', namespace: 'shop' },
      spec: { endpoints },
    };
    const { zones } = federationZones([{ domain: 'example.com' }], [dnsEndpoint]);
    const main = `.:${port} {\n    bind 127.0.0.1\n    whoami\n}\n`;
    const corefile = spliceSection(main, renderSection([], port, { records: zones, bind: ['127.0.0.1'] }));
    coredns = await startCoreDns(corefile, { binary });
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
  }, 20_000);

  afterAll(async () => {
    await coredns?.stop();
  });

  it('answers the global name with the A record and the record TTL', async () => {
    expect(await resolver.resolve4('web.shop.fed.svc.example.com', { ttl: true })).toEqual([
      { address: '192.0.2.1', ttl: 120 },
    ]);
  });

  it('answers a zone-level name of a cluster without load balancer through the CNAME chain up to the global address', async () => {
    expect(await resolver.resolve4('web.shop.fed.svc.asia-b.asia.example.com')).toEqual(['192.0.2.1']);
    expect(await resolver.resolveCname('web.shop.fed.svc.asia-b.asia.example.com')).toEqual([
      'web.shop.fed.svc.asia.example.com',
    ]);
  });

  it('answers the dnsPrefix name through its CNAME', async () => {
    expect(await resolver.resolve4('www.example.com')).toEqual(['192.0.2.1']);
  });

  it('answers NXDOMAIN for an unknown name in the zone', async () => {
    await expect(resolver.resolve4('nope.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers NODATA for a known name asked for another type and for an empty non-terminal', async () => {
    await expect(resolver.resolve6('web.shop.fed.svc.example.com')).rejects.toMatchObject({
      code: 'ENODATA',
    });
    await expect(resolver.resolve4('svc.example.com')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('answers the SOA at the apex', async () => {
    expect(await resolver.resolveSoa('example.com')).toMatchObject({
      nsname: 'ns.example.com',
      hostmaster: 'hostmaster.example.com',
      minttl: 30,
    });
  });
});

describe('forward zones served by a real CoreDNS', () => {
  const running: RunningCoreDns[] = [];
  afterAll(async () => {
    for (const r of running) await r.stop();
  });

  it('sends queries for another cluster domain to that cluster DNS and keeps answering its own', async () => {
    // "Cluster B": a loopback CoreDNS that serves b.local from a federation-style record zone.
    const portB = await freeLoopbackPort();
    const b = spliceSection(
      `.:${portB} {\n    bind 127.0.0.1\n    whoami\n}\n`,
      renderSection([], portB, {
        bind: ['127.0.0.1'],
        records: [
          {
            zone: 'b.local',
            records: [{ name: 'db.tidb.svc.b.local', type: 'A', targets: ['192.0.2.7'], ttl: 5 }],
          },
        ],
      }),
    );
    running.push(await startCoreDns(b, { binary }));
    // "Cluster A": its main block plus fedctl's forward block for b.local, bound like the main block.
    const portA = await freeLoopbackPort();
    const a = spliceSection(
      `.:${portA} {\n    bind 127.0.0.1\n    template IN A a.local {\n        answer "{{ .Name }} 5 IN A 192.0.2.1"\n    }\n}\n`,
      renderSection([{ zone: 'b.local', upstreams: [`127.0.0.1:${portB}`] }], portA, { bind: ['127.0.0.1'] }),
    );
    expect(await checkCorefile(a, { binary })).toEqual({ ok: true });
    running.push(await startCoreDns(a, { binary }));
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${portA}`]);
    expect(await resolver.resolve4('db.tidb.svc.b.local')).toEqual(['192.0.2.7']);
    expect(await resolver.resolve4('x.a.local')).toEqual(['192.0.2.1']);
  }, 20_000);
});
