/**
 * A copy of a JSON value with object keys sorted at every level (arrays keep their order), for
 * stable output (generated YAML, status written like Go's encoder) and order-independent comparison.
 */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Equal as JSON whatever the key order (the API server returns custom resources with sorted keys). */
export const sameJson = (a: unknown, b: unknown): boolean =>
  JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
