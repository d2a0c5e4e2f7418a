/**
 * Writes fedctl's Corefile section into a member cluster's CoreDNS configuration (thin I/O around
 * the pure functions of corefile.ts).
 *
 * Where it goes:
 * - Usually into `kube-system/coredns`, key `Corefile`, between fedctl's markers.
 * - When the Corefile has a top-level `import …*.server` (AKS, k3s, RKE2 load extra server blocks
 *   that way) fedctl writes its own key `fedctl.server` instead and leaves the Corefile alone: in the
 *   `coredns` ConfigMap when it already holds `*.server` keys, else in `coredns-custom` when that
 *   ConfigMap exists (the AKS/k3s convention; their Deployments mount it). When neither holds, the
 *   section goes into the Corefile after all, which works everywhere.
 *
 * How: read, splice, stop when nothing changes; refuse (no write) when the result has a problem
 * sectionProblems finds or the real-CoreDNS check fails; otherwise copy the previous value into
 * `kube-system/coredns-fedctl-backup` and replace the ConfigMap with the resourceVersion that was
 * read, starting over on a conflict. Refusals are terminal for this input (a condition for the
 * user); API and network errors are thrown (retry with backoff).
 */

import type { V1ConfigMap } from '@kubernetes/client-node';
import { DnsReason } from '../api/conditions.ts';
import { FIELD_MANAGER } from '../api/constants.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage, isConflict, isNotFound } from '../kube/errors.ts';
import type { KubeConfig } from '../kube/kubeconfig.ts';
import { CONFIGMAP_REF } from '../kube/refs.ts';
import { createResource, getResource, replaceResource } from '../kube/resources.ts';
import type { CheckResult } from './coredns-check.ts';
import {
  type ForwardZone,
  type MainServer,
  mainServer,
  type ParsedCorefile,
  parseServerBlocks,
  renderSection,
  type SectionOptions,
  sectionProblems,
  spliceSection,
} from './corefile.ts';
import type { RecordZone } from './federation-zone.ts';
import { CorefileValueError } from './validate.ts';

export const COREDNS_NAMESPACE = 'kube-system';
export const COREDNS_CONFIGMAP = 'coredns';
export const COREDNS_CUSTOM_CONFIGMAP = 'coredns-custom';
export const COREFILE_KEY = 'Corefile';
/** Key fedctl owns in a ConfigMap whose files the Corefile imports with `*.server`. */
export const FEDCTL_SERVER_KEY = 'fedctl.server';
export const BACKUP_CONFIGMAP = 'coredns-fedctl-backup';
/** On the backup ConfigMap: which ConfigMap and key the saved value came from, and when. */
export const BACKUP_OF_ANNOTATION = 'fedctl.io/backup-of';
export const BACKUP_TIME_ANNOTATION = 'fedctl.io/backup-time';

/** The ConfigMap calls the writer makes (configMapApi over resources.ts; tests pass a fake). */
export interface ConfigMapApi {
  readNamespacedConfigMap(param: { name: string; namespace: string }): Promise<V1ConfigMap>;
  replaceNamespacedConfigMap(param: {
    name: string;
    namespace: string;
    body: V1ConfigMap;
    fieldManager?: string;
  }): Promise<V1ConfigMap>;
  createNamespacedConfigMap(param: {
    namespace: string;
    body: V1ConfigMap;
    fieldManager?: string;
  }): Promise<V1ConfigMap>;
}

/** The ConfigMap calls on a cluster, over resources.ts (plain JSON, as the API server sent it). */
export function configMapApi(kc: KubeConfig): ConfigMapApi {
  return {
    readNamespacedConfigMap: ({ name, namespace }) =>
      getResource<V1ConfigMap>(kc, CONFIGMAP_REF, name, namespace),
    replaceNamespacedConfigMap: ({ name, namespace, body, fieldManager }) =>
      replaceResource<V1ConfigMap>(
        kc,
        CONFIGMAP_REF,
        { ...body, metadata: { ...body.metadata, name, namespace } },
        { fieldManager },
      ),
    createNamespacedConfigMap: ({ namespace, body, fieldManager }) =>
      createResource<V1ConfigMap>(
        kc,
        CONFIGMAP_REF,
        { ...body, metadata: { ...body.metadata, namespace } },
        { fieldManager },
      ),
  };
}

/** What the writer needs of a cluster: its name (for messages) and its ConfigMaps. */
export interface CorefileClients {
  name: string;
  configMaps: ConfigMapApi;
}

/** A cluster's clients as the writer takes them. */
export const corefileClients = (c: ClusterClients): CorefileClients => ({
  name: c.name,
  configMaps: configMapApi(c.kc),
});

/** What fedctl found in the cluster, for rendering the section to match it. */
export interface CurrentCorefile {
  /** The main Corefile. */
  corefile: string;
  /** Its main server (port and bind fedctl blocks must use); undefined when it has none. */
  main?: MainServer;
  /** `Corefile` (section in the Corefile) or `<configmap>/fedctl.server`. */
  target: string;
}

/** Forward zones and federation record zones, rendered on the main server's port and bind addresses. */
export interface SectionSpec {
  zones: readonly ForwardZone[];
  records?: readonly RecordZone[];
}

/** The section text, a function rendering it for what is in the cluster, or the zones to render. */
export type SectionInput = string | ((current: CurrentCorefile) => string) | SectionSpec;

/**
 * Why a section was not written (reasons owned by api/conditions.ts): CoreDNSConfigNotFound (no
 * kube-system/coredns or no Corefile key), CorefileUnparseable (broken markers or braces, no main
 * server), InvalidSection (a bad zone, address or record), SectionConflict (a zone served twice, or
 * another port than the main server), CheckFailed (CoreDNS refused the candidate), CheckUnavailable
 * (no coredns binary), WriteFailed (not returned by the writer: for callers that turn a thrown API
 * error into an outcome).
 */
export type RefusalReason = Extract<
  DnsReason,
  | 'CoreDNSConfigNotFound'
  | 'CorefileUnparseable'
  | 'InvalidSection'
  | 'SectionConflict'
  | 'CheckFailed'
  | 'CheckUnavailable'
  | 'WriteFailed'
>;

export type CorefileOutcome =
  | { outcome: 'unchanged'; target: string }
  | { outcome: 'updated'; target: string; backup: string }
  | { outcome: 'refused'; reason: RefusalReason; message: string };

export interface WriteOptions {
  /** Validates the effective Corefile with a real CoreDNS (checkCorefile from coredns-check.ts). */
  check: (corefile: string) => Promise<CheckResult>;
  /** Attempts when the ConfigMap changes between read and write; default 5. */
  maxAttempts?: number;
  /** Time for the backup annotation; default now. */
  now?: () => Date;
}

/**
 * A SectionInput rendering forward zones (and federation record zones) on the main server's port
 * and bind addresses; throws (so the write is refused) when the Corefile has no main server.
 */
export function sectionFor(
  forward: readonly ForwardZone[],
  options: Omit<SectionOptions, 'bind'> = {},
): (current: CurrentCorefile) => string {
  return (current) => {
    if (!current.main) {
      if (forward.length === 0 && (options.records?.length ?? 0) === 0) return '';
      throw new Error(
        'the Corefile has no "." server block, so fedctl cannot tell which port and addresses to use',
      );
    }
    return renderSection(forward, current.main.port, { ...options, bind: current.main.bind });
  };
}

interface Target {
  configMap: V1ConfigMap;
  name: string;
  key: string;
  /** The main Corefile plus every other imported `*.server` file, for checks. */
  context: string;
}

/**
 * The cluster's main Corefile and its main server, or undefined when kube-system/coredns or its
 * Corefile key is missing. Throws API errors (with context) and CorefileParseError.
 */
export async function readCorefile(clients: CorefileClients): Promise<CurrentCorefile | undefined> {
  const main = await readConfigMap(clients, COREDNS_CONFIGMAP);
  const corefile = main?.data?.[COREFILE_KEY];
  if (corefile === undefined) return undefined;
  const server = mainServer(corefile);
  return { corefile, ...(server ? { main: server } : {}), target: COREFILE_KEY };
}

/** Writes (or removes, with '' or no zones) fedctl's section in a cluster's CoreDNS configuration. */
export async function writeCorefileSection(
  clients: CorefileClients,
  section: SectionInput,
  opts: WriteOptions,
): Promise<CorefileOutcome> {
  const attempts = opts.maxAttempts ?? 5;
  const where = `cluster ${clients.name}`;
  for (let attempt = 1; ; attempt++) {
    const main = await readConfigMap(clients, COREDNS_CONFIGMAP);
    const cmName = `ConfigMap ${COREDNS_NAMESPACE}/${COREDNS_CONFIGMAP}`;
    if (!main)
      return refused(
        DnsReason.CoreDNSConfigNotFound,
        `${cmName} not found in ${where}: is CoreDNS deployed?`,
      );
    const corefile = main.data?.[COREFILE_KEY];
    if (corefile === undefined)
      return refused(DnsReason.CoreDNSConfigNotFound, `${cmName} in ${where} has no key ${COREFILE_KEY}`);
    let parsed: ParsedCorefile;
    try {
      parsed = parseServerBlocks(corefile);
    } catch (e) {
      return refused(DnsReason.CorefileUnparseable, `${where}: ${(e as Error).message}`);
    }
    const target = await chooseTarget(clients, main, corefile, parsed);
    const server = mainServer(corefile, parsed);
    const current: CurrentCorefile = {
      corefile,
      ...(server ? { main: server } : {}),
      target: target.key === COREFILE_KEY ? COREFILE_KEY : `${target.name}/${target.key}`,
    };

    let text: string;
    try {
      if (typeof section === 'string') text = section;
      else if (typeof section === 'function') text = section(current);
      else text = sectionFor(section.zones, { records: section.records })(current);
    } catch (e) {
      const reason =
        e instanceof CorefileValueError ? DnsReason.InvalidSection : DnsReason.CorefileUnparseable;
      return refused(reason, `${where}: ${(e as Error).message}`);
    }
    const previous = target.configMap.data?.[target.key];
    let candidate: string;
    try {
      candidate = spliceSection(previous ?? '', text);
    } catch (e) {
      return refused(DnsReason.CorefileUnparseable, `${where}: ${(e as Error).message}`);
    }
    if (candidate === (previous ?? '')) return { outcome: 'unchanged', target: current.target };

    const effective = target.key === COREFILE_KEY ? candidate : joinFiles(target.context, candidate);
    const problems = sectionProblems(effective);
    if (problems.length > 0) return refused(DnsReason.SectionConflict, `${where}: ${problems.join('; ')}`);
    const checked = await opts.check(effective);
    if (!checked.ok) {
      return checked.unavailable
        ? refused(DnsReason.CheckUnavailable, `${where}: CoreDNS check could not run: ${checked.error}`)
        : refused(DnsReason.CheckFailed, `${where}: CoreDNS check failed: ${checked.error}`);
    }

    const backup = await saveBackup(clients, target, previous ?? '', (opts.now ?? (() => new Date()))());
    const data = { ...(target.configMap.data ?? {}) };
    if (target.key !== COREFILE_KEY && candidate === '') delete data[target.key];
    else data[target.key] = candidate;
    try {
      await clients.configMaps.replaceNamespacedConfigMap({
        name: target.name,
        namespace: COREDNS_NAMESPACE,
        body: { ...target.configMap, data },
        fieldManager: FIELD_MANAGER,
      });
      return { outcome: 'updated', target: current.target, backup };
    } catch (e) {
      if (isConflict(e) && attempt < attempts) continue;
      throw withContext(e, `${where}: updating ${COREDNS_NAMESPACE}/${target.name}`);
    }
  }
}

const refused = (reason: RefusalReason, message: string): CorefileOutcome => ({
  outcome: 'refused',
  reason,
  message,
});

function joinFiles(...files: string[]): string {
  return files.map((f) => (f === '' || f.endsWith('\n') ? f : `${f}\n`)).join('');
}

/** True for an import of server files, e.g. `custom/*.server` or `/etc/coredns/custom/*.server`. */
export function importsServerFiles(imports: readonly string[]): boolean {
  return imports.some((i) => /(^|\/)\*\.server$/.test(i));
}

async function chooseTarget(
  clients: CorefileClients,
  main: V1ConfigMap,
  corefile: string,
  parsed: ParsedCorefile,
): Promise<Target> {
  const inCorefile: Target = {
    configMap: main,
    name: COREDNS_CONFIGMAP,
    key: COREFILE_KEY,
    context: corefile,
  };
  // A section already in the Corefile stays there: writing a key too would serve its zones twice.
  if (parsed.section || !importsServerFiles(parsed.imports)) return inCorefile;
  const serverKeys = (cm: V1ConfigMap) => Object.keys(cm.data ?? {}).filter((k) => k.endsWith('.server'));
  let holder: V1ConfigMap | undefined;
  let name = COREDNS_CONFIGMAP;
  if (serverKeys(main).length > 0) holder = main;
  else {
    holder = await readConfigMap(clients, COREDNS_CUSTOM_CONFIGMAP);
    name = COREDNS_CUSTOM_CONFIGMAP;
  }
  if (!holder) return inCorefile;
  const others = serverKeys(holder)
    .filter((k) => k !== FEDCTL_SERVER_KEY)
    .sort()
    .map((k) => holder.data?.[k] ?? '');
  return { configMap: holder, name, key: FEDCTL_SERVER_KEY, context: joinFiles(corefile, ...others) };
}

async function readConfigMap(clients: CorefileClients, name: string): Promise<V1ConfigMap | undefined> {
  try {
    return await clients.configMaps.readNamespacedConfigMap({ name, namespace: COREDNS_NAMESPACE });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw withContext(e, `cluster ${clients.name}: reading ${COREDNS_NAMESPACE}/${name}`);
  }
}

async function saveBackup(
  clients: CorefileClients,
  target: Target,
  previous: string,
  now: Date,
): Promise<string> {
  const body: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: BACKUP_CONFIGMAP,
      namespace: COREDNS_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'fedctl' },
      annotations: {
        [BACKUP_OF_ANNOTATION]: `${COREDNS_NAMESPACE}/${target.name}/${target.key}`,
        [BACKUP_TIME_ANNOTATION]: now.toISOString(),
      },
    },
    data: { [target.key]: previous },
  };
  const where = `${COREDNS_NAMESPACE}/${BACKUP_CONFIGMAP}`;
  const existing = await readConfigMap(clients, BACKUP_CONFIGMAP);
  try {
    if (existing) {
      body.metadata!.resourceVersion = existing.metadata?.resourceVersion;
      await clients.configMaps.replaceNamespacedConfigMap({
        name: BACKUP_CONFIGMAP,
        namespace: COREDNS_NAMESPACE,
        body,
        fieldManager: FIELD_MANAGER,
      });
    } else {
      await clients.configMaps.createNamespacedConfigMap({
        namespace: COREDNS_NAMESPACE,
        body,
        fieldManager: FIELD_MANAGER,
      });
    }
  } catch (e) {
    throw withContext(e, `cluster ${clients.name}: saving the backup ${where}`);
  }
  return where;
}

function withContext(e: unknown, what: string): Error {
  return new Error(`${what}: ${errorMessage(e)}`, { cause: e });
}
