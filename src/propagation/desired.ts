// The object fedctl wants in one member cluster, in KubeFed's order: the template (named like the
// federated object, typed like the target, labelled managed), then the fields the member's own
// cluster owns (retention, on update), then the cluster's overrides. Finally fedctl's ownership
// annotations are stamped on, so every write also records who owns the copy and what was written.

import { createHash } from 'node:crypto';
import type { Operation } from 'fast-json-patch';
import {
  MANAGED_LABEL,
  OWNER_UID_ANNOTATION,
  TEMPLATE_ANNOTATIONS_ANNOTATION,
  TEMPLATE_HASH_ANNOTATION,
} from '../api/constants.ts';
import { sortKeys } from '../api/json.ts';
import type { MemberTarget } from '../api/type-configs.ts';
import type { FederatedSource, KubeObject, ObjectMeta } from '../api/types.ts';
import { applyOverrides } from './overrides.ts';
import { FEDCTL_ANNOTATIONS, type RetentionOptions, retainFields } from './retention.ts';

/**
 * Template metadata that cannot be carried over: identity and server-owned fields belong to each
 * member object; finalizers in a template would block deletion in members where no controller
 * removes them (KubeFed dropped them too); owner UIDs differ per cluster.
 */
const DROPPED_TEMPLATE_METADATA: readonly (keyof ObjectMeta)[] = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'finalizers',
  'ownerReferences',
];

/** Bump when the way the desired object is built changes, so members are rewritten once. */
const HASH_FORMAT = 1;

/**
 * The template as a member object, before retention and overrides. apiVersion is the template's
 * when it sets one (KubeFed honoured it: a type served at several versions), else the type config's.
 * `metadata.labels` and `metadata.annotations` always exist, so an override can `add` below them
 * even when the template has none (KubeFed got the same from the member's retained annotations).
 */
export function baseObject(fed: FederatedSource, target: MemberTarget): KubeObject {
  const template = (isObject(fed.spec?.template) ? structuredClone(fed.spec.template) : {}) as KubeObject;
  const { status: _status, ...body } = template;
  const metadata: ObjectMeta = { ...(isObject(body.metadata) ? body.metadata : {}) };
  for (const field of DROPPED_TEMPLATE_METADATA) delete metadata[field];
  const annotations = { ...(isObject(metadata.annotations) ? metadata.annotations : {}) };
  for (const key of FEDCTL_ANNOTATIONS) delete annotations[key];
  return {
    ...body,
    apiVersion:
      typeof body.apiVersion === 'string' && body.apiVersion !== '' ? body.apiVersion : target.apiVersion,
    kind: target.kind,
    metadata: {
      ...identity(fed, target),
      ...metadata,
      labels: { ...(isObject(metadata.labels) ? metadata.labels : {}), [MANAGED_LABEL]: 'true' },
      annotations,
    },
  };
}

export interface MemberObjectInput {
  fed: FederatedSource;
  target: MemberTarget;
  /** This cluster's overrides. */
  ops?: readonly Operation[];
  cluster?: string;
  /** The member's current copy: its cluster-owned fields are retained (an update). */
  member?: KubeObject;
  retention?: RetentionOptions;
}

/**
 * The object to write to one member: base → retention (if updating `member`) → overrides → identity,
 * managed label and fedctl's annotations re-asserted (so an override of `/metadata` cannot detach the
 * copy from fedctl). Never mutates its inputs. Throws OverrideError when an override does not apply.
 */
export function memberObject(input: MemberObjectInput): KubeObject {
  const ops = input.ops ?? [];
  const base = baseObject(input.fed, input.target);
  const hash = templateHash(base, ops);
  const tracked = trackedAnnotationKeys(base, ops);
  const retained = input.member ? retainFields(base, input.member, input.retention) : base;
  const patched = ops.length > 0 ? applyOverrides(retained, ops, input.cluster) : retained;
  const out = reassert(patched, input.fed, input.target);
  const annotations = out.metadata!.annotations as Record<string, string>;
  const uid = input.fed.metadata?.uid;
  if (uid) annotations[OWNER_UID_ANNOTATION] = uid;
  annotations[TEMPLATE_HASH_ANNOTATION] = hash;
  if (tracked.length > 0) annotations[TEMPLATE_ANNOTATIONS_ANNOTATION] = tracked.join(',');
  return out;
}

/**
 * The template and overrides as they would be created in a member, without fedctl's annotations:
 * what the user declared for that cluster. Throws OverrideError when an override does not apply.
 */
export function desiredObject(
  fed: FederatedSource,
  target: MemberTarget,
  ops: readonly Operation[] = [],
  cluster?: string,
): KubeObject {
  const base = baseObject(fed, target);
  const out = reassert(ops.length > 0 ? applyOverrides(base, ops, cluster) : base, fed, target);
  if (Object.keys(out.metadata?.annotations ?? {}).length === 0) delete out.metadata?.annotations;
  return out;
}

/**
 * What fedctl writes, as a short stable hash: it changes exactly when the template, the overrides,
 * the apiVersion or the way fedctl builds the object change (member state is not part of it).
 */
export function templateHash(base: KubeObject, ops: readonly Operation[]): string {
  const text = JSON.stringify(sortKeys({ format: HASH_FORMAT, base, ops }));
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/** Annotation keys fedctl sets from the template and the overrides (sorted). */
export function trackedAnnotationKeys(base: KubeObject, ops: readonly Operation[]): string[] {
  const keys = new Set(Object.keys(base.metadata?.annotations ?? {}));
  for (const op of ops) {
    if (
      op.path === '/metadata/annotations' &&
      (op.op === 'add' || op.op === 'replace') &&
      isObject(op.value)
    ) {
      for (const k of Object.keys(op.value)) keys.add(k);
    }
    const prefix = '/metadata/annotations/';
    if (op.path.startsWith(prefix)) {
      const key = op.path.slice(prefix.length).split('/')[0] ?? '';
      keys.add(key.replaceAll('~1', '/').replaceAll('~0', '~'));
    }
  }
  for (const k of FEDCTL_ANNOTATIONS) keys.delete(k);
  return [...keys].filter((k) => k !== '').sort();
}

function reassert(obj: KubeObject, fed: FederatedSource, target: MemberTarget): KubeObject {
  const meta: ObjectMeta = isObject(obj.metadata) ? { ...obj.metadata } : {};
  delete meta.generateName;
  delete meta.namespace;
  const annotations = { ...(isObject(meta.annotations) ? meta.annotations : {}) };
  for (const key of FEDCTL_ANNOTATIONS) delete annotations[key];
  return {
    ...obj,
    kind: target.kind,
    metadata: {
      ...meta,
      ...identity(fed, target),
      labels: { ...(isObject(meta.labels) ? meta.labels : {}), [MANAGED_LABEL]: 'true' },
      annotations,
    },
  };
}

function identity(fed: FederatedSource, target: MemberTarget): ObjectMeta {
  const name = fed.metadata?.name;
  if (!name) throw new Error('federated object has no metadata.name');
  if (!target.namespaced) return { name };
  const namespace = fed.metadata?.namespace;
  if (!namespace) {
    throw new Error(`federated object ${name} has no namespace, but its target ${target.kind} is namespaced`);
  }
  return { name, namespace };
}

function isObject(v: unknown): v is Record<string, never> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
