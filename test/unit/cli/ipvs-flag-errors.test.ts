// `lvsd ipvs` checks every flag before it touches the kernel: a bad flag is one line on stderr
// naming it as it was typed (as restore names a line's), exit status 1, nothing on stdout. (Runs
// the real CLI; no IPVS needed.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const LVSD = join(__dirname, '..', '..', '..', '..', 'bin', 'lvsd');

function refused(args: string[], stderr: string, input = ''): void {
  const r = spawnSync(LVSD, ['ipvs', ...args], { encoding: 'utf8', input, timeout: 30_000 });
  assert.equal(r.stderr, `lvsd: ${stderr}\n`, `lvsd ipvs ${args.join(' ')}`);
  assert.equal(r.stdout, '');
  assert.equal(r.status, 1);
}

const CASES: [string[], string][] = [
  [['add-server', '-t', '198.18.0.1:80', '-r', '198.18.1.1', '-w', '70000'], '-w: 70000 is out of range 0..65535'],
  [['add-server', '-t', '198.18.0.1:80', '-r', '198.18.1.1', '-x', '-1'], '-x: -1 is out of range 0..2147483647'],
  [['add-server', '-t', '198.18.0.1:80', '-r', '198.18.1.1', '-g', '-m'], '-m: conflicts with -g'],
  [['add-server', '-t', '198.18.0.1:80', '-r', '198.18.1.1', '-i', '--tun-type', 'gue'], '--tun-port: required with --tun-type gue'],
  [['add-server', '-t', '198.18.0.1:80', '-r', '2001:db8::1'], '-r: a real server of another address family needs tunneling (-i)'],
  [['add-service', '-t', '198.18.0.1:80', '-p', '0'], '-p: 0 is out of range 1..2678400'],
  [['add-service', '-t', '198.18.0.1:80', '-M', '255.255.255.0/8'], "-M: '255.255.255.0/8' is not an IPv4 netmask"],
  [['add-service', '-t', '[2001:db8::1]:80', '-p', '-M', '129'], '-M: 129 is out of range 1..128'],
  [['add-service', '-t', '198.18.0.1:80', '-s', 'sh', '-b', 'mh-port'], "-b: scheduler flag 'mh-port' needs scheduler mh, not sh"],
  [['add-service', '-t', '198.18.0.1:80', '-o'], '-o: one-packet scheduling is only for UDP and fwmark services'],
  [['add-service', '-t', '198.18.0.1:80', '-u', '198.18.0.1:53'], '-u: conflicts with -t'],
  [['add-service', '-t', 'www.example:80'], "-t: 'www.example' is not an IP address (host names are not resolved)"],
  [['add-service', '-s', 'rr'], 'a virtual service is required: -t, -u, --sctp-service or -f'],
  [['delete-service', '-f', '0'], '-f: the mark must not be 0'],
  [['zero', '-6'], '-6: only goes with -f/--fwmark-service (for addresses the family comes from the address)'],
  [['list', '-c', '--timeout'], '--timeout: cannot be combined with --connection'],
  [['list', '--daemon', '--persistent-conn'], '--persistent-conn: cannot be combined with --daemon'],
  [['list', '-t', '198.18.0.1:80', '--daemon'], '--daemon: cannot be combined with a service (-t/-u/--sctp-service/-f)'],
  [['timeout', 'set', '900', '120', '2678401'], 'UDP: 2678401 is out of range 0..2678400'],
  [['flush'], 'flush deletes every virtual service: add --yes to confirm'],
  [['daemon', 'start', 'master', '--syncid', '256'], '--syncid: 256 is out of range 0..255'],
  [['daemon', 'start', 'backup', '--mcast-ttl', '0'], '--mcast-ttl: 0 is out of range 1..255'],
  [['daemon', 'start', 'backup', '--mcast-interface', 'a-name-longer-than-15'], "--mcast-interface: 'a-name-longer-than-15' is not an interface name (1..15 characters)"],
  [['daemon', 'stop', 'both'], "state: 'both' is not master or backup"],
  [['restore', '--batch-size', '0'], "--batch-size: '0' is not a positive integer"],
  [['add-service', '--tcp-service=198.18.0.1:80', '--scheduler', 'rr', '--bogus'], '--bogus: unknown option'],
  [['add-service', '-t', '198.18.0.1:80', 'extra'], "unexpected argument 'extra'"],
  [['add-server', '-t', '198.18.0.1:80', '-r', '198.18.1.1', '--syncid', '3'], '--syncid: not an option of add-server'],
  [['daemon', 'start', 'master', '-t', '198.18.0.1:80'], '-t: not an option of daemon start'],
];

for (const [args, message] of CASES) {
  test(`lvsd ipvs ${args.join(' ')} -> ${message}`, () => refused(args, message));
}

test('restore names the bad line before touching the kernel', () => {
  refused(['restore'], "line 2: --scheduler: 'w lc' is not a scheduler name", '-A -t 198.18.0.1:80\n-A -t 198.18.0.2:80 --scheduler "w lc"\n');
});
