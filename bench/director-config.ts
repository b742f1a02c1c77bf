// Director benchmark configs: N virtual services × M real servers, optionally one TCP check per
// server to its own loopback target. Addresses: services on 198.18.0.0/16, servers on
// 198.19.0.0/16 (benchmark range), check targets on 127.2.0.0/16 (loopback).

export interface BenchConfig {
  services: number;
  perService: number;
  /** state file and control socket live here */
  dir: string;
  checks?: { port: number; interval: string; timeout: string; rise: number; fall: number };
  /** the weight of server 0 of service 0 (the one a reload changes) */
  firstWeight?: number;
}

const octets = (i: number): string => `${Math.floor(i / 250)}.${(i % 250) + 1}`;

export const serviceAddress = (s: number): string => `198.18.${octets(s)}`;
export const serverAddress = (r: number): string => `198.19.${octets(r)}`;
/** 127.2.0.1, 127.2.0.2, ... 250 per /24: at most 64,000 targets */
export const targetAddress = (i: number): string => `127.2.${octets(i)}`;

export function directorYaml(c: BenchConfig): string {
  const out: string[] = [
    'global:',
    `  state_file: ${c.dir}/state.json`,
    '  control:',
    `    socket: ${c.dir}/director.sock`,
    '  status:',
    '    listen: ""',
    '  log_level: warn',
    'services:',
  ];
  for (let s = 0; s < c.services; s++) {
    out.push(`  - address: ${serviceAddress(s)}`, '    port: 80', '    scheduler: wrr', '    forward: nat');
    if (c.checks) {
      const k = c.checks;
      out.push(`    check_defaults: { interval: ${k.interval}, timeout: ${k.timeout}, rise: ${k.rise}, fall: ${k.fall} }`);
    }
    out.push('    servers:');
    for (let j = 0; j < c.perService; j++) {
      const r = s * c.perService + j;
      const weight = r === 0 ? (c.firstWeight ?? 1) : 1;
      const check = c.checks ? `, checks: [{ type: tcp, host: ${targetAddress(r)}, port: ${c.checks.port} }]` : '';
      out.push(`      - { address: ${serverAddress(r)}, weight: ${weight}${check} }`);
    }
  }
  return out.join('\n') + '\n';
}

/** The same table for keepalived (virtual_server / real_server / TCP_CHECK). */
export function keepalivedConf(c: BenchConfig, delayLoop: number): string {
  const out = ['global_defs {', '  router_id lvsd_bench', '}'];
  for (let s = 0; s < c.services; s++) {
    out.push(`virtual_server ${serviceAddress(s)} 80 {`, `  delay_loop ${delayLoop}`, '  lb_algo wrr', '  lb_kind NAT', '  protocol TCP');
    for (let j = 0; j < c.perService; j++) {
      const r = s * c.perService + j;
      out.push(`  real_server ${serverAddress(r)} 80 {`, `    weight ${r === 0 ? (c.firstWeight ?? 1) : 1}`, '    inhibit_on_failure');
      if (c.checks) out.push('    TCP_CHECK {', `      connect_ip ${targetAddress(r)}`, `      connect_port ${c.checks.port}`, '      connect_timeout 1', '      retry 1', '    }');
      out.push('  }');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** `ipvsadm -R` input for the same table, as the director programs it (all servers up). */
export function ipvsadmRestore(c: BenchConfig): string {
  const out: string[] = [];
  for (let s = 0; s < c.services; s++) {
    out.push(`-A -t ${serviceAddress(s)}:80 -s wrr`);
    for (let j = 0; j < c.perService; j++) {
      const r = s * c.perService + j;
      out.push(`-a -t ${serviceAddress(s)}:80 -r ${serverAddress(r)}:80 -m -w ${r === 0 ? (c.firstWeight ?? 1) : 1}`);
    }
  }
  return out.join('\n') + '\n';
}
