// The kernel's own cost of the destination dumps behind `ipvsadm -Ln --stats`: one netlink
// socket, one IPVS_CMD_GET_DEST dump after another, nothing decoded. A floor to compare the
// listing paths against (bench/results/ipvs.md, "the counters listing").
//
//   cc -O2 -static -o /tmp/dest-dump-floor bench/dest-dump-floor.c
//   /tmp/dest-dump-floor N    (in the lab, on the bench's table: TCP 198.18.x.y:80, i = 0 .. N-1)
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[32768];

static int put_attr(char *p, int type, const void *data, int len) {
  struct nlattr *a = (struct nlattr *)p;
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy(p + NLA_HDRLEN, data, len);
  return NLA_ALIGN(a->nla_len);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return perror("socket"), 1;
  char req[256] = {0};
  struct nlmsghdr *h = (struct nlmsghdr *)req;
  struct genlmsghdr *g = (struct genlmsghdr *)(req + NLMSG_HDRLEN);
  h->nlmsg_type = GENL_ID_CTRL;
  h->nlmsg_flags = NLM_F_REQUEST;
  g->cmd = CTRL_CMD_GETFAMILY;
  g->version = 1;
  h->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + put_attr(req + NLMSG_HDRLEN + GENL_HDRLEN, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME, sizeof IPVS_GENL_NAME);
  send(fd, req, h->nlmsg_len, 0);
  int r = recv(fd, buf, sizeof buf, 0), family = 0;
  for (int o = NLMSG_HDRLEN + GENL_HDRLEN; o + NLA_HDRLEN <= r;) {
    struct nlattr *a = (struct nlattr *)(buf + o);
    if (a->nla_len < NLA_HDRLEN) break;
    if (a->nla_type == CTRL_ATTR_FAMILY_ID) memcpy(&family, buf + o + NLA_HDRLEN, 2);
    o += NLA_ALIGN(a->nla_len);
  }
  if (!family) return fprintf(stderr, "no IPVS family\n"), 1;
  double t = now();
  long dests = 0;
  for (int i = 0; i < n; i++) {
    memset(req, 0, sizeof req);
    h->nlmsg_type = family;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    h->nlmsg_seq = i + 1;
    g->cmd = IPVS_CMD_GET_DEST;
    g->version = IPVS_GENL_VERSION;
    char svc[64];
    int s = 0;
    unsigned short af = AF_INET, proto = IPPROTO_TCP, port = htons(80);
    unsigned char addr[16] = {198, 18, (i >> 8) & 255, i & 255};
    s += put_attr(svc + s, IPVS_SVC_ATTR_AF, &af, 2);
    s += put_attr(svc + s, IPVS_SVC_ATTR_PROTOCOL, &proto, 2);
    s += put_attr(svc + s, IPVS_SVC_ATTR_ADDR, addr, 16);
    s += put_attr(svc + s, IPVS_SVC_ATTR_PORT, &port, 2);
    struct nlattr *nest = (struct nlattr *)(req + NLMSG_HDRLEN + GENL_HDRLEN);
    nest->nla_type = IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED;
    nest->nla_len = NLA_HDRLEN + s;
    memcpy((char *)nest + NLA_HDRLEN, svc, s);
    h->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + nest->nla_len;
    if (send(fd, req, h->nlmsg_len, 0) < 0) return perror("send"), 1;
    for (int done = 0; !done;) {
      r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) return perror("recv"), 1;
      for (int o = 0; o + NLMSG_HDRLEN <= r && !done;) {
        struct nlmsghdr *m = (struct nlmsghdr *)(buf + o);
        if (m->nlmsg_len < NLMSG_HDRLEN) return fprintf(stderr, "malformed reply\n"), 1;
        if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) done = 1;
        else dests++;
        o += NLMSG_ALIGN(m->nlmsg_len);
      }
    }
  }
  printf("%d destination dumps, %ld destinations, %.3f s\n", n, dests, now() - t);
  return 0;
}
