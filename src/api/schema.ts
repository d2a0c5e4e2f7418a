// OpenAPI v3 schemas of fedctl's kinds: the single source for crds/*.yaml. Structural schemas (as
// apiextensions.k8s.io/v1 requires) that reject malformed specs at the API server with messages
// that name the field, while accepting every manifest KubeFed v0.10 accepted.

import { ConditionType } from './conditions.ts';

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps fedctl uses. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps | boolean;
  enum?: (string | number | boolean)[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  nullable?: boolean;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
}

// ---------------------------------------------------------------------------------------------
// Small builders. `description` comes first so it reads well in the YAML.

type Extra = Omit<JSONSchemaProps, 'type' | 'description'>;

export const str = (description?: string, extra: Extra = {}): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  type: 'string',
  ...extra,
});
export const int = (description?: string, extra: Extra = {}): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  type: 'integer',
  ...extra,
});
export const bool = (description?: string): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  type: 'boolean',
});
export const arr = (items: JSONSchemaProps, description?: string, extra: Extra = {}): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  type: 'array',
  items,
  ...extra,
});
export const obj = (
  properties: Record<string, JSONSchemaProps>,
  required: string[] = [],
  description?: string,
  extra: Extra = {},
): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});
export const stringMap = (description?: string): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  type: 'object',
  additionalProperties: { type: 'string' },
});
/** An object whose content the API server keeps as sent (templates, remote status). */
export const anyObject = (description?: string): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
});
/** Any JSON value (an override's `value` may be a string, number, object, list or null). */
export const anyValue = (description?: string): JSONSchemaProps => ({
  ...(description ? { description } : {}),
  'x-kubernetes-preserve-unknown-fields': true,
});

const timestamp = (description: string): JSONSchemaProps => str(description, { format: 'date-time' });
const int64 = (description?: string, extra: Extra = {}) => int(description, { format: 'int64', ...extra });
const int32 = (description?: string, extra: Extra = {}) => int(description, { format: 'int32', ...extra });

/** A Go duration as KubeFed's metav1.Duration fields take it: `20s`, `1m30s`, `1500ms`. */
const duration = (description: string): JSONSchemaProps =>
  str(description, { pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$' });

const enabledOrDisabled = (description: string): JSONSchemaProps =>
  str(description, { enum: ['Enabled', 'Disabled'] });

const scope = (description: string): JSONSchemaProps => str(description, { enum: ['Namespaced', 'Cluster'] });

/** Wraps a spec/status pair into a top-level object schema. */
export function rootSchema(
  spec: JSONSchemaProps,
  status?: JSONSchemaProps,
  description?: string,
  requireSpec = true,
): JSONSchemaProps {
  return obj(
    {
      apiVersion: str(),
      kind: str(),
      metadata: { type: 'object' },
      spec,
      ...(status ? { status } : {}),
    },
    requireSpec ? ['spec'] : [],
    description,
  );
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** A condition as fedctl writes it; KubeFed's extra timestamps stay accepted. */
export function conditionSchema(types?: readonly string[]): JSONSchemaProps {
  return obj(
    {
      type: str('Type of the condition.', types ? { enum: [...types] } : {}),
      status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      reason: str('Machine-readable reason of the last transition (CamelCase).'),
      message: str('Human-readable details.'),
      lastTransitionTime: timestamp('When the status last changed.'),
      lastUpdateTime: timestamp('Written by KubeFed; fedctl does not update it.'),
      lastProbeTime: timestamp('Written by KubeFed on every health probe; fedctl does not update it.'),
      observedGeneration: int64('metadata.generation the condition was computed from.', { minimum: 0 }),
    },
    ['type', 'status'],
  );
}

export const labelSelectorSchema = (description: string): JSONSchemaProps =>
  obj(
    {
      matchLabels: stringMap('Labels a cluster must carry, all of them.'),
      matchExpressions: arr(
        obj(
          {
            key: str('Label key.', { minLength: 1 }),
            operator: str('How the key relates to the values.', {
              enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
            }),
            values: arr(str(), 'Non-empty for In and NotIn, empty for Exists and DoesNotExist.'),
          },
          ['key', 'operator'],
        ),
        'Requirements a cluster must meet, all of them.',
      ),
    },
    [],
    description,
  );

// ---------------------------------------------------------------------------------------------
// core.kubefed.io/v1beta1

export function kubeFedClusterSchema(): JSONSchemaProps {
  const clusterConditionTypes = [ConditionType.Ready, ConditionType.Offline, ConditionType.ConfigMalformed];
  return rootSchema(
    obj(
      {
        apiEndpoint: str(
          'URL of the member API server: https://host:port (or host, host:port, IP, IP:port).',
          {
            minLength: 1,
          },
        ),
        caBundle: str('CA certificate(s) of the member API server, base64-encoded PEM.', { format: 'byte' }),
        secretRef: obj(
          { name: str('Name of a Secret in this namespace.', { minLength: 1 }) },
          ['name'],
          'Secret in the KubeFed namespace holding the bearer token for the member under the key "token".',
        ),
        disabledTLSValidations: arr(
          str(undefined, { enum: ['*', 'SubjectName', 'ValidityPeriod'] }),
          'TLS checks to skip when talking to the member: * (all), SubjectName, ValidityPeriod.',
        ),
        proxyURL: str('HTTP proxy to reach the member API server through.'),
      },
      ['apiEndpoint', 'secretRef'],
      'How to reach and authenticate to one member cluster.',
    ),
    obj(
      {
        conditions: arr(conditionSchema(clusterConditionTypes), 'Ready, Offline and ConfigMalformed.'),
        kubernetesVersion: str('gitVersion the member API server reports.'),
        region: str('Region of the member nodes (topology.kubernetes.io/region).'),
        zones: arr(str(), 'Zones of the member nodes (topology.kubernetes.io/zone).'),
      },
      [],
      'Health of the member cluster as last probed by fedctl.',
    ),
    'A member cluster that joined the federation.',
  );
}

export function kubeFedConfigSchema(): JSONSchemaProps {
  return rootSchema(
    obj(
      {
        scope: scope('Cluster: federate the whole host cluster. Namespaced: only the KubeFed namespace.'),
        controllerDuration: obj({
          availableDelay: duration('Wait before reconciling after a cluster becomes ready (default 20s).'),
          unavailableDelay: duration('Wait before giving up on an unready cluster (default 60s).'),
          cacheSyncTimeout: duration('Wait for caches to sync before exiting (default 5m).'),
        }),
        leaderElect: obj({
          leaseDuration: duration('Default 15s.'),
          renewDeadline: duration('Default 10s.'),
          retryPeriod: duration('Default 5s.'),
          resourceLock: str('Lock object kind; fedctl uses a Lease whatever this says.'),
        }),
        featureGates: arr(
          obj(
            {
              name: str(undefined, { minLength: 1 }),
              configuration: enabledOrDisabled('Enabled or Disabled.'),
            },
            ['name', 'configuration'],
          ),
          'KubeFed feature gates (PushReconciler, SchedulerPreferences, RawResourceStatusCollection).',
        ),
        clusterHealthCheck: obj({
          period: duration('How often to probe each member (default 10s).'),
          timeout: duration('Timeout of one probe (default 3s).'),
          failureThreshold: int64('Consecutive failures before a ready cluster turns unready (default 3).', {
            minimum: 1,
          }),
          successThreshold: int64(
            'Consecutive successes before an unready cluster turns ready (default 1).',
            {
              minimum: 1,
            },
          ),
        }),
        syncController: obj({
          maxConcurrentReconciles: int64('Parallel reconciles (default 1).', { minimum: 1 }),
          adoptResources: enabledOrDisabled(
            'Enabled: take over existing unmanaged member objects with the same name (default).',
          ),
        }),
        statusController: obj({
          maxConcurrentReconciles: int64('Parallel reconciles (default 1).', { minimum: 1 }),
        }),
      },
      ['scope'],
      'Settings of the federation control plane.',
    ),
    undefined,
    'Configuration of the fedctl controller (KubeFed-compatible).',
  );
}

const apiResourceSchema = (description: string): JSONSchemaProps =>
  obj(
    {
      group: str('API group; empty or absent for the core group.'),
      version: str('API version, e.g. v1.', { minLength: 1 }),
      kind: str('Kind, e.g. ConfigMap.', { minLength: 1 }),
      pluralName: str('Lower-case plural resource name, e.g. configmaps.', { minLength: 1 }),
      scope: scope('Namespaced or Cluster.'),
    },
    ['kind', 'pluralName', 'scope', 'version'],
    description,
  );

export function federatedTypeConfigSchema(): JSONSchemaProps {
  return rootSchema(
    obj(
      {
        targetType: apiResourceSchema('The type created in member clusters.'),
        federatedType: apiResourceSchema(
          'The Federated<Kind> type holding template, placement and overrides.',
        ),
        propagation: enabledOrDisabled('Whether fedctl propagates objects of this type.'),
        statusType: apiResourceSchema('Accepted for KubeFed compatibility; fedctl ignores it.'),
        statusCollection: enabledOrDisabled(
          'Whether member status is copied into status.clusters[].remoteStatus.',
        ),
      },
      ['federatedType', 'propagation', 'targetType'],
      'Which target type to federate and through which federated type.',
    ),
    obj({
      observedGeneration: int64(),
      propagationController: str('Running or NotRunning.', { enum: ['Running', 'NotRunning'] }),
      statusController: str('Running or NotRunning.', { enum: ['Running', 'NotRunning'] }),
    }),
    'Enables federation of one API type.',
  );
}

// ---------------------------------------------------------------------------------------------
// scheduling.kubefed.io/v1alpha1

export function replicaSchedulingPreferenceSchema(): JSONSchemaProps {
  return rootSchema(
    obj(
      {
        targetKind: str('FederatedDeployment or FederatedReplicaSet; the target has this object’s name.', {
          minLength: 1,
        }),
        totalReplicas: int32('Replicas to distribute across clusters.', { minimum: 0 }),
        rebalance: bool(
          'Move running replicas to match the preferences; otherwise keep them where they run.',
        ),
        intersectWithClusterSelector: bool(
          "Schedule only into the clusters the target's spec.placement.clusterSelector selects.",
        ),
        clusters: {
          description:
            'Preferences per cluster name; "*" applies to clusters without their own entry. ' +
            'Clusters matched by neither get no replicas.',
          type: 'object',
          additionalProperties: obj(
            {
              minReplicas: int64('Replicas this cluster gets first (default 0).', { minimum: 0 }),
              maxReplicas: int64('At most this many replicas (default unbounded).', { minimum: 0 }),
              weight: int64('Share of the replicas left after the minimums (default 0).', { minimum: 0 }),
            },
            [],
            undefined,
            {
              'x-kubernetes-validations': [
                {
                  rule: '!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas',
                  message: 'minReplicas must not exceed maxReplicas',
                },
              ],
            },
          ),
          // Bounds the CEL cost estimate of the rule above; far beyond any real federation.
          maxProperties: 1000,
        },
      },
      ['targetKind', 'totalReplicas'],
      'How to spread the replicas of the federated workload with the same namespace and name.',
    ),
    obj(
      {
        conditions: arr(conditionSchema([ConditionType.Scheduled]), 'fedctl addition: Scheduled.'),
        observedGeneration: int64(),
      },
      [],
      'Outcome of the last scheduling pass.',
      { 'x-kubernetes-preserve-unknown-fields': true },
    ),
    'Distributes totalReplicas of a FederatedDeployment or FederatedReplicaSet across member clusters.',
  );
}

// ---------------------------------------------------------------------------------------------
// types.kubefed.io/v1beta1 Federated<Kind>

export interface FederatedSchemaOptions {
  /** Offer `spec.retainReplicas` (KubeFed does so for targets with an int32 `spec.replicas`). */
  retainReplicas?: boolean;
}

/**
 * Schema of a Federated<Kind>. The template keeps unknown fields unless a schema of the target is
 * given; placement and overrides are typed so that a typo'd op, a path without a leading slash or
 * a cluster listed twice is refused when the object is written, not discovered in status later.
 */
export function federatedSchema(
  templateSchema?: JSONSchemaProps,
  options: FederatedSchemaOptions = {},
): JSONSchemaProps {
  const template = templateSchema ? templateWithMetadata(templateSchema) : anyObject();
  template.description = 'The object to create in member clusters; name and namespace come from this object.';
  const spec = obj(
    {
      template,
      placement: obj(
        {
          clusters: arr(
            obj({ name: str('Name of a KubeFedCluster.', { minLength: 1 }) }, ['name']),
            'Clusters to place the object in. When set (even empty) clusterSelector is ignored.',
          ),
          clusterSelector: labelSelectorSchema(
            'Selects KubeFedClusters by label when clusters is not set. {} selects all; absent selects none.',
          ),
        },
        [],
        'Where the object goes.',
      ),
      overrides: arr(
        obj(
          {
            clusterName: str('Name of a KubeFedCluster.', { minLength: 1 }),
            clusterOverrides: arr(
              obj(
                {
                  // KubeFed's schema allowed exactly these (and the empty string, meaning replace).
                  op: str('JSON patch operation: add, remove or replace (default replace).', {
                    enum: ['add', 'remove', 'replace', ''],
                  }),
                  path: str('JSON pointer into the object, e.g. /spec/replicas.', {
                    pattern: '^/',
                  }),
                  value: anyValue('The value for add and replace.'),
                },
                ['path'],
              ),
              'JSON patch operations applied to the template for this cluster, in order.',
              { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['path'] },
            ),
          },
          ['clusterName'],
        ),
        'Per-cluster changes to the template.',
        { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['clusterName'] },
      ),
      ...(options.retainReplicas
        ? {
            retainReplicas: bool(
              "Keep each member's spec.replicas (e.g. set by an HPA) instead of the template's.",
            ),
          }
        : {}),
    },
    [],
    'Template, placement and overrides.',
  );
  const status = obj(
    {
      observedGeneration: int64('metadata.generation the status was computed from.'),
      conditions: arr(conditionSchema(), 'The Propagation condition.'),
      clusters: arr(
        obj(
          {
            name: str('Cluster name.'),
            status: str('Empty when the member is in sync, else why not (e.g. ClusterNotReady).'),
            message: str('fedctl addition: details of a failure in this cluster.'),
            remoteStatus: anyObject('Status of the member object, when status collection is enabled.'),
            version: str(
              "fedctl addition: the member object's version after fedctl's last write (gen:N or rv:N).",
            ),
          },
          ['name'],
        ),
        'One entry per selected cluster.',
      ),
    },
    [],
    'Propagation outcome.',
  );
  return rootSchema(spec, status, 'A template placed in member clusters, with per-cluster overrides.');
}

/**
 * A template's `metadata` is not the object's own metadata, so the API server prunes it like any
 * other field: a bare `{type: object}` there would silently drop labels. Keep it open.
 */
function templateWithMetadata(schema: JSONSchemaProps): JSONSchemaProps {
  const copy: JSONSchemaProps = structuredClone(schema);
  copy.type = 'object';
  const properties = { ...(copy.properties ?? {}) };
  delete properties.status;
  const metadata = properties.metadata;
  if (metadata === undefined || metadata.properties === undefined) {
    properties.metadata = anyObject();
  }
  copy.properties = properties;
  return copy;
}
