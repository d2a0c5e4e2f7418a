// Test support: a host cache holding given objects, with the events of a SupervisedInformer, so
// controller tests seed their inputs, reconcile once and assert the exact writes.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { InformerEvent } from '../kube/informer.ts';
import type { ResourceRef } from '../kube/refs.ts';
import type { EventHandler } from '../kube/runner.ts';

export class StaticHostResource<T extends KubernetesObject> {
  readonly ref: ResourceRef;
  #objects: T[];
  readonly #handlers: Record<InformerEvent, Array<EventHandler<T>>> = { add: [], update: [], delete: [] };
  synced = true;

  constructor(ref: ResourceRef, objects: readonly T[] = []) {
    this.ref = ref;
    this.#objects = [...objects];
  }

  set(objects: readonly T[]): this {
    this.#objects = [...objects];
    return this;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.find(
      (o) => o.metadata?.name === name && (!this.ref.namespaced || o.metadata?.namespace === namespace),
    );
  }

  list(): T[] {
    return [...this.#objects];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  on(event: InformerEvent, handler: EventHandler<T>): () => void {
    this.#handlers[event].push(handler);
    return () => this.#handlers[event].splice(this.#handlers[event].indexOf(handler), 1);
  }
}
