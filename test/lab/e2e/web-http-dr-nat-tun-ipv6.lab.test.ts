// Seed 004's web tier end to end on the real kernel, config/lab/web-servers-http.yaml: node HTTP
// servers whose body names them and the client address they saw, HTTP checks of /health,
// `lvsd director run` doing the LVS work. The same round robin over LVS-DR (IPv4 and IPv6),
// LVS-NAT (the director as the servers' gateway) and LVS-TUN (ipip); a server answering 500 on
// /health is drained under load without a failed request. ipvsadm only judges.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLIENT, CLIENT6, LabTopology, type Method, httpThrough, waitFor } from '../../support/lab-topology';
import { REPO } from '../../support/netns';

const EXAMPLE = join(REPO, 'config', 'lab', 'web-servers-http.yaml');
const VIP = '198.18.0.11';
const VIP6 = '2001:db8::11';

/** A topology for `method`, the example (edited for NAT/TUN), the director up and both servers weighted. */
async function bring(topo: LabTopology): Promise<LabTopology> {
  const method = topo.opts.method;
  const began = Date.now();
  await topo.build();
  topo.writeConfig(EXAMPLE, (doc) => {
    if (method === 'dr') return;
    doc.services = [doc.services[0]]; // IPv4 only: NAT and TUN here carry IPv4
    doc.services[0].forward = method === 'nat' ? 'masq' : 'tunnel';
    doc.services[0].servers = topo.servers.map((s) => ({ address: s.address }));
  });
  topo.startDirector();
  await topo.directorReady();
  const addrs = topo.servers.flatMap((s) => [`${s.address}:80`, ...(method === 'dr' ? [`[${s.address6}]:80`] : [])]);
  await waitFor(`every server weighted (${addrs.join(', ')})`, () => addrs.every((a) => topo.weights().get(a) === 1), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${topo.procIpvs()}\n${topo.directorLog.filter((l) => /"component":"(health|director)"/.test(l)).slice(-12).join('\n')}`);
  });
  console.log(`# ${method}: topology, director and both servers up in ${Date.now() - began} ms`);
  return topo;
}

async function roundRobin(vip: string, client: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await httpThrough(vip);
    assert.equal(r.status, 200);
    const [host, from] = r.body.trim().split(' ');
    assert.equal(from.replace(/^::ffff:/, ''), client, 'the server sees the client itself');
    seen.push(host);
  }
  for (let i = 1; i < seen.length; i++) assert.notEqual(seen[i], seen[i - 1], `alternates: ${seen.join(', ')}`);
  assert.deepEqual(new Set(seen), new Set(['rs1', 'rs2']));
  return seen;
}

const topology = (method: Method) => new LabTopology({ method, servers: 2, vips: method === 'dr' ? [VIP, VIP6] : [VIP], backend: 'http' });

async function teardown(topo: LabTopology, failed: boolean): Promise<void> {
  if (failed) console.log(topo.directorLog.slice(-20).map((l) => `# director: ${l}`).join('\n'));
  await topo.teardown();
}

describe('LVS-DR, IPv4 and IPv6', () => {
  const topo = topology('dr');
  after(() => teardown(topo, Boolean(process.exitCode)));
  test('set up from the example as written', async () => {
    await bring(topo);
    assert.deepEqual(topo.ipvsadm(['-S', '-n']).split('\n').filter(Boolean).sort(), [
      '-A -t 198.18.0.11:80 -s rr',
      '-A -t [2001:db8::11]:80 -s rr',
      '-a -t 198.18.0.11:80 -r 198.18.0.21:80 -g -w 1',
      '-a -t 198.18.0.11:80 -r 198.18.0.22:80 -g -w 1',
      '-a -t [2001:db8::11]:80 -r [2001:db8::21]:80 -g -w 1',
      '-a -t [2001:db8::11]:80 -r [2001:db8::22]:80 -g -w 1',
    ]);
  });

  test('IPv4: requests through the VIP alternate, each server sees the client', async () => {
    console.log(`# dr ipv4 round robin: ${(await roundRobin(VIP, CLIENT)).join(', ')}`);
  });

  test('IPv6: requests through the VIP alternate, each server sees the client', async () => {
    console.log(`# dr ipv6 round robin: ${(await roundRobin(VIP6, CLIENT6)).join(', ')}`);
  });

  test('a server answering 500 on /health is drained under load, no request fails; 200 brings it back', async () => {
    let failed = 0;
    let total = 0;
    let stop = false;
    const loop = (async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        total++;
        await httpThrough(VIP).then((r) => (r.status !== 200 ? failed++ : 0), () => failed++);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    topo.setHealth(topo.servers[0], 500);
    const t0 = Date.now();
    const drained = await waitFor('rs1 at weight 0', () => topo.weights().get('198.18.0.21:80') === 0, 15_000, 10);
    const after500: string[] = [];
    for (let i = 0; i < 4; i++) after500.push((await httpThrough(VIP)).body.split(' ')[0]);
    topo.setHealth(topo.servers[0], 200);
    const back = await waitFor('rs1 at weight 1', () => topo.weights().get('198.18.0.21:80') === 1, 15_000, 10);
    stop = true;
    await loop;
    console.log(`# http 500: rs1 drained ${drained} ms after /health turned 500 (interval 1 s × fall 2 + timeout 0.5 s + 0.1 s = 2.6 s goal); back ${back} ms after 200 (rise 2); requests: ${failed} failed / ${total}`);
    assert.deepEqual(after500, ['rs2', 'rs2', 'rs2', 'rs2'], 'the drained server takes no new connection');
    assert.equal(failed, 0);
    assert.ok(Date.now() - t0 < 60_000);
  });
});

describe('LVS-NAT: the director is the servers\' gateway', () => {
  test('requests through the VIP alternate, each server sees the client', async (t) => {
    const topo = topology('nat');
    let ok = false;
    t.after(() => teardown(topo, !ok));
    await bring(topo);
    assert.match(topo.ipvsadm(['-S', '-n']), /-a -t 198\.18\.0\.11:80 -r 198\.19\.1\.21:80 -m -w 1/);
    console.log(`# nat round robin: ${(await roundRobin(VIP, CLIENT)).join(', ')}`);
    ok = true;
  });
});

describe('LVS-TUN over ipip', () => {
  test('requests through the VIP alternate, each server sees the client', async (t) => {
    const topo = topology('tun');
    let ok = false;
    t.after(() => teardown(topo, !ok));
    await bring(topo);
    assert.match(topo.ipvsadm(['-S', '-n']), /-a -t 198\.18\.0\.11:80 -r 198\.18\.0\.21:80 -i -w 1/);
    console.log(`# tun round robin: ${(await roundRobin(VIP, CLIENT)).join(', ')}`);
    ok = true;
  });
});
