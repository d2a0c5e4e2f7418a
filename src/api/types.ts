// Wire shapes of the KubeFed-compatible kinds, as plain JSON (what the API server sends and takes).
// Field names and optionality follow KubeFed v0.10 so that existing manifests round-trip unchanged.
// Only shapes live here; behaviour lives in src/propagation, src/scheduling and src/clusters.

import type { KubernetesObject } from '@kubernetes/client-node';

/** A JSON value as it travels over the wire. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The part of ObjectMeta fedctl reads or writes; the API server may send more. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  selfLink?: string;
}

/** Any Kubernetes object; `spec`/`status` and the rest stay loosely typed. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/**
 * A status condition. `observedGeneration` and `message` are fedctl additions on the federated
 * kinds (KubeFed's Propagation condition had neither); they are optional so KubeFed-written
 * status still parses.
 */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  /** KubeFed wrote this on every propagation; fedctl keeps it only when reading old status. */
  lastUpdateTime?: string;
  observedGeneration?: number;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

// ---------------------------------------------------------------------------------------------
// core.kubefed.io/v1beta1 KubeFedCluster

/** TLS checks a KubeFedCluster may switch off: all (`*`), the server name, or the validity period. */
export type TLSValidation = '*' | 'SubjectName' | 'ValidityPeriod';

export interface KubeFedClusterSpec {
  /** `https://host:port`, or host, host:port, IP, IP:port as in KubeFed. */
  apiEndpoint: string;
  /** Base64 PEM of the CA that signed the member API server's certificate. */
  caBundle?: string;
  /** Secret in the KubeFed namespace holding the member's bearer token under key `token`. */
  secretRef: { name: string };
  disabledTLSValidations?: TLSValidation[];
  proxyURL?: string;
}

/** A cluster condition. KubeFed required lastProbeTime; fedctl writes it only on transitions. */
export interface ClusterCondition extends Condition {
  lastProbeTime?: string;
}

export interface KubeFedClusterStatus {
  conditions: ClusterCondition[];
  kubernetesVersion?: string;
  region?: string;
  zones?: string[];
}

export interface KubeFedCluster extends KubeObject {
  apiVersion?: 'core.kubefed.io/v1beta1';
  kind?: 'KubeFedCluster';
  metadata: ObjectMeta;
  spec: KubeFedClusterSpec;
  status?: KubeFedClusterStatus;
}

// ---------------------------------------------------------------------------------------------
// core.kubefed.io/v1beta1 KubeFedConfig

export type EnabledOrDisabled = 'Enabled' | 'Disabled';
export type ResourceScope = 'Namespaced' | 'Cluster';

export interface KubeFedConfigSpec {
  /** `Cluster` (whole host cluster) or `Namespaced` (only the KubeFed namespace). */
  scope: ResourceScope;
  /** Durations are Go duration strings (`20s`, `5m`, `1500ms`). */
  controllerDuration?: {
    availableDelay?: string;
    unavailableDelay?: string;
    cacheSyncTimeout?: string;
  };
  leaderElect?: {
    leaseDuration?: string;
    renewDeadline?: string;
    retryPeriod?: string;
    resourceLock?: string;
  };
  featureGates?: { name: string; configuration: EnabledOrDisabled }[];
  clusterHealthCheck?: {
    period?: string;
    timeout?: string;
    failureThreshold?: number;
    successThreshold?: number;
  };
  syncController?: {
    maxConcurrentReconciles?: number;
    adoptResources?: EnabledOrDisabled;
  };
  statusController?: {
    maxConcurrentReconciles?: number;
  };
}

export interface KubeFedConfig extends KubeObject {
  apiVersion?: 'core.kubefed.io/v1beta1';
  kind?: 'KubeFedConfig';
  metadata: ObjectMeta;
  spec: KubeFedConfigSpec;
}

// ---------------------------------------------------------------------------------------------
// core.kubefed.io/v1beta1 FederatedTypeConfig

/** One API resource as KubeFed's FederatedTypeConfig names it. `group` is absent for the core group. */
export interface APIResource {
  group?: string;
  version: string;
  kind: string;
  pluralName: string;
  scope: ResourceScope;
}

export interface FederatedTypeConfigSpec {
  targetType: APIResource;
  federatedType: APIResource;
  propagation: EnabledOrDisabled;
  statusType?: APIResource;
  statusCollection?: EnabledOrDisabled;
}

export interface FederatedTypeConfigStatus {
  observedGeneration: number;
  propagationController: 'Running' | 'NotRunning';
  statusController?: 'Running' | 'NotRunning';
}

export interface FederatedTypeConfig extends KubeObject {
  apiVersion?: 'core.kubefed.io/v1beta1';
  kind?: 'FederatedTypeConfig';
  metadata: ObjectMeta;
  spec: FederatedTypeConfigSpec;
  status?: FederatedTypeConfigStatus;
}

// ---------------------------------------------------------------------------------------------
// types.kubefed.io/v1beta1 Federated<Kind>

export interface ClusterReference {
  name: string;
}

export interface Placement {
  /** When present (even empty) it wins over clusterSelector. */
  clusters?: ClusterReference[];
  /** Absent selects no cluster; `{}` selects every cluster. */
  clusterSelector?: LabelSelector;
}

export type OverrideOp = 'add' | 'remove' | 'replace';

export interface ClusterOverride {
  /** Defaults to `replace`. KubeFed's schema also accepted the empty string, meaning the same. */
  op?: OverrideOp | '';
  path: string;
  value?: unknown;
}

export interface OverrideItem {
  clusterName: string;
  clusterOverrides?: ClusterOverride[];
}

export interface FederatedSpec<Template = KubeObject> {
  template?: Template;
  placement?: Placement;
  overrides?: OverrideItem[];
  /**
   * KubeFed puts this on the federated object (`spec.retainReplicas`), next to template, and only
   * in the schema of types whose target has `spec.replicas`: keep the member's replica count
   * (e.g. set by an HPA) instead of the template's.
   */
  retainReplicas?: boolean;
}

/** Per-cluster propagation outcome; an absent or empty `status` means the cluster is in sync. */
export interface ClusterPropagationStatus {
  name: string;
  status?: string;
  /** fedctl addition: details of the failure (the API server's message, the override error). */
  message?: string;
  /** Set only when the type config enables status collection. */
  remoteStatus?: unknown;
  /**
   * fedctl addition: the member object's version after fedctl's last write there (`gen:<generation>`,
   * or `rv:<resourceVersion>` for kinds without one), as KubeFed's PropagatedVersion recorded it. A
   * member whose version differs was changed by someone else and is rewritten.
   */
  version?: string;
  /** fedctl addition: the workload in this cluster, from the member's own status (see WorkloadState). */
  workload?: WorkloadState;
  /** fedctl addition: when this cluster's outcome, message or workload state last changed. */
  lastChange?: string;
}

/**
 * fedctl addition: a member workload's state, compact because it lives in every object's status.
 * Counts are those of the kind (Deployment: spec.replicas, status.replicas, updatedReplicas,
 * readyReplicas, availableReplicas; DaemonSet: desired/current/updated NumberScheduled, numberReady,
 * numberAvailable; Job: completions, succeeded as `ready`, active, failed); kinds without counts
 * (the generic reading of status.conditions) carry only the verdict.
 */
export interface WorkloadState {
  desired?: number;
  replicas?: number;
  updated?: number;
  ready?: number;
  available?: number;
  active?: number;
  failed?: number;
  /** Present (false) only while the member's controller has not observed the latest generation. */
  observed?: boolean;
  /** Rolled out and ready in this cluster (kubectl rollout status's verdict for the kind). */
  healthy: boolean;
  /** Why not, from the member's condition (e.g. ProgressDeadlineExceeded, BackoffLimitExceeded). */
  reason?: string;
  message?: string;
}

/** fedctl addition: workload totals across the placed clusters. */
export interface WorkloadTotals {
  clusters: number;
  /** Clusters in sync whose workload (if any) is healthy. */
  readyClusters: number;
  desired?: number;
  ready?: number;
  updated?: number;
  available?: number;
}

export interface FederatedStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  clusters?: ClusterPropagationStatus[];
  /** fedctl addition: totals across clusters (kept in step with `clusters`). */
  totals?: WorkloadTotals;
  /** fedctl addition, for the READY printer column: ready/desired replicas across clusters, e.g. `7/9`. */
  ready?: string;
  /** fedctl addition, for the CLUSTERS printer column: ready/placed clusters, e.g. `2/3`. */
  readyClusters?: string;
}

export interface FederatedObject<Template = KubeObject> extends KubeObject {
  metadata: ObjectMeta;
  spec: FederatedSpec<Template>;
  status?: FederatedStatus;
}

/**
 * A federated object as read from a host cache (client-node's metadata type): spec and status may be
 * missing or malformed, since nothing but the CRD schema stood between the user and the cache.
 */
export type CachedFederatedObject = KubernetesObject & { spec?: FederatedSpec; status?: FederatedStatus };

/** What building a member copy reads of a federated object, either shape. */
export interface FederatedSource {
  metadata?: Pick<ObjectMeta, 'name' | 'namespace' | 'uid'>;
  spec?: FederatedSpec;
}

// ---------------------------------------------------------------------------------------------
// scheduling.kubefed.io/v1alpha1 ReplicaSchedulingPreference

export interface ClusterPreferences {
  /** Replicas this cluster gets before any weighting; 0 when absent. */
  minReplicas?: number;
  /** Upper bound for this cluster; unbounded when absent. */
  maxReplicas?: number;
  /** Share of the replicas left after the minimums; 0 when absent. */
  weight?: number;
}

export interface ReplicaSchedulingPreferenceSpec {
  /** `FederatedDeployment` or `FederatedReplicaSet`; the target has the RSP's namespace and name. */
  targetKind: string;
  totalReplicas: number;
  /** Move running replicas to match the preferences; false keeps replicas where they run. */
  rebalance?: boolean;
  /** Schedule only into the clusters the target's own clusterSelector picks. */
  intersectWithClusterSelector?: boolean;
  /** Per-cluster preferences; key `*` applies to clusters without their own entry. */
  clusters?: Record<string, ClusterPreferences>;
}

export interface ReplicaSchedulingPreference extends KubeObject {
  apiVersion?: 'scheduling.kubefed.io/v1alpha1';
  kind?: 'ReplicaSchedulingPreference';
  metadata: ObjectMeta;
  spec: ReplicaSchedulingPreferenceSpec;
  status?: Record<string, unknown>;
}
