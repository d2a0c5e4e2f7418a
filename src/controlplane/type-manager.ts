import type { KubernetesObject } from '@kubernetes/client-node';
import type { FederatedTypeConfig } from '../api/types.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import { FTC_REF } from '../kube/refs.ts';
import { patchStatus } from '../kube/resources.ts';
import { FederatedTypeController, type TypeControllerDeps } from '../propagation/controller.ts';
import { selectClusters } from '../propagation/placement.ts';
import type { NamespacePlacement } from '../propagation/sync.ts';
import { typeConfigStatus, typeConfigStatusDiffers } from './ftc-status.ts';

/**
 * KubeFed's limited scope (KubeFedConfig scope Namespaced): the control-plane namespace is federated
 * implicitly, to every member (join made it in each), so an object's own placement decides; no other
 * namespace is federated.
 */
export function limitedScopePlacement(
  namespace: string,
  controlPlaneNamespace: string,
  members: readonly { name: string }[],
): NamespacePlacement {
  return namespace === controlPlaneNamespace
    ? { known: true, clusters: members.map((m) => m.name) }
    : { known: true };
}

/** Limited scope cannot reach cluster-scoped objects in members (a Role grants none): KubeFed skipped them. */
export function federatedUnderScope(ftc: FederatedTypeConfig, scope: 'Cluster' | 'Namespaced'): boolean {
  return scope === 'Cluster' || ftc.spec.targetType?.scope !== 'Cluster';
}

/**
 * Runs one FederatedTypeController per FederatedTypeConfig with propagation Enabled, starting,
 * restarting (on a spec change) and stopping them as the configs change.
 */
export class TypeManager {
  readonly #deps: Omit<TypeControllerDeps, 'namespacePlacement'>;
  readonly #ftcs: SupervisedInformer<FederatedTypeConfig & KubernetesObject>;
  readonly #running = new Map<string, { spec: string; controller: FederatedTypeController }>();
  /** KubeFedConfig scope Namespaced: the control-plane namespace is all that is federated. */
  readonly #limitedTo: string | undefined;
  readonly #skipped = new Set<string>();
  #chain: Promise<void> = Promise.resolve();

  constructor(
    namespace: string,
    deps: Omit<TypeControllerDeps, 'namespacePlacement'>,
    opts: { scope?: 'Cluster' | 'Namespaced' } = {},
  ) {
    this.#limitedTo = opts.scope === 'Namespaced' ? namespace : undefined;
    this.#deps = this.#limitedTo ? { ...deps, watchNamespace: namespace } : deps;
    this.#ftcs = new SupervisedInformer({
      name: `${deps.host.name}/federatedtypeconfigs`,
      kc: deps.host.kc,
      ref: FTC_REF,
      namespace,
      logger: deps.log,
    });
    // Serialise changes: starting a controller awaits its cache.
    const changed = () => {
      this.#chain = this.#chain
        .then(() => this.#syncControllers())
        .catch((e) => deps.log.error('type manager', { error: String(e) }));
    };
    for (const ev of ['add', 'update', 'delete'] as const) this.#ftcs.on(ev, changed);
  }

  async start(): Promise<void> {
    await this.#ftcs.start();
    await this.#syncControllers();
  }

  async stop(): Promise<void> {
    this.#ftcs.stop();
    await Promise.all([...this.#running.values()].map((r) => r.controller.stop()));
    this.#running.clear();
  }

  controllers(): FederatedTypeController[] {
    return [...this.#running.values()].map((r) => r.controller);
  }

  /** Cluster membership or readiness changed (the shared member cache has followed): reconcile everything. */
  clustersChanged(): void {
    for (const c of this.controllers()) c.enqueueAll();
  }

  /**
   * Where a namespace is federated, from its FederatedNamespace (same name, in that namespace).
   * Unknown while the namespaces type is not running or its cache has not synced (at start, after a
   * leader change, while its FederatedTypeConfig is edited or absent): callers then wait, never delete.
   */
  namespacePlacement = (namespace: string): NamespacePlacement => {
    if (this.#limitedTo !== undefined)
      return limitedScopePlacement(namespace, this.#limitedTo, this.#deps.members());
    const ns = this.#namespaceController();
    if (!ns?.hostSynced()) return { known: false };
    const fed = ns.federatedObject(namespace, namespace);
    if (!fed || fed.metadata?.deletionTimestamp) return { known: true };
    try {
      return { known: true, clusters: selectClusters(fed.spec?.placement, this.#deps.members()) };
    } catch {
      // A bad placement is reported on the FederatedNamespace; its contents wait until it is fixed.
      return { known: false };
    }
  };

  #namespaceController(): FederatedTypeController | undefined {
    return this.controllers().find((c) => c.target.kind === 'Namespace' && c.target.group === '');
  }

  async #syncControllers(): Promise<void> {
    const wanted = new Map<string, FederatedTypeConfig & KubernetesObject>();
    for (const ftc of this.#ftcs.list()) {
      const name = ftc.metadata?.name ?? '';
      if (ftc.spec?.propagation !== 'Enabled' || ftc.metadata?.deletionTimestamp) continue;
      if (!federatedUnderScope(ftc, this.#limitedTo ? 'Namespaced' : 'Cluster')) {
        if (!this.#skipped.has(name))
          this.#deps.log.info(
            'type not federated: cluster-scoped, and the KubeFedConfig scope is Namespaced',
            {
              typeConfig: name,
            },
          );
        this.#skipped.add(name);
        continue;
      }
      wanted.set(name, ftc);
    }
    for (const [name, running] of this.#running) {
      const ftc = wanted.get(name);
      if (!ftc || JSON.stringify(ftc.spec) !== running.spec) {
        await running.controller.stop();
        this.#running.delete(name);
        this.#deps.log.info('stopped type controller', { typeConfig: name });
      }
    }
    for (const [name, ftc] of wanted) {
      if (this.#running.has(name)) continue;
      const controller = new FederatedTypeController(ftc, {
        ...this.#deps,
        namespacePlacement: this.namespacePlacement,
      });
      this.#running.set(name, { spec: JSON.stringify(ftc.spec), controller });
      try {
        await controller.start();
        this.#deps.log.info('started type controller', { typeConfig: name });
      } catch (e) {
        this.#running.delete(name);
        await controller.stop();
        this.#deps.log.error('type controller did not start (is its federated CRD installed?)', {
          typeConfig: name,
          error: String(e),
        });
        continue;
      }
      if (controller.target.kind === 'Namespace' && controller.target.group === '') {
        // A FederatedNamespace change re-places every namespaced object in that namespace.
        controller.onHostEvent((obj) => {
          const ns = obj.metadata?.name;
          for (const c of this.controllers())
            if (c.target.namespaced) c.enqueueAll((o) => o.metadata?.namespace === ns);
        });
        for (const c of this.controllers()) if (c.target.namespaced) c.enqueueAll();
      }
    }
    await this.#writeTypeConfigStatus();
  }

  /** observedGeneration / propagationController / statusController, written only when they change. */
  async #writeTypeConfigStatus(): Promise<void> {
    for (const ftc of this.#ftcs.list()) {
      if (ftc.metadata?.deletionTimestamp) continue;
      const name = ftc.metadata?.name ?? '';
      const next = typeConfigStatus(ftc, this.#running.has(name));
      if (!typeConfigStatusDiffers(ftc, next)) continue;
      try {
        await patchStatus(this.#deps.host.kc, FTC_REF, name, ftc.metadata?.namespace, next);
      } catch (e) {
        this.#deps.log.warn('could not write FederatedTypeConfig status', {
          typeConfig: name,
          error: String(e),
        });
      }
    }
  }
}
