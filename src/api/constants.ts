// API groups, versions, labels and annotations that KubeFed users' manifests rely on.
// Wire-compatible with KubeFed v0.10 (DNS kinds from v0.6.1): these strings must never change.

export const CORE_GROUP = 'core.kubefed.io';
export const CORE_VERSION = 'v1beta1';
export const TYPES_GROUP = 'types.kubefed.io';
export const TYPES_VERSION = 'v1beta1';
export const SCHEDULING_GROUP = 'scheduling.kubefed.io';
export const SCHEDULING_VERSION = 'v1alpha1';
export const DNS_GROUP = 'multiclusterdns.kubefed.io';
export const DNS_VERSION = 'v1alpha1';

export const apiVersionOf = (group: string, version: string): string =>
  group === '' ? version : `${group}/${version}`;

/** Namespace the control plane lives in, as in KubeFed. */
export const DEFAULT_KUBEFED_NAMESPACE = 'kube-federation-system';

/** Marks objects in member clusters that fedctl manages ("true") or must leave alone ("false"). */
export const MANAGED_LABEL = 'kubefed.io/managed';
/** On a federated object: "true" keeps member objects when the federated object is deleted. */
export const ORPHAN_ANNOTATION = 'kubefed.io/orphan';
/** Finalizer the sync controller holds until member objects are gone (or orphaned). */
export const SYNC_FINALIZER = 'kubefed.io/sync-controller';
/** Field manager name for every write fedctl makes. */
export const FIELD_MANAGER = 'fedctl';

/** Label on a kube-system Service whose LoadBalancer ingress is the cluster's DNS address for other clusters. */
export const CROSS_CLUSTER_DNS_LABEL = 'fedctl.io/cross-cluster-dns';

/** Node annotation naming the network namespace a (local testbed) node lives in, for `fedctl routes --via netns`. */
export const NETNS_ANNOTATION = 'fedctl.io/netns';

// Annotations fedctl writes on every member object it creates or adopts (one write carries them all).
/** UID of the federated object the member object belongs to: fedctl deletes only objects that carry it. */
export const OWNER_UID_ANNOTATION = 'fedctl.io/owner-uid';
/** Hash of what fedctl last wrote (template, overrides, apiVersion): a change means "update the member". */
export const TEMPLATE_HASH_ANNOTATION = 'fedctl.io/template-hash';
/** Annotation keys the template and overrides set, so a key dropped from them leaves the member too. */
export const TEMPLATE_ANNOTATIONS_ANNOTATION = 'fedctl.io/template-annotations';
/** On a federated object: JSON DeleteOptions used when deleting its member objects (KubeFed's annotation). */
export const DELETE_OPTIONS_ANNOTATION = 'kubefed.io/deleteoption';

/**
 * Namespaces that exist in every cluster and hold the cluster's own machinery: a FederatedNamespace for
 * one of them never creates, changes, labels or deletes it in a member (its placement still selects
 * the clusters for the objects inside). The control-plane namespace is added at run time.
 */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
]);
