// This host's kernel has no IPVS (see docs/kernel-lab.md): opening the client fails with the
// words an operator can act on, as an IpvsUnavailableError, not a stack trace or a raw errno.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { IpvsUnavailableError } from '../../../src/errors';
import { openIpvs } from '../../../src/ipvs/client';

test('openIpvs() on a kernel without IPVS rejects with IpvsUnavailableError', { skip: existsSync('/proc/net/ip_vs') && 'this kernel has IPVS' }, async () => {
  await assert.rejects(openIpvs(), (err: unknown) => {
    assert.ok(err instanceof IpvsUnavailableError);
    assert.equal((err as Error).message, 'IPVS is not available in this kernel: load the ip_vs module');
    assert.equal((err as IpvsUnavailableError).code, 'LVSD_ERR_IPVS_UNAVAILABLE');
    return true;
  });
});
