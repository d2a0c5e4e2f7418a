// Where kinds live on the API server, and the keys objects are queued and cached under: one module,
// so a ref or a key format has one owner.
import {
  CORE_GROUP,
  CORE_VERSION,
  DNS_GROUP,
  DNS_VERSION,
  SCHEDULING_GROUP,
  SCHEDULING_VERSION,
  TYPES_GROUP,
  TYPES_VERSION,
} from '../api/constants.ts';

/** Where a kind lives on the API server. `group` is '' for the core group. */
export interface ResourceRef {
  group: string;
  version: string;
  /** The lower-case plural used in URLs, e.g. `deployments`. */
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** The cache/queue key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** Inverse of objectKey: `[namespace, name]`, namespace undefined for cluster-scoped keys. */
export function splitKey(key: string): [string | undefined, string] {
  const i = key.indexOf('/');
  return i < 0 ? [undefined, key] : [key.slice(0, i), key.slice(i + 1)];
}

const ref = (group: string, version: string, kind: string, plural: string, namespaced = true): ResourceRef =>
  Object.freeze({ group, version, kind, plural, namespaced });

// Built-in kinds fedctl reads in members (and the host).
export const NAMESPACE_REF = ref('', 'v1', 'Namespace', 'namespaces', false);
export const SECRET_REF = ref('', 'v1', 'Secret', 'secrets');
export const CONFIGMAP_REF = ref('', 'v1', 'ConfigMap', 'configmaps');
export const SERVICE_REF = ref('', 'v1', 'Service', 'services');
export const NODE_REF = ref('', 'v1', 'Node', 'nodes', false);
export const ENDPOINTSLICE_REF = ref('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices');
export const INGRESS_REF = ref('networking.k8s.io', 'v1', 'Ingress', 'ingresses');
export const DEPLOYMENT_REF = ref('apps', 'v1', 'Deployment', 'deployments');
export const REPLICASET_REF = ref('apps', 'v1', 'ReplicaSet', 'replicasets');

// Kinds the control plane itself writes in the host: its CRDs, leader Lease and Events.
export const CRD_REF = ref(
  'apiextensions.k8s.io',
  'v1',
  'CustomResourceDefinition',
  'customresourcedefinitions',
  false,
);
export const LEASE_REF = ref('coordination.k8s.io', 'v1', 'Lease', 'leases');
export const EVENT_REF = ref('', 'v1', 'Event', 'events');

// fedctl's (KubeFed's) kinds in the host.
export const KUBEFEDCLUSTER_REF = ref(CORE_GROUP, CORE_VERSION, 'KubeFedCluster', 'kubefedclusters');
export const KUBEFEDCONFIG_REF = ref(CORE_GROUP, CORE_VERSION, 'KubeFedConfig', 'kubefedconfigs');
export const FTC_REF = ref(CORE_GROUP, CORE_VERSION, 'FederatedTypeConfig', 'federatedtypeconfigs');
export const SERVICE_DNS_RECORD_REF = ref(DNS_GROUP, DNS_VERSION, 'ServiceDNSRecord', 'servicednsrecords');
export const INGRESS_DNS_RECORD_REF = ref(DNS_GROUP, DNS_VERSION, 'IngressDNSRecord', 'ingressdnsrecords');
export const DOMAIN_REF = ref(DNS_GROUP, DNS_VERSION, 'Domain', 'domains');
export const DNS_ENDPOINT_REF = ref(DNS_GROUP, DNS_VERSION, 'DNSEndpoint', 'dnsendpoints');
export const RSP_REF = ref(
  SCHEDULING_GROUP,
  SCHEDULING_VERSION,
  'ReplicaSchedulingPreference',
  'replicaschedulingpreferences',
);
export const FEDERATED_DEPLOYMENT_REF = ref(
  TYPES_GROUP,
  TYPES_VERSION,
  'FederatedDeployment',
  'federateddeployments',
);
export const FEDERATED_CONFIGMAP_REF = ref(
  TYPES_GROUP,
  TYPES_VERSION,
  'FederatedConfigMap',
  'federatedconfigmaps',
);
export const FEDERATED_REPLICASET_REF = ref(
  TYPES_GROUP,
  TYPES_VERSION,
  'FederatedReplicaSet',
  'federatedreplicasets',
);
