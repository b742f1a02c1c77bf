// Captures real IPVS netlink replies in the lab, for the decoding tests on the host.
// Run in the guest (in a netns of its own): node dist/test/support/capture-ipvs-fixtures.js
// Prints one JSON line per fixture ({name, kernel, note, hex}); the host writes them to
// test/fixtures/netlink/<name>.hex (see scripts in the commit message of the fixtures).
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { GenlSocket, genlMessage } from '../../src/netlink/genl';
import { Message, HOST_LE } from '../../src/netlink/wire';
import { Cmd, IPVS_GENL_VERSION, cmdAttrs } from '../../src/ipvs/spec';
import { serviceKeyRequest } from '../../src/ipvs/codec';
import { opMessage } from '../../src/ipvs/client';
import { setUpNamespace } from './ipvs-lab';
import { TYPED_TABLE, typedTableSaveLines } from './ipvs-typed-table';

function raw(m: Message): Buffer {
  const h = Buffer.alloc(16);
  const w32 = (v: number, o: number) => (HOST_LE ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  const w16 = (v: number, o: number) => (HOST_LE ? h.writeUInt16LE(v, o) : h.writeUInt16BE(v, o));
  w32(m.header.length, 0);
  w16(m.header.type, 4);
  w16(m.header.flags, 6);
  w32(m.header.seq, 8);
  w32(m.header.pid, 12);
  return Buffer.concat([h, m.payload]);
}

function emit(name: string, note: string, msgs: Message[]): void {
  const hex = msgs.map((m) => raw(m).toString('hex')).join('\n');
  process.stdout.write(JSON.stringify({ name, kernel: release(), note, hex }) + '\n');
}

async function main(): Promise<void> {
  setUpNamespace();
  execFileSync('ipvsadm', ['-R'], { input: typedTableSaveLines().join('\n') + '\n' });
  const sock = new GenlSocket();
  const fam = await sock.family('IPVS');
  const msg = (cmd: number, attrs = {}) => genlMessage(fam.id, cmd, IPVS_GENL_VERSION, cmdAttrs, attrs);

  emit('ipvs-get-info', 'reply to IPVS_CMD_GET_INFO', await sock.request(msg(Cmd.GET_INFO)));
  emit('ipvs-get-config', 'reply to IPVS_CMD_GET_CONFIG (default timeouts)', await sock.request(msg(Cmd.GET_CONFIG)));
  emit('ipvs-dump-services', 'IPVS_CMD_GET_SERVICE dump of the table in test/support/ipvs-typed-table.ts', await sock.dump(msg(Cmd.GET_SERVICE)));
  for (const [i, label] of [
    [14, 'mh service 198.18.0.41:443 (gue/gre/ipip tunnels)'],
    [19, 'IPv6 service [2001:db8::10]:80 (route, masq, IPv4 ipip tunnel, gue)'],
    [23, 'IPv6 fwmark 2 (masq, gre)'],
  ] as const) {
    const e = TYPED_TABLE[i];
    emit(`ipvs-dump-dests-${i}`, `IPVS_CMD_GET_DEST dump of ${label}`, await sock.dump(serviceKeyRequest(fam.id, Cmd.GET_DEST, e.service.key)));
  }
  // the sync daemon refuses to run beside mixed-family real servers: drop that service first
  execFileSync('ipvsadm', ['-D', '-t', '[2001:db8::10]:80']);
  execFileSync('ipvsadm', ['--start-daemon', 'master', '--mcast-interface', 'lab0', '--syncid', '7', '--sync-maxlen', '1400', '--mcast-group', '239.1.2.3', '--mcast-port', '8850', '--mcast-ttl', '3']);
  emit('ipvs-dump-daemons', 'IPVS_CMD_GET_DAEMON dump: master, lab0, syncid 7, maxlen 1400, group 239.1.2.3, port 8850, ttl 3', await sock.dump(msg(Cmd.GET_DAEMON)));
  // An error reply, captured through the raw socket so the NLMSG_ERROR itself is kept.
  const dup = opMessage(fam.id, { kind: 'add-service', service: TYPED_TABLE[0].service });
  const errors: Message[] = [];
  const rawSock = (sock as unknown as { raw: import('netlink/dist/raw').RawNetlinkSocket }).raw;
  const got = new Promise<void>((resolve) => {
    rawSock.on('message', (buf: Buffer) => {
      const { parseMessages } = require('../../src/netlink/wire') as typeof import('../../src/netlink/wire');
      for (const m of parseMessages(buf)) if (m.header.seq === 4242) errors.push(m);
      if (errors.length) resolve();
    });
  });
  dup.writeUInt16LE(dup.readUInt16LE(6) | 0x5, 6); // NLM_F_REQUEST | NLM_F_ACK
  dup.writeUInt32LE(4242, 8);
  rawSock.ref();
  rawSock.send(dup);
  await got;
  emit('ipvs-error-eexist', 'NLMSG_ERROR (EEXIST) for IPVS_CMD_NEW_SERVICE of an existing service, request echoed', errors);
  sock.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
