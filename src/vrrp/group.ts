// Sync groups (keepalived's vrrp_sync_group): instances that change state together. When one
// member goes FAULT all go FAULT; a member becoming MASTER takes the others to MASTER, one leaving
// MASTER takes them to BACKUP; and a backup only becomes MASTER once every member wants to
// (keepalived's vrrp_sync_can_goto_master: prefer BACKUP to thrashing).
import { InputError } from '../errors';
import type { SyncGroupLink, VrrpInstance, VrrpState } from './instance';

export interface SyncGroupHooks {
  /** After the group's own state changed (for its notify script). */
  transition?(from: VrrpState, to: VrrpState, reason: string): void;
}

export class SyncGroup implements SyncGroupLink {
  readonly name: string;
  readonly members: readonly VrrpInstance[];
  private readonly hooks: SyncGroupHooks;
  private current: VrrpState = 'init';
  private updating = false;
  private again = false;

  constructor(name: string, members: VrrpInstance[], hooks: SyncGroupHooks = {}) {
    if (members.length === 0) throw new InputError(`VRRP sync group ${name}: no instances`);
    const names = new Set(members.map((m) => m.name));
    if (names.size !== members.length) throw new InputError(`VRRP sync group ${name}: an instance is listed twice`);
    this.name = name;
    this.members = [...members];
    this.hooks = hooks;
    for (const m of members) m.joinSyncGroup(this);
  }

  /** fault when a member is in fault; master or backup once all members are; else what it was */
  get state(): VrrpState {
    return this.current;
  }

  mayBecomeMaster(member: VrrpInstance): boolean {
    if (this.current === 'master') return true;
    return this.members.every((m) => m === member || m.wantsMaster);
  }

  memberUpdated(member: VrrpInstance, from: VrrpState, to: VrrpState): void {
    // A member's change moves the others, whose changes come back here: settle them in turn
    if (this.updating) {
      this.again = true;
      return;
    }
    this.updating = true;
    try {
      this.follow(member, from, to);
      for (let round = 0; this.again && round < 4 * this.members.length; round++) {
        this.again = false;
        this.holdFaults();
      }
    } finally {
      this.updating = false;
      this.again = false;
    }
    this.updateState(`${member.name} ${from} -> ${to}`);
  }

  private follow(member: VrrpInstance, from: VrrpState, to: VrrpState): void {
    this.holdFaults();
    if (to === 'master' && from !== 'master') {
      for (const m of this.members) if (m !== member) m.forceState('master');
    } else if (from === 'master' && to === 'backup') {
      for (const m of this.members) if (m !== member) m.forceState('backup');
    }
  }

  /** Every member is held in FAULT while another member has a fault of its own. */
  private holdFaults(): void {
    for (const m of this.members) {
      const others = this.members.filter((o) => o !== m && o.faultReasons.length > 0);
      m.setSyncGroupFault(others.map((o) => `sync group ${this.name}: ${o.name} is in fault (${o.faultReasons.join('; ')})`));
    }
  }

  private updateState(reason: string): void {
    const states = this.members.map((m) => m.state);
    let next = this.current;
    if (states.includes('fault')) next = 'fault';
    else if (states.every((s) => s === 'master')) next = 'master';
    else if (states.every((s) => s === 'backup')) next = 'backup';
    else if (states.every((s) => s === 'stopped')) next = 'stopped';
    if (next === this.current) return;
    const from = this.current;
    this.current = next;
    this.hooks.transition?.(from, next, reason);
  }
}
