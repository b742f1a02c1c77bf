// Service flag bits (VirtualService.flags), as defined in linux/ip_vs.h (IP_VS_SVC_F_*).
export const SVC_F_PERSISTENT = 0x0001;
export const SVC_F_HASHED = 0x0002;
export const SVC_F_ONEPACKET = 0x0004;
export const SVC_F_SCHED1 = 0x0008; // sh-fallback / mh-fallback
export const SVC_F_SCHED2 = 0x0010; // sh-port / mh-port
export const SVC_F_SCHED3 = 0x0020;
export const SVC_F_SCHED_MASK = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;

/** Persistence timeout ipvsadm uses for -p without a value (libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT). */
export const DEFAULT_PERSISTENCE_TIMEOUT = 6 * 60;
/** ipvsadm's MAX_TIMEOUT: 31 days, the ceiling for -p and --set. */
export const MAX_TIMEOUT = 86400 * 31;
export const DEFAULT_SCHEDULER = 'wlc';

