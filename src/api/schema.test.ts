import { describe, expect, it } from 'vitest';
import { coreCustomResourceDefinitions, defaultFederatedCustomResourceDefinitions } from './crds.ts';
import { type JSONSchemaProps, KUBEFED_CONFIG_DEFAULTS, kubeFedConfigSchema } from './schema.ts';

// The API server's structural defaulting, reduced to what fedctl's schemas use: an absent property
// with a default gets it, then defaults apply inside what is present. (The e2e suite
// e2e/kubefed-api.e2e.test.ts checks the same on a real API server.)
function defaulted(schema: JSONSchemaProps, value: unknown): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((v) => defaulted(schema.items!, v)) : value;
  if (value === null || typeof value !== 'object' || !schema.properties) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (out[key] === undefined && prop.default !== undefined) out[key] = structuredClone(prop.default);
    if (out[key] !== undefined) out[key] = defaulted(prop, out[key]);
  }
  return out;
}

/** Where a value breaks its schema's type, enum, pattern, minimum or length, as path: problem. */
function violations(schema: JSONSchemaProps, value: unknown, path: string): string[] {
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value as string)) problems.push(`${path}: ${value} not in enum`);
  if (schema.type === 'string') {
    if (typeof value !== 'string') return [`${path}: not a string`];
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      problems.push(`${path}: ${value} does not match ${schema.pattern}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path}: too long`);
  }
  if (schema.type === 'integer') {
    if (!Number.isInteger(value)) return [`${path}: not an integer`];
    if (schema.minimum !== undefined && (value as number) < schema.minimum) problems.push(`${path}: < min`);
  }
  if (schema.type === 'array') {
    if (!Array.isArray(value)) return [`${path}: not an array`];
    value.forEach((v, i) => {
      problems.push(...violations(schema.items ?? {}, v, `${path}[${i}]`));
    });
  }
  if (schema.type === 'object' && schema.properties) {
    if (value === null || typeof value !== 'object') return [`${path}: not an object`];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const prop = schema.properties[k];
      if (!prop) problems.push(`${path}.${k}: not in the schema (would be pruned)`);
      else problems.push(...violations(prop, v, `${path}.${k}`));
    }
  }
  return problems;
}

/** Every `default` in a schema, with its path, for checking it against its own field's schema. */
function defaultsIn(schema: JSONSchemaProps, path: string): Array<[string, JSONSchemaProps]> {
  const found: Array<[string, JSONSchemaProps]> = schema.default !== undefined ? [[path, schema]] : [];
  for (const [k, v] of Object.entries(schema.properties ?? {})) found.push(...defaultsIn(v, `${path}.${k}`));
  if (schema.items) found.push(...defaultsIn(schema.items, `${path}[]`));
  return found;
}

const specOf = (s: JSONSchemaProps) => s.properties!.spec!;

describe('KubeFedConfig schema defaults', () => {
  it('fills a bare config with what KubeFed v0.10 defaulting stored', () => {
    // KubeFed's SetDefaultKubeFedConfig output, as its webhook stored it (metav1.Duration strings).
    expect(defaulted(specOf(kubeFedConfigSchema()), { scope: 'Cluster' })).toEqual({
      scope: 'Cluster',
      controllerDuration: { availableDelay: '20s', unavailableDelay: '1m0s', cacheSyncTimeout: '5m0s' },
      leaderElect: {
        leaseDuration: '15s',
        renewDeadline: '10s',
        retryPeriod: '5s',
        resourceLock: 'configmaps',
      },
      featureGates: [
        { name: 'PushReconciler', configuration: 'Enabled' },
        { name: 'RawResourceStatusCollection', configuration: 'Disabled' },
        { name: 'SchedulerPreferences', configuration: 'Enabled' },
      ],
      clusterHealthCheck: { period: '10s', timeout: '3s', failureThreshold: 3, successThreshold: 1 },
      syncController: { maxConcurrentReconciles: 1, adoptResources: 'Enabled' },
      statusController: { maxConcurrentReconciles: 1 },
    });
  });

  it('keeps what a config sets and fills only the fields it leaves out', () => {
    const spec = defaulted(specOf(kubeFedConfigSchema()), {
      scope: 'Namespaced',
      leaderElect: { leaseDuration: '30s' },
      syncController: { adoptResources: 'Disabled' },
      featureGates: [{ name: 'SchedulerPreferences', configuration: 'Disabled' }],
    }) as Record<string, unknown>;
    expect(spec.leaderElect).toEqual({
      leaseDuration: '30s',
      renewDeadline: '10s',
      retryPeriod: '5s',
      resourceLock: 'configmaps',
    });
    expect(spec.syncController).toEqual({ maxConcurrentReconciles: 1, adoptResources: 'Disabled' });
    // A given list is the user's: the API server does not merge entries into it.
    expect(spec.featureGates).toEqual([{ name: 'SchedulerPreferences', configuration: 'Disabled' }]);
  });

  it('has section defaults equal to their fields’ defaults, so a bare and an empty section agree', () => {
    const schema = specOf(kubeFedConfigSchema());
    for (const [name, values] of Object.entries(KUBEFED_CONFIG_DEFAULTS)) {
      const section = schema.properties![name]!;
      if (section.type !== 'object') continue;
      expect(defaulted(section, {}), name).toEqual(values);
    }
  });
});

describe('schema defaults of every CRD', () => {
  it('satisfy their own field schemas (the API server refuses a CRD whose default does not)', () => {
    const crds = [...coreCustomResourceDefinitions(), ...defaultFederatedCustomResourceDefinitions()];
    const problems = crds.flatMap((crd) =>
      defaultsIn(crd.spec.versions[0]!.schema.openAPIV3Schema, crd.metadata.name).flatMap(([path, s]) =>
        violations(s, s.default, path),
      ),
    );
    expect(problems).toEqual([]);
    // Not vacuous: the KubeFedConfig's 6 sections and 14 fields were checked.
    expect(crds.flatMap((crd) => defaultsIn(crd.spec.versions[0]!.schema.openAPIV3Schema, '')).length).toBe(
      20,
    );
  });
});
