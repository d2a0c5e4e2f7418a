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
  'x-kubernetes-validations'?: ValidationRule[];
  /** Filled in by the API server when the field is absent (structural-schema defaulting). */
  default?: unknown;
}

/** A CEL rule the API server checks on create and update (KubeFed's webhook checks, without a webhook). */
export interface ValidationRule {
  rule: string;
  message?: string;
  /** A CEL expression giving the message (may name the values involved). */
  messageExpression?: string;
  /** Where the error is reported, relative to the field the rule is on (e.g. `.group`). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate';
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
  str(description, { pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$', maxLength: 64 });

const enabledOrDisabled = (description: string): JSONSchemaProps =>
  str(description, { enum: ['Enabled', 'Disabled'] });

const scope = (description: string): JSONSchemaProps => str(description, { enum: ['Namespaced', 'Cluster'] });

// Name formats KubeFed's webhook checked (k8s.io/apimachinery validation): an API group or a Secret
// name is a DNS-1123 subdomain; a version, a lower-cased kind and a pluralName are DNS-1035 labels.
const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';

/** Wraps a spec/status pair into a top-level object schema. */
export function rootSchema(
  spec: JSONSchemaProps,
  status?: JSONSchemaProps,
  description?: string,
  requireSpec = true,
  extra: Extra = {},
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
    extra,
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
      lastUpdateTime: timestamp(
        'On Propagation, as KubeFed wrote it: when changes were last propagated to members or the condition changed.',
      ),
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
            maxLength: 2048,
            'x-kubernetes-validations': [
              {
                // KubeFed parsed it as client-go does: no scheme means https.
                rule: "!self.contains('://') || self.startsWith('https://') || self.startsWith('http://')",
                message: 'apiEndpoint scheme must be http or https',
              },
            ],
          },
        ),
        caBundle: str('CA certificate(s) of the member API server, base64-encoded PEM.', { format: 'byte' }),
        secretRef: obj(
          {
            name: str('Name of a Secret in this namespace.', {
              minLength: 1,
              maxLength: 253,
              pattern: DNS1123_SUBDOMAIN,
            }),
          },
          ['name'],
          'Secret in the KubeFed namespace holding the bearer token for the member under the key "token".',
        ),
        disabledTLSValidations: arr(
          str(undefined, { enum: ['*', 'SubjectName', 'ValidityPeriod'] }),
          'TLS checks to skip when talking to the member: * (all; alone), SubjectName (the host name), ' +
            'ValidityPeriod (expired or not yet valid certificates).',
          {
            maxItems: 3,
            'x-kubernetes-validations': [
              {
                rule: "!('*' in self) || size(self) == 1",
                message: 'when * is specified, it is expected to be the only option in list',
              },
            ],
          },
        ),
        proxyURL: str('HTTP proxy to reach the member API server through (http, https or socks5).', {
          maxLength: 2048,
          'x-kubernetes-validations': [
            {
              rule: "self == '' || self.lowerAscii().matches('^(http|https|socks5)://')",
              message: 'proxy URL scheme must be one of: [http, https, socks5]',
            },
          ],
        }),
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

/**
 * What KubeFed's defaulting webhook filled into a KubeFedConfig (v0.10 pkg/apis/core/v1beta1/defaults),
 * in the form its webhook stored (Go's metav1.Duration prints 60s as 1m0s). fedctl's CRD makes the API
 * server fill them in, so a config read back looks as it did under KubeFed.
 */
export const KUBEFED_CONFIG_DEFAULTS = {
  controllerDuration: { availableDelay: '20s', unavailableDelay: '1m0s', cacheSyncTimeout: '5m0s' },
  leaderElect: { leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '5s', resourceLock: 'configmaps' },
  // Sorted by name, as KubeFed's defaulting left them.
  featureGates: [
    { name: 'PushReconciler', configuration: 'Enabled' },
    { name: 'RawResourceStatusCollection', configuration: 'Disabled' },
    { name: 'SchedulerPreferences', configuration: 'Enabled' },
  ],
  clusterHealthCheck: { period: '10s', timeout: '3s', failureThreshold: 3, successThreshold: 1 },
  syncController: { maxConcurrentReconciles: 1, adoptResources: 'Enabled' },
  statusController: { maxConcurrentReconciles: 1 },
} as const;

const D = KUBEFED_CONFIG_DEFAULTS;

/** A Go duration that must be > 0 (KubeFed's validateDurationGreaterThan0), with its default. */
const positiveDuration = (description: string, defaultValue: string): JSONSchemaProps => ({
  ...duration(`${description} Default ${defaultValue}.`),
  default: defaultValue,
  'x-kubernetes-validations': [
    { rule: "duration(self) > duration('0s')", message: 'should be greater than 0' },
  ],
});

/**
 * A section that is filled in whole when absent; when present, each absent field gets its own default.
 * (The section's default is spelled out rather than `{}`: the API server checks a default against the
 * section's rules before any field default applies.)
 */
const section = (
  defaults: object,
  properties: Record<string, JSONSchemaProps>,
  extra: Extra = {},
): JSONSchemaProps => obj(properties, [], undefined, { default: defaults, ...extra });

const positiveInt = (description: string, defaultValue: number): JSONSchemaProps =>
  int64(`${description} Default ${defaultValue}.`, { minimum: 1, default: defaultValue });

export function kubeFedConfigSchema(): JSONSchemaProps {
  return rootSchema(
    obj(
      {
        scope: {
          ...scope('Cluster: federate the whole host cluster. Namespaced: only the KubeFed namespace.'),
          // KubeFed's webhook refused changing the scope of a running control plane.
          'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'scope is immutable' }],
        },
        controllerDuration: section(D.controllerDuration, {
          availableDelay: positiveDuration(
            'Wait before reconciling after a cluster becomes ready.',
            D.controllerDuration.availableDelay,
          ),
          unavailableDelay: positiveDuration(
            'Wait before giving up on an unready cluster.',
            D.controllerDuration.unavailableDelay,
          ),
          cacheSyncTimeout: positiveDuration(
            'Wait for caches to sync before exiting.',
            D.controllerDuration.cacheSyncTimeout,
          ),
        }),
        leaderElect: section(
          D.leaderElect,
          {
            leaseDuration: positiveDuration('How long a lease is held.', D.leaderElect.leaseDuration),
            renewDeadline: positiveDuration(
              'How long the leader retries renewing.',
              D.leaderElect.renewDeadline,
            ),
            retryPeriod: positiveDuration('Wait between attempts.', D.leaderElect.retryPeriod),
            resourceLock: str(
              `Lock object kind as KubeFed knew it (default ${D.leaderElect.resourceLock}); fedctl uses a Lease whatever this says.`,
              { enum: ['configmaps', 'endpoints'], default: D.leaderElect.resourceLock },
            ),
          },
          {
            'x-kubernetes-validations': [
              {
                rule: 'duration(self.leaseDuration) > duration(self.renewDeadline)',
                message: 'leaseDuration must be greater than renewDeadline',
                fieldPath: '.leaseDuration',
              },
              {
                // client-go's leader election JitterFactor is 1.2; CEL has no duration * double.
                rule: 'duration(self.renewDeadline).getMilliseconds() * 10 > duration(self.retryPeriod).getMilliseconds() * 12',
                message: 'renewDeadline must be greater than retryPeriod*JitterFactor(1.2)',
                fieldPath: '.renewDeadline',
              },
            ],
          },
        ),
        featureGates: arr(
          obj(
            {
              name: str(undefined, {
                enum: ['PushReconciler', 'RawResourceStatusCollection', 'SchedulerPreferences'],
              }),
              configuration: enabledOrDisabled('Enabled or Disabled.'),
            },
            ['name', 'configuration'],
          ),
          'KubeFed feature gates. When absent, all three with their KubeFed defaults; a list that names ' +
            'only some keeps its own (the API server cannot add missing entries to a given list).',
          {
            // A gate named twice is refused as a duplicate, as KubeFed's webhook did.
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            default: D.featureGates,
          },
        ),
        clusterHealthCheck: section(D.clusterHealthCheck, {
          period: positiveDuration('How often to probe each member.', D.clusterHealthCheck.period),
          timeout: positiveDuration('Timeout of one probe.', D.clusterHealthCheck.timeout),
          failureThreshold: positiveInt(
            'Consecutive failures before a ready cluster turns unready.',
            D.clusterHealthCheck.failureThreshold,
          ),
          successThreshold: positiveInt(
            'Consecutive successes before an unready cluster turns ready.',
            D.clusterHealthCheck.successThreshold,
          ),
        }),
        syncController: section(D.syncController, {
          maxConcurrentReconciles: positiveInt(
            'Parallel reconciles.',
            D.syncController.maxConcurrentReconciles,
          ),
          adoptResources: {
            ...enabledOrDisabled('Enabled: take over existing unmanaged member objects with the same name.'),
            default: D.syncController.adoptResources,
          },
        }),
        statusController: section(D.statusController, {
          maxConcurrentReconciles: positiveInt(
            'Parallel reconciles.',
            D.statusController.maxConcurrentReconciles,
          ),
        }),
      },
      ['scope'],
      'Settings of the federation control plane; absent settings get KubeFed v0.10 defaults.',
    ),
    undefined,
    'Configuration of the fedctl controller (KubeFed-compatible).',
  );
}

const apiResourceSchema = (description: string, extra: Extra = {}): JSONSchemaProps =>
  obj(
    {
      group: str('API group; empty or absent for the core group.', {
        pattern: `^$|${DNS1123_SUBDOMAIN}`,
        maxLength: 253,
      }),
      version: str('API version, e.g. v1.', { minLength: 1, maxLength: 63, pattern: DNS1035_LABEL }),
      kind: str('Kind, e.g. ConfigMap.', {
        minLength: 1,
        maxLength: 63,
        pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$',
      }),
      pluralName: str('Lower-case plural resource name, e.g. configmaps.', {
        minLength: 1,
        maxLength: 63,
        pattern: DNS1035_LABEL,
      }),
      scope: scope('Namespaced or Cluster.'),
    },
    ['kind', 'pluralName', 'scope', 'version'],
    description,
    extra,
  );

/** KubeFed's ValidateFederatedAPIResource: a federated (or status) type is never in the core group. */
const inNamedGroup = (field: string): Extra => ({
  'x-kubernetes-validations': [
    {
      rule: "has(self.group) && self.group.contains('.')",
      message: `${field}.group is required: the API group of the federated type, a domain with at least one dot (e.g. types.kubefed.io)`,
      fieldPath: '.group',
      reason: 'FieldValueRequired',
    },
  ],
});

/** CEL: the name KubeFed requires of an FTC, `<targetType.pluralName>(.<targetType.group>)`. */
const expectedFtcName =
  "(self.spec.targetType.pluralName + (has(self.spec.targetType.group) && self.spec.targetType.group != '' ? '.' + self.spec.targetType.group : ''))";

export function federatedTypeConfigSchema(): JSONSchemaProps {
  return rootSchema(
    obj(
      {
        targetType: apiResourceSchema('The type created in member clusters.'),
        federatedType: apiResourceSchema(
          'The Federated<Kind> type holding template, placement and overrides.',
          inNamedGroup('spec.federatedType'),
        ),
        propagation: enabledOrDisabled('Whether fedctl propagates objects of this type.'),
        statusType: apiResourceSchema(
          'Accepted for KubeFed compatibility; fedctl ignores it.',
          inNamedGroup('spec.statusType'),
        ),
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
    true,
    {
      'x-kubernetes-validations': [
        {
          // KubeFed's ValidateFederatedTypeConfigName: controllers find a type's FTC by this name.
          rule: `self.metadata.name == ${expectedFtcName}`,
          message: "metadata.name must be 'TARGET_PLURAL_NAME(.TARGET_GROUP_NAME)' of spec.targetType",
          messageExpression: `"metadata.name must be '" + ${expectedFtcName} + "' (TARGET_PLURAL_NAME(.TARGET_GROUP_NAME) of spec.targetType)"`,
        },
      ],
    },
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
            workload: obj(
              {
                desired: int32('Replicas wanted (Job: completions; DaemonSet: nodes it should run on).'),
                replicas: int32('Pods running (status.replicas; DaemonSet: currentNumberScheduled).'),
                updated: int32('Pods of the latest template.'),
                ready: int32('Ready pods (Job: succeeded).'),
                available: int32('Available pods.'),
                active: int32('Job: running pods.'),
                failed: int32('Job: failed pods.'),
                observed: bool("Present (false) while the member's controller has not seen the latest spec."),
                healthy: bool('Rolled out and ready in this cluster (kubectl rollout status).'),
                reason: str("Why not, from the member's condition (e.g. ProgressDeadlineExceeded)."),
                message: str("The member condition's message."),
              },
              ['healthy'],
              "fedctl addition: the workload's state in this cluster, from the member's own status.",
            ),
            lastChange: timestamp(
              "fedctl addition: when this cluster's outcome or workload state last changed.",
            ),
          },
          ['name'],
        ),
        'One entry per selected cluster.',
      ),
      totals: obj(
        {
          clusters: int32('Clusters placed.'),
          readyClusters: int32('Clusters in sync whose workload (if any) is healthy.'),
          desired: int32('Replicas wanted across clusters.'),
          ready: int32('Ready replicas across reachable clusters.'),
          updated: int32('Updated replicas across reachable clusters.'),
          available: int32('Available replicas across reachable clusters.'),
        },
        [],
        'fedctl addition: totals across clusters.',
      ),
      ready: str('fedctl addition, for the READY column: ready/desired replicas across clusters (e.g. 7/9).'),
      readyClusters: str('fedctl addition, for the CLUSTERS column: ready/placed clusters (e.g. 2/3).'),
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
