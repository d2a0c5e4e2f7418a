import { describe, expect, it } from 'vitest';
import type { DNSEndpoint, Endpoint } from '../api/dns.ts';
import { renderSection } from './corefile.ts';
import {
  federationZones,
  type RecordZone,
  renderRecordZoneBlock,
  validateRecordZone,
} from './federation-zone.ts';
import { CorefileValueError } from './validate.ts';

const ep = (name: string, endpoints: Endpoint[], namespace = 'shop'): DNSEndpoint => ({
  metadata: { name, namespace },
  spec: { endpoints },
});
const A = (dnsName: string, targets: string[], recordTTL?: number): Endpoint => ({
  dnsName,
  targets,
  recordType: 'A',
  ...(recordTTL === undefined ? {} : { recordTTL }),
});
const CNAME = (dnsName: string, target: string, recordTTL?: number): Endpoint => ({
  dnsName,
  targets: [target],
  recordType: 'CNAME',
  ...(recordTTL === undefined ? {} : { recordTTL }),
});

describe('federationZones', () => {
  it('puts every record into its Domain zone with KubeFed default TTL', () => {
    const r = federationZones(
      [{ domain: 'example.com', nameServer: 'ns1.example.com' }],
      [
        ep('service-web', [
          A('web.shop.fed.svc.example.com', ['10.1.0.1']),
          CNAME('www.example.com', 'web.shop.fed.svc.example.com', 60),
        ]),
      ],
    );
    expect(r).toEqual({
      zones: [
        {
          zone: 'example.com',
          nameServer: 'ns1.example.com',
          records: [
            { name: 'web.shop.fed.svc.example.com', type: 'A', targets: ['10.1.0.1'], ttl: 180 },
            { name: 'www.example.com', type: 'CNAME', targets: ['web.shop.fed.svc.example.com'], ttl: 60 },
          ],
        },
      ],
      skipped: [],
    });
  });

  it('lists a Domain zone without records (it still answers NXDOMAIN for its names)', () => {
    expect(federationZones([{ domain: 'Example.COM.' }], [])).toEqual({
      zones: [{ zone: 'example.com', records: [] }],
      skipped: [],
    });
  });

  it('merges one name from several DNSEndpoints: A beats CNAME, targets unite, the smallest TTL wins', () => {
    const r = federationZones(
      [{ domain: 'example.com' }],
      [
        ep('service-a', [CNAME('x.example.com', 'y.example.com'), A('z.example.com', ['10.0.0.2'], 300)]),
        ep('service-b', [A('x.example.com', ['10.0.0.9']), A('z.example.com', ['10.0.0.1', '10.0.0.2'], 30)]),
      ],
    );
    expect(r.zones[0]!.records).toEqual([
      { name: 'x.example.com', type: 'A', targets: ['10.0.0.9'], ttl: 180 },
      { name: 'z.example.com', type: 'A', targets: ['10.0.0.1', '10.0.0.2'], ttl: 30 },
    ]);
  });

  it('serves IPv6 addresses of an A record set as AAAA', () => {
    const r = federationZones(
      [{ domain: 'example.com' }],
      [ep('e', [A('x.example.com', ['fd00::1', '10.0.0.1'])])],
    );
    expect(r.zones[0]!.records).toEqual([
      { name: 'x.example.com', type: 'A', targets: ['10.0.0.1'], ttl: 180 },
      { name: 'x.example.com', type: 'AAAA', targets: ['fd00::1'], ttl: 180 },
    ]);
  });

  it('files a name under the most specific of nested Domain zones', () => {
    const r = federationZones(
      [{ domain: 'example.com' }, { domain: 'eu.example.com' }],
      [ep('e', [A('a.eu.example.com', ['10.0.0.1']), A('a.example.com', ['10.0.0.2'])])],
    );
    expect(r.zones.map((z) => [z.zone, z.records.map((x) => x.name)])).toEqual([
      ['eu.example.com', ['a.eu.example.com']],
      ['example.com', ['a.example.com']],
    ]);
  });

  const skips: [string, Endpoint, RegExp][] = [
    ['a name outside every Domain zone', A('a.other.org', ['10.0.0.1']), /outside every Domain zone/],
    ['a wildcard name', A('*.example.com', ['10.0.0.1']), /wildcard/],
    ['a name with a brace', A('a{.example.com', ['10.0.0.1']), /not allowed in a Corefile/],
    [
      'a TXT record',
      { dnsName: 'a.example.com', targets: ['hi'], recordType: 'TXT' },
      /record type "TXT" is not served/,
    ],
    [
      'an A record whose target is a host name',
      A('a.example.com', ['lb.test']),
      /A target "lb.test" is not an IP/,
    ],
    ['a record without targets', A('a.example.com', ['']), /no targets/],
    ['a CNAME at the zone apex', CNAME('example.com', 'a.example.com'), /apex/],
    ['a CNAME to a hostile name', CNAME('a.example.com', 'x"y'), /not allowed/],
    ['a negative TTL', A('a.example.com', ['10.0.0.1'], -5), /TTL -5/],
  ];
  for (const [name, e, re] of skips) {
    it(`skips ${name} with a reason and the DNSEndpoint it came from`, () => {
      const r = federationZones(
        [{ domain: 'example.com' }],
        [ep('service-x', [e, A('ok.example.com', ['10.0.0.1'])])],
      );
      expect(r.zones[0]!.records.map((x) => x.name)).toEqual(['ok.example.com']);
      expect(r.skipped).toHaveLength(1);
      expect(r.skipped[0]!.source).toBe('shop/service-x');
      expect(r.skipped[0]!.reason).toMatch(re);
    });
  }

  it('skips CNAMEs that point in a loop and keeps a CNAME that leads into the loop out too', () => {
    const r = federationZones(
      [{ domain: 'example.com' }],
      [
        ep('e', [
          CNAME('a.example.com', 'b.example.com'),
          CNAME('b.example.com', 'a.example.com'),
          CNAME('c.example.com', 'd.example.com'),
        ]),
      ],
    );
    expect(r.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['a.example.com', 'CNAME chain loops back to itself'],
      ['b.example.com', 'CNAME chain loops back to itself'],
    ]);
    expect(r.zones[0]!.records.map((x) => x.name)).toEqual(['c.example.com']);
  });

  it('skips a CNAME that two DNSEndpoints point at different targets', () => {
    const r = federationZones(
      [{ domain: 'example.com' }],
      [
        ep('a', [CNAME('x.example.com', 'p.example.com')]),
        ep('b', [CNAME('x.example.com', 'q.example.com')]),
      ],
    );
    expect(r.skipped).toEqual([
      {
        name: 'x.example.com',
        source: 'shop/a',
        reason: 'CNAME has several targets: p.example.com, q.example.com',
      },
    ]);
  });

  it('reports a Domain that cannot be served instead of failing', () => {
    const r = federationZones([{ domain: 'bad domain' }, { domain: 'example.com' }], []);
    expect(r.zones.map((z) => z.zone)).toEqual(['example.com']);
    expect(r.skipped[0]!.reason).toMatch(/Domain is not servable/);
  });
});

describe('renderRecordZoneBlock', () => {
  const zone: RecordZone = {
    zone: 'example.com',
    records: [
      { name: 'www.example.com', type: 'CNAME', targets: ['web.shop.fed.svc.example.com'], ttl: 60 },
      { name: 'web.shop.fed.svc.example.com', type: 'A', targets: ['10.1.0.2', '10.1.0.1'], ttl: 180 },
    ],
  };

  it('renders literal templates: apex SOA, per-name answers, NODATA for existing names, then NXDOMAIN', () => {
    expect(renderRecordZoneBlock(validateRecordZone(zone), 53)).toBe(`example.com:53 {
    errors
    template IN SOA example.com {
        match ^example\\.com\\.$
        answer "example.com. 30 IN SOA ns.example.com. hostmaster.example.com. 1 7200 1800 86400 30"
        fallthrough
    }
    template IN A example.com {
        match ^web\\.shop\\.fed\\.svc\\.example\\.com\\.$
        answer "web.shop.fed.svc.example.com. 180 IN A 10.1.0.1"
        answer "web.shop.fed.svc.example.com. 180 IN A 10.1.0.2"
        fallthrough
    }
    template ANY ANY example.com {
        match ^www\\.example\\.com\\.$
        answer "www.example.com. 60 IN CNAME web.shop.fed.svc.example.com."
        fallthrough
    }
    template ANY ANY example.com {
        match ^example\\.com\\.$
        match ^fed\\.svc\\.example\\.com\\.$
        match ^shop\\.fed\\.svc\\.example\\.com\\.$
        match ^svc\\.example\\.com\\.$
        match ^web\\.shop\\.fed\\.svc\\.example\\.com\\.$
        match ^www\\.example\\.com\\.$
        authority "example.com. 30 IN SOA ns.example.com. hostmaster.example.com. 1 7200 1800 86400 30"
        fallthrough
    }
    template ANY ANY example.com {
        rcode NXDOMAIN
        authority "example.com. 30 IN SOA ns.example.com. hostmaster.example.com. 1 7200 1800 86400 30"
    }
}
`);
  });

  it('adds an NS answer at the apex when the Domain names its name server', () => {
    const text = renderRecordZoneBlock(
      validateRecordZone({ zone: 'example.com', nameServer: 'ns1.example.net', records: [] }),
      53,
    );
    expect(text).toContain('answer "example.com. 30 IN NS ns1.example.net."');
    expect(text).toContain('IN SOA ns1.example.net. hostmaster.example.com.');
  });

  it('is part of the section, sorted among forward zones', () => {
    const s = renderSection(
      [
        { zone: 'b.local', upstreams: ['10.0.0.1'] },
        { zone: 'z.local', upstreams: ['10.0.0.2'] },
      ],
      53,
      {
        records: [zone],
      },
    );
    expect(s.indexOf('b.local:53')).toBeLessThan(s.indexOf('example.com:53'));
    expect(s.indexOf('example.com:53')).toBeLessThan(s.indexOf('z.local:53'));
  });

  it('refuses a forward zone equal to a federation zone', () => {
    expect(() =>
      renderSection([{ zone: 'example.com', upstreams: ['10.0.0.1'] }], 53, { records: [zone] }),
    ).toThrow(/appears twice/);
  });
});

describe('validateRecordZone', () => {
  const bad: [string, RecordZone, RegExp][] = [
    [
      'a record outside the zone',
      { zone: 'example.com', records: [{ name: 'a.org', type: 'A', targets: ['10.0.0.1'], ttl: 1 }] },
      /not inside zone/,
    ],
    [
      'an A target that is IPv6',
      { zone: 'example.com', records: [{ name: 'a.example.com', type: 'A', targets: ['fd00::1'], ttl: 1 }] },
      /not an IPv4/,
    ],
    [
      'a hostile A target',
      {
        zone: 'example.com',
        records: [{ name: 'a.example.com', type: 'A', targets: ['10.0.0.1"'], ttl: 1 }],
      },
      /not allowed/,
    ],
    [
      'a CNAME beside an A record',
      {
        zone: 'example.com',
        records: [
          { name: 'a.example.com', type: 'A', targets: ['10.0.0.1'], ttl: 1 },
          { name: 'a.example.com', type: 'CNAME', targets: ['b.example.com'], ttl: 1 },
        ],
      },
      /both A and CNAME/,
    ],
    [
      'two A record sets of one name',
      {
        zone: 'example.com',
        records: [
          { name: 'a.example.com', type: 'A', targets: ['10.0.0.1'], ttl: 1 },
          { name: 'a.example.com', type: 'A', targets: ['10.0.0.2'], ttl: 1 },
        ],
      },
      /two A record sets/,
    ],
    [
      'a CNAME with two targets',
      {
        zone: 'example.com',
        records: [
          { name: 'a.example.com', type: 'CNAME', targets: ['b.example.com', 'c.example.com'], ttl: 1 },
        ],
      },
      /exactly one/,
    ],
    [
      'a fractional TTL',
      {
        zone: 'example.com',
        records: [{ name: 'a.example.com', type: 'A', targets: ['10.0.0.1'], ttl: 1.5 }],
      },
      /TTL/,
    ],
    [
      'a record without targets',
      { zone: 'example.com', records: [{ name: 'a.example.com', type: 'A', targets: [], ttl: 1 }] },
      /no targets/,
    ],
    ['a hostile zone', { zone: 'example.com {', records: [] }, /not allowed/],
  ];
  for (const [name, z, re] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => validateRecordZone(z)).toThrow(CorefileValueError);
      expect(() => validateRecordZone(z)).toThrow(re);
    });
  }
});
