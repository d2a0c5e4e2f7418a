// CustomResourceDefinition objects (apiextensions.k8s.io/v1) built from src/api/schema.ts. The YAML
// in crds/ is generated from these by src/api/generate-crds.ts, and `fedctl enable` uses
// federatedCrd() for types beyond the defaults.

import { CORE_GROUP, CORE_VERSION, SCHEDULING_GROUP, SCHEDULING_VERSION } from './constants.ts';
import {
  type FederatedSchemaOptions,
  federatedSchema,
  federatedTypeConfigSchema,
  type JSONSchemaProps,
  kubeFedClusterSchema,
  kubeFedConfigSchema,
  replicaSchedulingPreferenceSchema,
} from './schema.ts';
import { DEFAULT_TARGET_TYPES, federatedTypeFor, type TargetType, toTargetType } from './type-configs.ts';
import type { APIResource, ResourceScope } from './types.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: ResourceScope;
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources?: { status?: Record<string, never> };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
  };
}

/** `kubectl get kubefed` lists every fedctl object, `kubectl get federated` the federated ones. */
const CATEGORY = 'kubefed';
const FEDERATED_CATEGORY = 'federated';

export interface CrdInput {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: ResourceScope;
  schema: JSONSchemaProps;
  shortNames?: string[];
  /** Default `kubefed`; empty for none (KubeFed's DNS CRDs had no categories). */
  categories?: string[];
  /** Serve the status subresource (default true). */
  status?: boolean;
  printerColumns?: PrinterColumn[];
}

/** The one CRD builder: every fedctl CRD (core, DNS, Federated<Kind>) is made here. */
export function customResourceDefinition(input: CrdInput): CustomResourceDefinition {
  const categories = input.categories ?? [CATEGORY];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${input.plural}.${input.group}` },
    spec: {
      group: input.group,
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular: input.kind.toLowerCase(),
        ...(input.shortNames ? { shortNames: input.shortNames } : {}),
        ...(categories.length > 0 ? { categories } : {}),
      },
      scope: input.scope,
      versions: [
        {
          name: input.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: input.schema },
          ...(input.status === false ? {} : { subresources: { status: {} } }),
          ...(input.printerColumns ? { additionalPrinterColumns: input.printerColumns } : {}),
        },
      ],
    },
  };
}

export const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
};

export function kubeFedClusterCrd(): CustomResourceDefinition {
  return customResourceDefinition({
    group: CORE_GROUP,
    version: CORE_VERSION,
    kind: 'KubeFedCluster',
    plural: 'kubefedclusters',
    scope: 'Namespaced',
    shortNames: ['kfc'],
    schema: kubeFedClusterSchema(),
    // Same columns as KubeFed (kubectl upper-cases the names).
    printerColumns: [
      { name: 'age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
      { name: 'kubernetes-version', type: 'string', jsonPath: '.status.kubernetesVersion' },
      {
        name: 'api-endpoint',
        type: 'string',
        jsonPath: '.spec.apiEndpoint',
        priority: 1,
      },
      {
        name: 'reason',
        type: 'string',
        jsonPath: ".status.conditions[?(@.type=='Ready')].reason",
        priority: 1,
      },
    ],
  });
}

export function kubeFedConfigCrd(): CustomResourceDefinition {
  return customResourceDefinition({
    group: CORE_GROUP,
    version: CORE_VERSION,
    kind: 'KubeFedConfig',
    plural: 'kubefedconfigs',
    scope: 'Namespaced',
    schema: kubeFedConfigSchema(),
    // KubeFedConfig has no status (as in KubeFed).
    status: false,
    printerColumns: [{ name: 'Scope', type: 'string', jsonPath: '.spec.scope' }, AGE_COLUMN],
  });
}

export function federatedTypeConfigCrd(): CustomResourceDefinition {
  return customResourceDefinition({
    group: CORE_GROUP,
    version: CORE_VERSION,
    kind: 'FederatedTypeConfig',
    plural: 'federatedtypeconfigs',
    scope: 'Namespaced',
    shortNames: ['ftc'],
    schema: federatedTypeConfigSchema(),
    printerColumns: [
      { name: 'Federated-Kind', type: 'string', jsonPath: '.spec.federatedType.kind' },
      { name: 'Propagation', type: 'string', jsonPath: '.spec.propagation' },
      { name: 'Controller', type: 'string', jsonPath: '.status.propagationController' },
      AGE_COLUMN,
    ],
  });
}

export function replicaSchedulingPreferenceCrd(): CustomResourceDefinition {
  return customResourceDefinition({
    group: SCHEDULING_GROUP,
    version: SCHEDULING_VERSION,
    kind: 'ReplicaSchedulingPreference',
    plural: 'replicaschedulingpreferences',
    scope: 'Namespaced',
    shortNames: ['rsp'],
    schema: replicaSchedulingPreferenceSchema(),
    printerColumns: [
      { name: 'Target-Kind', type: 'string', jsonPath: '.spec.targetKind' },
      { name: 'Total', type: 'integer', jsonPath: '.spec.totalReplicas' },
      { name: 'Scheduled', type: 'string', jsonPath: ".status.conditions[?(@.type=='Scheduled')].status" },
      AGE_COLUMN,
    ],
  });
}

/**
 * The CRD of `Federated<Kind>` (`federated<plural>.types.kubefed.io`) for a target type. Without a
 * template schema the template keeps any fields (as `kubefedctl enable` effectively did); with
 * one, the API server validates the template too.
 */
export function federatedCrd(
  target: TargetType | APIResource,
  templateSchema?: JSONSchemaProps,
  options: FederatedSchemaOptions = {},
): CustomResourceDefinition {
  const t = toTargetType(target);
  const fed = federatedTypeFor(t);
  return customResourceDefinition({
    group: fed.group ?? '',
    version: fed.version,
    kind: fed.kind,
    plural: fed.pluralName,
    scope: fed.scope,
    schema: federatedSchema(templateSchema, {
      retainReplicas: options.retainReplicas ?? t.scalable === true,
    }),
    categories: [CATEGORY, FEDERATED_CATEGORY],
    printerColumns: [
      // `kubectl get federateddeployments` answers "is it up everywhere?" at a glance.
      {
        name: 'Ready',
        type: 'string',
        jsonPath: '.status.ready',
        description: 'Ready/desired replicas across clusters',
      },
      {
        name: 'Clusters',
        type: 'string',
        jsonPath: '.status.readyClusters',
        description: 'Clusters in sync with a healthy workload / clusters placed',
      },
      {
        name: 'Propagation',
        type: 'string',
        jsonPath: ".status.conditions[?(@.type=='Propagation')].status",
      },
      {
        name: 'Reason',
        type: 'string',
        jsonPath: ".status.conditions[?(@.type=='Propagation')].reason",
      },
      AGE_COLUMN,
    ],
  });
}

/** KubeFedCluster, KubeFedConfig, FederatedTypeConfig, ReplicaSchedulingPreference. */
export const coreCustomResourceDefinitions = (): CustomResourceDefinition[] => [
  kubeFedClusterCrd(),
  kubeFedConfigCrd(),
  federatedTypeConfigCrd(),
  replicaSchedulingPreferenceCrd(),
];

/** The Federated<Kind> CRDs of DEFAULT_TARGET_TYPES. */
export const defaultFederatedCustomResourceDefinitions = (): CustomResourceDefinition[] =>
  DEFAULT_TARGET_TYPES.map((t) => federatedCrd(t));

/** Alias of defaultFederatedCustomResourceDefinitions (the name src/controlplane/install.ts uses). */
export const federatedCrdsForDefaults = defaultFederatedCustomResourceDefinitions;
