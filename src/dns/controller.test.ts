import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { DNSEndpoint, Domain } from '../api/dns.ts';
import { StaticMemberResource } from '../clusters/member-cache.ts';
import { nopLogger } from '../kube/logger.ts';
import {
  CONFIGMAP_REF,
  DNS_ENDPOINT_REF,
  DOMAIN_REF,
  ENDPOINTSLICE_REF,
  INGRESS_DNS_RECORD_REF,
  INGRESS_REF,
  NODE_REF,
  SERVICE_DNS_RECORD_REF,
  SERVICE_REF,
} from '../kube/refs.ts';
import { StaticHostResource } from '../testing/caches.ts';
import { CLUSTER_DOMAIN_ANNOTATION, DNS_ADDRESSES_ANNOTATION } from './addresses.ts';
import { DnsController, type DnsWriter } from './controller.ts';
import type { IngressRecord, MemberDnsCaches, ServiceRecord } from './inputs.ts';
import type { CorefileOutcome } from './writer.ts';

const NS = 'kube-federation-system';
const NOW = new Date('2025-01-01T00:00:00Z');

const member = (name: string) => ({
  name,
  labels: {},
  clients: {} as never,
  cluster: {
    metadata: {
      annotations: {
        [CLUSTER_DOMAIN_ANNOTATION]: `${name}.local`,
        [DNS_ADDRESSES_ANNOTATION]: `127.0.0.1:${1050 + Number(name.slice(-1))}`,
      },
    },
  },
});

const record = (name: string, extra: Partial<ServiceRecord> = {}): ServiceRecord => ({
  apiVersion: 'multiclusterdns.kubefed.io/v1alpha1',
  kind: 'ServiceDNSRecord',
  metadata: { name, namespace: 'web', uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
  spec: { domainRef: 'example' },
  ...extra,
});

const service = (name: string, ip: string) => ({
  metadata: { name, namespace: 'web', resourceVersion: '5' },
  status: { loadBalancer: { ingress: [{ ip }] } },
});
const slice = (service: string) => ({
  metadata: { name: `${service}-x`, namespace: 'web', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['127.0.0.5'], conditions: { ready: true } }],
});

function setup(o: { records?: ServiceRecord[]; refuse?: boolean; domains?: boolean } = {}) {
  const writes: string[] = [];
  const sections = new Map<string, string[]>();
  const last: { status?: unknown; endpoint?: DNSEndpoint & KubernetesObject } = {};
  const writer: DnsWriter = {
    patchStatus: async (ref, name, namespace, status) => {
      writes.push(`patchStatus ${ref.kind} ${namespace}/${name}`);
      last.status = status;
      const s = status as { conditions?: { type: string; status: string; reason: string }[] };
      writes.push(...(s.conditions ?? []).map((c) => `  ${c.type}=${c.status} ${c.reason}`));
    },
    writeEndpoint: async (ep) => {
      last.endpoint = ep;
      writes.push(
        `write DNSEndpoint ${ep.metadata?.namespace}/${ep.metadata?.name}: ${(ep.spec.endpoints ?? [])
          .map((e) => `${e.dnsName} ${e.recordType} ${e.targets.join(',')}`)
          .join('; ')}`,
      );
    },
    writeCorefile: async (cluster, section): Promise<CorefileOutcome> => {
      const zones = section.zones.map((z) => `${z.zone}→${z.upstreams.join(',')}`);
      writes.push(`corefile ${cluster}: ${zones.join(' ') || '(none)'}`);
      sections.set(cluster, zones);
      return o.refuse
        ? { outcome: 'refused', reason: 'CheckFailed', message: 'plugin/forward: bad' }
        : { outcome: 'updated', target: 'Corefile', backup: 'kube-system/coredns-fedctl-backup' };
    },
  };
  const members = [member('c0'), member('c1')];
  const caches: MemberDnsCaches = {
    services: new StaticMemberResource(SERVICE_REF, { c0: [], c1: [service('db', '127.0.0.20')] }) as never,
    endpointSlices: new StaticMemberResource(ENDPOINTSLICE_REF, { c0: [], c1: [slice('db')] }) as never,
    nodes: new StaticMemberResource(NODE_REF, { c0: [], c1: [] }) as never,
    ingresses: new StaticMemberResource(INGRESS_REF, { c0: [], c1: [] }) as never,
    configMaps: new StaticMemberResource(CONFIGMAP_REF, { c0: [], c1: [] }) as never,
  };
  const domain = { metadata: { name: 'example', namespace: NS }, domain: 'example.com' } as Domain &
    KubernetesObject;
  const host = {
    records: new StaticHostResource<ServiceRecord>(SERVICE_DNS_RECORD_REF, o.records ?? [record('db')]),
    ingressRecords: new StaticHostResource<IngressRecord>(INGRESS_DNS_RECORD_REF),
    domains: new StaticHostResource<Domain & KubernetesObject>(
      DOMAIN_REF,
      o.domains === false ? [] : [domain],
    ),
    endpoints: new StaticHostResource<DNSEndpoint & KubernetesObject>(DNS_ENDPOINT_REF),
  };
  const controller = new DnsController({
    namespace: NS,
    members: () => members,
    isReady: () => true,
    host,
    caches,
    writer,
    log: nopLogger,
    now: () => NOW,
    lookup: async (h) => {
      throw new Error(`unexpected lookup of ${h}`);
    },
  });
  return { controller, writes, sections, caches, host, last };
}

describe('DnsController', () => {
  it('publishes a record: its DNSEndpoint, then its status with both conditions True', async () => {
    const t = setup();
    expect(await t.controller.reconcileRecord('web/db')).toBeUndefined();
    expect(t.writes).toEqual([
      'write DNSEndpoint web/service-db: db.web.example.svc.example.com A 127.0.0.20',
      'patchStatus ServiceDNSRecord web/db',
      '  RecordsPublished=True RecordsWritten',
      '  ForwardZonesConfigured=True CorefilesUpdated',
    ]);
  });

  it('writes every Corefile from the caches alone, before any record was reconciled (a restart or failover)', async () => {
    const t = setup();
    await t.controller.reconcileCorefile('c0');
    await t.controller.reconcileCorefile('c1');
    expect(t.writes).toEqual(['corefile c0: c1.local→127.0.0.1:1051', 'corefile c1: (none)']);
  });

  it('writes nothing while a member cache has not listed, and looks again soon', async () => {
    const t = setup();
    const services = new StaticMemberResource(SERVICE_REF, { c0: [] });
    t.caches.services = services as never;
    expect(await t.controller.reconcileCorefile('c0')).toEqual({ requeueAfterMs: 1000 });
    expect(await t.controller.reconcileRecord('web/db')).toEqual({ requeueAfterMs: 1000 });
    expect(t.writes).toEqual([]);
  });

  it('writes nothing while the host records have not listed', async () => {
    const t = setup();
    t.host.records.synced = false;
    expect(await t.controller.reconcileCorefile('c0')).toEqual({ requeueAfterMs: 1000 });
    expect(t.writes).toEqual([]);
  });

  it('reports a missing Domain as RecordsPublished False DomainNotFound, writing only the status', async () => {
    const t = setup({ domains: false });
    await t.controller.reconcileRecord('web/db');
    expect(t.writes).toEqual([
      'patchStatus ServiceDNSRecord web/db',
      '  RecordsPublished=False DomainNotFound',
    ]);
  });

  it('writes nothing again once the status and the DNSEndpoint in the caches say the same', async () => {
    const t = setup();
    await t.controller.reconcileRecord('web/db');
    t.host.records.set([{ ...record('db'), status: t.last.status as ServiceRecord['status'] }]);
    t.host.endpoints.set([t.last.endpoint as DNSEndpoint & KubernetesObject]);
    t.writes.length = 0;
    await t.controller.reconcileRecord('web/db');
    expect(t.writes).toEqual([]);
  });

  it('reports a refused Corefile on the records that forward, with its reason', async () => {
    const t = setup({ refuse: true });
    expect(await t.controller.reconcileCorefile('c0')).toEqual({ requeueAfterMs: 30_000 });
    t.writes.length = 0;
    await t.controller.reconcileRecord('web/db');
    expect(t.writes.slice(-1)).toEqual(['  ForwardZonesConfigured=False CheckFailed']);
  });

  it('re-reconciles every record when a member loses its DNS address (their ForwardZonesConfigured depends on it)', () => {
    const t = setup({ records: [record('db'), record('cache')] });
    const services = t.caches.services as unknown as StaticMemberResource;
    services.emit(
      'delete',
      { metadata: { name: 'cross-cluster-dns', namespace: 'kube-system' } },
      undefined,
      'c1',
    );
    expect(t.controller.records.queue.len()).toBe(2);
    expect(t.controller.corefiles.queue.len()).toBe(2);
  });

  it('leaves the Corefile of a cluster that is not Ready alone', async () => {
    const t = setup();
    const c = new DnsController({
      namespace: NS,
      members: () => [member('c0'), member('c1')],
      isReady: (n) => n !== 'c0',
      host: t.host,
      caches: t.caches,
      writer: {
        patchStatus: async () => {},
        writeEndpoint: async () => {},
        writeCorefile: async (cluster) => {
          t.writes.push(`corefile ${cluster}`);
          return { outcome: 'unchanged', target: 'Corefile' };
        },
      },
      log: nopLogger,
    });
    await c.reconcileCorefile('c0');
    expect(t.writes).toEqual([]);
  });
});
