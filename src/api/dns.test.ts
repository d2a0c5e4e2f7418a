import { describe, expect, it } from 'vitest';
import { dnsCustomResourceDefinitions, dnsEndpointName } from './dns.ts';

// biome-ignore lint/suspicious/noExplicitAny: walking generated schemas
type Json = Record<string, any>;

const crds = dnsCustomResourceDefinitions() as Json[];
const byKind = (kind: string): Json => crds.find((c) => c.spec.names.kind === kind)!;
const schemaOf = (kind: string): Json => byKind(kind).spec.versions[0].schema.openAPIV3Schema;

/** The regular expression inside a `self.matches('…')` CEL rule, unescaped as CEL does. */
function celRegex(rule: string): RegExp {
  const m = /^self\.matches\('(.*)'\)$/.exec(rule);
  if (!m) throw new Error(`not a matches rule: ${rule}`);
  return new RegExp(m[1]!.replace(/\\\\/g, '\\'));
}

describe('dnsCustomResourceDefinitions', () => {
  it('defines the four KubeFed v0.6.1 kinds, namespaced, in multiclusterdns.kubefed.io/v1alpha1', () => {
    expect(crds.map((c) => c.metadata.name)).toEqual([
      'dnsendpoints.multiclusterdns.kubefed.io',
      'domains.multiclusterdns.kubefed.io',
      'ingressdnsrecords.multiclusterdns.kubefed.io',
      'servicednsrecords.multiclusterdns.kubefed.io',
    ]);
    for (const c of crds) {
      expect(c.apiVersion).toBe('apiextensions.k8s.io/v1');
      expect(c.spec.group).toBe('multiclusterdns.kubefed.io');
      expect(c.spec.scope).toBe('Namespaced');
      expect(c.spec.versions.map((v: Json) => [v.name, v.served, v.storage])).toEqual([
        ['v1alpha1', true, true],
      ]);
    }
  });

  it('gives Domain top-level domain and nameServer fields, no spec and no status subresource', () => {
    const s = schemaOf('Domain');
    expect(Object.keys(s.properties).sort()).toEqual([
      'apiVersion',
      'domain',
      'kind',
      'metadata',
      'nameServer',
    ]);
    expect(s.required).toEqual(['domain']);
    expect(byKind('Domain').spec.versions[0].subresources).toBeUndefined();
  });

  it('gives the record kinds and DNSEndpoint a status subresource', () => {
    for (const kind of ['ServiceDNSRecord', 'IngressDNSRecord', 'DNSEndpoint']) {
      expect(byKind(kind).spec.versions[0].subresources).toEqual({ status: {} });
    }
  });

  it('keeps the KubeFed field names of ServiceDNSRecord spec and status', () => {
    const s = schemaOf('ServiceDNSRecord');
    expect(Object.keys(s.properties.spec.properties).sort()).toEqual([
      'allowServiceWithoutEndpoints',
      'dnsPrefix',
      'domainRef',
      'externalName',
      'recordTTL',
    ]);
    expect(s.properties.spec.required).toEqual(['domainRef']);
    expect(Object.keys(s.properties.status.properties).sort()).toEqual([
      'conditions',
      'dns',
      'domain',
      'observedGeneration',
    ]);
    expect(Object.keys(s.properties.status.properties.dns.items.properties).sort()).toEqual([
      'cluster',
      'loadBalancer',
      'region',
      'zones',
    ]);
  });

  it('keeps the endpoint fields of DNSEndpoint', () => {
    const e = schemaOf('DNSEndpoint').properties.spec.properties.endpoints.items.properties;
    expect(Object.keys(e).sort()).toEqual(['dnsName', 'labels', 'recordTTL', 'recordType', 'targets']);
  });

  const rules: [string, (s: Json) => Json, string[], string[]][] = [
    [
      'Domain domain',
      (s) => s.properties.domain,
      ['example.com', 'Example.COM.', 'a-b.c_d.io'],
      ['evil.com { }', 'a..b', '-a.com', 'a b', ''],
    ],
    [
      'ServiceDNSRecord dnsPrefix',
      (s) => s.properties.spec.properties.dnsPrefix,
      ['www', 'shop.eu'],
      ['www.', 'a b', '*.x', ''],
    ],
    [
      'IngressDNSRecord hosts',
      (s) => s.properties.spec.properties.hosts.items,
      ['a.example.com', '*.example.com'],
      ['a.*.com', 'a b.com', '**.x'],
    ],
  ];
  for (const [name, pick, good, bad] of rules) {
    it(`validates ${name} with a readable rule`, () => {
      const kind = name.split(' ')[0]!;
      const field = pick(schemaOf(kind));
      const [v] = field['x-kubernetes-validations'];
      expect(v.message).toMatch(/must be/);
      expect(field.maxLength).toBe(253);
      const re = celRegex(v.rule);
      for (const g of good) expect(re.test(g), g).toBe(true);
      for (const b of bad) expect(re.test(b), b).toBe(false);
    });
  }
});

describe('dnsEndpointName', () => {
  it('prefixes the record name with its kind, as KubeFed did', () => {
    expect(dnsEndpointName('service', 'web')).toBe('service-web');
    expect(dnsEndpointName('ingress', 'front')).toBe('ingress-front');
  });
});
