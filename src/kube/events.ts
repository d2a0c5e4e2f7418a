// Kubernetes Events (core/v1, what `kubectl describe` lists) recorded on objects fedctl manages.
// Like client-go's recorder, a repeat of the same event (same object, type, reason and message)
// within the aggregation window bumps the existing Event's count instead of creating another, so a
// flapping cluster shows one line "x12" rather than a wall of duplicates. Recording never fails the
// caller: an Event is a courtesy, and a lost one is logged.

import { errorMessage, isNotFound } from './errors.ts';
import type { KubeConfig } from './kubeconfig.ts';
import type { Logger } from './logger.ts';
import { EVENT_REF } from './refs.ts';
import { createResource, patchResource } from './resources.ts';

export interface EventSubject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventWriter {
  create(event: Record<string, unknown>): Promise<void>;
  /** Merge-patch an existing Event; rejects with a 404 when it is gone. */
  patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
}

export function eventWriterFor(kc: KubeConfig): EventWriter {
  return {
    create: async (event) => {
      await createResource(kc, EVENT_REF, event as never);
    },
    patch: async (namespace, name, patch) => {
      await patchResource(kc, EVENT_REF, name, namespace, patch);
    },
  };
}

/** Same window as client-go's event correlator. */
const AGGREGATION_MS = 10 * 60_000;
/** Remembered events; the oldest are forgotten first (a repeat then creates a new Event). */
const MAX_REMEMBERED = 4096;

export class EventRecorder {
  readonly #writer: EventWriter;
  readonly #component: string;
  readonly #log: Logger | undefined;
  readonly #now: () => Date;
  readonly #seen = new Map<string, { namespace: string; name: string; count: number; at: number }>();

  constructor(writer: EventWriter, opts: { component?: string; log?: Logger; now?: () => Date } = {}) {
    this.#writer = writer;
    this.#component = opts.component ?? 'fedctl';
    this.#log = opts.log;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Record (or count again) an event; resolves when written or given up on. */
  async record(
    subject: EventSubject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const meta = subject.metadata ?? {};
    // Events of cluster-scoped objects live in `default`, as kubectl looks for them there.
    const namespace = meta.namespace || 'default';
    const key = `${meta.uid ?? `${namespace}/${meta.name}`}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = this.#now();
    const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const seen = this.#seen.get(key);
    try {
      if (seen && now.getTime() - seen.at < AGGREGATION_MS) {
        try {
          await this.#writer.patch(seen.namespace, seen.name, {
            count: seen.count + 1,
            lastTimestamp: stamp,
          });
          seen.count++;
          seen.at = now.getTime();
          return;
        } catch (e) {
          if (!isNotFound(e)) throw e;
          // Expired or deleted meanwhile: create a new one below.
        }
      }
      const name = `${meta.name ?? 'object'}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff)
        .toString(16)
        .padStart(4, '0')}`;
      await this.#writer.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: subject.apiVersion,
          kind: subject.kind,
          name: meta.name,
          ...(meta.namespace ? { namespace: meta.namespace } : {}),
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        type,
        reason,
        message,
        source: { component: this.#component },
        reportingComponent: this.#component,
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        count: 1,
      });
      this.#seen.delete(key);
      this.#seen.set(key, { namespace, name, count: 1, at: now.getTime() });
      while (this.#seen.size > MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value as string);
    } catch (e) {
      this.#log?.warn('could not record event', {
        object: `${subject.kind} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}`,
        reason,
        error: errorMessage(e),
      });
    }
  }
}
