// Types and CRDs of the multiclusterdns.kubefed.io/v1alpha1 kinds, wire-compatible with KubeFed v0.6.1
// (the last release that shipped them). Field names and JSON shapes follow KubeFed's Go types; two
// additions are status-only and optional: ServiceDNSRecord/IngressDNSRecord `status.conditions` and
// `status.observedGeneration`, so existing manifests apply unchanged.

import { apiVersionOf, DNS_GROUP, DNS_VERSION } from './constants.ts';
import {
  AGE_COLUMN,
  type CustomResourceDefinition,
  customResourceDefinition,
  type PrinterColumn,
} from './crds.ts';
import type { JSONSchemaProps } from './schema.ts';
import type { Condition } from './types.ts';

export const DNS_API_VERSION = apiVersionOf(DNS_GROUP, DNS_VERSION);

/** KubeFed's default record TTL in seconds, used when `recordTTL` is 0 or absent. */
export const DEFAULT_RECORD_TTL = 180;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  ownerReferences?: unknown[];
}

/** core/v1 LoadBalancerIngress, as stored in a Service's `status.loadBalancer.ingress[]`. */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
  ports?: { port: number; protocol: string; error?: string }[];
}

export interface LoadBalancerStatus {
  ingress?: LoadBalancerIngress[];
}

/**
 * Domain. In KubeFed v0.6.1 `domain` and `nameServer` are top-level fields (there is no spec and no
 * status); the object lives in the KubeFed namespace and ServiceDNSRecords name it in `domainRef`.
 */
export interface Domain {
  apiVersion?: string;
  kind?: 'Domain';
  metadata: ObjectMeta;
  /** DNS zone associated with the federation, e.g. `example.com`. */
  domain: string;
  /** Authoritative name server for the zone (informational in KubeFed; fedctl uses it as the SOA MNAME). */
  nameServer?: string;
}

export interface ServiceDNSRecordSpec {
  /** Name of the Domain (in the KubeFed namespace) the records belong to. */
  domainRef: string;
  /** TTL in seconds; 0 or absent means 180. */
  recordTTL?: number;
  /** Adds a CNAME `<dnsPrefix>.<domain>` pointing at the global name. */
  dnsPrefix?: string;
  /** Replaces the Service name in every record name. */
  externalName?: string;
  /** Publish clusters whose Service has no ready endpoints. */
  allowServiceWithoutEndpoints?: boolean;
}

export interface ClusterDNS {
  cluster?: string;
  loadBalancer?: LoadBalancerStatus;
  zones?: string[];
  region?: string;
}

export interface ServiceDNSRecordStatus {
  /** The Domain's `domain`, copied by the controller. */
  domain?: string;
  dns?: ClusterDNS[];
  /** fedctl addition. */
  observedGeneration?: number;
  /** fedctl addition. */
  conditions?: Condition[];
}

export interface ServiceDNSRecord {
  apiVersion?: string;
  kind?: 'ServiceDNSRecord';
  metadata: ObjectMeta;
  spec: ServiceDNSRecordSpec;
  status?: ServiceDNSRecordStatus;
}

export interface IngressDNSRecordSpec {
  /** Host names from the Ingress rules. */
  hosts?: string[];
  recordTTL?: number;
}

export interface ClusterIngressDNS {
  cluster?: string;
  loadBalancer?: LoadBalancerStatus;
}

export interface IngressDNSRecordStatus {
  dns?: ClusterIngressDNS[];
  /** fedctl addition. */
  observedGeneration?: number;
  /** fedctl addition. */
  conditions?: Condition[];
}

export interface IngressDNSRecord {
  apiVersion?: string;
  kind?: 'IngressDNSRecord';
  metadata: ObjectMeta;
  spec: IngressDNSRecordSpec;
  status?: IngressDNSRecordStatus;
}

/** One DNS record set of a DNSEndpoint (the ExternalDNS "Endpoint" shape). */
export interface Endpoint {
  dnsName: string;
  targets: string[];
  /** `A` or `CNAME` as fedctl writes them; other types may appear in user-made objects. */
  recordType: string;
  recordTTL?: number;
  labels?: Record<string, string>;
}

export interface DNSEndpoint {
  apiVersion?: string;
  kind?: 'DNSEndpoint';
  metadata: ObjectMeta;
  spec: { endpoints?: Endpoint[] };
  status?: { observedGeneration?: number };
}

// ---------------------------------------------------------------------------------------------
// CRDs

type Schema = Record<string, unknown>;

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });

// CEL rules give messages a user can act on, where a bare `pattern` would print a regular expression.
// String limits are required for CEL cost estimation and keep values inside DNS's own limits.
const dnsName = (description: string, what: string): Schema =>
  str(description, {
    maxLength: 253,
    'x-kubernetes-validations': [
      {
        rule: "self.matches('^([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)(\\\\.[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)*\\\\.?$')",
        message: `${what} must be a DNS name: dot-separated labels of letters, digits and "-", such as example.com`,
      },
    ],
  });

const dnsLabels = (description: string, what: string): Schema =>
  str(description, {
    maxLength: 253,
    'x-kubernetes-validations': [
      {
        rule: "self.matches('^[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?(\\\\.[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)*$')",
        message: `${what} must be one or more DNS labels (letters, digits and "-"), without a trailing dot`,
      },
    ],
  });

const ttl: Schema = {
  type: 'integer',
  format: 'int64',
  minimum: 0,
  maximum: 2147483647,
  description: 'TTL in seconds of the records; 0 or absent means the default (180).',
};

const conditions: Schema = {
  type: 'array',
  description: 'fedctl conditions about this record (not present in KubeFed).',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: {
    type: 'object',
    required: ['type', 'status'],
    properties: {
      type: str('Condition type.', { maxLength: 316 }),
      status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      reason: str('One-word CamelCase reason.', { maxLength: 1024 }),
      message: str('Human-readable details.', { maxLength: 32768 }),
      lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
      observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    },
  },
};

const loadBalancer: Schema = {
  type: 'object',
  description: 'LoadBalancer status of the Service (or ingress controller) in that cluster.',
  properties: {
    ingress: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ip: str('Load balancer IP address.'),
          hostname: str('Load balancer host name; fedctl resolves it to addresses as KubeFed did.'),
          ipMode: str('How traffic reaches the load balancer IP (VIP or Proxy).'),
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'atomic',
            items: {
              type: 'object',
              required: ['port', 'protocol'],
              properties: {
                port: { type: 'integer', format: 'int32' },
                protocol: str('TCP, UDP or SCTP.'),
                error: str('Problem with this port, if any.'),
              },
            },
          },
        },
      },
    },
  },
};

interface CrdNames {
  kind: string;
  plural: string;
}

function crd(
  names: CrdNames,
  description: string,
  schema: Schema,
  options: { status: boolean; columns: PrinterColumn[] },
): CustomResourceDefinition {
  return customResourceDefinition({
    group: DNS_GROUP,
    version: DNS_VERSION,
    kind: names.kind,
    plural: names.plural,
    scope: 'Namespaced',
    schema: {
      type: 'object',
      description,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        ...schema,
      },
      ...(names.kind === 'Domain' ? { required: ['domain'] } : {}),
    } as JSONSchemaProps,
    categories: [],
    status: options.status,
    printerColumns: [...options.columns, AGE_COLUMN],
  });
}

export function domainCrd(): CustomResourceDefinition {
  return crd(
    { kind: 'Domain', plural: 'domains' },
    'Domain is the DNS zone of a federation. ServiceDNSRecords name it in spec.domainRef.',
    {
      domain: dnsName('DNS zone associated with the federation, e.g. example.com.', 'domain'),
      nameServer: dnsName(
        'Authoritative name server of the zone (used as the SOA name server).',
        'nameServer',
      ),
    },
    {
      status: false,
      columns: [
        { name: 'Domain', type: 'string', jsonPath: '.domain' },
        { name: 'NameServer', type: 'string', jsonPath: '.nameServer', priority: 1 },
      ],
    },
  );
}

export function serviceDnsRecordCrd(): CustomResourceDefinition {
  return crd(
    { kind: 'ServiceDNSRecord', plural: 'servicednsrecords' },
    'ServiceDNSRecord asks for DNS records of the Service with the same name and namespace in every member cluster: ' +
      '<service>.<namespace>.<domainRef>.svc.<domain> (global), ...svc.<region>.<domain> and ...svc.<zone>.<region>.<domain>.',
    {
      spec: {
        type: 'object',
        required: ['domainRef'],
        properties: {
          domainRef: str('Name of the Domain object (in the federation namespace) the records belong to.', {
            minLength: 1,
            maxLength: 253,
          }),
          recordTTL: ttl,
          dnsPrefix: dnsLabels(
            'Adds the CNAME <dnsPrefix>.<domain> pointing at the global name.',
            'dnsPrefix',
          ),
          externalName: dnsLabels('Replaces the Service name in every record name.', 'externalName'),
          allowServiceWithoutEndpoints: {
            type: 'boolean',
            description: 'Publish a cluster even when its Service has no ready endpoints.',
          },
        },
      },
      status: {
        type: 'object',
        properties: {
          domain: str("The Domain object's domain, copied by the controller."),
          dns: {
            type: 'array',
            description: 'Per-cluster load balancer, region and zones of the Service.',
            items: {
              type: 'object',
              properties: {
                cluster: str('Member cluster name.'),
                loadBalancer,
                zones: { type: 'array', items: { type: 'string' }, description: 'Zones of the cluster.' },
                region: str('Region of the cluster.'),
              },
            },
          },
          observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
          conditions,
        },
      },
    },
    {
      status: true,
      columns: [
        { name: 'Domain', type: 'string', jsonPath: '.spec.domainRef' },
        { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      ],
    },
  );
}

export function ingressDnsRecordCrd(): CustomResourceDefinition {
  return crd(
    { kind: 'IngressDNSRecord', plural: 'ingressdnsrecords' },
    'IngressDNSRecord asks for A records of the given hosts, pointing at the ingress load balancers of every member cluster.',
    {
      spec: {
        type: 'object',
        properties: {
          hosts: {
            type: 'array',
            description: 'Host names from the Ingress rules.',
            // A bound keeps the per-item CEL rule inside the API server's cost budget.
            maxItems: 100,
            // Ingress rules allow wildcard hosts (*.example.com), so records may name them too.
            items: str('A host name, optionally starting with "*.".', {
              maxLength: 253,
              'x-kubernetes-validations': [
                {
                  rule: "self.matches('^(\\\\*\\\\.)?[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?(\\\\.[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)*\\\\.?$')",
                  message:
                    'each host must be a DNS name such as www.example.com, optionally starting with "*."',
                },
              ],
            }),
          },
          recordTTL: ttl,
        },
      },
      status: {
        type: 'object',
        properties: {
          dns: {
            type: 'array',
            description: 'Per-cluster ingress load balancers.',
            items: { type: 'object', properties: { cluster: str('Member cluster name.'), loadBalancer } },
          },
          observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
          conditions,
        },
      },
    },
    { status: true, columns: [{ name: 'Hosts', type: 'string', jsonPath: '.spec.hosts' }] },
  );
}

export function dnsEndpointCrd(): CustomResourceDefinition {
  return crd(
    { kind: 'DNSEndpoint', plural: 'dnsendpoints' },
    'DNSEndpoint holds DNS record sets computed from a ServiceDNSRecord (service-<name>) or IngressDNSRecord (ingress-<name>).',
    {
      spec: {
        type: 'object',
        properties: {
          endpoints: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                dnsName: str('Fully qualified name of the record set.', { maxLength: 253 }),
                targets: {
                  type: 'array',
                  items: { type: 'string' },
                  description: 'Addresses (A) or the single canonical name (CNAME).',
                },
                recordType: str('Record type, e.g. A or CNAME.'),
                recordTTL: ttl,
                labels: {
                  type: 'object',
                  additionalProperties: { type: 'string' },
                  description: 'Labels of the record set.',
                },
              },
            },
          },
        },
      },
      status: {
        type: 'object',
        properties: {
          observedGeneration: {
            type: 'integer',
            format: 'int64',
            description: 'Generation observed by the controller consuming this object.',
          },
        },
      },
    },
    { status: true, columns: [] },
  );
}

/** The four multiclusterdns.kubefed.io CRDs, in a stable order. */
export function dnsCustomResourceDefinitions(): CustomResourceDefinition[] {
  return [dnsEndpointCrd(), domainCrd(), ingressDnsRecordCrd(), serviceDnsRecordCrd()];
}

/** Name of the DNSEndpoint KubeFed derived from a record: `service-<name>` or `ingress-<name>`. */
export function dnsEndpointName(kind: 'service' | 'ingress', recordName: string): string {
  return `${kind}-${recordName}`;
}
