// Fields an update must keep from the member object. A member object is also written by the member
// cluster itself (allocated IPs and ports, controllers' annotations and finalizers, token secrets,
// an HPA's replica count); an update built only from the template would erase those, fail on
// immutable fields, or start a tug of war with a member controller.
//
// Rules are data: one function per target kind, each with the reason it exists. Every function
// receives a private copy of the desired object to modify, and the member object read-only.

import {
  OWNER_UID_ANNOTATION,
  TEMPLATE_ANNOTATIONS_ANNOTATION,
  TEMPLATE_HASH_ANNOTATION,
} from '../api/constants.ts';
import type { KubeObject } from '../api/types.ts';

/** fedctl's own annotations: never taken from a template, never kept from a member (re-stamped). */
export const FEDCTL_ANNOTATIONS: readonly string[] = [
  OWNER_UID_ANNOTATION,
  TEMPLATE_HASH_ANNOTATION,
  TEMPLATE_ANNOTATIONS_ANNOTATION,
];

/** Keys of the `fedctl.io/template-annotations` record on a member object: what fedctl set last time. */
export function recordedAnnotationKeys(member: KubeObject | undefined): string[] {
  const value = member?.metadata?.annotations?.[TEMPLATE_ANNOTATIONS_ANNOTATION];
  return value ? value.split(',').filter((k) => k !== '') : [];
}

export interface RetentionOptions {
  /** The federated object's `spec.retainReplicas`: keep the member's `spec.replicas`. */
  retainReplicas?: boolean;
}

export type RetainRule = (desired: KubeObject, member: KubeObject, options: RetentionOptions) => void;

type Json = Record<string, unknown>;

/**
 * Rules for every kind. An update must carry the member's resourceVersion (optimistic
 * concurrency); finalizers belong to member controllers; annotations are mostly written by member
 * controllers too (deployment revision, kubectl, ingress controllers), so the member's are kept and
 * the template's are laid over them, except those fedctl set last time (recorded on the member) that
 * the template no longer sets: those are removed. KubeFed v0.10 kept only the member's annotations and
 * ignored the template's; fedctl propagates template annotations without erasing the member's.
 */
export const commonRule: RetainRule = (desired, member) => {
  if (desired.metadata === undefined) desired.metadata = {};
  const dm = desired.metadata;
  const mm = member.metadata ?? {};
  if (mm.resourceVersion !== undefined) dm.resourceVersion = mm.resourceVersion;
  else delete dm.resourceVersion;
  if (mm.finalizers !== undefined && mm.finalizers.length > 0) dm.finalizers = [...mm.finalizers];
  else delete dm.finalizers;
  const dropped = new Set([...FEDCTL_ANNOTATIONS, ...recordedAnnotationKeys(member)]);
  const kept = Object.entries(mm.annotations ?? {}).filter(([k]) => !dropped.has(k));
  const annotations = { ...Object.fromEntries(kept), ...(dm.annotations ?? {}) };
  // Kept even when empty: an override may `add` below it (overrides run after retention).
  dm.annotations = annotations;
};

/** Key of RETAIN_RULES: `Kind` for the core group, `Kind.group` otherwise. */
export const ruleKey = (group: string, kind: string): string => (group ? `${kind}.${group}` : kind);

export const RETAIN_RULES: ReadonlyMap<string, RetainRule> = new Map<string, RetainRule>([
  [
    // The API server allocates clusterIP(s), nodePorts and healthCheckNodePort; most are immutable,
    // and an update without them either fails or (for nodePorts) allocates new ones, breaking
    // whoever points at the old port. Ports match by name, protocol and port; a missing protocol
    // counts as TCP (the server's default), which KubeFed's exact comparison missed. Values the
    // desired type forbids are not carried over (KubeFed did, so changing a NodePort Service to
    // ClusterIP failed validation forever).
    ruleKey('', 'Service'),
    (desired, member) => {
      const ds = spec(desired);
      const ms = (member.spec ?? {}) as Json;
      const type = typeof ds.type === 'string' ? ds.type : 'ClusterIP';
      if (
        typeof ms.healthCheckNodePort === 'number' &&
        ms.healthCheckNodePort > 0 &&
        ds.healthCheckNodePort === undefined &&
        type === 'LoadBalancer' &&
        ds.externalTrafficPolicy === 'Local'
      ) {
        ds.healthCheckNodePort = ms.healthCheckNodePort;
      }
      if (type !== 'ExternalName') {
        if (typeof ms.clusterIP === 'string' && ms.clusterIP !== '') ds.clusterIP = ms.clusterIP;
        if (Array.isArray(ms.clusterIPs) && ms.clusterIPs.length > 0) ds.clusterIPs = [...ms.clusterIPs];
      }
      if (type !== 'NodePort' && type !== 'LoadBalancer') return;
      const memberPorts = Array.isArray(ms.ports) ? (ms.ports as Json[]) : [];
      if (!Array.isArray(ds.ports)) return;
      for (const port of ds.ports as Json[]) {
        if (port === null || typeof port !== 'object' || port.nodePort !== undefined) continue;
        const match = memberPorts.find((mp) => mp !== null && typeof mp === 'object' && samePort(port, mp));
        if (match?.nodePort !== undefined) port.nodePort = match.nodePort;
      }
    },
  ],
  [
    // Before Kubernetes 1.24 the token controller writes a generated token Secret into
    // `secrets`; clearing it makes the controller generate another, forever. A template that
    // lists secrets itself is taken as is.
    ruleKey('', 'ServiceAccount'),
    (desired, member) => {
      if (Array.isArray(desired.secrets) && desired.secrets.length > 0) return;
      if (Array.isArray(member.secrets) && member.secrets.length > 0) {
        desired.secrets = structuredClone(member.secrets);
      }
    },
  ],
  [
    // The Job controller generates spec.selector and the matching pod template labels on create
    // (unless manualSelector) and both are immutable: an update without them is refused with
    // "field is immutable". fedctl addition; KubeFed had no Job rule.
    ruleKey('batch', 'Job'),
    (desired, member) => {
      const ds = spec(desired);
      const ms = (member.spec ?? {}) as Json;
      if (ds.manualSelector === true) return;
      if (ds.selector === undefined && ms.selector !== undefined) ds.selector = structuredClone(ms.selector);
      const memberLabels = ((ms.template as Json | undefined)?.metadata as Json | undefined)?.labels as
        | Record<string, string>
        | undefined;
      if (!memberLabels) return;
      const template = child(ds, 'template');
      const metadata = child(template, 'metadata');
      const labels = (metadata.labels ?? {}) as Record<string, string>;
      const generated = Object.fromEntries(
        Object.entries(memberLabels).filter(([k]) => JOB_GENERATED_LABELS.has(k) && !(k in labels)),
      );
      if (Object.keys(generated).length > 0) metadata.labels = { ...labels, ...generated };
    },
  ],
]);

const JOB_GENERATED_LABELS = new Set([
  'controller-uid',
  'job-name',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-name',
]);

/**
 * `retainReplicas: true` on the federated object: the member's replica count wins (an HPA in the
 * member owns it). Without this the template's count and the HPA would overwrite each other.
 */
export const replicasRule: RetainRule = (desired, member, options) => {
  if (!options.retainReplicas) return;
  const replicas = (member.spec as Json | undefined)?.replicas;
  if (typeof replicas === 'number') spec(desired).replicas = replicas;
};

/**
 * The object to send in an update of `member`: `desired` plus what must be kept from `member`.
 * Pure: returns a new object. Accepts client-node objects as they are (typed loosely for that).
 */
export function retainFields<T extends object>(
  desired: T,
  member: object,
  options: RetentionOptions = {},
): T {
  const out = structuredClone(desired) as KubeObject;
  const m = member as KubeObject;
  commonRule(out, m, options);
  const { group } = splitApiVersion(out.apiVersion ?? m.apiVersion ?? '');
  const rule = RETAIN_RULES.get(ruleKey(group, out.kind ?? m.kind ?? ''));
  rule?.(out, m, options);
  replicasRule(out, m, options);
  return out as T;
}

/** `apps/v1` → { group: 'apps', version: 'v1' }; `v1` → the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function spec(obj: KubeObject): Json {
  if (obj.spec === null || typeof obj.spec !== 'object' || Array.isArray(obj.spec)) obj.spec = {};
  return obj.spec as Json;
}

/** The object at `parent[key]`, created when absent. */
function child(parent: Json, key: string): Json {
  const v = parent[key];
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  const created: Json = {};
  parent[key] = created;
  return created;
}

function samePort(a: Json, b: Json): boolean {
  return (
    (a.name ?? '') === (b.name ?? '') && (a.protocol ?? 'TCP') === (b.protocol ?? 'TCP') && a.port === b.port
  );
}
