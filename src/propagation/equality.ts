// Does a member object need an update? The API server fills defaults into every object it stores
// (imagePullPolicy, protocol, revisionHistoryLimit, ...), so comparing desired and member for
// equality would update every object on every reconcile. Instead: the member is up to date when
// everything the desired object says is also true of the member.
//
// Rule ("desired is a recursive subset of member"):
// - objects: every key desired sets must match in member; member may have extra keys;
// - arrays: same length, element i of desired a subset of element i of member;
// - scalars: equal; resource quantities compare by value ("0.5" = "500m", 1 = "1", "1Gi" = "1024Mi");
// - desired null matches anything (null means "not set"; the server may default the field);
// - a desired zero value ("", 0, false, [], {}, or an object of zero values) also matches a member
//   without the key: Go's `omitempty` drops those when the server serialises the object;
// - ignored: metadata the server owns (resourceVersion, uid, creationTimestamp, generation,
//   managedFields, selfLink, deletion*) and `status`;
// - a Secret's `stringData` is compared as the `data` it becomes.
//
// The subset rule alone cannot tell a server default from a leftover, so it is one of four checks in
// upToDate(): the template hash fedctl stamped on the member (a template or override change, so a
// dropped field, means rewrite), the member's version fedctl recorded after its last write (someone
// else changed the member, even outside the template, means rewrite), exact labels, and the subset.
//
// Known limits of the subset rule (each makes fedctl miss drift, never write in a loop):
// - element-wise array comparison: a server that reorders a list (none of the default types do)
//   would cause an update on every reconcile;
// - quantities are recognised by position (under limits/requests/hard/capacity/allocatable/
//   overhead, or a key named sizeLimit/storage), not by schema.

import {
  MANAGED_LABEL,
  OWNER_UID_ANNOTATION,
  TEMPLATE_ANNOTATIONS_ANNOTATION,
  TEMPLATE_HASH_ANNOTATION,
} from '../api/constants.ts';
import type { KubeObject } from '../api/types.ts';

/** Labels the API server adds by itself (a Namespace's name label since Kubernetes 1.21). */
const SERVER_LABELS: Readonly<Record<string, readonly string[]>> = {
  Namespace: ['kubernetes.io/metadata.name'],
};

/**
 * The member's version as KubeFed recorded it: `gen:<generation>` for objects whose spec changes
 * bump a generation (so status updates by member controllers do not count), else `rv:<resourceVersion>`.
 */
export function versionOf(obj: { metadata?: { generation?: number; resourceVersion?: string } }): string {
  const g = obj.metadata?.generation;
  return typeof g === 'number' && g > 0 ? `gen:${g}` : `rv:${obj.metadata?.resourceVersion ?? ''}`;
}

/**
 * Is the member copy exactly what fedctl would write (`candidate`, i.e. desired with retention and
 * overrides)? `recorded` is the member's version after fedctl's last write, when known.
 */
export function upToDate(candidate: KubeObject, member: KubeObject, recorded?: string): boolean {
  const want = candidate.metadata?.annotations ?? {};
  const have = member.metadata?.annotations ?? {};
  for (const key of [OWNER_UID_ANNOTATION, TEMPLATE_HASH_ANNOTATION, TEMPLATE_ANNOTATIONS_ANNOTATION])
    if ((want[key] ?? '') !== (have[key] ?? '')) return false;
  if (recorded !== undefined && recorded !== versionOf(member)) return false;
  if (!sameLabels(candidate, member)) return false;
  // The cache reads members at the type config's version; a template naming another served version is
  // covered by the hash, so the version a copy is read at is not a difference.
  return !needsUpdate({ ...candidate, apiVersion: member.apiVersion ?? candidate.apiVersion }, member);
}

/** fedctl owns the labels of its copies (as KubeFed did): a label added in the member is drift. */
function sameLabels(candidate: KubeObject, member: KubeObject): boolean {
  const want = candidate.metadata?.labels ?? {};
  const have = member.metadata?.labels ?? {};
  const serverAdded = new Set(SERVER_LABELS[member.kind ?? candidate.kind ?? ''] ?? []);
  const extra = Object.keys(have).filter((k) => !(k in want) && !serverAdded.has(k));
  return extra.length === 0 && want[MANAGED_LABEL] === have[MANAGED_LABEL];
}

const SERVER_OWNED_METADATA = new Set([
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

const QUANTITY_PARENTS = new Set(['limits', 'requests', 'hard', 'capacity', 'allocatable', 'overhead']);
const QUANTITY_KEYS = new Set(['sizeLimit', 'storage']);

/** True when `member` differs from `desired` in something desired specifies. */
export function needsUpdate(desired: object, member: object): boolean {
  return !isSubset(comparable(desired as KubeObject), comparable(member as KubeObject), []);
}

/** The subset test itself, exported for tests and for other comparisons (e.g. CRDs, status). */
export function isSubset(desired: unknown, member: unknown, path: readonly string[] = []): boolean {
  // null is "not set" in Kubernetes JSON: the server may default it to anything.
  if (desired === null || desired === undefined) return true;
  if (member === undefined || member === null) return isZero(desired);
  if (Array.isArray(desired)) {
    if (!Array.isArray(member) || desired.length !== member.length) return false;
    return desired.every((d, i) => isSubset(d, member[i], [...path, String(i)]));
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(member)) return false;
    return Object.entries(desired).every(([key, value]) => isSubset(value, member[key], [...path, key]));
  }
  if (desired === member) return true;
  if (isQuantityPath(path)) return quantitiesEqual(desired, member);
  return false;
}

function comparable(obj: KubeObject): Record<string, unknown> {
  const { status: _status, metadata, ...rest } = obj;
  const out: Record<string, unknown> = { ...rest };
  if (isPlainObject(metadata)) {
    out.metadata = Object.fromEntries(
      Object.entries(metadata).filter(([k]) => !SERVER_OWNED_METADATA.has(k)),
    );
  }
  if (obj.kind === 'Secret' && (obj.apiVersion === 'v1' || obj.apiVersion === undefined)) {
    return secretWithoutStringData(out);
  }
  return out;
}

/**
 * The API server merges stringData into data (base64) and never returns stringData; it decodes data
 * values ignoring line breaks (Go's base64), so a YAML block value with a trailing newline comes back
 * without it.
 */
function secretWithoutStringData(secret: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(isPlainObject(secret.data) ? secret.data : {}))
    data[key] = typeof value === 'string' ? value.replace(/[\r\n]/g, '') : value;
  if (!isPlainObject(secret.stringData)) return isPlainObject(secret.data) ? { ...secret, data } : secret;
  const { stringData, ...rest } = secret;
  for (const [key, value] of Object.entries(stringData)) {
    if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  return { ...rest, data };
}

/** Zero values, recursively: an object is zero when all its values are (or are null). */
function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.values(v).every(isZero);
  return false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isQuantityPath(path: readonly string[]): boolean {
  const key = path[path.length - 1];
  const parent = path[path.length - 2];
  return (
    (key !== undefined && QUANTITY_KEYS.has(key)) || (parent !== undefined && QUANTITY_PARENTS.has(parent))
  );
}

function quantitiesEqual(a: unknown, b: unknown): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && x === y;
}

const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/**
 * A Kubernetes resource quantity in nano-units, exactly (BigInt), or undefined if `v` is not one.
 * Values below 1n are rounded up, as the API server does when it canonicalises.
 */
export function parseQuantity(v: unknown): bigint | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    return parseQuantity(String(v));
  }
  if (typeof v !== 'string') return undefined;
  const m = QUANTITY.exec(v.trim());
  if (!m) return undefined;
  const [, sign = '', number = '', exponent, suffix = ''] = m;
  const [whole = '', fraction = ''] = number.split('.');
  let digits = BigInt((whole || '0') + fraction);
  let power10 = 9 - fraction.length; // to nano-units
  let power2 = 0;
  if (exponent !== undefined) power10 += Number(exponent.slice(1));
  else if (suffix in BINARY_SUFFIX) power2 = BINARY_SUFFIX[suffix]!;
  else power10 += DECIMAL_SUFFIX[suffix] ?? 0;
  if (Math.abs(power10) > 400) return undefined;
  digits *= 2n ** BigInt(power2);
  let nano: bigint;
  if (power10 >= 0) nano = digits * 10n ** BigInt(power10);
  else {
    const div = 10n ** BigInt(-power10);
    nano = (digits + div - 1n) / div;
  }
  return sign === '-' ? -nano : nano;
}
