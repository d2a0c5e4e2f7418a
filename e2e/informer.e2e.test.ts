import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discoverResource } from '../src/kube/discovery.ts';
import { isNotFound } from '../src/kube/errors.ts';
import { SupervisedInformer } from '../src/kube/informer.ts';
import type { ResourceRef } from '../src/kube/refs.ts';
import {
  createResource,
  deleteResource,
  getResource,
  listResource,
  patchResource,
  patchStatus,
  replaceResource,
} from '../src/kube/resources.ts';
import { memoryLogger } from '../src/testing/logger.ts';
import { type E2ETestbed, startTestbed } from '../testbed/harness/testbed.ts';
import { waitFor } from '../testbed/harness/wait.ts';
import { kubeConfigFor } from '../testbed/index.ts';

// The controller plumbing of src/kube against one real API server: the generic REST helpers
// (discovery, CRUD, status patches, paging) and the supervised informer, including its recovery
// when the API server goes away and comes back.

const CLUSTER = 'cluster0';
const NS = 'informer-e2e';
const CONFIGMAPS: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};
const NAMESPACES: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};
const DEPLOYMENTS: ResourceRef = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};

type ConfigMap = KubernetesObject & { data?: Record<string, string> };

const work = mkdtempSync(join(tmpdir(), 'fedctl-e2e-informer-'));
let tb: E2ETestbed;
let kc: KubeConfig;
let failed = false;
const informers: SupervisedInformer<ConfigMap>[] = [];

const configMap = (
  name: string,
  data: Record<string, string>,
  labels = { suite: 'informer' },
): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, labels },
  data,
});

beforeAll(async () => {
  tb = await startTestbed({ clusters: 1, nodes: 1, stateDir: join(work, 'testbed') });
  kc = kubeConfigFor(tb.status, CLUSTER);
  await createResource(kc, NAMESPACES, { metadata: { name: NS } });
});

afterEach(({ task }) => {
  if (task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  if (failed && tb) process.stderr.write(`[informer e2e] testbed diagnostics:\n${await tb.diagnostics()}\n`);
  await tb?.down();
  rmSync(work, { recursive: true, force: true });
});

describe('resources against a real API server', () => {
  it('discovers types by kind, plural and group-qualified plural', async () => {
    expect(await discoverResource(kc, { kind: 'Deployment', plural: 'Deployment' })).toEqual(DEPLOYMENTS);
    expect(await discoverResource(kc, { group: 'apps', kind: 'deployments', plural: 'deployments' })).toEqual(
      DEPLOYMENTS,
    );
    expect(await discoverResource(kc, { plural: 'cm' })).toEqual(CONFIGMAPS);
    await expect(discoverResource(kc, { kind: 'NoSuchKind' })).rejects.toThrow(
      `no resource type "NoSuchKind" on cluster "${CLUSTER}"`,
    );
  });

  it('creates, reads, replaces, patches and deletes, with API errors errors.ts understands', async () => {
    const created = await createResource(kc, CONFIGMAPS, configMap('crud', { a: '1' }));
    expect(created.metadata?.uid).toBeTruthy();
    expect(typeof created.metadata?.creationTimestamp).toBe('string');
    const read = await getResource<ConfigMap>(kc, CONFIGMAPS, 'crud', NS);
    expect(read).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } });
    const replaced = await replaceResource(kc, CONFIGMAPS, { ...read, data: { a: '2' } });
    expect(replaced.data).toEqual({ a: '2' });
    // A stale resourceVersion makes the replace a failed compare-and-swap.
    const stale = await replaceResource(kc, CONFIGMAPS, { ...read, data: { a: '3' } }).catch((e) => e);
    expect(stale.code).toBe(409);
    const patched = await patchResource<ConfigMap>(kc, CONFIGMAPS, 'crud', NS, { data: { b: 'x' } });
    expect(patched.data).toEqual({ a: '2', b: 'x' });
    await deleteResource(kc, CONFIGMAPS, 'crud', NS);
    const gone = await getResource(kc, CONFIGMAPS, 'crud', NS).catch((e) => e);
    expect(isNotFound(gone)).toBe(true);
    expect(gone.message).toContain(`/api/v1/namespaces/${NS}/configmaps/crud on cluster "${CLUSTER}"`);
  });

  it('merge-patches a status subresource', async () => {
    await createResource(kc, DEPLOYMENTS, {
      metadata: { name: 'status-target', namespace: NS },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'status-target' } },
        template: {
          metadata: { labels: { app: 'status-target' } },
          spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
        },
      },
    } as KubernetesObject);
    const after = await patchStatus<KubernetesObject & { status?: { observedGeneration?: number } }>(
      kc,
      DEPLOYMENTS,
      'status-target',
      NS,
      { observedGeneration: 42 },
    );
    expect(after.status?.observedGeneration).toBe(42);
    await deleteResource(kc, DEPLOYMENTS, 'status-target', NS);
  });

  it('follows pagination to the end', async () => {
    for (let i = 0; i < 5; i++)
      await createResource(kc, CONFIGMAPS, configMap(`page-${i}`, {}, { suite: 'paging' }));
    const list = await listResource(kc, CONFIGMAPS, {
      namespace: NS,
      labelSelector: 'suite=paging',
      pageSize: 2,
    });
    expect(list.items.map((i) => i.metadata?.name).sort()).toEqual([
      'page-0',
      'page-1',
      'page-2',
      'page-3',
      'page-4',
    ]);
    expect(list.items.every((i) => i.kind === 'ConfigMap' && i.apiVersion === 'v1')).toBe(true);
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
  });
});

describe('SupervisedInformer against a real API server', () => {
  let informer: SupervisedInformer<ConfigMap>;
  const events: string[] = [];
  const seen = (e: string) => events.includes(e);

  it('starts with the objects that already exist', async () => {
    await createResource(kc, CONFIGMAPS, configMap('before-1', { v: '1' }));
    await createResource(kc, CONFIGMAPS, configMap('before-2', { v: '1' }));
    await createResource(kc, CONFIGMAPS, configMap('other-label', { v: '1' }, { suite: 'elsewhere' }));
    informer = new SupervisedInformer<ConfigMap>({
      name: CLUSTER,
      kc,
      ref: CONFIGMAPS,
      namespace: NS,
      labelSelector: 'suite=informer',
      logger: memoryLogger('info'),
      backoffMaxMs: 2000,
    });
    informers.push(informer);
    informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => events.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
    await informer.start();
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['before-1', 'before-2']);
    const cached = informer.get('before-1', NS);
    expect(cached).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { v: '1' } });
    expect(typeof cached?.metadata?.creationTimestamp).toBe('string');
    expect(Object.isFrozen(cached)).toBe(true);
    await waitFor('watch open', () => informer.healthy());
  });

  it('delivers add, update and delete from the watch', async () => {
    events.length = 0;
    await createResource(kc, CONFIGMAPS, configMap('live', { v: '1' }));
    await waitFor('add live', () => seen('add live'));
    await patchResource(kc, CONFIGMAPS, 'live', NS, { data: { v: '2' } });
    await waitFor('update live 2', () => seen('update live 2'));
    expect(informer.get('live', NS)?.data).toEqual({ v: '2' });
    await deleteResource(kc, CONFIGMAPS, 'live', NS);
    await waitFor('delete live', () => seen('delete live'));
    expect(informer.get('live', NS)).toBeUndefined();
    // An object outside the selector never shows up.
    await patchResource(kc, CONFIGMAPS, 'other-label', NS, { data: { v: '9' } });
    await createResource(kc, CONFIGMAPS, configMap('marker', { v: '1' }));
    await waitFor('add marker', () => seen('add marker'));
    expect(events.some((e) => e.includes('other-label'))).toBe(false);
  });

  it('recovers after the API server is stopped and started again', async () => {
    events.length = 0;
    await tb.stopApiServer(CLUSTER);
    await waitFor('informer to notice the outage', () => !informer.healthy(), { timeoutMs: 30_000 });
    expect(informer.get('before-1', NS)).toBeDefined(); // the cache outlives the outage
    await tb.startApiServer(CLUSTER);
    await waitFor('watch open again', () => informer.healthy(), { timeoutMs: 60_000 });
    await patchResource(kc, CONFIGMAPS, 'before-1', NS, { data: { v: 'after-restart' } });
    await createResource(kc, CONFIGMAPS, configMap('after-restart', { v: '1' }));
    await deleteResource(kc, CONFIGMAPS, 'before-2', NS);
    await waitFor('events after the restart', () =>
      ['update before-1 after-restart', 'add after-restart', 'delete before-2'].every(seen),
    );
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['after-restart', 'before-1', 'marker']);
    expect(informer.lastError()).toBeUndefined();
  });

  it('stops watching on stop()', async () => {
    await informer.stop();
    expect(informer.healthy()).toBe(false);
    events.length = 0;
    await createResource(kc, CONFIGMAPS, configMap('after-stop', { v: '1' }));
    await new Promise((r) => setTimeout(r, 1000));
    expect(events).toEqual([]);
  });
});
