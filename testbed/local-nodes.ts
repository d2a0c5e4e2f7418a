import { NETNS_ANNOTATION } from '../src/api/constants.ts';
import { nodeIP, nodeSubnet, parseCidr } from './cidr.ts';
import type { ClusterCtx } from './components.ts';
import { fakeNode, fakeNodeName } from './kwok.ts';
import { type Log, type StateRecorder, waitFor } from './launch.ts';
import {
  addLocalPodRange,
  addPodRoute,
  createFabric,
  createNodeNetns,
  fabricNetnsName,
  fabricVethName,
  nodeNetnsName,
} from './netns.ts';
import type { NodeRecord, TestbedState } from './state.ts';

// The local provider's fake nodes: kwok Node objects, each backed by a network namespace holding
// its address and pod range, with routes between the nodes of one cluster.

interface NodeView {
  spec?: { podCIDR?: string };
  status?: {
    addresses?: { type: string; address: string }[];
    conditions?: { type: string; status: string }[];
  };
}

/** Creates the fake nodes, waits until KCM gave each a podCIDR and kwok made it Ready. */
export async function createNodes(ctx: ClusterCtx, nodes: number, idByte: number): Promise<NodeRecord[]> {
  const http = ctx.http!;
  const c = ctx.rec;
  const out: NodeRecord[] = [];
  for (let j = 0; j < nodes; j++) {
    const name = fakeNodeName(c.name, j);
    const ip = nodeIP(idByte, c.index, j, nodes);
    await http.create('/api/v1/nodes', fakeNode(ctx.plan, j, ip));
    // Some API server versions drop status on create; make sure the address is there.
    const got = (await http.get<NodeView>(`/api/v1/nodes/${name}`)).body;
    if (!got.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address === ip)) {
      await http.mergePatch(`/api/v1/nodes/${name}/status`, {
        status: {
          addresses: [
            { type: 'InternalIP', address: ip },
            { type: 'Hostname', address: name },
          ],
        },
      });
    }
    out.push({ name, ip, podCIDR: '', netns: null });
  }
  for (const n of out) {
    n.podCIDR = await waitFor(`${c.name}: node ${n.name} Ready with a podCIDR`, 60_000, async () => {
      const node = (await http.get<NodeView>(`/api/v1/nodes/${n.name}`)).body;
      const ready = node.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
      const ipOk = node.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address === n.ip);
      return ready && ipOk && node.spec?.podCIDR ? node.spec.podCIDR : undefined;
    });
  }
  return out;
}

async function setUpNetns(rec: StateRecorder, state: TestbedState): Promise<void> {
  const fabric = fabricNetnsName(state.id);
  const record = async (ns: string) => {
    state.netns.push(ns);
    await rec.save();
  };
  await createFabric(fabric, async (ns) => {
    state.fabricNetns = ns;
    await record(ns);
  });
  const prefix = parseCidr(nodeSubnet(state.idByte)).prefix;
  for (const c of state.clusters) {
    for (const [j, n] of c.nodes.entries()) {
      const ns = nodeNetnsName(state.id, c.index, j);
      await createNodeNetns(
        { fabric, netns: ns, veth: fabricVethName(c.index, j), ip: n.ip, prefix },
        record,
      );
      n.netns = ns;
    }
  }
  await rec.save();
}

/** Pod ranges: local in their own node; routed via the owning node from the cluster's other nodes. */
async function addPodRoutes(state: TestbedState): Promise<void> {
  for (const c of state.clusters) {
    for (const n of c.nodes) {
      if (!n.netns) continue;
      await addLocalPodRange(n.netns, n.podCIDR);
      for (const other of c.nodes) {
        if (other !== n) await addPodRoute(n.netns, other.podCIDR, other.ip);
      }
    }
  }
}

/** Network namespaces for every node, pod routes, and the annotation `fedctl routes --via netns` reads. */
export async function setUpNodeNetworks(
  rec: StateRecorder,
  log: Log,
  state: TestbedState,
  ctxs: readonly ClusterCtx[],
): Promise<void> {
  await setUpNetns(rec, state);
  await addPodRoutes(state);
  await Promise.all(
    ctxs.flatMap((ctx) =>
      ctx.rec.nodes.map((n) =>
        ctx.http!.mergePatch(`/api/v1/nodes/${n.name}`, {
          metadata: { annotations: { [NETNS_ANNOTATION]: n.netns } },
        }),
      ),
    ),
  );
  log(`network namespaces ready (fabric ${state.fabricNetns}, nodes on ${nodeSubnet(state.idByte)})`);
}
