// `lvsd realserver up|down|status`: a thin wrapper. The command lives in realserver/ (outside src/),
// loaded lazily here: this is the one place src/ reaches into realserver/.
import { Command, Option } from 'commander';
import { writeOut } from './output';

type RealserverModule = typeof import('../../realserver/realserver');

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--vip <address>', 'a VIP (IPv4 or IPv6), repeatable', collect)
    .option('-c, --config <file>', 'realserver YAML file (see config/realserver.example.yaml)')
    .addOption(new Option('--mode <mode>', 'dr: VIPs on lo; tun: VIPs on a tunnel device (default dr)').choices(['dr', 'tun']))
    .addOption(new Option('--tunnel <kind>', 'tunnel kind in tun mode (default ipip)').choices(['ipip', 'gre']))
    .option('--tunnel-device <name>', 'tunnel device (default tunl0 for ipip, gre0 for gre)')
    .option('--tunnel-local <address>', "this host's IPv4 address the director tunnels to (needed for a device other than tunl0/gre0)")
    .option('--state <file>', 'where the undo record is kept (default /run/lvsd/realserver.json)');
}

export function register(program: Command): void {
  const group = program.command('realserver').description('bind VIPs on a real server and suppress ARP (DR/TUN), with exact undo');
  const load = (): RealserverModule => require('../../realserver/realserver') as RealserverModule;

  withCommonOptions(group.command('up').description('add the VIPs and set the ARP (and rp_filter) sysctls; saves prior values'))
    .option('--force', 'proceed despite a state file that does not match (switch VIP set, or discard a corrupt one)')
    .action(async (opts) => print(await load().up(opts)));

  withCommonOptions(group.command('down').description('remove what up added and restore the prior sysctl values'))
    .option('--force', 'proceed despite a state file that does not match (or is corrupt: then give --vip/--config)')
    .action(async (opts) => print(await load().down(opts)));

  withCommonOptions(group.command('status').description('show what is in place; exit 2 on drift, 3 when not set up'))
    .action(async (opts) => {
      const report = await load().status(opts);
      print(report);
      if (report.drifted) {
        process.stderr.write('lvsd: realserver has drifted from what up set (see above)\n');
        process.exitCode = 2;
      } else if (report.notSetUp) {
        process.exitCode = 3;
      }
    });
}

function print(report: { lines: string[] }): void {
  writeOut(report.lines.map((line) => `${line}\n`).join(''));
}
