// The per-line work of a big default listing (`lvsd ipvs list -n`), in C: reading
// /proc/net/ip_vs into columns (on a thread of libuv's pool: the kernel's read is slow), reading
// the netlink service dump into keys and -n service lines, joining the two, sorting services and
// real servers in libipvs's order, and writing the listing. Under the lab's emulation the same
// loops in JavaScript cost seconds at 10,000 services x 4, mostly compiling and running JIT code;
// here they cost tens of milliseconds.
//
// These are fast paths only: src/ipvs/procfs.ts, service-dump.ts and format/ hold the
// definitions and the error messages. Each reader accepts nothing the JavaScript would refuse
// and returns undefined for anything unusual, so that the JavaScript runs (and names what is
// wrong); the unit tests (c-fast-paths-give-the-javascript-results) compare the two on random
// and damaged input.
#define NAPI_VERSION 8
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) return NULL;                                              \
  } while (0)

static void free_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

// ---- reading /proc/net/ip_vs (ip_vs_info_seq_show) ----

typedef struct {
  const uint8_t *b;
  size_t n, p;
} Scan;

enum { SVC_FIELDS = 10 }; // kind, inet6, w0..w3, port or fwmark, first, count, (spare)
enum { KIND_TCP, KIND_UDP, KIND_SCTP, KIND_FWM };

typedef struct {
  size_t length, capacity;
  uint8_t *inet6, *forward;
  uint32_t *words;
  uint16_t *port;
  int32_t *weight, *active, *inactive;
} Columns;

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int starts(const Scan *s, const char *t) {
  size_t k = strlen(t);
  return s->p + k <= s->n && memcmp(s->b + s->p, t, k) == 0;
}

static void spaces(Scan *s) {
  while (s->p < s->n && s->b[s->p] == ' ') s->p++;
}

static int next_line(Scan *s) {
  const uint8_t *nl = s->p < s->n ? memchr(s->b + s->p, '\n', s->n - s->p) : NULL;
  if (!nl) return 0;
  s->p = (size_t)(nl - s->b) + 1;
  return 1;
}

static int hex(Scan *s, int digits, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < digits; i++) {
    int d = s->p < s->n ? hexval(s->b[s->p]) : -1;
    if (d < 0) return 0;
    v = v * 16 + (uint32_t)d;
    s->p++;
  }
  *out = v;
  return 1;
}

// "C6120001:0050" or "[2001:0db8:...:0001]:0050"
static int endpoint(Scan *s, int *inet6, uint32_t w[4], uint32_t *port) {
  spaces(s);
  if (s->p < s->n && s->b[s->p] == '[') {
    size_t at = s->p + 1;
    if (at + 40 > s->n) return 0;
    for (int g = 0; g < 8; g++) {
      const uint8_t *q = s->b + at + g * 5;
      if (hexval(q[0]) < 0 || hexval(q[1]) < 0 || hexval(q[2]) < 0 || hexval(q[3]) < 0 || q[4] != (g < 7 ? ':' : ']')) return 0;
    }
    for (int k = 0; k < 4; k++) {
      uint32_t hi = 0, lo = 0; // checked above: hex() succeeds
      s->p = at + k * 10;
      hex(s, 4, &hi);
      s->p++;
      hex(s, 4, &lo);
      w[k] = hi << 16 | lo;
    }
    s->p = at + 40;
    *inet6 = 1;
  } else {
    if (!hex(s, 8, &w[0])) return 0;
    w[1] = w[2] = w[3] = 0;
    *inet6 = 0;
  }
  if (s->p >= s->n || s->b[s->p] != ':') return 0;
  s->p++;
  return hex(s, 4, port);
}

// a non-empty run of bytes up to a space or the end of the line; returns its length
static size_t field(Scan *s, size_t *start) {
  spaces(s);
  *start = s->p;
  while (s->p < s->n && s->b[s->p] != ' ' && s->b[s->p] != '\n') s->p++;
  return s->p - *start;
}

// %d, at most 10 digits, followed by a space or the end of the line; stored as Int32Array would
static int integer(Scan *s, int32_t *out) {
  spaces(s);
  int neg = 0;
  if (s->p < s->n && s->b[s->p] == '-') {
    neg = 1;
    s->p++;
  }
  size_t start = s->p;
  uint64_t v = 0;
  while (s->p < s->n && s->b[s->p] >= '0' && s->b[s->p] <= '9') {
    if (s->p - start < 11) v = v * 10 + (uint64_t)(s->b[s->p] - '0');
    s->p++;
  }
  if (s->p == start || s->p - start > 10 || s->p >= s->n || (s->b[s->p] != ' ' && s->b[s->p] != '\n')) return 0;
  *out = (int32_t)(uint32_t)(neg ? (uint64_t)0 - v : v);
  return 1;
}

static const char *const FORWARD[] = {"Masq", "Local", "Tunnel", "Route"}; // by FwdMethod code

static int forward_code(Scan *s) {
  size_t start, k = field(s, &start);
  for (int i = 0; i < 4; i++)
    if (k == strlen(FORWARD[i]) && memcmp(s->b + start, FORWARD[i], k) == 0) return i;
  return -1;
}

static int columns_init(Columns *c, size_t capacity) {
  memset(c, 0, sizeof *c);
  c->capacity = capacity ? capacity : 1;
  c->inet6 = malloc(c->capacity);
  c->forward = malloc(c->capacity);
  c->words = malloc(c->capacity * 16);
  c->port = malloc(c->capacity * 2);
  c->weight = malloc(c->capacity * 4);
  c->active = malloc(c->capacity * 4);
  c->inactive = malloc(c->capacity * 4);
  return c->inet6 && c->forward && c->words && c->port && c->weight && c->active && c->inactive;
}

static void columns_free(Columns *c) {
  free(c->inet6);
  free(c->forward);
  free(c->words);
  free(c->port);
  free(c->weight);
  free(c->active);
  free(c->inactive);
}

static size_t count_arrows(const uint8_t *b, size_t n) {
  size_t k = 0;
  for (const uint8_t *q = b; (q = memchr(q, '\n', (size_t)(b + n - q))) != NULL; q++)
    if ((size_t)(b + n - q) > 5 && memcmp(q + 1, "  -> ", 5) == 0) k++;
  return k;
}

static const char *const TITLES[] = {"IP Virtual Server version ", "Prot LocalAddress:Port", "  -> RemoteAddress:Port"};
static const char *const KIND[] = {"TCP ", "UDP ", "SCTP ", "FWM "};

// 1: parsed; 0: not the grammar (the JavaScript reader will say why)
static int parse_table(Scan *s, Columns *c, uint32_t *svc, size_t svc_cap, size_t *svc_len) {
  for (int i = 0; i < 3; i++)
    if (!starts(s, TITLES[i]) || !next_line(s)) return 0;
  uint32_t *current = NULL;
  *svc_len = 0;
  while (s->p < s->n) {
    uint32_t w[4], port;
    int inet6;
    if (starts(s, "  -> ")) {
      if (!current) return 0;
      s->p += 5;
      int32_t weight, active, inactive;
      if (!endpoint(s, &inet6, w, &port)) return 0;
      int fwd = forward_code(s);
      if (fwd < 0 || !integer(s, &weight) || !integer(s, &active) || !integer(s, &inactive)) return 0;
      spaces(s);
      if (s->p >= s->n || s->b[s->p] != '\n') return 0;
      size_t i = c->length;
      if (i == c->capacity) return 0; // counted before: cannot happen
      c->inet6[i] = (uint8_t)inet6;
      memcpy(c->words + i * 4, w, 16);
      c->port[i] = (uint16_t)port;
      c->forward[i] = (uint8_t)fwd;
      c->weight[i] = weight;
      c->active[i] = active;
      c->inactive[i] = inactive;
      c->length++;
      current[8]++;
    } else {
      int kind = -1;
      for (int k = 0; k < 4 && kind < 0; k++)
        if (starts(s, KIND[k])) kind = k;
      if (kind < 0 || *svc_len == svc_cap) return 0;
      s->p += strlen(KIND[kind]) - 1;
      if (kind == KIND_FWM) {
        spaces(s);
        if (!hex(s, 8, &port)) return 0;
        inet6 = 0;
        w[0] = w[1] = w[2] = w[3] = 0;
      } else if (!endpoint(s, &inet6, w, &port)) {
        return 0;
      }
      size_t start;
      if (field(s, &start) == 0) return 0; // the scheduler
      current = svc + *svc_len * SVC_FIELDS;
      current[0] = (uint32_t)kind;
      current[1] = (uint32_t)inet6;
      memcpy(current + 2, w, 16);
      current[6] = port;
      current[7] = (uint32_t)c->length;
      current[8] = 0;
      current[9] = 0;
      ++*svc_len;
    }
    if (!next_line(s)) return 0;
  }
  return 1;
}

static napi_value typed(napi_env env, napi_typedarray_type type, size_t elem, const void *src, size_t n) {
  void *data;
  napi_value ab, arr;
  CHECK(napi_create_arraybuffer(env, n * elem, &data, &ab));
  if (n) memcpy(data, src, n * elem);
  CHECK(napi_create_typedarray(env, type, n, ab, 0, &arr));
  return arr;
}

static int set(napi_env env, napi_value obj, const char *name, napi_value v) {
  return v != NULL && napi_set_named_property(env, obj, name, v) == napi_ok;
}

typedef struct {
  int ok;
  Columns c;
  uint32_t *svc;
  size_t svc_len;
} Parsed;

static void parse_bytes(const uint8_t *b, size_t n, Parsed *out) {
  memset(out, 0, sizeof *out);
  Scan s = {b, n, 0};
  size_t svc_cap = 1;
  for (const uint8_t *q = b; n && (q = memchr(q, '\n', (size_t)(b + n - q))) != NULL; q++) svc_cap++;
  out->svc = malloc(svc_cap * SVC_FIELDS * 4);
  out->ok = out->svc && columns_init(&out->c, n ? count_arrows(b, n) : 0) && parse_table(&s, &out->c, out->svc, svc_cap, &out->svc_len);
}

static void parsed_free(Parsed *p) {
  columns_free(&p->c);
  free(p->svc);
}

// { services: Uint32Array (SVC_FIELDS each), length, inet6, words, port, forward, weight,
// activeConns, inactiveConns }, or undefined when the text was not the grammar
static napi_value parsed_value(napi_env env, const Parsed *p) {
  napi_value obj, len, undef;
  CHECK(napi_get_undefined(env, &undef));
  if (!p->ok) return undef;
  const Columns *c = &p->c;
  size_t m = c->length;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_uint32(env, (uint32_t)m, &len));
  if (set(env, obj, "services", typed(env, napi_uint32_array, 4, p->svc, p->svc_len * SVC_FIELDS)) && set(env, obj, "length", len) &&
      set(env, obj, "inet6", typed(env, napi_uint8_array, 1, c->inet6, m)) &&
      set(env, obj, "words", typed(env, napi_uint32_array, 4, c->words, m * 4)) &&
      set(env, obj, "port", typed(env, napi_uint16_array, 2, c->port, m)) &&
      set(env, obj, "forward", typed(env, napi_uint8_array, 1, c->forward, m)) &&
      set(env, obj, "weight", typed(env, napi_int32_array, 4, c->weight, m)) &&
      set(env, obj, "activeConns", typed(env, napi_int32_array, 4, c->active, m)) &&
      set(env, obj, "inactiveConns", typed(env, napi_int32_array, 4, c->inactive, m)))
    return obj;
  return NULL;
}

// parse(text: Uint8Array) -> parsed_value
static napi_value parse(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t n;
  void *data;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &n, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "parse(text: Uint8Array)");
    return NULL;
  }
  Parsed p;
  parse_bytes(data, n, &p);
  napi_value v = parsed_value(env, &p);
  parsed_free(&p);
  return v;
}

// ---- reading the file on a thread of libuv's pool ----
// The kernel hands out a page per read(2) and walks the table from its start again for each,
// which costs seconds of system time for a big table; on the pool it overlaps the netlink dump.

typedef struct {
  char *path;
  uint8_t *text;
  size_t length;
  int error; // errno of open or read; 0: text read
  Parsed parsed;
  napi_deferred deferred;
  napi_async_work work;
} ReadJob;

static void read_execute(napi_env env, void *data) {
  (void)env;
  ReadJob *job = data;
  int fd = open(job->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    job->error = errno;
    return;
  }
  size_t cap = 1 << 16, used = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      job->error = ENOMEM;
      break;
    }
    if (cap - used < 1 << 15) {
      uint8_t *more = realloc(buf, cap * 2);
      if (!more) {
        free(buf);
        buf = NULL;
        continue;
      }
      buf = more;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + used, cap - used);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      job->error = errno;
      break;
    }
    if (r == 0) break;
    used += (size_t)r;
  }
  close(fd);
  if (job->error) {
    free(buf);
    return;
  }
  job->text = buf;
  job->length = used;
  parse_bytes(buf, used, &job->parsed);
}

static void read_complete(napi_env env, napi_status status, void *data) {
  ReadJob *job = data;
  napi_value result = NULL, text;
  if (status == napi_ok && job->error == 0 && napi_create_object(env, &result) == napi_ok) {
    if (napi_create_external_buffer(env, job->length, job->text, free_buffer, NULL, &text) == napi_ok) {
      job->text = NULL; // the buffer frees it
      if (!set(env, result, "text", text) || !set(env, result, "table", parsed_value(env, &job->parsed))) result = NULL;
    } else {
      result = NULL;
    }
  }
  if (result == NULL) napi_get_undefined(env, &result);
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_async_work(env, job->work);
  parsed_free(&job->parsed);
  free(job->text);
  free(job->path);
  free(job);
}

// readTable(path: string) -> Promise<{ text: Buffer, table: parsed_value } | undefined>
// (undefined: the file could not be opened or read)
static napi_value read_table(napi_env env, napi_callback_info info) {
  size_t argc = 1, len;
  napi_value argv[1], promise, name;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "readTable(path: string)");
    return NULL;
  }
  ReadJob *job = calloc(1, sizeof *job);
  if (!job || !(job->path = malloc(len + 1))) {
    free(job);
    napi_throw_error(env, NULL, "readTable: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], job->path, len + 1, &len);
  CHECK(napi_create_promise(env, &job->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "lvsd:readTable", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, read_execute, read_complete, job, &job->work));
  CHECK(napi_queue_async_work(env, job->work));
  return promise;
}

// ---- writing the default listing's real server lines (ipvsadm.c print_service_entry) ----

typedef struct {
  const uint8_t *inet6, *forward;
  const uint32_t *words;
  const uint16_t *port;
  const int32_t *weight, *active, *inactive;
  size_t length;
} View;

// libipvs ipvs_cmp_dests, with its C arithmetic (unsigned differences read as int)
static int cmp_dests(const void *ctx, uint32_t a, uint32_t b) {
  const View *v = ctx;
  const uint32_t *wa = v->words + a * 4, *wb = v->words + b * 4;
  int32_t r = (int32_t)(wa[0] - wb[0]);
  if (v->inet6[a] == 1 && r == 0) {
    r = (int32_t)(wa[1] - wb[1]);
    if (r == 0) r = (int32_t)(wa[2] - wb[2]);
    if (r == 0) r = (int32_t)(wa[3] - wb[3]);
  }
  return r != 0 ? r : (int)v->port[a] - (int)v->port[b];
}

typedef int (*Compare)(const void *ctx, uint32_t a, uint32_t b);

// glibc msort: split n/2, merge taking the left element while cmp(left, right) <= 0
static void merge_sort(uint32_t *order, size_t n, uint32_t *tmp, Compare cmp, const void *ctx) {
  if (n <= 1) return;
  size_t n1 = n / 2;
  merge_sort(order, n1, tmp, cmp, ctx);
  merge_sort(order + n1, n - n1, tmp, cmp, ctx);
  size_t i = 0, j = n1, k = 0;
  while (i < n1 && j < n) tmp[k++] = cmp(ctx, order[i], order[j]) <= 0 ? order[i++] : order[j++];
  while (i < n1) tmp[k++] = order[i++];
  memcpy(order, tmp, k * 4);
}

static uint8_t *put_int(uint8_t *p, int64_t n) {
  char digits[24];
  int k = 0;
  if (n < 0) {
    *p++ = '-';
    n = -n;
  }
  do {
    digits[k++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (k > 0) *p++ = (uint8_t)digits[--k];
  return p;
}

static uint8_t *pad_to(uint8_t *p, uint8_t *to) {
  while (p < to) *p++ = ' ';
  return p;
}

static const char FORWARD_COLUMN[4][8] = {"Masq   ", "Local  ", "Tunnel ", "Route  "};
enum { LINE_MAX_BYTES = 160 };

// "  -> " and the numeric "address:port" ("[%s]" for IPv6, not cut), padded to 28 columns;
// w: the address as host-order words
static uint8_t *server_name(int inet6, const uint32_t *w, uint16_t port, uint8_t *p) {
  uint8_t *start = p;
  memcpy(p, "  -> ", 5);
  p += 5;
  if (inet6) {
    uint8_t bytes[16];
    char text[INET6_ADDRSTRLEN];
    for (int i = 0; i < 16; i++) bytes[i] = (uint8_t)(w[i / 4] >> (24 - 8 * (i % 4)));
    inet_ntop(AF_INET6, bytes, text, sizeof text);
    *p++ = '[';
    size_t t = strlen(text);
    memcpy(p, text, t);
    p += t;
    *p++ = ']';
  } else {
    for (int i = 0; i < 4; i++) {
      if (i) *p++ = '.';
      p = put_int(p, (w[0] >> (24 - 8 * i)) & 0xff);
    }
  }
  *p++ = ':';
  p = put_int(p, port);
  return pad_to(p, start + 5 + 28);
}

// "  -> %-28s %-7s %-6d %-10d %-10d\n"
static uint8_t *real_server_line(const View *v, uint32_t k, uint8_t *p) {
  p = server_name(v->inet6[k], v->words + k * 4, v->port[k], p);
  *p++ = ' ';
  memcpy(p, FORWARD_COLUMN[v->forward[k]], 7);
  p += 7;
  *p++ = ' ';
  uint8_t *col = p;
  p = pad_to(put_int(p, v->weight[k]), col + 6);
  *p++ = ' ';
  col = p;
  p = pad_to(put_int(p, v->active[k]), col + 10);
  *p++ = ' ';
  col = p;
  p = pad_to(put_int(p, v->inactive[k]), col + 10);
  *p++ = '\n';
  return p;
}

static int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, size_t *n, void **data) {
  napi_typedarray_type type;
  return napi_get_typedarray_info(env, v, &type, n, data, NULL, NULL) == napi_ok && type == want;
}

// writeListing(head, lines, lineEnds, order, first, count, sort, inet6, words, port, forward,
// weight, activeConns, inactiveConns) -> Buffer | undefined: head, then for each service k of
// order its line (lines[lineEnds[k-1] .. lineEnds[k]]) and the lines of its real servers
// first[k] .. first[k] + count[k] (sorted when sort is true); undefined if an argument is out of
// range (a forwarding code it does not know)
static napi_value write_listing(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14], undef;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_undefined(env, &undef));
  size_t n_head, n_lines, n_ends, n_order, n_first, n_count, n6, nw, np, nf, nwe, na, ni;
  void *head, *lines, *ends, *order, *first, *count, *inet6, *words, *port, *forward, *weight, *active, *inactive;
  bool sort;
  if (argc < 14 || !typed_arg(env, argv[0], napi_uint8_array, &n_head, &head) || !typed_arg(env, argv[1], napi_uint8_array, &n_lines, &lines) ||
      !typed_arg(env, argv[2], napi_uint32_array, &n_ends, &ends) || !typed_arg(env, argv[3], napi_uint32_array, &n_order, &order) ||
      !typed_arg(env, argv[4], napi_uint32_array, &n_first, &first) || !typed_arg(env, argv[5], napi_uint32_array, &n_count, &count) ||
      napi_get_value_bool(env, argv[6], &sort) != napi_ok || !typed_arg(env, argv[7], napi_uint8_array, &n6, &inet6) ||
      !typed_arg(env, argv[8], napi_uint32_array, &nw, &words) || !typed_arg(env, argv[9], napi_uint16_array, &np, &port) ||
      !typed_arg(env, argv[10], napi_uint8_array, &nf, &forward) || !typed_arg(env, argv[11], napi_int32_array, &nwe, &weight) ||
      !typed_arg(env, argv[12], napi_int32_array, &na, &active) || !typed_arg(env, argv[13], napi_int32_array, &ni, &inactive) ||
      n_first != n_ends || n_count != n_ends) {
    napi_throw_type_error(env, NULL, "writeListing: arguments");
    return NULL;
  }
  View v = {inet6, forward, words, port, weight, active, inactive, np};
  if (n6 < v.length || nw < v.length * 4 || nf < v.length || nwe < v.length || na < v.length || ni < v.length) v.length = 0;
  const uint32_t *ends_ = ends, *order_ = order, *first_ = first, *count_ = count;
  size_t servers = 0, longest = 0;
  for (size_t i = 0; i < n_ends; i++) {
    // lines in order inside the text, ranges inside the columns, forwarding codes known: else not ours
    if (ends_[i] > n_lines || (i > 0 && ends_[i] < ends_[i - 1]) || (uint64_t)first_[i] + count_[i] > v.length) return undef;
    for (uint32_t j = first_[i]; j < first_[i] + count_[i]; j++)
      if (v.forward[j] > 3) return undef;
  }
  for (size_t k = 0; k < n_order; k++) {
    if (order_[k] >= n_ends) return undef;
    servers += count_[order_[k]];
    if (count_[order_[k]] > longest) longest = count_[order_[k]];
  }
  size_t line_bytes = 0;
  for (size_t k = 0; k < n_order; k++) line_bytes += ends_[order_[k]] - (order_[k] ? ends_[order_[k] - 1] : 0);
  uint8_t *out = malloc(n_head + line_bytes + servers * LINE_MAX_BYTES + 1);
  uint32_t *ids = malloc((longest + 1) * 4), *tmp = malloc((longest + 1) * 4);
  if (!out || !ids || !tmp) {
    free(out);
    free(ids);
    free(tmp);
    return undef;
  }
  uint8_t *p = out;
  memcpy(p, head, n_head);
  p += n_head;
  for (size_t k = 0; k < n_order; k++) {
    uint32_t svc = order_[k], from = svc ? ends_[svc - 1] : 0;
    memcpy(p, (uint8_t *)lines + from, ends_[svc] - from);
    p += ends_[svc] - from;
    for (uint32_t j = 0; j < count_[svc]; j++) ids[j] = first_[svc] + j;
    if (sort) merge_sort(ids, count_[svc], tmp, cmp_dests, &v);
    for (uint32_t j = 0; j < count_[svc]; j++) p = real_server_line(&v, ids[j], p);
  }
  free(ids);
  free(tmp);
  napi_value buf;
  CHECK(napi_create_external_buffer(env, (size_t)(p - out), out, free_buffer, NULL, &buf));
  return buf;
}

// ---- the netlink service dump (ip_vs_genl_fill_service) read into keys and -n service lines ----
// The attribute numbers come from src/ipvs/spec.ts (as `types`), not from here. What
// codec.ts's virtualServiceFromAttrs would refuse, or anything unusual (another attribute at
// the command level, a byte-order flag, a non-ASCII name), is declined: JavaScript then reads it.

enum { T_SERVICE, T_AF, T_PROTOCOL, T_ADDR, T_PORT, T_FWMARK, T_SCHED, T_FLAGS, T_TIMEOUT, T_NETMASK, T_PE, T_STATS64, T_COUNT };
// after them in types: the ten counters of a STATS64 nest (IPVS_STATS_ATTR_CONNS .. OUTBPS)
enum { STATS = 10 };

typedef struct {
  uint8_t *p, *end;
} Out;

static uint16_t u16h(const uint8_t *b) {
  uint16_t v;
  memcpy(&v, b, 2);
  return v;
}
static uint32_t u32h(const uint8_t *b) {
  uint32_t v;
  memcpy(&v, b, 4);
  return v;
}
static uint32_t u32be(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

typedef struct {
  int has[T_COUNT];
  uint32_t af, protocol, port, fwmark, flags, timeout;
  const uint8_t *addr, *netmask, *sched, *pe, *stats64;
  size_t sched_len, pe_len, stats64_len;
} ServiceAttrs;

// a NUL-ended ASCII name inside [s, e); 0 if not ASCII
static int name_at(const uint8_t *s, const uint8_t *e, const uint8_t **out, size_t *len) {
  const uint8_t *z = s;
  while (z < e && *z != 0) {
    if (*z >= 0x80) return 0;
    z++;
  }
  *out = s;
  *len = (size_t)(z - s);
  return 1;
}

static int service_attrs(const uint8_t *s, const uint8_t *e, const uint32_t *types, ServiceAttrs *a) {
  memset(a, 0, sizeof *a);
  while (e - s >= 4) {
    uint16_t len = u16h(s), raw = u16h(s + 2), type = raw & 0x3fff;
    if (len < 4 || len > e - s || (raw & 0x4000)) return 0;
    const uint8_t *vs = s + 4, *ve = s + len;
    size_t n = (size_t)(ve - vs);
    int t = -1;
    for (int k = T_AF; k < T_COUNT; k++)
      if (types[k] == type) t = k;
    switch (t) {
      case T_AF: case T_PROTOCOL:
        if (n < 2) return 0;
        if (t == T_AF) a->af = u16h(vs);
        else a->protocol = u16h(vs);
        break;
      case T_PORT:
        if (n < 2) return 0;
        a->port = (uint32_t)vs[0] << 8 | vs[1];
        break;
      case T_FWMARK: case T_TIMEOUT:
        if (n < 4) return 0;
        if (t == T_FWMARK) a->fwmark = u32h(vs);
        else a->timeout = u32h(vs);
        break;
      case T_FLAGS:
        if (n < 8) return 0;
        a->flags = u32h(vs);
        break;
      case T_ADDR:
        if (n < 16) return 0;
        a->addr = vs;
        break;
      case T_NETMASK:
        if (n < 4) return 0;
        a->netmask = vs;
        break;
      case T_SCHED:
        if (!name_at(vs, ve, &a->sched, &a->sched_len)) return 0;
        break;
      case T_PE:
        if (!name_at(vs, ve, &a->pe, &a->pe_len)) return 0;
        break;
      case T_STATS64:
        a->stats64 = vs;
        a->stats64_len = n;
        break;
      default:
        break; // counters and attributes this listing does not show
    }
    if (t >= 0) a->has[t] = 1;
    s += (len + 3) & ~3;
  }
  return 1;
}

static uint8_t *put_text(uint8_t *p, const char *t) {
  size_t n = strlen(t);
  memcpy(p, t, n);
  return p + n;
}

static uint8_t *put_ipv4(uint8_t *p, const uint8_t *b) {
  for (int i = 0; i < 4; i++) {
    if (i) *p++ = '.';
    p = put_int(p, b[i]);
  }
  return p;
}

// format/table.ts serviceLine, default columns, numeric: "TCP  198.18.0.1:80 wrr persistent 300 ops\n"
enum { NAME_MAX_BYTES = 64, SERVICE_LINE_MAX = 512 }; // the kernel's names are at most 15 bytes

// format/table.ts serviceName, numeric: "TCP  198.18.0.1:80", "FWM  7 IPv6"
static uint8_t *service_name(const ServiceAttrs *a, uint8_t *p) {
  int inet6 = a->af == 10;
  if (a->fwmark) {
    p = put_text(p, "FWM  ");
    p = put_int(p, (int32_t)a->fwmark);
    if (inet6) p = put_text(p, " IPv6");
  } else {
    p = put_text(p, a->protocol == 6 ? "TCP  " : a->protocol == 17 ? "UDP  " : "SCTP ");
    if (inet6) {
      char text[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, a->addr, text, sizeof text);
      *p++ = '[';
      p = put_text(p, text);
      *p++ = ']';
    } else {
      p = put_ipv4(p, a->addr);
    }
    *p++ = ':';
    p = put_int(p, a->port);
  }
  return p;
}

static int service_line(const ServiceAttrs *a, Out *o) {
  if (o->end - o->p < SERVICE_LINE_MAX || a->sched_len > NAME_MAX_BYTES || a->pe_len > NAME_MAX_BYTES) return 0;
  int inet6 = a->af == 10;
  uint32_t flags = a->flags & ~0x2u; // minus HASHED
  uint8_t *p = service_name(a, o->p);
  *p++ = ' ';
  if (a->sched_len) memcpy(p, a->sched, a->sched_len);
  p += a->sched_len;
  if (flags & 0x38) {
    int sh_mh = a->sched_len == 2 && (memcmp(a->sched, "sh", 2) == 0 || memcmp(a->sched, "mh", 2) == 0);
    const char *names[3];
    int k = 0;
    if (sh_mh) {
      if (flags & 0x08) names[k++] = "-fallback";
      if (flags & 0x10) names[k++] = "-port";
    } else {
      if (flags & 0x08) names[k++] = "flag-1";
      if (flags & 0x10) names[k++] = "flag-2";
      if (flags & 0x20) names[k++] = "flag-3";
    }
    p = put_text(p, " (");
    for (int i = 0; i < k; i++) {
      if (i) *p++ = ',';
      if (sh_mh) {
        memcpy(p, a->sched, 2);
        p += 2;
      }
      p = put_text(p, names[i]);
    }
    *p++ = ')';
  }
  if (flags & 0x1) {
    p = put_text(p, " persistent ");
    p = put_int(p, a->timeout);
    if (!inet6) {
      if (a->netmask && u32be(a->netmask) != 0xffffffffu) {
        p = put_text(p, " mask ");
        p = put_ipv4(p, a->netmask);
      }
    } else if (a->netmask && u32h(a->netmask) != 128) {
      p = put_text(p, " mask ");
      p = put_int(p, u32h(a->netmask));
    }
    if (a->pe && a->pe_len) {
      p = put_text(p, " pe ");
      memcpy(p, a->pe, a->pe_len);
      p += a->pe_len;
    }
  }
  if (flags & 0x4) p = put_text(p, " ops");
  *p++ = '\n';
  o->p = p;
  return 1;
}

// ---- the counters listings (--stats, --rate; --thresholds, --persistent-conn), numeric ----

enum { MODE_DEFAULT, MODE_STATS, MODE_RATE, MODE_THRESHOLDS, MODE_PERSISTENT };
enum { C_CONNS, C_CPS = 5 }; // the counters in STATS64 order: conns, inpkts, outpkts, inbytes, outbytes, cps, ..., outbps

// a STATS64 nest's counters, by the attribute numbers in st; 0 for anything codec.ts would refuse
static int read_stats64(const uint8_t *s, const uint8_t *e, const uint32_t *st, uint64_t c[STATS]) {
  memset(c, 0, STATS * sizeof *c);
  while (e - s >= 4) {
    uint16_t len = u16h(s), raw = u16h(s + 2), type = raw & 0x3fff;
    if (len < 4 || len > e - s || (raw & 0x4000)) return 0;
    for (int k = 0; k < STATS; k++) {
      if (st[k] != type) continue;
      if (len - 4 < 8) return 0;
      memcpy(&c[k], s + 4, 8);
    }
    s += (len + 3) & ~3;
  }
  return 1;
}

// printf("%*llu", width, n)
static uint8_t *put_right_u64(uint8_t *p, uint64_t n, int width) {
  char digits[24];
  int k = 0;
  do {
    digits[k++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  for (int i = k; i < width; i++) *p++ = ' ';
  while (k > 0) *p++ = (uint8_t)digits[--k];
  return p;
}

// format/numbers.ts largeNumber (ipvsadm print_largenum)
static uint8_t *put_large(uint8_t *p, uint64_t n, int exact) {
  if (exact) {
    int digits = 1;
    for (uint64_t m = n; m >= 10; m /= 10) digits++;
    return put_right_u64(p, n, digits <= 8 ? 9 : digits + 1);
  }
  if (n < 100000000ull) return put_right_u64(p, n, 9);
  static const struct { uint64_t below, unit; char suffix; } scale[] = {
      {1000000000ull, 1000ull, 'K'}, {100000000000ull, 1000000ull, 'M'}, {100000000000000ull, 1000000000ull, 'G'}, {UINT64_MAX, 1000000000000ull, 'T'}};
  int k = 0;
  while (k < 3 && n >= scale[k].below) k++;
  p = put_right_u64(p, n / scale[k].unit, 8);
  *p++ = (uint8_t)scale[k].suffix;
  return p;
}

// format/table.ts serviceLine for --stats and --rate: the name in 33 columns, five counters
static int counter_service_line(const ServiceAttrs *a, const uint64_t c[STATS], Out *o, uint32_t mode, int exact) {
  if (o->end - o->p < SERVICE_LINE_MAX) return 0;
  uint8_t *start = o->p, *p = pad_to(service_name(a, start), start + 33);
  int first = mode == MODE_STATS ? C_CONNS : C_CPS;
  for (int k = 0; k < 5; k++) p = put_large(p, c[first + k], exact);
  *p++ = '\n';
  o->p = p;
  return 1;
}

// decodeServices(dump: Uint8Array, types: Uint32Array, mode = 0, exact = false) -> { fwmark, af,
// protocol, words, port, lines: Buffer, lineEnds: Uint32Array } | undefined. dump: the reply
// messages of one IPVS_CMD_GET_SERVICE dump, as received (nlmsghdr, genlmsghdr, attributes);
// types: the command-level service nest's attribute number, then IPVS_SVC_ATTR_AF .. STATS64's
// (T_* order), then the counters' (STATS). mode: MODE_*, the listing whose lines to write.
static napi_value decode_services(napi_env env, napi_callback_info info) {
  size_t argc = 4, n, nt;
  napi_value argv[4], undef;
  void *data, *tdata;
  uint32_t mode = MODE_DEFAULT;
  bool exact = false;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_undefined(env, &undef));
  if (argc < 2 || !typed_arg(env, argv[0], napi_uint8_array, &n, &data) || !typed_arg(env, argv[1], napi_uint32_array, &nt, &tdata) ||
      nt < T_COUNT + STATS || (argc > 2 && napi_get_value_uint32(env, argv[2], &mode) != napi_ok) ||
      (argc > 3 && napi_get_value_bool(env, argv[3], &exact) != napi_ok) || mode > MODE_PERSISTENT) {
    napi_throw_type_error(env, NULL, "decodeServices(dump: Uint8Array, types: Uint32Array, mode?: number, exact?: boolean)");
    return NULL;
  }
  const uint8_t *b = data;
  const uint32_t *types = tdata;
  size_t cap = 1;
  for (size_t off = 0; n - off >= 4;) {
    uint32_t len = u32h(b + off);
    if (len < 20 || len > n - off) return undef;
    cap++;
    off += (len + 3) & ~3u;
    if (off >= n) break;
  }
  uint32_t *fwmark = calloc(cap, 4), *words = calloc(cap * 4, 4), *ends = calloc(cap, 4);
  uint8_t *af = calloc(cap, 1), *protocol = calloc(cap, 1);
  uint16_t *port = calloc(cap, 2);
  Out o = {malloc(cap * SERVICE_LINE_MAX), NULL};
  uint8_t *lines = o.p;
  size_t count = 0;
  int ok = fwmark && words && ends && af && protocol && port && lines;
  if (ok) o.end = lines + cap * SERVICE_LINE_MAX;
  for (size_t off = 0; ok && off < n;) {
    if (n - off < 20 || count == cap) {
      ok = 0;
      break;
    }
    uint32_t len = u32h(b + off);
    if (len < 20 || len > n - off) {
      ok = 0;
      break;
    }
    // the command's attributes: exactly one, the service nest
    const uint8_t *s = b + off + 20, *e = b + off + len;
    int nests = 0;
    ServiceAttrs a;
    while (ok && e - s >= 4) {
      uint16_t alen = u16h(s), raw = u16h(s + 2);
      if (alen < 4 || alen > e - s || (raw & 0x3fff) != types[T_SERVICE] || nests++) ok = 0;
      else ok = service_attrs(s + 4, s + alen, types, &a);
      s += (alen + 3) & ~3;
    }
    // what virtualServiceFromAttrs accepts; the counters listings read the 64-bit counters
    // (JavaScript then skips the 32-bit ones)
    uint64_t c[STATS];
    if (!ok || nests != 1 || (a.af != 2 && a.af != 10) ||
        (!a.fwmark && (!a.addr || !a.has[T_PORT] || (a.protocol != 6 && a.protocol != 17 && a.protocol != 132))) ||
        (mode != MODE_DEFAULT && (!a.stats64 || !read_stats64(a.stats64, a.stats64 + a.stats64_len, types + T_COUNT, c))) ||
        !(mode == MODE_STATS || mode == MODE_RATE ? counter_service_line(&a, c, &o, mode, exact) : service_line(&a, &o))) {
      ok = 0;
      break;
    }
    af[count] = (uint8_t)a.af;
    if (a.fwmark) {
      fwmark[count] = a.fwmark;
    } else {
      protocol[count] = (uint8_t)a.protocol;
      port[count] = (uint16_t)a.port;
      for (int k = 0; k < (a.af == 10 ? 4 : 1); k++) words[count * 4 + k] = u32be(a.addr + k * 4);
    }
    ends[count++] = (uint32_t)(o.p - lines);
    off += (len + 3) & ~3u;
  }
  napi_value result = undef, obj, text;
  if (ok && napi_create_object(env, &obj) == napi_ok &&
      set(env, obj, "fwmark", typed(env, napi_uint32_array, 4, fwmark, count)) && set(env, obj, "af", typed(env, napi_uint8_array, 1, af, count)) &&
      set(env, obj, "protocol", typed(env, napi_uint8_array, 1, protocol, count)) &&
      set(env, obj, "words", typed(env, napi_uint32_array, 4, words, count * 4)) &&
      set(env, obj, "port", typed(env, napi_uint16_array, 2, port, count)) &&
      set(env, obj, "lineEnds", typed(env, napi_uint32_array, 4, ends, count)) &&
      napi_create_buffer_copy(env, (size_t)(o.p - lines), lines, NULL, &text) == napi_ok && set(env, obj, "lines", text))
    result = obj;
  free(fwmark);
  free(words);
  free(ends);
  free(af);
  free(protocol);
  free(port);
  free(lines);
  return result;
}

// ---- the counters listings' real server lines, from each service's destination dump ----
// (ip_vs_genl_fill_dest; codec.ts realServerFromAttrs is the definition). The attribute numbers
// come from spec.ts as `types` (D_* order, then the counters'); anything unusual is declined.

enum { D_DEST, D_ADDR, D_PORT, D_FWD, D_WEIGHT, D_UTHRESH, D_LTHRESH, D_ACTIVE, D_INACT, D_PERSIST, D_FAMILY, D_STATS64, D_TUN_TYPE, D_COUNT };
enum { COUNTER_LINE_MAX = 256 };

typedef struct {
  uint32_t v[D_COUNT]; // the u32 attributes by D_*
  int has[D_COUNT];
  const uint8_t *addr;
  uint64_t c[STATS];
} DestAttrs;

static int dest_attrs(const uint8_t *s, const uint8_t *e, const uint32_t *types, DestAttrs *d) {
  memset(d, 0, sizeof *d);
  while (e - s >= 4) {
    uint16_t len = u16h(s), raw = u16h(s + 2), type = raw & 0x3fff;
    if (len < 4 || len > e - s || (raw & 0x4000)) return 0;
    const uint8_t *vs = s + 4;
    size_t n = len - 4u;
    int t = -1;
    for (int k = D_ADDR; k < D_COUNT; k++)
      if (types[k] == type) t = k;
    switch (t) {
      case D_ADDR:
        if (n < 16) return 0;
        d->addr = vs;
        break;
      case D_PORT:
        if (n < 2) return 0;
        d->v[t] = (uint32_t)vs[0] << 8 | vs[1];
        break;
      case D_FAMILY:
        if (n < 2) return 0;
        d->v[t] = u16h(vs);
        break;
      case D_TUN_TYPE:
        if (n < 1) return 0;
        d->v[t] = vs[0];
        break;
      case D_STATS64:
        if (!read_stats64(vs, vs + n, types + D_COUNT, d->c)) return 0;
        break;
      case -1:
        break; // the 32-bit counters and attributes these listings do not show
      default:
        if (n < 4) return 0;
        d->v[t] = u32h(vs);
        break;
    }
    if (t >= 0) d->has[t] = 1;
    s += (len + 3) & ~3;
  }
  return 1;
}

typedef struct {
  uint8_t *b;
  size_t len, cap;
} Bytes;

static uint8_t *room(Bytes *o, size_t n) {
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap : 1 << 16;
    while (cap < o->len + n) cap *= 2;
    uint8_t *grown = realloc(o->b, cap);
    if (!grown) return NULL;
    o->b = grown;
    o->cap = cap;
  }
  return o->b + o->len;
}

// the real servers of one destination dump's reply (parts, then NLMSG_DONE), added to the
// columns from index *count on; 0 if it is not a clean, complete dump
typedef struct {
  uint8_t *inet6;
  uint32_t *words, *fields; // fields: FIELDS per server
  uint16_t *port;
  uint64_t *c;
  size_t cap;
} Servers;
enum { F_FWD, F_WEIGHT, F_UTHRESH, F_LTHRESH, F_ACTIVE, F_INACT, F_PERSIST, FIELDS };

static int servers_room(Servers *v, size_t n) {
  if (n <= v->cap) return 1;
  size_t cap = v->cap ? v->cap * 2 : 64;
  while (cap < n) cap *= 2;
  uint8_t *inet6 = realloc(v->inet6, cap);
  if (inet6) v->inet6 = inet6;
  uint32_t *words = realloc(v->words, cap * 16);
  if (words) v->words = words;
  uint32_t *fields = realloc(v->fields, cap * FIELDS * 4);
  if (fields) v->fields = fields;
  uint16_t *port = realloc(v->port, cap * 2);
  if (port) v->port = port;
  uint64_t *c = realloc(v->c, cap * STATS * 8);
  if (c) v->c = c;
  if (!inet6 || !words || !fields || !port || !c) return 0;
  v->cap = cap;
  return 1;
}

static int read_dests(const uint8_t *b, size_t n, const uint32_t *types, uint32_t svc_af, Servers *v, size_t *count) {
  size_t off = 0;
  *count = 0;
  while (n - off >= 16) {
    uint32_t len = u32h(b + off);
    uint16_t type = u16h(b + off + 4), flags = u16h(b + off + 6);
    if (len < 16 || len > n - off || (flags & 0x10)) return 0; // NLM_F_DUMP_INTR: let JavaScript say so
    if (type == 3) { // NLMSG_DONE: its errno 0, and nothing after it
      if (len >= 20 && u32h(b + off + 16) != 0) return 0;
      return off + ((len + 3) & ~3u) >= n;
    }
    if (type < 16 || len < 20 || !servers_room(v, *count + 1)) return 0;
    // the command's attributes: exactly one, the destination nest
    const uint8_t *s = b + off + 20, *e = b + off + len;
    DestAttrs d;
    int nests = 0;
    while (e - s >= 4) {
      uint16_t alen = u16h(s), raw = u16h(s + 2);
      if (alen < 4 || alen > e - s || (raw & 0x3fff) != types[D_DEST] || nests++ || !dest_attrs(s + 4, s + alen, types, &d)) return 0;
      s += (alen + 3) & ~3;
    }
    uint32_t af = d.has[D_FAMILY] && d.v[D_FAMILY] ? d.v[D_FAMILY] : svc_af;
    uint32_t fwd = d.v[D_FWD] & 7;
    if (nests != 1 || !d.addr || !d.has[D_PORT] || (af != 2 && af != 10) || fwd > 3 || (fwd == 2 && d.v[D_TUN_TYPE] > 2) || !d.has[D_STATS64]) return 0;
    size_t k = (*count)++;
    v->inet6[k] = af == 10;
    for (int w = 0; w < 4; w++) v->words[k * 4 + w] = w == 0 || af == 10 ? u32be(d.addr + w * 4) : 0;
    v->port[k] = (uint16_t)d.v[D_PORT];
    uint32_t *f = v->fields + k * FIELDS;
    f[F_FWD] = fwd;
    f[F_WEIGHT] = d.v[D_WEIGHT];
    f[F_UTHRESH] = d.v[D_UTHRESH];
    f[F_LTHRESH] = d.v[D_LTHRESH];
    f[F_ACTIVE] = d.v[D_ACTIVE];
    f[F_INACT] = d.v[D_INACT];
    f[F_PERSIST] = d.v[D_PERSIST];
    memcpy(v->c + k * STATS, d.c, sizeof d.c);
    off += (len + 3) & ~3u;
  }
  return 0; // no NLMSG_DONE
}

static uint8_t *put_left_u32(uint8_t *p, uint32_t n, int width) {
  uint8_t *col = p;
  return pad_to(put_int(p, n), col + width);
}

// format/table.ts realServerLine for the counters listings
static uint8_t *counter_server_line(const Servers *v, size_t k, uint32_t mode, int exact, uint8_t *p) {
  p = server_name(v->inet6[k], v->words + k * 4, v->port[k], p);
  const uint32_t *f = v->fields + k * FIELDS;
  const uint64_t *c = v->c + k * STATS;
  switch (mode) {
    case MODE_STATS:
      for (int i = 0; i < 5; i++) p = put_large(p, c[C_CONNS + i], exact);
      break;
    case MODE_RATE:
      for (int i = 0; i < 3; i++) {
        *p++ = ' ';
        p = put_right_u64(p, c[C_CPS + i], 8);
      }
      p = put_large(p, c[C_CPS + 3], exact);
      p = put_large(p, c[C_CPS + 4], exact);
      break;
    case MODE_THRESHOLDS: {
      const int cols[4] = {F_UTHRESH, F_LTHRESH, F_ACTIVE, F_INACT};
      for (int i = 0; i < 4; i++) {
        *p++ = ' ';
        p = put_left_u32(p, f[cols[i]], 10);
      }
      break;
    }
    default: { // MODE_PERSISTENT
      const int cols[4] = {F_WEIGHT, F_PERSIST, F_ACTIVE, F_INACT}, widths[4] = {9, 11, 10, 10};
      for (int i = 0; i < 4; i++) {
        *p++ = ' ';
        p = put_left_u32(p, f[cols[i]], widths[i]);
      }
      break;
    }
  }
  *p++ = '\n';
  return p;
}

// writeCounters(head, lines, lineEnds, order, af, replies, replyEnds, types, mode, exact, sort)
//   -> Buffer | undefined
// head, then for each service k of order its line (decodeServices' of this mode) and the lines of
// the real servers in its destination dump's reply (replies[replyEnds[k-1] .. replyEnds[k]]),
// sorted in ipvs_cmp_dests order when sort is true; af: each service's family (a real server's
// when the kernel does not say). undefined for anything the JavaScript should read instead.
static napi_value write_counters(napi_env env, napi_callback_info info) {
  size_t argc = 11, n_head, n_lines, n_ends, n_order, n_af, n_replies, n_rends, n_types;
  napi_value argv[11], undef;
  void *head, *lines, *ends, *order, *af, *replies, *rends, *types;
  uint32_t mode;
  bool exact, sort;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_undefined(env, &undef));
  if (argc < 11 || !typed_arg(env, argv[0], napi_uint8_array, &n_head, &head) || !typed_arg(env, argv[1], napi_uint8_array, &n_lines, &lines) ||
      !typed_arg(env, argv[2], napi_uint32_array, &n_ends, &ends) || !typed_arg(env, argv[3], napi_uint32_array, &n_order, &order) ||
      !typed_arg(env, argv[4], napi_uint8_array, &n_af, &af) || !typed_arg(env, argv[5], napi_uint8_array, &n_replies, &replies) ||
      !typed_arg(env, argv[6], napi_uint32_array, &n_rends, &rends) || !typed_arg(env, argv[7], napi_uint32_array, &n_types, &types) ||
      napi_get_value_uint32(env, argv[8], &mode) != napi_ok || napi_get_value_bool(env, argv[9], &exact) != napi_ok ||
      napi_get_value_bool(env, argv[10], &sort) != napi_ok || n_af != n_ends || n_rends != n_ends || n_types < D_COUNT + STATS ||
      mode < MODE_STATS || mode > MODE_PERSISTENT) {
    napi_throw_type_error(env, NULL, "writeCounters: arguments");
    return NULL;
  }
  const uint32_t *ends_ = ends, *order_ = order, *rends_ = rends;
  for (size_t i = 0; i < n_ends; i++)
    if (ends_[i] > n_lines || rends_[i] > n_replies || (i > 0 && (ends_[i] < ends_[i - 1] || rends_[i] < rends_[i - 1]))) return undef;
  for (size_t k = 0; k < n_order; k++)
    if (order_[k] >= n_ends) return undef;
  Bytes o = {0};
  Servers v = {0};
  uint32_t *ids = NULL, *tmp = NULL;
  size_t ids_cap = 0;
  int ok = room(&o, n_head) != NULL;
  if (ok) {
    memcpy(o.b, head, n_head);
    o.len = n_head;
  }
  for (size_t k = 0; ok && k < n_order; k++) {
    uint32_t svc = order_[k], from = svc ? ends_[svc - 1] : 0, rfrom = svc ? rends_[svc - 1] : 0;
    size_t count;
    ok = read_dests((const uint8_t *)replies + rfrom, rends_[svc] - rfrom, types, ((uint8_t *)af)[svc], &v, &count) &&
         room(&o, ends_[svc] - from + count * COUNTER_LINE_MAX) != NULL;
    if (ok && count + 1 > ids_cap) {
      ids_cap = (count + 1) * 2;
      free(ids);
      free(tmp);
      ids = malloc(ids_cap * 4);
      tmp = malloc(ids_cap * 4);
      ok = ids && tmp;
    }
    if (!ok) break;
    memcpy(o.b + o.len, (uint8_t *)lines + from, ends_[svc] - from);
    o.len += ends_[svc] - from;
    for (uint32_t j = 0; j < count; j++) ids[j] = j;
    View view = {v.inet6, NULL, v.words, v.port, NULL, NULL, NULL, count};
    if (sort) merge_sort(ids, count, tmp, cmp_dests, &view);
    uint8_t *p = o.b + o.len;
    for (uint32_t j = 0; j < count; j++) p = counter_server_line(&v, ids[j], mode, exact, p);
    o.len = (size_t)(p - o.b);
  }
  free(ids);
  free(tmp);
  free(v.inet6);
  free(v.words);
  free(v.fields);
  free(v.port);
  free(v.c);
  napi_value buf;
  if (!ok || napi_create_external_buffer(env, o.len, o.b, free_buffer, NULL, &buf) != napi_ok) {
    free(o.b);
    return undef;
  }
  return buf;
}

// ---- services: joined to /proc's entries, and sorted (libipvs ipvs_cmp_services) ----

typedef struct {
  const uint32_t *fwmark, *words;
  const uint8_t *af, *protocol;
  const uint16_t *port;
  size_t length;
} Keys;

static int keys_arg(napi_env env, napi_value *argv, Keys *k) {
  size_t n1, n2, n3, n4, n5;
  void *fwmark, *af, *protocol, *words, *port;
  if (!typed_arg(env, argv[0], napi_uint32_array, &n1, &fwmark) || !typed_arg(env, argv[1], napi_uint8_array, &n2, &af) ||
      !typed_arg(env, argv[2], napi_uint8_array, &n3, &protocol) || !typed_arg(env, argv[3], napi_uint32_array, &n4, &words) ||
      !typed_arg(env, argv[4], napi_uint16_array, &n5, &port) || n2 < n1 || n3 < n1 || n4 < n1 * 4 || n5 < n1)
    return 0;
  *k = (Keys){fwmark, words, af, protocol, port, n1};
  return 1;
}

// a service's identity as /proc/net/ip_vs shows it: kind, inet6, address words, port or fwmark
typedef struct {
  uint32_t kind, inet6, w[4], port;
} Ident;

static uint32_t ident_hash(const Ident *id) {
  uint32_t h = 2166136261u;
  const uint32_t v[7] = {id->kind, id->inet6, id->w[0], id->w[1], id->w[2], id->w[3], id->port};
  for (int i = 0; i < 7; i++) h = (h ^ v[i]) * 16777619u;
  return h ^ (h >> 15);
}

static int ident_eq(const Ident *a, const Ident *b) {
  return memcmp(a, b, sizeof *a) == 0;
}

static Ident proc_ident(const uint32_t *f) {
  Ident id = {f[0], f[1], {f[2], f[3], f[4], f[5]}, f[6]};
  return id;
}

// 0: no /proc kind (a protocol /proc does not print)
static int key_ident(const Keys *k, size_t i, Ident *id) {
  memset(id, 0, sizeof *id);
  if (k->fwmark[i] != 0) {
    id->kind = KIND_FWM;
    id->port = k->fwmark[i];
    return 1;
  }
  switch (k->protocol[i]) {
    case 6: id->kind = KIND_TCP; break;
    case 17: id->kind = KIND_UDP; break;
    case 132: id->kind = KIND_SCTP; break;
    default: return 0;
  }
  id->inet6 = k->af[i] == 10;
  memcpy(id->w, k->words + i * 4, id->inet6 ? 16 : 4);
  id->port = k->port[i];
  return 1;
}

// joinServices(fwmark, af, protocol, words, port, procServices) -> Int32Array: for each service
// the index of its entry among parse()'s services, or -1 (not there, or there twice: an IPv4 and
// an IPv6 service with the same fwmark look alike in /proc)
static napi_value join_services(napi_env env, napi_callback_info info) {
  size_t argc = 6, nf;
  napi_value argv[6];
  void *fields;
  Keys k;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || !keys_arg(env, argv, &k) || !typed_arg(env, argv[5], napi_uint32_array, &nf, &fields)) {
    napi_throw_type_error(env, NULL, "joinServices: arguments");
    return NULL;
  }
  const uint32_t *f = fields;
  size_t entries = nf / SVC_FIELDS, size = 16;
  while (size < entries * 2) size <<= 1;
  int32_t *slot = malloc(size * 4); // entry index + 1; 0: empty
  uint8_t *twice = calloc(entries + 1, 1);
  void *data;
  napi_value ab, out;
  if (!slot || !twice || napi_create_arraybuffer(env, k.length * 4, &data, &ab) != napi_ok) {
    free(slot);
    free(twice);
    napi_throw_error(env, NULL, "joinServices: out of memory");
    return NULL;
  }
  memset(slot, 0, size * 4);
  for (size_t e = 0; e < entries; e++) {
    Ident id = proc_ident(f + e * SVC_FIELDS);
    for (uint32_t h = ident_hash(&id) & (size - 1);; h = (h + 1) & (size - 1)) {
      if (slot[h] == 0) {
        slot[h] = (int32_t)e + 1;
        break;
      }
      Ident other = proc_ident(f + (size_t)(slot[h] - 1) * SVC_FIELDS);
      if (ident_eq(&id, &other)) {
        twice[slot[h] - 1] = 1;
        break;
      }
    }
  }
  int32_t *at = data;
  for (size_t i = 0; i < k.length; i++) {
    Ident id;
    at[i] = -1;
    if (!key_ident(&k, i, &id)) continue;
    for (uint32_t h = ident_hash(&id) & (size - 1); slot[h] != 0; h = (h + 1) & (size - 1)) {
      Ident other = proc_ident(f + (size_t)(slot[h] - 1) * SVC_FIELDS);
      if (ident_eq(&id, &other)) {
        if (!twice[slot[h] - 1]) at[i] = slot[h] - 1;
        break;
      }
    }
  }
  free(slot);
  free(twice);
  CHECK(napi_create_typedarray(env, napi_int32_array, k.length, ab, 0, &out));
  return out;
}

static int cmp_services(const void *ctx, uint32_t a, uint32_t b) {
  const Keys *k = ctx;
  int32_t r = (int32_t)(k->fwmark[a] - k->fwmark[b]);
  if (r != 0) return r;
  r = (int)k->af[a] - (int)k->af[b];
  if (r != 0) return r;
  r = (int)k->protocol[a] - (int)k->protocol[b];
  if (r != 0) return r;
  const uint32_t *wa = k->words + a * 4, *wb = k->words + b * 4;
  r = (int32_t)(wa[0] - wb[0]);
  if (k->af[a] == 10 && r == 0) {
    r = (int32_t)(wa[1] - wb[1]);
    if (r == 0) r = (int32_t)(wa[2] - wb[2]);
    if (r == 0) r = (int32_t)(wa[3] - wb[3]);
  }
  if (r != 0) return r;
  return (int)k->port[a] - (int)k->port[b];
}

// sortServices(fwmark, af, protocol, words, port) -> Uint32Array: the services' indexes in
// ipvsadm's listing order (words: libipvs's four host-order words, IPv4 in the first)
static napi_value sort_services(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], ab, out;
  Keys k;
  void *data;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || !keys_arg(env, argv, &k)) {
    napi_throw_type_error(env, NULL, "sortServices: arguments");
    return NULL;
  }
  uint32_t *tmp = malloc((k.length + 1) * 4);
  if (!tmp || napi_create_arraybuffer(env, k.length * 4, &data, &ab) != napi_ok) {
    free(tmp);
    napi_throw_error(env, NULL, "sortServices: out of memory");
    return NULL;
  }
  uint32_t *order = data;
  for (size_t i = 0; i < k.length; i++) order[i] = (uint32_t)i;
  merge_sort(order, k.length, tmp, cmp_services, &k);
  free(tmp);
  CHECK(napi_create_typedarray(env, napi_uint32_array, k.length, ab, 0, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  CHECK(napi_create_function(env, "parse", NAPI_AUTO_LENGTH, parse, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "parse", f));
  CHECK(napi_create_function(env, "readTable", NAPI_AUTO_LENGTH, read_table, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "readTable", f));
  CHECK(napi_create_function(env, "writeListing", NAPI_AUTO_LENGTH, write_listing, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "writeListing", f));
  CHECK(napi_create_function(env, "decodeServices", NAPI_AUTO_LENGTH, decode_services, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "decodeServices", f));
  CHECK(napi_create_function(env, "writeCounters", NAPI_AUTO_LENGTH, write_counters, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "writeCounters", f));
  CHECK(napi_create_function(env, "joinServices", NAPI_AUTO_LENGTH, join_services, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "joinServices", f));
  CHECK(napi_create_function(env, "sortServices", NAPI_AUTO_LENGTH, sort_services, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "sortServices", f));
  return exports;
}

NAPI_MODULE(ipvs_text, init)
