// lvsd writes its output straight to descriptor 1. A reader that goes away early (`| head`) ends
// the command quietly with its own status, as ipvsadm does; a descriptor that someone made
// non-blocking still gets the whole output, in order. (Runs the real CLI; no IPVS needed.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const LVSD = join(__dirname, '..', '..', '..', '..', 'bin', 'lvsd');

function run(cmd: string, args: string[], onStdout: (child: ReturnType<typeof spawn>) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    onStdout(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('output to a reader that has gone away ends the command quietly, exit status 0', async () => {
  // the read end is closed before lvsd has started, so its first write meets EPIPE
  const r = await run(LVSD, ['ipvs', '--help'], (child) => child.stdout!.destroy());
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});

test('output to a non-blocking pipe that is full arrives whole and in order', async () => {
  const help = spawnSync(LVSD, ['ipvs', 'list', '--help'], { encoding: 'utf8' }).stdout;
  assert.ok(help.length > 1000);
  // perl makes a pipe of one page (F_SETPIPE_SZ), fills it, marks it non-blocking and runs lvsd
  // with it as stdout; it starts reading only a second later. lvsd's first write meets EAGAIN,
  // and the rest of its output must follow, in order, through the stream.
  const fill = 'x'.repeat(4096);
  const script = [
    'use Fcntl;',
    'pipe(my $r, my $w) or die;',
    'fcntl($w, 1031, 4096) or die "F_SETPIPE_SZ: $!";',
    `syswrite($w, "${fill}") == 4096 or die "fill";`,
    'fcntl($w, F_SETFL, fcntl($w, F_GETFL, 0) | O_NONBLOCK) or die;',
    'my $pid = fork // die;',
    'if ($pid == 0) { close $r; open(STDOUT, ">&", $w) or die; exec @ARGV; die "exec: $!"; }',
    'close $w; select(undef, undef, undef, 1.0);',
    'my $buf; while (sysread($r, $buf, 65536)) { syswrite(STDOUT, $buf); }',
    'waitpid($pid, 0); exit($? >> 8);',
  ].join(' ');
  const r = await run('perl', ['-e', script, LVSD, 'ipvs', 'list', '--help'], () => {});
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, fill + help);
});
