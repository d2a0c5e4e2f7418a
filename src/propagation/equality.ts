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
// Known limits (each makes fedctl miss drift, never write in a loop):
// - a key the template drops is not removed from members when the member keeps it, as the subset
//   rule cannot tell a default from a leftover; annotations and labels are the common case;
// - element-wise array comparison: a server that reorders a list (none of the default types do)
//   would cause an update on every reconcile;
// - quantities are recognised by position (under limits/requests/hard/capacity/allocatable/
//   overhead, or a key named sizeLimit/storage), not by schema.

import type { KubeObject } from '../api/types.ts';

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

/** The API server merges stringData into data (base64) and never returns stringData. */
function secretWithoutStringData(secret: Record<string, unknown>): Record<string, unknown> {
  if (!isPlainObject(secret.stringData)) return secret;
  const { stringData, ...rest } = secret;
  const data: Record<string, unknown> = { ...(isPlainObject(rest.data) ? rest.data : {}) };
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
