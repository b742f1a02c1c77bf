// `lvsd director import-keepalived`: keepalived.conf (seed 002's virtual_server part, and confs
// covering every translated keyword) becomes director YAML that the director's own loader accepts,
// with what keepalived would program (scheduler, method, persistence, weights, check timing), and
// every line it cannot translate named as file:line: keyword: why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDirectorConfig, type ServiceConfig } from '../../../src/config/director';
import { formatImportProblem, importKeepalivedFile, KeepalivedSyntaxError, parseKeepalived, translateKeepalived } from '../../../src/config/keepalived';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'keepalived');

function load(path: string) {
  const result = importKeepalivedFile(path);
  const config = parseDirectorConfig(result.yaml, `${path}.yaml`, { checkFiles: false });
  return { ...result, config, named: result.problems.map(formatImportProblem) };
}

function fromText(text: string, name = 'k.conf') {
  const result = translateKeepalived(parseKeepalived(text, name), name);
  return { ...result, config: parseDirectorConfig(result.yaml, 'k.yaml', { checkFiles: false }), named: result.problems.map(formatImportProblem) };
}

function service(services: readonly ServiceConfig[], name: string): ServiceConfig {
  const s = services.find((x) => x.name === name);
  assert.ok(s, `service ${name} in ${services.map((x) => x.name).join(', ')}`);
  return s;
}

test("seed 002's keepalived.conf translates to a valid config programming what keepalived programs", () => {
  const path = join(FIXTURES, 'seed-002.conf');
  const { config, named, yaml } = load(path);
  assert.equal(config.services.length, 1);
  const s = config.services[0];
  assert.deepEqual(s.key, { family: 'inet', protocol: 'tcp', address: '198.18.14.100', port: 3306 });
  assert.equal(s.scheduler, 'rr'); // lb_algo rr
  assert.equal(s.forward, 'route'); // lb_kind DR
  assert.equal(s.persistence, undefined); // persistence_timeout 0
  assert.equal(s.onFailure, 'remove'); // no inhibit_on_failure: keepalived removes a failed server
  assert.equal(s.allDown, 'empty');
  assert.deepEqual(
    s.servers.map((r) => [r.name, r.weight, r.forward]),
    [
      ['198.18.14.71:3306', 1, 'route'],
      ['198.18.14.72:3306', 1, 'route'],
    ],
  );
  for (const r of s.servers) {
    assert.equal(r.checks?.length, 1);
    const c = r.checks![0];
    assert.equal(c.type, 'tcp');
    assert.equal(c.port, 3306); // connect_port
    // delay_loop 6, connect_timeout 3, keepalived's retry 1 = 2 failures (keepalived 2.2 ignores
    // nb_get_retry in a TCP_CHECK: an unknown keyword there), starts up (no alpha)
    assert.deepEqual(c.timing, { intervalMs: 6000, timeoutMs: 3000, fall: 2, initialState: 'fully-up' });
  }
  // one success brings a server back and no jitter, as keepalived
  assert.equal(s.checkDefaults.rise, 1);
  assert.equal(s.checkDefaults.jitter, 0);
  // nb_get_retry (ignored by keepalived there) and delay_before_retry 3 (lvsd retries at the interval)
  assert.deepEqual(
    named.map((n) => n.split(': ').slice(0, 2).join(': ')),
    [`${path}:16: nb_get_retry`, `${path}:17: delay_before_retry`, `${path}:27: nb_get_retry`, `${path}:28: delay_before_retry`],
  );
  assert.match(yaml, /# .*seed-002\.conf:1 virtual_server 198\.18\.14\.100 3306\n/);
  assert.match(yaml, /scheduler: rr # .*seed-002\.conf:3 lb_algo rr\n/);
});

test('every translated keyword: groups, fwmark, schedulers and flags, methods and tunnels, persistence, checks, quorum, sorry server, globals', () => {
  const path = join(FIXTURES, 'all-keywords.conf');
  const { config, named } = load(path);
  // global_defs
  assert.deepEqual(config.global.timeouts, { tcpMs: 900_000, tcpfinMs: 120_000, udpMs: 300_000 });
  // without a VRRP instance keepalived runs both daemons; lvsd runs one (the VRRP-tied form is in keepalived-import-vrrp.test.ts)
  assert.deepEqual(config.global.syncDaemon, { state: 'backup', interface: 'eth0', syncId: 7, maxLen: 1400, port: 8848, ttl: 2, group: '239.0.0.18' });
  // virtual_server group web: one service per member (a range of two and one address), the same servers
  assert.deepEqual(
    config.services.filter((s) => s.name.startsWith('web ')).map((s) => s.name),
    ['web 198.18.1.10:80', 'web 198.18.1.11:80', 'web 198.18.1.20:8080'],
  );
  for (const name of ['web 198.18.1.10:80', 'web 198.18.1.11:80', 'web 198.18.1.20:8080']) {
    const web = service(config.services, name);
    assert.equal(web.scheduler, 'wlc');
    assert.equal(web.forward, 'masq'); // lb_kind NAT
    assert.equal(web.onFailure, 'weight-0'); // inhibit_on_failure
    assert.deepEqual(web.quorum, { weight: 2, hysteresis: 1 });
    assert.equal(web.sorryServer?.name, '198.18.2.99:80');
    assert.equal(web.sorryServer?.forward, 'masq');
    assert.equal(web.allDown, 'sorry');
    const [a, b] = web.servers;
    assert.equal(a.weight, 3);
    assert.deepEqual(a.thresholds, { upper: 100, lower: 50 });
    assert.equal(a.checks?.length, 2); // one http check per url
    const [health, index] = a.checks!;
    assert.ok(health.type === 'http' && index.type === 'http');
    assert.equal(health.path, '/health');
    assert.deepEqual(health.expectStatus, [
      [200, 200],
      [301, 302],
    ]); // status_code 200 301-302
    assert.equal(health.hostHeader, 'www.example.test'); // virtualhost of the virtual_server
    // delay_loop 5 (virtual_server), connect_timeout 2, retry 2, alpha: starts down
    assert.deepEqual(health.timing, { intervalMs: 5000, timeoutMs: 2000, fall: 3, initialState: 'down' });
    assert.equal(index.path, '/index.html');
    assert.deepEqual(index.expectStatus, [[200, 299]]); // keepalived's default; its digest is named below
    assert.ok(b.checks && b.checks[0].type === 'http');
    const ssl = b.checks[0];
    assert.ok(ssl.type === 'http');
    assert.equal(ssl.tls, true);
    assert.equal(ssl.insecureSkipTlsVerify, true); // keepalived SSL_GET does not verify
    assert.equal(ssl.sni, 'www.example.test'); // enable_sni
    assert.equal(ssl.host, '198.18.2.102'); // connect_ip
    assert.equal(ssl.port, 443); // connect_port
    assert.equal(ssl.bodyRegex, 'ok'); // url regex
    assert.deepEqual(ssl.timing, { intervalMs: 5000, timeoutMs: 5000, fall: 2, initialState: 'down' }); // defaults: connect_timeout 5, retry 1
  }
  // UDP service: sh with flags, ops, persistence with granularity and engine, TUN gue
  const sip = service(config.services, 'udp 198.18.3.10:5060');
  assert.equal(sip.scheduler, 'sh');
  assert.deepEqual(sip.schedulerFlags, ['sh-port', 'sh-fallback']);
  assert.equal(sip.onePacket, true);
  assert.deepEqual(sip.persistence, { timeoutMs: 600_000, netmask: '255.255.255.0' });
  assert.equal(sip.persistenceEngine, 'sip');
  assert.equal(sip.forward, 'tunnel');
  assert.deepEqual(sip.servers[0].tunnel, { type: 'gue', port: 6080, checksum: 'csum' });
  assert.equal(sip.servers[0].weight, 10);
  const misc = sip.servers[0].checks![0];
  assert.ok(misc.type === 'exec');
  assert.equal(misc.path, '/usr/local/bin/sip-check');
  assert.deepEqual(misc.args, ['--host', '198.18.3.1']);
  assert.equal(misc.dynamicWeight, true); // misc_dynamic
  assert.equal(misc.user, 'nobody');
  // MISC_CHECK: delay_loop 10, misc_timeout 4, retry defaults to 0
  assert.deepEqual(misc.timing, { intervalMs: 10_000, timeoutMs: 4000, fall: 1, initialState: 'fully-up' });
  // fwmark service: mh with flags, TUN with tun_type gre, persistence_timeout without a value = 360 s
  const mark = service(config.services, 'fwmark 7');
  assert.deepEqual(mark.key, { family: 'inet', fwmark: 7 });
  assert.equal(mark.scheduler, 'mh');
  assert.deepEqual(mark.schedulerFlags, ['mh-port', 'flag-1']);
  assert.deepEqual(mark.persistence, { timeoutMs: 360_000, netmask: '255.255.255.255' });
  assert.deepEqual(mark.servers[0].tunnel, { type: 'gre', checksum: 'nocsum' });
  // keepalived defaults: delay_loop 60, connect_timeout 5; retry 0 = down on the first failure
  assert.deepEqual(mark.servers[0].checks![0].timing, { intervalMs: 60_000, timeoutMs: 5000, fall: 1, initialState: 'fully-up' });
  // a real_server of its own method (lb_kind DR), weight 0, no checker: always up
  assert.equal(mark.servers[1].forward, 'route');
  assert.equal(mark.servers[1].weight, 0);
  assert.deepEqual(mark.servers[1].checks, []);

  // the lines left out, each with file:line and why, in file order
  const d = join(FIXTURES, 'conf.d');
  assert.deepEqual(
    named.map((n) => n.split(': ').slice(0, 2).join(': ')),
    [
      `${path}:3: router_id`,
      `${path}:5: lvs_sync_daemon`,
      `${d}/10-web.conf:12: quorum`,
      `${d}/10-web.conf:14: quorum_up`,
      `${d}/10-web.conf:17: sorry_server_inhibit`,
      `${d}/10-web.conf:31: digest`,
      `${d}/10-web.conf:36: warmup`,
      `${d}/20-udp.conf:17: user`,
    ],
  );
  assert.match(named.find((n) => n.includes('digest'))!, /cannot check an MD5 digest/);
});

test('a conf with nothing untranslatable names nothing; semantics kept: alpha, inhibit_on_failure, no sorry server', () => {
  const { config, named } = fromText(`
virtual_server 198.18.5.1 443 {
  lvs_sched wrr ! comment after a value
  lvs_method DR   # another comment
  inhibit_on_failure
  real_server 198.18.5.11 443 {
    weight 5
    alpha
    TCP_CHECK {
      retry 3
      delay_before_retry 2
      delay_loop 2
    }
  }
}`);
  assert.deepEqual(named, []);
  const s = config.services[0];
  assert.equal(s.scheduler, 'wrr');
  assert.equal(s.forward, 'route');
  assert.equal(s.onFailure, 'weight-0');
  assert.deepEqual(s.servers[0].checks![0].timing, { intervalMs: 2000, timeoutMs: 5000, fall: 4, initialState: 'down' });
});

test('the defaults keepalived applies are written out: NAT, wlc, udp (keepalived 2.2: "no protocol set - defaulting to UDP"); tun_port and tun_flags; mixed inhibit is named', () => {
  const { config, named } = fromText(`virtual_server 198.18.6.1 80 {
  lvs_method TUN
  tun_type gue
  tun_port 5555
  tun_flags remcsum
  quorum 2
  real_server 198.18.6.11 80 {
    inhibit_on_failure
  }
  real_server 198.18.6.12 80 {
  }
}
virtual_server 198.18.6.2 80 {
  real_server 198.18.6.21 80 {
  }
}`);
  const [tun, plain] = config.services;
  assert.deepEqual(tun.servers[0].tunnel, { type: 'gue', port: 5555, checksum: 'remcsum' });
  assert.equal(plain.scheduler, 'wlc');
  assert.equal(plain.forward, 'masq');
  assert.equal(plain.key.protocol, 'udp');
  assert.equal(tun.key.protocol, 'udp');
  assert.equal(tun.onFailure, 'remove');
  assert.deepEqual(
    named.map((n) => n.split(': ').slice(0, 2).join(': ')),
    ['k.conf:6: quorum', 'k.conf:7: real_server'],
  );
});

test("persistence_granularity as keepalived 2.2 reads it: alone it makes the service persistent (360 s); in a group it is left out and named, as keepalived programs no mask there", () => {
  const { config, named } = fromText(`virtual_server fwmark 31 {
  persistence_granularity 255.255.255.0
  real_server 198.18.8.11 80 {
  }
}
virtual_server 198.18.8.2 80 {
  protocol TCP
  persistence_timeout 0
  persistence_granularity 255.255.0.0
  real_server 198.18.8.12 80 {
  }
}
virtual_server 198.18.8.3 80 {
  protocol TCP
  persistence_granularity 255.255.0.0
  persistence_timeout 0
  real_server 198.18.8.13 80 {
  }
}
virtual_server_group g {
  198.18.8.4-5 80
  fwmark 32
}
virtual_server group g {
  protocol TCP
  persistence_timeout 120
  persistence_granularity 255.255.255.0
  real_server 198.18.8.14 80 {
  }
}`);
  const [mark, zeroFirst, zeroAfter, ...group] = config.services;
  assert.deepEqual(mark.persistence, { timeoutMs: 360_000, netmask: '255.255.255.0' });
  assert.deepEqual(zeroFirst.persistence, { timeoutMs: 360_000, netmask: '255.255.0.0' });
  assert.equal(zeroAfter.persistence, undefined);
  assert.equal(group.length, 3);
  for (const g of group) assert.deepEqual(g.persistence, { timeoutMs: 120_000, netmask: '255.255.255.255' });
  assert.deepEqual(
    named.map((n) => n.split(': ').slice(0, 2).join(': ')),
    ['k.conf:15: persistence_granularity', 'k.conf:27: persistence_granularity'],
  );
});

test('nb_get_retry as keepalived 2.2 reads it: retry in HTTP_GET and SSL_GET; elsewhere named, with keepalived\'s default retry', () => {
  const { config, named } = fromText(`virtual_server 198.18.8.6 80 {
  protocol TCP
  delay_loop 2
  real_server 198.18.8.16 80 {
    HTTP_GET {
      url {
        path /
      }
      nb_get_retry 3
    }
  }
  real_server 198.18.8.17 80 {
    TCP_CHECK {
      nb_get_retry 3
    }
  }
}`);
  const [http, tcp] = config.services[0].servers;
  assert.equal(http.checks![0].timing.fall, 4);
  assert.equal(tcp.checks![0].timing.fall, 2); // keepalived's default retry 1 for TCP_CHECK
  assert.deepEqual(
    named.map((n) => n.split(': ').slice(0, 2).join(': ')),
    ['k.conf:14: nb_get_retry'],
  );
});

test("a group's fwmark member takes the family of the real servers, as keepalived's virtual server does", () => {
  const { config } = fromText(`virtual_server_group v6 {
  2001:db8:8::30 80
  fwmark 61
}
virtual_server group v6 {
  protocol TCP
  lvs_method DR
  real_server 2001:db8:8::13 80 {
  }
}`);
  assert.deepEqual(
    config.services.map((s) => s.key),
    [
      { family: 'inet6', protocol: 'tcp', address: '2001:db8:8::30', port: 80 },
      { family: 'inet6', fwmark: 61 },
    ],
  );
});

test("a DR/TUN server's port as keepalived programs it: none in a fwmark service (a group's fwmark member too), the service's in an address service; its checks keep the port written; NAT keeps it", () => {
  const { config, named } = fromText(`virtual_server fwmark 70 {
  lvs_method DR
  real_server 198.18.8.21 80 {
    TCP_CHECK {
    }
  }
  real_server 198.18.8.22 8080 {
    lvs_method NAT
  }
}
virtual_server 198.18.8.7 80 {
  protocol TCP
  lvs_method TUN
  real_server 198.18.8.23 8080 {
    HTTP_GET {
      url {
        path /
      }
    }
  }
}
virtual_server_group g7 {
  198.18.8.8 80
  fwmark 71
}
virtual_server group g7 {
  protocol TCP
  lvs_method DR
  real_server 198.18.8.24 80 {
    TCP_CHECK {
    }
  }
}`);
  const [mark, tun, member, markMember] = config.services;
  assert.deepEqual(
    [mark, tun, member, markMember].map((s) => s.servers.map((r) => [r.port, r.checks?.map((c) => c.port)])),
    [
      [
        [0, [80]],
        [8080, []],
      ],
      [[80, [8080]]],
      [[80, [undefined]]],
      [[0, [80]]],
    ],
  );
  assert.deepEqual(named, []);
});

test('include follows globs relative to the including file, and names the included file:line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-ka-'));
  mkdirSync(join(dir, 'vs'));
  writeFileSync(join(dir, 'keepalived.conf'), 'include vs/*.conf\ninclude "vs/{x,y}.inc"\n');
  writeFileSync(join(dir, 'vs', 'b.conf'), 'virtual_server 198.18.7.2 80 {\n  real_server 198.18.7.12 80 {\n  }\n}\n');
  writeFileSync(join(dir, 'vs', 'a.conf'), '\nvirtual_server 198.18.7.1 80 {\n  smtp_alert\n}\n');
  writeFileSync(join(dir, 'vs', 'y.inc'), 'virtual_server 198.18.7.3 80 {\n}\n');
  const { config, named } = load(join(dir, 'keepalived.conf'));
  assert.deepEqual(
    config.services.map((s) => s.name),
    ['udp 198.18.7.1:80', 'udp 198.18.7.2:80', 'udp 198.18.7.3:80'], // no protocol: keepalived's UDP
  );
  assert.deepEqual(named.map((n) => n.split(': ').slice(0, 2).join(': ')), [`${join(dir, 'vs', 'a.conf')}:3: smtp_alert`]);
});

test('bad syntax is refused with its file:line', () => {
  const cases: [string, RegExp][] = [
    ['virtual_server 198.18.0.1 80 {\n  real_server 198.18.0.2 80 {\n}\n', /^k\.conf:1: virtual_server: block not closed/],
    ['global_defs {\n}\n}\n', /^k\.conf:3: "}" without a block to close/],
    ['global_defs {\n  router_id "abc\n}\n', /^k\.conf:2: unterminated quoted string/],
    ['{\n', /^k\.conf:1: "\{" without a keyword/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseKeepalived(text, 'k.conf'),
      (err: unknown) => err instanceof KeepalivedSyntaxError && expected.test(err.message),
      text,
    );
  }
  // a missing include is refused at the include line
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-ka-'));
  writeFileSync(join(dir, 'k.conf'), '\ninclude missing.conf\n');
  assert.throws(() => importKeepalivedFile(join(dir, 'k.conf')), /k\.conf:2: cannot read .*missing\.conf: no such file/);
});

test('a `{` on the line after its keyword opens that keyword\'s block', () => {
  const { config } = fromText('virtual_server 198.18.8.1 80\n{\n  lvs_sched rr\n  real_server 198.18.8.11 80\n  {\n    weight 7\n  }\n}\n');
  assert.equal(config.services[0].scheduler, 'rr');
  assert.equal(config.services[0].servers[0].weight, 7);
});

test('misc_path: unquoted words are one command; a command that needs a shell runs through /bin/sh -c', () => {
  const { config } = fromText(`virtual_server 198.18.10.1 80 {
  real_server 198.18.10.11 80 {
    MISC_CHECK {
      misc_path /usr/local/bin/check 198.18.10.11 80
    }
    MISC_CHECK {
      misc_path "/usr/local/bin/check 198.18.10.11 | grep -q ok"
    }
  }
}`);
  const [plain, shell] = config.services[0].servers[0].checks!;
  assert.ok(plain.type === 'exec' && shell.type === 'exec');
  assert.deepEqual([plain.path, plain.args], ['/usr/local/bin/check', ['198.18.10.11', '80']]);
  assert.deepEqual([shell.path, shell.args], ['/bin/sh', ['-c', '/usr/local/bin/check 198.18.10.11 | grep -q ok']]);
  // misc_timeout defaults to delay_loop (60), retry to 0
  assert.deepEqual(plain.timing, { intervalMs: 60_000, timeoutMs: 60_000, fall: 1, initialState: 'fully-up' });
});
