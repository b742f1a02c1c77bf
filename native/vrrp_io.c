// VRRP packet I/O that Node has no API for: raw IPPROTO_VRRP (112) sockets on one interface,
// and AF_PACKET frames (gratuitous ARP, unsolicited NA, built by src/vrrp/announce.ts).
// Transport only: the protocol (codec, checks, state machine) is TypeScript (src/vrrp).
//
// A socket is two fds, as keepalived has them: the receiving one is bound to the interface only
// (a raw socket bound to an address sees only datagrams to that address, never the group's), the
// sending one is also bound to the source address and receives nothing (a BPF filter drops all).
// Readiness comes from libuv (uv_poll on the receiving fd, on node's own loop).
//
// Errors are thrown as Error { errno, syscall }; src/vrrp/io.ts puts them in words.
#define _GNU_SOURCE // struct in6_pktinfo, IPV6_RECVPKTINFO (RFC 3542)
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

enum { IPPROTO_VRRP_ = 112, RECV_SIZE = 8192, BATCH = 64 };

typedef struct {
  int family;
  int ifindex;
  int fd_in, fd_out; // -1 once closed
  uv_poll_t *poll;   // freed by its close callback
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int dispatching; // in on_readable: a close() from a listener leaves the callback's release to it
  uint8_t buf[RECV_SIZE];
} Sock;

#define CHECK(call)                       \
  do {                                    \
    if ((call) != napi_ok) return NULL;   \
  } while (0)

/** Throws Error(message) with .errno and .syscall; returns NULL for the caller to return. */
static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_value msg, error, no, sc;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) == napi_ok && napi_create_error(env, NULL, msg, &error) == napi_ok &&
      napi_create_int32(env, err, &no) == napi_ok && napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc) == napi_ok) {
    napi_set_named_property(env, error, "errno", no);
    napi_set_named_property(env, error, "syscall", sc);
    napi_throw(env, error);
  }
  return NULL;
}

static int opt(int fd, int level, int name, const void *value, socklen_t len, const char **failed, const char *what) {
  if (setsockopt(fd, level, name, value, len) == 0) return 1;
  *failed = what;
  return 0;
}

/** Text address (no scope) -> sockaddr; port 0, scope = ifindex for IPv6 (used when link-local). */
static int parse_addr(int family, const char *text, int ifindex, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    *len = sizeof *a;
    return inet_pton(AF_INET, text, &a->sin_addr) == 1;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_scope_id = (uint32_t)ifindex;
  *len = sizeof *a;
  return inet_pton(AF_INET6, text, &a->sin6_addr) == 1;
}

static void release_callback(Sock *s) {
  if (s->callback) napi_delete_reference(s->env, s->callback);
  if (s->async) napi_async_destroy(s->env, s->async);
  s->callback = NULL;
  s->async = NULL;
}

static void close_fds(Sock *s) {
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, (uv_close_cb)free);
    s->poll = NULL;
  }
  if (s->fd_in >= 0) close(s->fd_in);
  if (s->fd_out >= 0) close(s->fd_out);
  s->fd_in = s->fd_out = -1;
  if (!s->dispatching) release_callback(s);
}

static void sock_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  close_fds(data);
  free(data);
}

static int str(napi_env env, const char *s, napi_value *out) {
  return napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, out) == napi_ok;
}

/** Calls callback(argv...) from libuv; an exception in it is an uncaught exception, as for any emitter. */
static void call_back(Sock *s, size_t argc, napi_value *argv) {
  napi_value cb, recv, ignored;
  bool pending = false;
  if (napi_get_reference_value(s->env, s->callback, &cb) != napi_ok || napi_get_global(s->env, &recv) != napi_ok) return;
  napi_make_callback(s->env, s->async, recv, cb, argc, argv, &ignored);
  if (napi_is_exception_pending(s->env, &pending) == napi_ok && pending) {
    napi_value error;
    if (napi_get_and_clear_last_exception(s->env, &error) == napi_ok) napi_fatal_exception(s->env, error);
  }
}

static void deliver_error(Sock *s, int err) {
  napi_value argv[1];
  if (napi_create_int32(s->env, err, &argv[0]) == napi_ok) call_back(s, 1, argv);
}

/** One datagram -> callback(0, data, src, dst, ttl); 0 when there was none to read. */
static int receive_one(Sock *s) {
  struct sockaddr_storage from;
  char control[256];
  struct iovec iov = {.iov_base = s->buf, .iov_len = sizeof s->buf};
  struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  do n = recvmsg(s->fd_in, &msg, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) deliver_error(s, errno);
    return 0;
  }
  size_t len = (size_t)n > sizeof s->buf ? sizeof s->buf : (size_t)n;
  const uint8_t *data = s->buf;
  char src[INET6_ADDRSTRLEN] = "", dst[INET6_ADDRSTRLEN] = "";
  int ttl = -1;
  if (s->family == 4) {
    // IPv4 raw sockets deliver the IP header: TTL, source and destination come from it
    size_t ihl = len >= 20 ? (size_t)(data[0] & 0x0f) * 4 : 0;
    if (ihl < 20 || ihl > len || (data[0] >> 4) != 4) return 1; // the kernel checked it; not an IPv4 packet
    ttl = data[8];
    inet_ntop(AF_INET, data + 12, src, sizeof src);
    inet_ntop(AF_INET, data + 16, dst, sizeof dst);
    data += ihl;
    len -= ihl;
  } else {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, src, sizeof src);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT) memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
      if (c->cmsg_type == IPV6_PKTINFO) inet_ntop(AF_INET6, &((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_addr, dst, sizeof dst);
    }
  }
  napi_value argv[5];
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return 1;
  if (napi_create_int32(s->env, 0, &argv[0]) == napi_ok && napi_create_buffer_copy(s->env, len, data, NULL, &argv[1]) == napi_ok &&
      str(s->env, src, &argv[2]) && str(s->env, dst, &argv[3]) && napi_create_int32(s->env, ttl, &argv[4]) == napi_ok) {
    call_back(s, 5, argv);
  }
  napi_close_handle_scope(s->env, scope);
  return 1;
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  Sock *s = poll->data;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  s->dispatching = 1;
  if (status < 0) {
    deliver_error(s, -status);
  } else {
    // a bounded batch; libuv calls again if more is queued. close() from a listener ends it.
    for (int i = 0; i < BATCH && s->fd_in >= 0 && receive_one(s); i++) {
    }
  }
  s->dispatching = 0;
  if (s->fd_in < 0) release_callback(s);
  napi_close_handle_scope(s->env, scope);
}

/** Sets up both fds; on failure returns 0 with the failing call's name in *failed and errno set. */
static int setup(Sock *s, const struct sockaddr_storage *source, socklen_t source_len, int join, const char **failed) {
  int af = s->family == 4 ? AF_INET : AF_INET6;
  int one = 1, zero = 0, ttl = 255, ifindex = s->ifindex;
  char name[IF_NAMESIZE];
  if (!if_indextoname((unsigned)ifindex, name)) { // names the problem before any option fails on it
    *failed = "if_indextoname";
    return 0;
  }
  s->fd_in = socket(af, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_VRRP_);
  if (s->fd_in >= 0) s->fd_out = socket(af, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_VRRP_);
  if (s->fd_out < 0) {
    *failed = "socket";
    return 0;
  }
  // the sending fd receives nothing: a filter that accepts no packet
  struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
  struct sock_fprog prog = {.len = 1, .filter = &drop};
  if (!opt(s->fd_out, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog, failed, "setsockopt(SO_ATTACH_FILTER)")) return 0;
  for (int i = 0; i < 2; i++) {
    int fd = i ? s->fd_out : s->fd_in;
    if (!opt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, sizeof ifindex, failed, "setsockopt(SO_BINDTOIFINDEX)")) return 0;
    if (s->family == 4) {
      struct ip_mreqn dev = {.imr_ifindex = ifindex};
      if (!opt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl, failed, "setsockopt(IP_TTL)") ||
          !opt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl, failed, "setsockopt(IP_MULTICAST_TTL)") ||
          !opt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero, failed, "setsockopt(IP_MULTICAST_LOOP)") ||
          !opt(fd, IPPROTO_IP, IP_MULTICAST_IF, &dev, sizeof dev, failed, "setsockopt(IP_MULTICAST_IF)"))
        return 0;
    } else {
      if (!opt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl, failed, "setsockopt(IPV6_UNICAST_HOPS)") ||
          !opt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl, failed, "setsockopt(IPV6_MULTICAST_HOPS)") ||
          !opt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero, failed, "setsockopt(IPV6_MULTICAST_LOOP)") ||
          !opt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex, failed, "setsockopt(IPV6_MULTICAST_IF)"))
        return 0;
    }
  }
  if (bind(s->fd_out, (const struct sockaddr *)source, source_len) != 0) {
    *failed = "bind";
    return 0;
  }
  if (s->family == 4) {
    struct ip_mreqn group = {.imr_ifindex = ifindex};
    inet_pton(AF_INET, "224.0.0.18", &group.imr_multiaddr);
    if (join && !opt(s->fd_in, IPPROTO_IP, IP_ADD_MEMBERSHIP, &group, sizeof group, failed, "setsockopt(IP_ADD_MEMBERSHIP 224.0.0.18)")) return 0;
  } else {
    struct ipv6_mreq group = {.ipv6mr_interface = (unsigned)ifindex};
    inet_pton(AF_INET6, "ff02::12", &group.ipv6mr_multiaddr);
    if (join && !opt(s->fd_in, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &group, sizeof group, failed, "setsockopt(IPV6_ADD_MEMBERSHIP ff02::12)")) return 0;
    if (!opt(s->fd_in, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one, failed, "setsockopt(IPV6_RECVHOPLIMIT)") ||
        !opt(s->fd_in, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one, failed, "setsockopt(IPV6_RECVPKTINFO)"))
      return 0;
  }
  return 1;
}

static int get_string(napi_env env, napi_value v, char *out, size_t size) {
  size_t len;
  return napi_get_value_string_utf8(env, v, out, size, &len) == napi_ok && len < size - 1;
}

// open(family: 4 | 6, ifindex: number, source: string, joinGroup: boolean,
//      onPacket: (errno: number, data?: Buffer, src?: string, dst?: string, ttl?: number) => void)
//   -> handle. The sending fd is bound to source (IPv6: link-local, scope = ifindex).
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], handle;
  int32_t family, ifindex;
  bool join;
  char source[INET6_ADDRSTRLEN + 1];
  napi_valuetype cb_type;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_storage addr;
  socklen_t addr_len;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6) ||
      napi_get_value_int32(env, argv[1], &ifindex) != napi_ok || ifindex <= 0 || !get_string(env, argv[2], source, sizeof source) ||
      napi_get_value_bool(env, argv[3], &join) != napi_ok || napi_typeof(env, argv[4], &cb_type) != napi_ok || cb_type != napi_function ||
      !parse_addr(family, source, ifindex, &addr, &addr_len)) {
    napi_throw_type_error(env, NULL, "open(family: 4 | 6, ifindex: number > 0, source: address, joinGroup: boolean, onPacket: function)");
    return NULL;
  }
  Sock *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, ENOMEM, "open");
  s->family = family;
  s->ifindex = ifindex;
  s->env = env;
  s->fd_in = s->fd_out = -1;
  const char *failed = NULL;
  if (!setup(s, &addr, addr_len, join, &failed)) {
    int err = errno;
    close_fds(s);
    free(s);
    return throw_errno(env, err, failed);
  }
  uv_loop_t *loop;
  napi_value name;
  s->poll = malloc(sizeof *s->poll);
  if (!s->poll || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, s->poll, s->fd_in) != 0) {
    free(s->poll);
    s->poll = NULL;
    close_fds(s);
    free(s);
    return throw_errno(env, ENOMEM, "uv_poll_init");
  }
  s->poll->data = s;
  if (napi_create_reference(env, argv[4], 1, &s->callback) != napi_ok || !str(env, "lvsd:VrrpSocket", &name) ||
      napi_async_init(env, NULL, name, &s->async) != napi_ok || napi_create_object(env, &handle) != napi_ok ||
      napi_wrap(env, handle, s, sock_finalize, NULL, NULL) != napi_ok) {
    close_fds(s);
    free(s);
    return throw_errno(env, ENOMEM, "open");
  }
  uv_poll_start(s->poll, UV_READABLE, on_readable);
  return handle;
}

static Sock *unwrap(napi_env env, napi_value v) {
  void *s = NULL;
  if (napi_unwrap(env, v, &s) != napi_ok) napi_throw_type_error(env, NULL, "not a VRRP socket handle");
  return s;
}

// send(handle, data: Buffer, dst: string): one datagram; the kernel adds the IP header (TTL 255).
static napi_value send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3, len;
  napi_value argv[3];
  void *data;
  char dst[INET6_ADDRSTRLEN + 1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 3 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  bool is_buffer;
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      !get_string(env, argv[2], dst, sizeof dst) || !parse_addr(s->family, dst, s->ifindex, &addr, &addr_len)) {
    napi_throw_type_error(env, NULL, "send(handle, data: Buffer, dst: address of the socket's family)");
    return NULL;
  }
  if (s->fd_out < 0) return throw_errno(env, EBADF, "sendto");
  ssize_t sent;
  do sent = sendto(s->fd_out, data, len, 0, (struct sockaddr *)&addr, addr_len);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return throw_errno(env, errno, "sendto");
  return NULL;
}

// close(handle): stops polling and closes both fds; again is a no-op.
static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (s) close_fds(s);
  return NULL;
}

// interfaceAddresses(ifindex) -> [{ family: 4 | 6, address: string }] in the kernel's order
// (IPv4: the primary first). Throws ENODEV when there is no such interface.
static napi_value interface_addresses(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], list;
  int32_t ifindex;
  char name[IF_NAMESIZE];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &ifindex) != napi_ok || ifindex <= 0) {
    napi_throw_type_error(env, NULL, "interfaceAddresses(ifindex: number > 0)");
    return NULL;
  }
  if (!if_indextoname((unsigned)ifindex, name)) return throw_errno(env, errno, "if_indextoname");
  struct ifaddrs *all;
  if (getifaddrs(&all) != 0) return throw_errno(env, errno, "getifaddrs");
  uint32_t n = 0;
  napi_status status = napi_create_array(env, &list);
  for (struct ifaddrs *a = all; status == napi_ok && a; a = a->ifa_next) {
    if (!a->ifa_addr || strcmp(a->ifa_name, name) != 0 || (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6)) continue;
    char text[INET6_ADDRSTRLEN];
    int v4 = a->ifa_addr->sa_family == AF_INET;
    inet_ntop(a->ifa_addr->sa_family, v4 ? (void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr : (void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, text, sizeof text);
    napi_value entry, family, address;
    status = napi_create_object(env, &entry);
    if (status == napi_ok) status = napi_create_int32(env, v4 ? 4 : 6, &family);
    if (status == napi_ok) status = napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address);
    if (status == napi_ok) status = napi_set_named_property(env, entry, "family", family);
    if (status == napi_ok) status = napi_set_named_property(env, entry, "address", address);
    if (status == napi_ok) status = napi_set_element(env, list, n++, entry);
  }
  freeifaddrs(all);
  return status == napi_ok ? list : NULL;
}

// interfaceMac(ifindex) -> Buffer (6 bytes). Throws ENODEV (no such interface) or EAFNOSUPPORT
// (not an Ethernet interface: no ARP/NA frames on it).
static napi_value interface_mac(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t ifindex;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &ifindex) != napi_ok || ifindex <= 0) {
    napi_throw_type_error(env, NULL, "interfaceMac(ifindex: number > 0)");
    return NULL;
  }
  struct ifreq req = {0};
  if (!if_indextoname((unsigned)ifindex, req.ifr_name)) return throw_errno(env, errno, "if_indextoname");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int ok = ioctl(fd, SIOCGIFHWADDR, &req) == 0;
  int err = errno;
  close(fd);
  if (!ok) return throw_errno(env, err, "ioctl(SIOCGIFHWADDR)");
  if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER) return throw_errno(env, EAFNOSUPPORT, "ioctl(SIOCGIFHWADDR)");
  CHECK(napi_create_buffer_copy(env, 6, req.ifr_hwaddr.sa_data, NULL, &out));
  return out;
}

// sendFrame(ifindex, frame: Buffer): one whole Ethernet frame, as given, out of the interface.
static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 2, len;
  napi_value argv[2];
  int32_t ifindex;
  void *data;
  bool is_buffer;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &ifindex) != napi_ok || ifindex <= 0 || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok ||
      !is_buffer || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || len < 14) {
    napi_throw_type_error(env, NULL, "sendFrame(ifindex: number > 0, frame: Buffer of an Ethernet frame)");
    return NULL;
  }
  // protocol 0: this socket receives nothing
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket(AF_PACKET)");
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};
  memcpy(&to.sll_protocol, (uint8_t *)data + 12, 2);
  memcpy(to.sll_addr, data, 6);
  ssize_t sent;
  do sent = sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof to);
  while (sent < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (sent < 0) return throw_errno(env, err, "sendto(AF_PACKET)");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"open", open_socket}, {"send", send_to}, {"close", close_socket}, {"interfaceAddresses", interface_addresses}, {"interfaceMac", interface_mac}, {"sendFrame", send_frame}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f));
    CHECK(napi_set_named_property(env, exports, fns[i].name, f));
  }
  return exports;
}

NAPI_MODULE(vrrp_io, init)
